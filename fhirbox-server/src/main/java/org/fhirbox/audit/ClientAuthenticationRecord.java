package org.fhirbox.audit;

import java.time.Instant;

/**
 * A client's authentication (no person involved), captured on the request thread: a
 * {@code client_credentials} token issued, or a client authentication refused.
 *
 * @param project the client's project; for a refusal naming no existing client, the server's own
 * @param clientId the client id, for a refusal the one claimed (cut to a bounded length), or null
 * @param method how it authenticated: {@code client_secret_basic}, {@code client_secret_post},
 *     {@code private_key_jwt}, {@code public} (client_id alone) or {@code basic} (FHIR API)
 * @param scope the scope granted, or null for a refusal
 * @param failure why it was refused, or null when it succeeded
 */
public record ClientAuthenticationRecord(String project, String clientId, String method, String address,
    Instant recorded, String scope, String failure) implements AuditEntry {

  public boolean succeeded() {
    return failure == null;
  }

  @Override
  public String what() {
    return (succeeded() ? "token issued to client " : "authentication refused for client ")
        + (clientId != null ? clientId : "(none named)");
  }
}
