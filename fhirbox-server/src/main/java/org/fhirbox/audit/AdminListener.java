package org.fhirbox.audit;

/**
 * Told about changes made through the admin API, after each succeeded. Called on the request
 * thread; an implementation must be quick and must not block. Never pass a secret, a hash or a
 * set-password link.
 */
public interface AdminListener {
  /**
   * {@code admin} made {@code action} to {@code target} (a client id, user id or job id) of
   * {@code project}; {@code targetFhirUser} is a changed user's FHIR resource, else null.
   */
  default void changed(AdminAction action, AdminActor admin, String project, String target, String targetFhirUser,
      String detail) {
  }
}
