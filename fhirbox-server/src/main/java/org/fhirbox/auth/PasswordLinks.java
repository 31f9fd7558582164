package org.fhirbox.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.regex.Pattern;
import org.fhirbox.db.Database;
import org.fhirbox.db.StoreException;

/**
 * One-time links that set a user's password: the only way a person sets a first password or a
 * new one after a reset.
 *
 * <ul>
 *   <li>A link's token is 256 random bits (base64url, 43 characters). Only its SHA-256 is stored
 *       (table {@code password_link}); the token is handed out once, by {@link #issue} or
 *       {@link #reset}, and never logged. A hash without stretching is enough: a guess at a
 *       256-bit value is hopeless (NIST SP 800-63B §5.1.2.2 asks the same of look-up secrets).
 *   <li>A link works for {@value #LIFETIME_HOURS} hours and once. Issuing a link voids the user's
 *       older open links, so only the newest one works.
 *   <li>{@link #reset} forgets the password, ends the user's sessions ({@link UserStore#endSessions})
 *       and issues a new link.
 *   <li>Setting a password through a link ends earlier sessions too, so a session begun with a
 *       leaked old password does not outlive the new one.
 * </ul>
 */
public final class PasswordLinks {
  static final int LIFETIME_HOURS = 24;
  public static final Duration LIFETIME = Duration.ofHours(LIFETIME_HOURS);
  /** Links that expired longer ago than this are deleted whenever a new link is issued. */
  private static final Duration KEEP = Duration.ofDays(30);
  /** What {@link PasswordHasher#newSecret} makes: 32 bytes in base64url without padding. */
  private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{43}");

  /** A fresh link's token, and when it expires. {@link #toString()} hides the token. */
  public record Link(String token, Instant expires) {
    @Override
    public String toString() {
      return "Link[token=***, expires=" + expires + "]";
    }
  }

  /** What a token stands for now: {@link Open} or {@link Closed}. */
  public sealed interface Status permits Open, Closed {}

  /** What setting a password through a token did: {@link PasswordSet} or {@link Closed}. */
  public sealed interface Outcome permits PasswordSet, Closed {}

  /** The link works: it sets the password of {@code user} until {@code expires}. */
  public record Open(User user, Instant expires) implements Status {}

  /** The password of {@code user} is now set; the link is used up. */
  public record PasswordSet(User user) implements Outcome {}

  /** The link does not work, for {@code reason}. */
  public record Closed(Reason reason) implements Status, Outcome {}

  /** Why a link does not work. */
  public enum Reason {
    /** No such link (mistyped, cut off, or deleted long after it expired). */
    UNKNOWN,
    EXPIRED,
    /** It already set a password. */
    USED,
    /** A newer link of the same user voided it (a reset, or a second link). */
    REPLACED,
    /** Its user is disabled and cannot sign in, so setting a password would promise what it cannot keep. */
    DISABLED
  }

  private final Database db;
  private final Sql sql;
  private final UserStore users;
  private final PasswordHasher hasher;
  private final Clock clock;

  public PasswordLinks(Database db, UserStore users, PasswordHasher hasher, Clock clock) {
    this.db = db;
    this.sql = new Sql(db);
    this.users = users;
    this.hasher = hasher;
    this.clock = clock;
  }

  /** A new link for the user, voiding their older open links; empty when the user is unknown. */
  public Optional<Link> issue(String userId) {
    String token = hasher.newSecret();
    long now = clock.millis();
    Instant expires = Instant.ofEpochMilli(now).plus(LIFETIME);
    boolean issued = sql.inTransaction("issue a password link", c -> {
      // the user's row is the lock: two links issued at once leave one of them open
      try (PreparedStatement lock = c.prepareStatement("SELECT id FROM app_user WHERE id = ? FOR UPDATE")) {
        lock.setString(1, userId);
        try (ResultSet rs = lock.executeQuery()) {
          if (!rs.next()) {
            return false;
          }
        }
      }
      execute(c, "DELETE FROM password_link WHERE expires < ?", now - KEEP.toMillis());
      execute(c, "UPDATE password_link SET replaced = ? WHERE user_id = ? AND used IS NULL AND replaced IS NULL",
          now, userId);
      execute(c, "INSERT INTO password_link (token_hash, user_id, expires, used, replaced, created)"
          + " VALUES (?, ?, ?, NULL, NULL, ?)", hash(token), userId, expires.toEpochMilli(), now);
      return true;
    });
    return issued ? Optional.of(new Link(token, expires)) : Optional.empty();
  }

  /**
   * A password reset: the current password stops working at once, the user's refresh tokens are
   * void and their access tokens stop working within a minute, and a new link (voiding older ones)
   * is the way to a new password. Empty when the user is unknown.
   */
  public Optional<Link> reset(String userId) {
    if (!users.clearPassword(userId)) {
      return Optional.empty();
    }
    users.endSessions(userId);
    return issue(userId);
  }

  /** Whether {@code token} (as in the link) works now, and for whom. Changes nothing. */
  public Status check(String token) {
    if (token == null || !TOKEN.matcher(token).matches()) {
      return new Closed(Reason.UNKNOWN);
    }
    try (Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement("SELECT user_id, expires, used, replaced FROM password_link"
            + " WHERE token_hash = ?")) {
      ps.setString(1, hash(token));
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return new Closed(Reason.UNKNOWN);
        }
        String userId = rs.getString(1);
        long expires = rs.getLong(2);
        rs.getLong(3);
        boolean used = !rs.wasNull();
        rs.getLong(4);
        boolean replaced = !rs.wasNull();
        if (used) {
          return new Closed(Reason.USED);
        }
        if (replaced) {
          return new Closed(Reason.REPLACED);
        }
        if (expires <= clock.millis()) {
          return new Closed(Reason.EXPIRED);
        }
        return users.find(userId).<Status>map(u -> u.disabled() ? new Closed(Reason.DISABLED)
            : new Open(u, Instant.ofEpochMilli(expires))).orElse(new Closed(Reason.UNKNOWN));
      }
    } catch (SQLException e) {
      throw new StoreException("could not read a password link", e);
    }
  }

  /**
   * Sets the password of the link's user and uses the link up, when the link works; throws
   * {@link IllegalArgumentException} (before using the link) when the password has fewer than
   * {@value UserStore#MIN_PASSWORD} or more than {@value UserStore#MAX_PASSWORD} characters. Of
   * two requests with one link, exactly one sets its password; the other gets {@link Reason#USED}.
   */
  public Outcome setPassword(String token, String password) {
    Status status = check(token);
    if (status instanceof Closed closed) {
      return closed;
    }
    User user = ((Open) status).user();
    UserStore.checkPassword(password);
    String passwordHash = hasher.hash(password);
    long now = clock.millis();
    // the token is the lock: of two uses at once, one claims it and the other changes nothing
    boolean claimed = sql.inTransaction("set a password", c -> {
      if (execute(c, "UPDATE password_link SET used = ? WHERE token_hash = ? AND used IS NULL"
          + " AND replaced IS NULL AND expires > ?", now, hash(token), now) != 1) {
        return false;
      }
      execute(c, "UPDATE app_user SET password_hash = ?, sessions_since = ?, updated = ? WHERE id = ?",
          passwordHash, now, now, user.id());
      return true;
    });
    if (!claimed) {
      return check(token) instanceof Closed closed ? closed : new Closed(Reason.USED);
    }
    users.changed(user.id());
    return new PasswordSet(users.find(user.id()).orElse(user));
  }

  private static int execute(Connection c, String sql, Object... args) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      return ps.executeUpdate();
    }
  }

  /** The stored form of a token: its SHA-256, base64url without padding. */
  private static String hash(String token) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }
}
