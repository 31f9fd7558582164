package org.fhirbox.auth;

import java.security.SecureRandom;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.fhirbox.db.Database;
import org.fhirbox.db.StoreException;

/**
 * Refresh tokens for people's sign-ins ({@code offline_access}), in table {@code refresh_token},
 * stored as their SHA-256 only. Every token descends from one sign-in: its <em>family</em>.
 *
 * <ul>
 *   <li>Rotation: each use returns a new token and retires the old one (OAuth 2.0 Security BCP,
 *       RFC 9700 §4.14.2). Presenting a retired token again means two parties hold the family,
 *       so the whole family is revoked: the thief and the app both sign in again.
 *   <li>Bounded: a family lives {@code ttl} from the sign-in, however often it rotates.
 *   <li>Bound to the client it was issued to (SMART App Launch, "Refresh access token"), and to a
 *       user who is still enabled and whose sessions were not ended after the sign-in
 *       ({@link User#sessionsSince()}).
 * </ul>
 */
public final class RefreshTokens {
  private static final long PURGE_EVERY_MILLIS = 60_000;
  private static final String COLUMNS = "family, client_id, user_id, project, scopes, patient, auth_time, issued,"
      + " expires, used, revoked";

  /** What a refresh token stands for. {@code expires} is its family's end. */
  public record Grant(String family, String clientId, String userId, String project, Scopes scopes,
      Optional<String> patient, Instant authTime, Instant issued, Instant expires) {}

  /** The outcome of presenting a refresh token. */
  public sealed interface Outcome {
    /** Valid: {@code token} is the new refresh token (rotation), {@code user} its holder. */
    record Rotated(String token, Grant grant, User user) implements Outcome {
      @Override
      public String toString() {
        return "Rotated[token=***, grant=" + grant + "]";
      }
    }

    /** Refused, for the reason given (safe to show: never the token). {@code user} when known. */
    record Refused(String reason, Optional<User> user) implements Outcome {}
  }

  private record Row(Grant grant, boolean used, boolean revoked) {}

  private final Sql sql;
  private final UserStore users;
  private final Clock clock;
  private final Duration ttl;
  private final SecureRandom random = new SecureRandom();
  private final AtomicLong lastPurge = new AtomicLong();
  private final Duration keptAfterEnd;
  /** Told the id of each sign-in ended here (revoked, a token or code presented twice). */
  private volatile Consumer<String> ended = family -> {};

  public RefreshTokens(Database db, UserStore users, Clock clock, Duration ttl) {
    this(db, users, clock, ttl, Duration.ZERO);
  }

  /**
   * @param accessTokenTtl how long an access token lives: a family's rows, and with them what ended
   *     it, are kept that long past its end, since an access token issued for it just before may live
   *     that long, and is refused only while its sign-in is known to have ended
   */
  public RefreshTokens(Database db, UserStore users, Clock clock, Duration ttl, Duration accessTokenTtl) {
    this.sql = new Sql(db);
    this.users = users;
    this.clock = clock;
    this.ttl = ttl;
    this.keptAfterEnd = accessTokenTtl;
  }

  /**
   * Calls {@code listener} with the family (the sign-in id) of each sign-in ended through this
   * store, once its end is stored, so that this node refuses its access tokens at once.
   */
  public void onEnd(Consumer<String> listener) {
    this.ended = listener;
  }

  /** The lifetime of a family, from the sign-in. */
  public Duration ttl() {
    return ttl;
  }

  /** The first refresh token of a sign-in; {@code family} is the authorization code's. */
  public String issue(String family, String clientId, User user, Scopes scopes, Optional<String> patient,
      Instant authTime) {
    purgeExpired();
    return insert(new Grant(family, clientId, user.id(), user.project(), scopes, patient, authTime, clock.instant(),
        authTime.plus(ttl)));
  }

  private String insert(Grant g) {
    String token = RandomTokens.generate(random);
    sql.update("store the refresh token", "INSERT INTO refresh_token (token_hash, " + COLUMNS
        + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, FALSE, FALSE)", RandomTokens.hash(token), g.family(), g.clientId(),
        g.userId(), g.project(), g.scopes().toString(), g.patient().orElse(null), g.authTime().toEpochMilli(),
        g.issued().toEpochMilli(), g.expires().toEpochMilli());
    return token;
  }

  /**
   * Exchanges {@code token}, presented by {@code clientId}, for a new one of the same family. A
   * token that was already exchanged revokes its family (reuse detection).
   */
  public Outcome rotate(String token, String clientId) {
    return rotate(token, clientId, UnaryOperator.identity());
  }

  /**
   * As {@link #rotate(String, String)}, the new token's scope being {@code ceiling} applied to the
   * family's: the client's registration as it is now (RFC 6749 §6 keeps a refreshed grant's scope
   * identical, but an admin's narrowing of the registration must not come undone when it is widened
   * again, so the family is cut for good).
   */
  public Outcome rotate(String token, String clientId, UnaryOperator<Scopes> ceiling) {
    Optional<Row> found = row(token);
    // another client's token is answered as one that does not exist: the answer tells no one who holds
    // a stolen token that it is real, and leaves the token to its client
    if (found.isEmpty() || !found.get().grant().clientId().equals(clientId)) {
      return new Outcome.Refused("the refresh token is not valid", Optional.empty());
    }
    Grant g = found.get().grant();
    Optional<User> user = users.find(g.userId());
    if (found.get().used()) {
      revokeFamily(g.family());
      return new Outcome.Refused("the refresh token was already used; every token of this sign-in is now revoked",
          user);
    }
    Optional<String> invalid = invalid(found.get(), user);
    if (invalid.isPresent()) {
      return new Outcome.Refused(invalid.get(), user);
    }
    // Only one of two concurrent exchanges retires the token; the other is reuse.
    int retired = sql.update("retire the refresh token", "UPDATE refresh_token SET used = TRUE WHERE token_hash = ?"
        + " AND used = FALSE AND revoked = FALSE", RandomTokens.hash(token));
    if (retired != 1) {
      revokeFamily(g.family());
      return new Outcome.Refused("the refresh token was already used; every token of this sign-in is now revoked",
          user);
    }
    Grant next = new Grant(g.family(), g.clientId(), g.userId(), g.project(), ceiling.apply(g.scopes()), g.patient(),
        g.authTime(),
        clock.instant(), g.expires());
    return new Outcome.Rotated(insert(next), next, user.orElseThrow());
  }

  /** The grant of a token that would be accepted now (RFC 7662 introspection), without using it. */
  public Optional<Grant> active(String token) {
    Optional<Row> found = row(token);
    if (found.isEmpty() || found.get().used()) {
      return Optional.empty();
    }
    return invalid(found.get(), users.find(found.get().grant().userId())).isPresent() ? Optional.empty()
        : Optional.of(found.get().grant());
  }

  /** The grant of a token, valid or not (revocation needs to know whose it is). */
  public Optional<Grant> find(String token) {
    return row(token).map(Row::grant);
  }

  /**
   * Whether the sign-in {@code family} has ended: any of its tokens revoked (a revocation, a token
   * presented twice) or the family marked by {@link #revokeFamilyForGood}.
   */
  public boolean familyRevoked(String family) {
    return sql.one("read whether the sign-in was revoked", "SELECT 1 FROM refresh_token WHERE family = ?"
        + " AND revoked = TRUE LIMIT 1", rs -> 1, family).isPresent();
  }

  /**
   * Revokes every token of the family (RFC 7009 §2.1: the whole grant). The tokens are written
   * one by one, each by its key, so that the writes read no rows but those they change: a token
   * of the family that a rotation inserted meanwhile, not committed yet, is not among them (it
   * counts as revoked all the same, see {@link #row}), and a replay of the embedded database's
   * commit journal, which would see it, changes the same rows.
   */
  public void revokeFamily(String family) {
    sql.updateEach("revoke refresh tokens", "UPDATE refresh_token SET revoked = TRUE WHERE token_hash = ?",
        sql.query("read the refresh tokens of the sign-in", "SELECT token_hash FROM refresh_token WHERE family = ?"
            + " AND revoked = FALSE", rs -> rs.getString(1), family));
    ended.accept(family);
  }

  /**
   * Revokes every token of the family of a replayed authorization code, those not issued yet
   * included: the code's first exchange stores its family's first token after redeeming the code,
   * so a replay in between would find nothing to revoke. A revoked row that no token hashes to
   * (a hash is 64 hex digits, this name is not) marks the family: {@link #row} counts a token
   * revoked when any row of its family is, those there already and those to come. It goes when
   * the family would have ended, {@code ttl} after the sign-in.
   */
  public void revokeFamilyForGood(String family, String clientId, String userId, String project, Scopes scopes,
      Instant authTime) {
    String marker = "revoked " + family;
    try {
      sql.update("mark the refresh token family revoked", "INSERT INTO refresh_token (token_hash, " + COLUMNS
          + ") SELECT ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, TRUE, TRUE WHERE NOT EXISTS"
          + " (SELECT 1 FROM refresh_token WHERE token_hash = ?)", marker, family, clientId, userId, project,
          scopes.toString(), authTime.toEpochMilli(), clock.instant().toEpochMilli(),
          authTime.plus(ttl).toEpochMilli(), marker);
    } catch (StoreException e) {
      // two replays at once: one of them stored the mark
      if (sql.one("read the revoked mark", "SELECT 1 FROM refresh_token WHERE token_hash = ?", rs -> 1, marker)
          .isEmpty()) {
        throw e;
      }
    }
    ended.accept(family);
  }

  /**
   * Ends the sign-in {@code family} as its person signing out: its refresh tokens are revoked, and
   * the family is marked ({@link #revokeFamilyForGood}) so that the access tokens of a sign-in
   * that has no refresh token end too. The mark lives the refresh-token lifetime from now.
   */
  public void endSignIn(String family, String clientId, String userId, String project, Scopes scopes) {
    revokeFamily(family);
    revokeFamilyForGood(family, clientId, userId, project, scopes, clock.instant());
  }

  private Optional<String> invalid(Row r, Optional<User> user) {
    Grant g = r.grant();
    if (r.revoked()) {
      return Optional.of("the refresh token was revoked");
    }
    if (!clock.instant().isBefore(g.expires())) {
      return Optional.of("the refresh token has expired; sign in again");
    }
    if (user.isEmpty() || user.get().disabled()) {
      return Optional.of("the user of the refresh token is disabled or unknown");
    }
    if (user.get().endedSignIn(g.authTime())) {
      return Optional.of("the user's sessions were ended after this sign-in; sign in again");
    }
    return Optional.empty();
  }

  private Optional<Row> row(String token) {
    if (token == null || token.isEmpty() || token.length() > 100) {
      return Optional.empty();
    }
    // Revoked means any token of the family revoked: a revocation racing a rotation may have
    // missed the successor, inserted after its UPDATE read the family, but never the token the
    // successor replaced, which existed before (RFC 9700 §4.14.2: a reuse ends the whole grant).
    return sql.one("read the refresh token", "SELECT " + COLUMNS + ", EXISTS (SELECT 1 FROM refresh_token f"
        + " WHERE f.family = t.family AND f.revoked = TRUE) FROM refresh_token t WHERE t.token_hash = ?",
        RefreshTokens::read, RandomTokens.hash(token));
  }

  private static Row read(ResultSet rs) throws SQLException {
    Grant g = new Grant(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), Scopes.parse(rs.getString(5)),
        Optional.ofNullable(rs.getString(6)), Instant.ofEpochMilli(rs.getLong(7)), Instant.ofEpochMilli(rs.getLong(8)),
        Instant.ofEpochMilli(rs.getLong(9)));
    return new Row(g, rs.getBoolean(10), rs.getBoolean(11) || rs.getBoolean(12));
  }

  /**
   * Families past their end, and past the life of an access token issued just before it or with
   * any of their rows (a code's exchange, a revocation's mark written after the family's end), are
   * of no use to anyone; their rows go, each by its key, as in
   * {@link #revokeFamily}: a token inserted meanwhile with an end already past stays for the next
   * purge.
   */
  private void purgeExpired() {
    long now = clock.millis();
    long last = lastPurge.get();
    if (now - last < PURGE_EVERY_MILLIS || !lastPurge.compareAndSet(last, now)) {
      return;
    }
    sql.updateEach("purge expired refresh tokens", "DELETE FROM refresh_token WHERE token_hash = ?",
        sql.query("read the expired refresh tokens", "SELECT token_hash FROM refresh_token WHERE expires <= ?"
            + " AND issued <= ?", rs -> rs.getString(1), now - keptAfterEnd.toMillis(), now - keptAfterEnd.toMillis()));
  }
}
