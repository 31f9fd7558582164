package org.fhirbox.auth;

import java.time.Clock;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/**
 * Checks a person's email and password, as a sign-in page asks, and slows down repeated failures
 * per account and per address with the same three counters as client authentication
 * ({@link AuthThrottle}): 5 failures for one account (project and email) from one address, 20
 * from one address for any accounts, 100 for one account from all addresses (not held against an
 * address from which that account signed in within the last day); beyond them each failure blocks
 * for 1 s, 2 s, 4 s ... at most 60 s, and 15 quiet minutes forget a count. Counts live in memory
 * on each node.
 *
 * <p>The answer never tells whether the email exists: an unknown email, a user without a
 * password, a disabled user and a wrong password are all {@link BadCredentials}, cost the same
 * password-hash work ({@link UserStore#verifyPassword}), and count as failures for that email
 * alike; the throttle keys on the email as typed (trimmed, lower-cased), never on whether it is
 * known.
 */
public final class SignIn {
  /** What a sign-in page shows for {@link BadCredentials}: the same words whatever was wrong. */
  public static final String BAD_CREDENTIALS_MESSAGE = "The email or password is not correct.";
  /** Longer emails cannot exist (RFC 5321 §4.5.3.1 paths); they are refused without a look-up. */
  private static final int MAX_EMAIL = 320;

  /** The answer to one attempt: {@link SignedIn}, {@link BadCredentials} or {@link Throttled}. */
  public sealed interface Result permits SignedIn, BadCredentials, Throttled {}

  /**
   * The password is the enabled user's. {@code checkedFrom} is when the check began, before the
   * password's hash was read: the sign-in's time ({@code auth_time}), so that a password reset or
   * an end of all sessions that lands while the password is being checked (PBKDF2 takes 0.15-0.5
   * s, against the hash as it was) ends this sign-in too, rather than coming before it.
   */
  public record SignedIn(User user, Instant checkedFrom) implements Result {}

  /** The email or the password is wrong, the user is disabled or has no password yet: show {@link #BAD_CREDENTIALS_MESSAGE}. */
  public record BadCredentials() implements Result {}

  /**
   * Too many failures for this account or from this address: the password was not checked. Answer
   * with 429 and {@code Retry-After: retryAfterSeconds}, or a page that says to wait that long.
   * {@code toRecord} is true for the first refusal by the same limit within a minute only: a
   * throttled attempt costs the caller nothing, so recording each one (an AuditEvent with the typed
   * email) would let one address fill the audit table and queue; the rest are only refused.
   */
  public record Throttled(long retryAfterSeconds, boolean toRecord) implements Result {}

  private final UserStore users;
  private final AuthThrottle throttle;
  private final Clock clock;

  SignIn(UserStore users, AuthThrottle throttle, Clock clock) {
    this.users = users;
    this.throttle = throttle;
    this.clock = clock;
  }

  /**
   * Whether {@code email} (trimmed, case-insensitively) is that of a user of {@code project}, for
   * the audit trail only: a refused sign-in keeps the typed email as it is only then, since what
   * is typed into the email field may be a password, and a password may have the form of an
   * email. Never part of the answer to the person.
   */
  public boolean namesUser(String project, String email) {
    return email != null && !email.isBlank() && email.length() <= MAX_EMAIL
        && users.findByEmail(project, email).isPresent();
  }

  /**
   * One sign-in attempt by a person.
   *
   * @param project the project the person signs in to (a user belongs to one project)
   * @param email as typed; compared trimmed and case-insensitively
   * @param password as typed (never logged, never kept)
   * @param remoteAddress the caller's address ({@code HttpServletRequest.getRemoteAddr()}: behind
   *     a proxy with {@code FHIRBOX_TRUST_PROXY=true}, the address the proxy names)
   * @return {@link SignedIn} with the user, {@link BadCredentials}, or {@link Throttled} (decided
   *     before the password is hashed, so a throttled attempt costs no hashing and reveals
   *     nothing; the attempt counts against the limits from then on, so that parallel guesses
   *     are held to them as sequential ones are)
   */
  public Result authenticate(String project, String email, String password, String remoteAddress) {
    String normalEmail = email == null ? "" : email.strip().toLowerCase(Locale.ROOT);
    String account = normalEmail.isEmpty() || normalEmail.length() > MAX_EMAIL ? null : project + "/" + normalEmail;
    try (AuthThrottle.Attempt attempt = throttle.begin(account, remoteAddress)) {
      if (attempt.retryAfterSeconds() > 0) {
        return new Throttled(attempt.retryAfterSeconds(), attempt.firstRefusal());
      }
      Instant checkedFrom = clock.instant();
      Optional<User> user = account == null ? Optional.empty() : users.verifyPassword(project, normalEmail, password);
      if (user.isEmpty()) {
        attempt.failed();
        return new BadCredentials();
      }
      attempt.succeeded();
      return new SignedIn(user.get(), checkedFrom);
    }
  }
}
