package org.fhirbox.audit;

import java.time.Instant;

/**
 * A person's sign-in, refresh or revocation, captured on the request thread.
 *
 * @param userId the user's id; null for a refused sign-in, which names only the email typed
 * @param fhirUser the user's FHIR resource ({@code Practitioner/1}), or null when unknown
 * @param email the email the person gave (or the user's), cut to 320 characters
 * @param failure why it was refused, or null when it succeeded
 */
public record AuthenticationRecord(AuthenticationAction action, String project, String clientId, String userId,
    String fhirUser, String name, String email, String address, Instant recorded, String failure)
    implements AuditEntry {

  public boolean succeeded() {
    return failure == null;
  }

  @Override
  public String what() {
    return action.description() + " of user " + (userId != null ? userId : "(unknown)");
  }
}
