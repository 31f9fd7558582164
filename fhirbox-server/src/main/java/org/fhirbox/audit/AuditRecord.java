package org.fhirbox.audit;

import java.time.Instant;

/**
 * One access to one Binary version, as captured on the request thread: cheap to build, turned
 * into a FHIR {@code AuditEvent} later by the writer thread.
 *
 * @param clientId the authenticated client, or null for a {@code /storage} download (the
 *     signature is the credential and names no client)
 * @param securityContext the Binary's securityContext reference, or null
 * @param detail extra facts worth keeping (the Range asked for, the operation), or null
 * @param userId the person signed in through the client (a user's token), or null
 */
public record AuditRecord(
    BinaryAction action,
    String project,
    String binaryId,
    long versionId,
    String securityContext,
    String clientId,
    String address,
    Instant recorded,
    String detail,
    String userId) implements AuditEntry {

  /** An access by a client acting for itself, or with no client at all. */
  public AuditRecord(BinaryAction action, String project, String binaryId, long versionId, String securityContext,
      String clientId, String address, Instant recorded, String detail) {
    this(action, project, binaryId, versionId, securityContext, clientId, address, recorded, detail, null);
  }

  /** {@code Binary/{id}/_history/{version}}. */
  public String what() {
    return "Binary/" + binaryId + "/_history/" + versionId;
  }
}
