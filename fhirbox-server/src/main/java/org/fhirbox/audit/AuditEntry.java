package org.fhirbox.audit;

/**
 * One event waiting in the {@link AuditTrail}: a Binary access, a person's or a client's
 * authentication, or an admin change.
 */
public sealed interface AuditEntry permits AuditRecord, AuthenticationRecord,
    ClientAuthenticationRecord, AdminChangeRecord {
  /** The project whose AuditEvents it joins. */
  String project();

  /** What it is about, for log lines (never a secret). */
  String what();
}
