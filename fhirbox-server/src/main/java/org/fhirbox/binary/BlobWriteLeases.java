package org.fhirbox.binary;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.fhirbox.db.Database;
import org.fhirbox.db.StoreException;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.storage.LiveWrites;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The multipart uploads this node is feeding, in the {@code blob_write_lease} table that every
 * node's {@link OrphanSweeper} reads: a row per upload, inserted before the upload begins, its
 * {@code lease_until} pushed {@link #LEASE} ahead every {@link #RENEW_EVERY} while it runs,
 * deleted when it fails, or once the request that stored its object has committed the Binary or
 * discarded the object ({@code HeldWrites}). A node that dies leaves rows that nobody renews; once one lapsed more than
 * the grace period ago, the sweep treats its upload as any other leftover, and deletes the row.
 *
 * <p>One key may be held by more than one request of this node at once (a client's confirmation of a
 * presigned upload and the background check's): its row stays until the last of them ends.
 *
 * <p>Clocks: the lease is dated by the writing node's clock and judged by the sweeping node's,
 * against the sweeper's cutoff (now minus the grace period): clocks may differ by up to the
 * grace period plus {@code LEASE - RENEW_EVERY} before a live upload looks dead.
 */
public final class BlobWriteLeases implements LiveWrites, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BlobWriteLeases.class);
  /** How far ahead a renewal dates the lease. */
  public static final Duration LEASE = Duration.ofMinutes(2);
  /** How often the leases of this node's uploads are renewed. */
  public static final Duration RENEW_EVERY = Duration.ofSeconds(30);

  private final Database db;
  private final Clock clock;
  /** The keys this node holds, with how many registrations hold each. */
  private final Map<BlobKey, Integer> mine = new ConcurrentHashMap<>();
  private final ScheduledExecutorService renewer;

  public BlobWriteLeases(Database db, Clock clock) {
    this.db = db;
    this.clock = clock;
    this.renewer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "blob-write-leases");
      t.setDaemon(true);
      return t;
    });
    long every = RENEW_EVERY.toMillis();
    renewer.scheduleWithFixedDelay(this::renewQuietly, every, every, TimeUnit.MILLISECONDS);
  }

  @Override
  public Registration begin(BlobKey key) {
    // per key, atomically with the count: an end that lets the row go never crosses a begin
    mine.compute(key, (k, held) -> {
      upsert(k);
      return held == null ? 1 : held + 1;
    });
    AtomicBoolean ended = new AtomicBoolean();
    return () -> {
      if (ended.compareAndSet(false, true)) {
        end(key);
      }
    };
  }

  private void end(BlobKey key) {
    mine.compute(key, (k, held) -> {
      if (held != null && held > 1) {
        return held - 1;
      }
      delete(k);
      return null;
    });
  }

  private void delete(BlobKey key) {
    try (Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement("DELETE FROM blob_write_lease WHERE blob_key = ?")) {
      ps.setString(1, key.value());
      ps.executeUpdate();
    } catch (SQLException | RuntimeException e) {
      // the row lapses on its own; until then the sweep spares a finished upload, which is harmless
      LOG.warn("could not delete the write lease of blob {}: {}", key, e.getMessage());
    }
  }

  /** Pushes the lease of every upload this node is feeding {@link #LEASE} ahead (re-inserting a purged one). */
  public void renew() {
    for (BlobKey key : List.copyOf(mine.keySet())) {
      if (mine.containsKey(key)) {
        upsert(key);
      }
    }
  }

  private void renewQuietly() {
    try {
      renew();
    } catch (RuntimeException e) {
      LOG.warn("renewing the leases of uploads under way failed: {}", e.getMessage());
    }
  }

  private void upsert(BlobKey key) {
    long until = clock.instant().plus(LEASE).toEpochMilli();
    try (Connection c = db.connection()) {
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE blob_write_lease SET lease_until = ? WHERE blob_key = ?")) {
        ps.setLong(1, until);
        ps.setString(2, key.value());
        if (ps.executeUpdate() > 0) {
          return;
        }
      }
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO blob_write_lease (blob_key, lease_until) VALUES (?, ?)")) {
        ps.setString(1, key.value());
        ps.setLong(2, until);
        ps.executeUpdate();
      }
    } catch (SQLException e) {
      if (!"23505".equals(e.getSQLState())) {
        throw new StoreException("could not record the upload of blob " + key + " as under way", e);
      }
      // a racing renewal of the same key inserted it: the lease stands
    }
  }

  /** True when some node holds a lease on writing {@code key} that ends at or after {@code cutoff}. */
  public boolean isLive(BlobKey key, Instant cutoff) {
    try (Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement("SELECT lease_until FROM blob_write_lease WHERE blob_key = ?")) {
      ps.setString(1, key.value());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && rs.getLong(1) >= cutoff.toEpochMilli();
      }
    } catch (SQLException e) {
      throw new StoreException("could not read the write lease of blob " + key, e);
    }
  }

  /** Deletes the leases that ended before {@code cutoff}: those of dead nodes; returns how many. */
  public int purgeLapsed(Instant cutoff) {
    try (Connection c = db.connection();
        PreparedStatement ps = c.prepareStatement("DELETE FROM blob_write_lease WHERE lease_until < ?")) {
      ps.setLong(1, cutoff.toEpochMilli());
      return ps.executeUpdate();
    } catch (SQLException e) {
      throw new StoreException("could not delete lapsed write leases", e);
    }
  }

  @Override
  public void close() {
    renewer.shutdownNow();
  }
}
