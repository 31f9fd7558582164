package org.fhirbox.auth;

import java.security.SecureRandom;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.fhirbox.db.Database;

/**
 * Authorization requests between the pages a person goes through (sign-in, patient picker,
 * consent), in table {@code authorization_request} so that any node can serve the next page.
 * A request is found by the value of the browser's sign-in cookie, of which only the SHA-256
 * is stored; it lives {@link #TTL} and is deleted when it ends. Signing in gives the request a
 * new cookie value and a new CSRF token, so a value planted before the sign-in is worth nothing
 * after it (session fixation).
 */
public final class AuthorizationRequests {
  /** How long a person has from the authorize request to the last page. */
  public static final Duration TTL = Duration.ofMinutes(10);
  /**
   * Stands in for a CSRF token on a page that issues none (the sign-in page answering HEAD), as
   * long as an issued one, so that the page's Content-Length is the one a GET gets (RFC 9110 §9.3.2).
   */
  public static final String UNISSUED_CSRF = "-".repeat(RandomTokens.LENGTH);
  private static final long PURGE_EVERY_MILLIS = 60_000;
  private static final String COLUMNS = "csrf, client_id, redirect_uri, state, scopes, code_challenge, nonce, user_id,"
      + " auth_time, patient, expires";

  /** What the app asked for, validated by the authorize endpoint. */
  public record Request(String clientId, String redirectUri, String state, String scope, String codeChallenge,
      String nonce) {}

  /**
   * A request on its way: {@code csrf} is the token its forms carry; {@code user} and
   * {@code authTime} are set once the person signed in, {@code patient} once the launch patient is known.
   */
  public record Pending(Request request, String csrf, Optional<String> user, Optional<Instant> authTime,
      Optional<String> patient, Instant expires) {}

  /** A request and the value its sign-in cookie now carries. */
  public record Cookie(String value, Pending pending) {
    @Override
    public String toString() {
      return "Cookie[value=***, pending=" + pending + "]";
    }
  }

  private final Sql sql;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private final AtomicLong lastPurge = new AtomicLong();

  public AuthorizationRequests(Database db, Clock clock) {
    this.sql = new Sql(db);
    this.clock = clock;
  }

  /** Stores a new request; the cookie value is shown only here. */
  public Cookie start(Request r) {
    purgeExpired();
    String value = RandomTokens.generate(random);
    String csrf = RandomTokens.generate(random);
    Instant expires = clock.instant().plus(TTL);
    sql.update("store the authorization request", "INSERT INTO authorization_request (id_hash, " + COLUMNS
        + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?)", RandomTokens.hash(value), csrf, r.clientId(),
        r.redirectUri(), r.state(), r.scope(), r.codeChallenge(), r.nonce(), expires.toEpochMilli());
    return new Cookie(value, new Pending(r, csrf, Optional.empty(), Optional.empty(), Optional.empty(), expires));
  }

  /** The unexpired request this cookie value names. */
  public Optional<Pending> find(String cookie) {
    if (cookie == null || cookie.isEmpty() || cookie.length() > 100) {
      return Optional.empty();
    }
    return sql.one("read the authorization request", "SELECT " + COLUMNS
        + " FROM authorization_request WHERE id_hash = ? AND expires > ?", AuthorizationRequests::row,
        RandomTokens.hash(cookie), clock.millis());
  }

  /**
   * Records that {@code userId} signed in at {@code authTime}, when the check of their password
   * began ({@link SignIn.SignedIn#checkedFrom()}); the request moves to a new cookie value and CSRF
   * token. Empty when the request is gone.
   */
  public Optional<Cookie> signedIn(String cookie, String userId, Instant authTime) {
    String value = RandomTokens.generate(random);
    String csrf = RandomTokens.generate(random);
    int n = sql.update("record the sign-in", "UPDATE authorization_request SET id_hash = ?, csrf = ?, user_id = ?,"
        + " auth_time = ? WHERE id_hash = ? AND expires > ?", RandomTokens.hash(value), csrf, userId,
        authTime.toEpochMilli(), RandomTokens.hash(cookie), clock.millis());
    return n == 1 ? find(value).map(p -> new Cookie(value, p)) : Optional.empty();
  }

  /** Records the launch patient of a signed-in request. False when the request is gone. */
  public boolean choosePatient(String cookie, String patientId) {
    return sql.update("record the launch patient", "UPDATE authorization_request SET patient = ? WHERE id_hash = ?"
        + " AND user_id IS NOT NULL AND expires > ?", patientId, RandomTokens.hash(cookie), clock.millis()) == 1;
  }

  /**
   * Ends the request: it is deleted, and returned as it was when it ended if it was still there
   * (unexpired). One transaction: the row is locked first (an update that changes nothing), so that
   * a change another request made to it before (a patient chosen) is in what is returned, and one
   * that comes after, or a second finish, waits and finds it gone; the delete's count decides.
   */
  public Optional<Pending> finish(String cookie) {
    if (cookie == null || cookie.isEmpty() || cookie.length() > 100) {
      return Optional.empty();
    }
    String hash = RandomTokens.hash(cookie);
    long now = clock.millis();
    return sql.inTransaction("end the authorization request", c -> {
      if (Sql.update(c, "UPDATE authorization_request SET expires = expires WHERE id_hash = ? AND expires > ?", hash,
          now) != 1) {
        return Optional.empty();
      }
      Optional<Pending> p = Sql.one(c, "SELECT " + COLUMNS + " FROM authorization_request WHERE id_hash = ?",
          AuthorizationRequests::row, hash);
      return Sql.update(c, "DELETE FROM authorization_request WHERE id_hash = ?", hash) == 1 ? p : Optional.empty();
    });
  }

  private void purgeExpired() {
    long now = clock.millis();
    long last = lastPurge.get();
    if (now - last < PURGE_EVERY_MILLIS || !lastPurge.compareAndSet(last, now)) {
      return;
    }
    sql.update("purge expired authorization requests", "DELETE FROM authorization_request WHERE expires <= ?", now);
  }

  private static Pending row(ResultSet rs) throws SQLException {
    Request r = new Request(rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6),
        rs.getString(7));
    long authTime = rs.getLong(9);
    Optional<Instant> signedInAt = rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(authTime));
    return new Pending(r, rs.getString(1), Optional.ofNullable(rs.getString(8)), signedInAt,
        Optional.ofNullable(rs.getString(10)), Instant.ofEpochMilli(rs.getLong(11)));
  }
}
