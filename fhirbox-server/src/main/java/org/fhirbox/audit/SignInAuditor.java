package org.fhirbox.audit;

import java.time.Clock;
import org.fhirbox.auth.ClaimedText;
import org.fhirbox.auth.User;

/** Captures people's authentication as {@link AuthenticationRecord}s for the {@link AuditTrail}. */
final class SignInAuditor implements SignInListener {
  private static final int MAX_EMAIL = 320;

  private final AuditTrail trail;
  private final Clock clock;
  private final ClaimedText claimed;

  SignInAuditor(AuditTrail trail, Clock clock, ClaimedText claimed) {
    this.trail = trail;
    this.clock = clock;
    this.claimed = claimed;
  }

  @Override
  public void signedIn(String address, String clientId, User user) {
    record(AuthenticationAction.SIGN_IN, address, clientId, user, null);
  }

  @Override
  public void signInRefused(String address, String clientId, String project, String email, boolean ofAUser,
      String reason) {
    // what is typed into the email field may be a password: only a user's email is kept as typed
    String typed = claimed.email(email, ofAUser);
    typed = typed == null || typed.length() <= MAX_EMAIL ? typed : typed.substring(0, MAX_EMAIL);
    trail.record(new AuthenticationRecord(AuthenticationAction.SIGN_IN, project, clientId, null, null, null, typed,
        address, clock.instant(), reason));
  }

  @Override
  public void refreshed(String address, String clientId, User user, String failure) {
    if (user != null) {
      record(AuthenticationAction.REFRESH, address, clientId, user, failure);
    }
  }

  @Override
  public void revoked(String address, String clientId, User user) {
    record(AuthenticationAction.REVOKE, address, clientId, user, null);
  }

  @Override
  public void signedOut(String address, String clientId, User user) {
    record(AuthenticationAction.SIGN_OUT, address, clientId, user, null);
  }

  private void record(AuthenticationAction action, String address, String clientId, User user, String failure) {
    trail.record(new AuthenticationRecord(action, user.project(), clientId, user.id(), user.fhirUser(), user.name(),
        user.email(), address, clock.instant(), failure));
  }
}
