package org.fhirbox.audit;

import java.time.Clock;

/** Captures clients' authentication and admin changes as entries of the {@link AuditTrail}. */
final class SecurityAuditor implements ClientAuthListener, AdminListener {
  /** A claimed client id is the caller's text: at most this much of it is kept. */
  static final int MAX_CLIENT_ID = 128;
  private static final int MAX_TEXT = 1024;

  private final AuditTrail trail;
  private final Clock clock;

  SecurityAuditor(AuditTrail trail, Clock clock) {
    this.trail = trail;
    this.clock = clock;
  }

  @Override
  public void tokenIssued(String address, String clientId, String project, String method, String scope) {
    trail.record(new ClientAuthenticationRecord(project, clientId, method, address, clock.instant(), scope, null));
  }

  @Override
  public void refused(String address, String clientId, String project, String method, String reason) {
    trail.record(new ClientAuthenticationRecord(project, cut(clientId, MAX_CLIENT_ID), method, address,
        clock.instant(), null, reason == null ? "refused" : cut(reason, MAX_TEXT)));
  }

  @Override
  public void changed(AdminAction action, AdminActor admin, String project, String target, String targetFhirUser,
      String detail) {
    trail.record(new AdminChangeRecord(action, project, admin, target, targetFhirUser, clock.instant(),
        cut(detail, MAX_TEXT)));
  }

  private static String cut(String s, int max) {
    return s == null || s.length() <= max ? s : s.substring(0, max);
  }
}
