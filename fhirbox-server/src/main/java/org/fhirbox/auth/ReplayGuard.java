package org.fhirbox.auth;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.fhirbox.db.Database;
import org.fhirbox.db.StoreException;

/**
 * Remembers the {@code jti} of every accepted private_key_jwt assertion until it expires, in the
 * database so that a replay to another node is caught too (RFC 7523 §3, SMART Backend Services).
 *
 * <p>A row is purged {@link #PURGE_MARGIN} after it expires by the purging node's clock: every node
 * purges, and one whose clock runs ahead must not forget a jti that a node behind it still accepts.
 */
final class ReplayGuard {
  private static final long PURGE_EVERY_MILLIS = 60_000;
  /** How far the clocks of nodes may differ before a replay to the one behind goes unnoticed. */
  static final Duration PURGE_MARGIN = Duration.ofMinutes(5);

  private final Database db;
  private final Clock clock;
  private final AtomicLong lastPurge = new AtomicLong();

  ReplayGuard(Database db, Clock clock) {
    this.db = db;
    this.clock = clock;
  }

  /** Records the jti; false when the client used it before. */
  boolean firstUse(String clientId, String jti, Instant expires) {
    purgeExpired();
    try (Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement("INSERT INTO used_jti (client_id, jti, expires) VALUES (?, ?, ?)")) {
      ps.setString(1, clientId);
      ps.setString(2, jti);
      ps.setLong(3, expires.toEpochMilli());
      ps.executeUpdate();
      return true;
    } catch (SQLException e) {
      if (ClientStore.isDuplicate(e)) {
        return false;
      }
      throw new StoreException("could not record the assertion id", e);
    }
  }

  private void purgeExpired() {
    long now = clock.millis();
    long last = lastPurge.get();
    if (now - last < PURGE_EVERY_MILLIS || !lastPurge.compareAndSet(last, now)) {
      return;
    }
    try (Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement("DELETE FROM used_jti WHERE expires < ?")) {
      ps.setLong(1, now - PURGE_MARGIN.toMillis());
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new StoreException("could not purge used assertion ids", e);
    }
  }
}
