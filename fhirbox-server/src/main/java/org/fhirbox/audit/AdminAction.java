package org.fhirbox.audit;

import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;

/**
 * A change made through the admin API, with its AuditEvent coding: type DICOM {@code 110137 User
 * Security Attributes Changed} for clients and users (credentials, scopes, redirect URIs, keys,
 * state), {@code 110100 Application Activity} for an ingestion job retried (the server's own
 * processing, no one's security attributes); subtype the code here in {@value AuditCodes#ADMIN_ACTION};
 * action {@code C} for a creation and {@code U} for the rest (a disabled client or user is kept).
 */
public enum AdminAction {
  CLIENT_CREATED("client-created", "client created", Target.CLIENT, AuditEventAction.C),
  CLIENT_SECRET_ROTATED("client-secret-rotated", "client secret rotated", Target.CLIENT, AuditEventAction.U),
  CLIENT_DISABLED("client-disabled", "client disabled", Target.CLIENT, AuditEventAction.U),
  CLIENT_SCOPE_CHANGED("client-scope-changed", "client scope replaced", Target.CLIENT, AuditEventAction.U),
  CLIENT_JWKS_CHANGED("client-jwks-changed", "client JWK Set replaced", Target.CLIENT, AuditEventAction.U),
  CLIENT_REDIRECT_URIS_CHANGED("client-redirect-uris-changed", "client redirect URIs replaced", Target.CLIENT,
      AuditEventAction.U),
  USER_CREATED("user-created", "user created", Target.USER, AuditEventAction.C),
  USER_DISABLED("user-disabled", "user disabled", Target.USER, AuditEventAction.U),
  USER_PASSWORD_RESET("user-password-reset", "user password reset link issued", Target.USER, AuditEventAction.U),
  INGEST_JOB_RETRIED("ingest-job-retried", "ingestion job retried", Target.JOB, AuditEventAction.U);

  /** What a change is made to. */
  public enum Target { CLIENT, USER, JOB }

  private final String code;
  private final String description;
  private final Target target;
  private final AuditEventAction action;

  AdminAction(String code, String description, Target target, AuditEventAction action) {
    this.code = code;
    this.description = description;
    this.target = target;
    this.action = action;
  }

  /** The subtype code, e.g. {@code client-secret-rotated}. */
  public String code() {
    return code;
  }

  public String description() {
    return description;
  }

  public Target target() {
    return target;
  }

  AuditEventAction action() {
    return action;
  }

  AuditCodes.Code type() {
    return target == Target.JOB ? AuditCodes.APPLICATION_ACTIVITY : AuditCodes.SECURITY_ATTRIBUTES_CHANGED;
  }
}
