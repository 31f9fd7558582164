package org.fhirbox.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.fhirbox.db.Database;

/**
 * Authorization codes (RFC 6749 §4.1) in table {@code authorization_code}, stored as their
 * SHA-256 only. A code lives {@link #TTL} (SMART: "usually expiring within around one minute"),
 * is used once, and is bound to its client, its redirect URI and its PKCE challenge (RFC 7636
 * §4.6, S256 only: SMART App Launch forbids {@code plain}).
 *
 * <p>An exchange counts as a use of the code only once it has shown that it comes from the app
 * that asked for it: the code's client, its redirect URI and the {@code code_verifier} whose S256
 * hash is the challenge. One that fails any of these is refused and leaves the code as it was, so
 * that whoever sees a code (in a log, a referrer, a public client's redirect) cannot spend it, or
 * revoke what the app got for it, by sending it with another {@code client_id} or a made-up
 * verifier; retrying verifiers is futile (RFC 7636 §7.1: 256 bits of entropy, and the code lives
 * {@link #TTL}). From there on the first exchange uses the code up whatever its outcome (an expired
 * code, a disabled user), and a second one revokes the refresh tokens issued from it (RFC 6749
 * §4.1.2: "SHOULD revoke ... all tokens previously issued based on that authorization code"); a
 * used code is remembered for {@link #REMEMBER_USED} for that purpose.
 */
public final class AuthorizationCodes {
  public static final Duration TTL = Duration.ofSeconds(60);
  static final Duration REMEMBER_USED = Duration.ofHours(1);
  private static final long PURGE_EVERY_MILLIS = 60_000;
  /** RFC 7636 §4.1: 43 to 128 unreserved characters. */
  private static final Pattern VERIFIER = Pattern.compile("[A-Za-z0-9\\-._~]{43,128}");
  /** RFC 7636 §4.2: BASE64URL of a SHA-256 is 43 characters, without padding. */
  private static final Pattern S256_CHALLENGE = Pattern.compile("[A-Za-z0-9_-]{43}");
  private static final String COLUMNS = "client_id, redirect_uri, code_challenge, scopes, user_id, patient, nonce,"
      + " auth_time, family, used, expires";

  /** What a code stands for: a person's decision in the authorize endpoint. */
  public record Grant(String clientId, String redirectUri, String codeChallenge, Scopes scopes, String userId,
      Optional<String> patient, Optional<String> nonce, Instant authTime) {}

  /** The outcome of exchanging a code. */
  public sealed interface Outcome {
    /** Valid: the grant, its holder, and the family its refresh tokens belong to. */
    record Redeemed(Grant grant, User user, String family) implements Outcome {}

    /** Refused, for the reason given (safe to show: never the code or verifier). */
    record Refused(String reason) implements Outcome {}
  }

  private record Row(Grant grant, String family, boolean used, Instant expires) {}

  private final Sql sql;
  private final UserStore users;
  private final RefreshTokens refreshTokens;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private final AtomicLong lastPurge = new AtomicLong();

  public AuthorizationCodes(Database db, UserStore users, RefreshTokens refreshTokens, Clock clock) {
    this.sql = new Sql(db);
    this.users = users;
    this.refreshTokens = refreshTokens;
    this.clock = clock;
  }

  /** True when {@code challenge} has the shape of an S256 code challenge. */
  public static boolean isS256Challenge(String challenge) {
    return challenge != null && S256_CHALLENGE.matcher(challenge).matches();
  }

  /** A new code for {@code grant}; shown only here. */
  public String issue(Grant g) {
    purgeOld();
    String code = RandomTokens.generate(random);
    sql.update("store the authorization code", "INSERT INTO authorization_code (code_hash, " + COLUMNS
        + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, FALSE, ?)", RandomTokens.hash(code), g.clientId(), g.redirectUri(),
        g.codeChallenge(), g.scopes().toString(), g.userId(), g.patient().orElse(null), g.nonce().orElse(null),
        g.authTime().toEpochMilli(), RandomTokens.generate(random), clock.instant().plus(TTL).toEpochMilli());
    return code;
  }

  /**
   * Exchanges {@code code} (RFC 6749 §4.1.3): it must be unused and unexpired, issued to
   * {@code clientId} for exactly {@code redirectUri}, and {@code verifier} must hash to its challenge.
   */
  public Outcome redeem(String code, String clientId, String redirectUri, String verifier) {
    if (code == null || code.isEmpty() || code.length() > 100) {
      return new Outcome.Refused("the authorization code is not valid");
    }
    String hash = RandomTokens.hash(code);
    Optional<Row> found = sql.one("read the authorization code", "SELECT " + COLUMNS
        + " FROM authorization_code WHERE code_hash = ?", AuthorizationCodes::read, hash);
    if (found.isEmpty()) {
      return new Outcome.Refused("the authorization code is not valid");
    }
    Row r = found.get();
    Grant g = r.grant();
    // checked before the code is marked used: a request that is not the app's own leaves the code
    // to the app, and cannot revoke what the app got for it (see the class comment)
    if (!g.clientId().equals(clientId)) {
      // answered as a code that does not exist, which tells nothing of the code to who holds it
      return new Outcome.Refused("the authorization code is not valid");
    }
    // RFC 6749 §4.1.3: redirect_uri is required when the authorization request had one, and identical
    if (!g.redirectUri().equals(redirectUri)) {
      return new Outcome.Refused("redirect_uri differs from the one of the authorization request");
    }
    if (verifier == null || !VERIFIER.matcher(verifier).matches()) {
      return new Outcome.Refused("code_verifier must have 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 section 4.1)");
    }
    if (!s256Matches(verifier, g.codeChallenge())) {
      return new Outcome.Refused("code_verifier does not match the code_challenge (RFC 7636 section 4.6)");
    }
    int first = sql.update("use the authorization code", "UPDATE authorization_code SET used = TRUE"
        + " WHERE code_hash = ? AND used = FALSE", hash);
    if (first != 1) {
      refreshTokens.revokeFamilyForGood(r.family(), g.clientId(), g.userId(),
          users.find(g.userId()).map(User::project).orElse(""), g.scopes(), g.authTime());
      return new Outcome.Refused("the authorization code was already used; the tokens issued for it are revoked");
    }
    if (!clock.instant().isBefore(r.expires())) {
      return new Outcome.Refused("the authorization code has expired");
    }
    Optional<User> user = users.find(g.userId());
    if (user.isEmpty() || user.get().disabled()) {
      return new Outcome.Refused("the user who signed in is disabled or unknown");
    }
    if (user.get().endedSignIn(g.authTime())) {
      // as for refresh tokens: a password reset after the sign-in voids what it would still give
      return new Outcome.Refused("the user's sessions were ended after this sign-in; sign in again");
    }
    return new Outcome.Redeemed(g, user.get(), r.family());
  }

  /** RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge, compared in constant time. */
  static boolean s256Matches(String verifier, String challenge) {
    String computed = Base64.getUrlEncoder().withoutPadding()
        .encodeToString(RandomTokens.sha256(verifier.getBytes(StandardCharsets.US_ASCII)));
    return MessageDigest.isEqual(computed.getBytes(StandardCharsets.US_ASCII),
        challenge.getBytes(StandardCharsets.US_ASCII));
  }

  private static Row read(ResultSet rs) throws SQLException {
    Grant g = new Grant(rs.getString(1), rs.getString(2), rs.getString(3), Scopes.parse(rs.getString(4)),
        rs.getString(5), Optional.ofNullable(rs.getString(6)), Optional.ofNullable(rs.getString(7)),
        Instant.ofEpochMilli(rs.getLong(8)));
    return new Row(g, rs.getString(9), rs.getBoolean(10), Instant.ofEpochMilli(rs.getLong(11)));
  }

  private void purgeOld() {
    long now = clock.millis();
    long last = lastPurge.get();
    if (now - last < PURGE_EVERY_MILLIS || !lastPurge.compareAndSet(last, now)) {
      return;
    }
    sql.update("purge old authorization codes", "DELETE FROM authorization_code WHERE expires <= ?",
        now - REMEMBER_USED.toMillis());
  }
}
