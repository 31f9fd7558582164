package org.fhirbox.auth;

import java.time.Clock;
import java.util.Locale;

/**
 * A person signing in with email and password, in a client's project, with failures slowed down
 * per account and per address the way client authentication is ({@link AuthThrottle}: 5 failures
 * per account and address, 20 per address, 100 per account from addresses it never signed in
 * from; then 1 s, 2 s ... 60 s). Every refusal reads the same whether or not the email exists;
 * {@link UserStore#verifyPassword} spends the same work either way.
 */
public final class PasswordSignIn {
  /** The outcome of one attempt. */
  public sealed interface Outcome {
    record SignedIn(User user) implements Outcome {}

    /** Wrong email or password, no password set yet, or a disabled user: the person is not told which. */
    record Refused() implements Outcome {}

    record Throttled(long retryAfterSeconds) implements Outcome {}
  }

  private final UserStore users;
  private final AuthThrottle throttle;

  public PasswordSignIn(UserStore users, Clock clock) {
    this.users = users;
    this.throttle = AuthThrottle.standard(clock);
  }

  public Outcome attempt(String project, String email, String password, String address) {
    String account = project + "/" + (email == null ? "" : email.strip().toLowerCase(Locale.ROOT));
    long wait = throttle.retryAfterSeconds(account, address);
    if (wait > 0) {
      return new Outcome.Throttled(wait);
    }
    var user = users.verifyPassword(project, email, password);
    if (user.isEmpty()) {
      throttle.failure(account, address);
      return new Outcome.Refused();
    }
    throttle.success(account, address);
    return new Outcome.SignedIn(user.get());
  }
}
