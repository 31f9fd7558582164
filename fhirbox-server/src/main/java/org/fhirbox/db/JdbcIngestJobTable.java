package org.fhirbox.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.fhirbox.model.IngestJob;
import org.fhirbox.model.ListPosition;

/** {@link IngestJobTable} over one JDBC connection; H2 and PostgreSQL. */
final class JdbcIngestJobTable implements IngestJobTable {
  private static final String COLS = "id, project, res_type, res_id, res_version, attachment_index, url, content_type,"
      + " state, attempts, next_attempt_at, lease_owner, lease_until, last_error, binary_id, created, updated";
  private static final String CLAIMABLE = "state IN ('queued', 'running') AND next_attempt_at <= ?"
      + " AND (lease_until IS NULL OR lease_until < ?)";
  /** lease_owner holds 64 characters: the owner, a slash and 16 hex digits of the claim. */
  private static final int MAX_OWNER = 64 - 17;
  private static final SecureRandom RANDOM = new SecureRandom();
  /** The first key of the PostgreSQL advisory locks under which a project's jobs are claimed. */
  private static final int PROJECT_CLAIM_LOCK = 0x696e6a62;
  /** A project's jobs that run under a live lease. */
  private static final String RUNNING_OF_PROJECT = "SELECT COUNT(*) FROM ingest_job WHERE project = ?"
      + " AND state = 'running' AND lease_until >= ?";
  private final Connection c;

  JdbcIngestJobTable(Connection c) {
    this.c = c;
  }

  @Override
  public void insert(IngestJob j) {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO ingest_job (" + COLS
        + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
      bind(ps, j.id(), j.project(), j.resourceType(), j.resourceId(), j.resourceVersion(), j.attachmentIndex(),
          j.url(), j.contentType(), j.state().code(), j.attempts(), millis(j.nextAttemptAt()), j.leaseOwner(),
          millis(j.leaseUntil()), j.lastError(), j.binaryId(), millis(j.created()), millis(j.updated()));
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new StoreException("write failed", e);
    }
  }

  @Override
  public Optional<IngestJob> find(String id) {
    List<IngestJob> found = query("SELECT " + COLS + " FROM ingest_job WHERE id = ?", id);
    return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
  }

  @Override
  public Optional<IngestJob> claim(String owner, Instant now, Instant leaseUntil, int maxAttempts, int perProject) {
    if (owner.length() > MAX_OWNER) {
      throw new IllegalArgumentException("an owner has at most " + MAX_OWNER + " characters: " + owner);
    }
    // each claim holds the lease under a token of its own, so a later claim by the same node supersedes it
    String token = owner + "/" + HexFormat.of().toHexDigits(RANDOM.nextLong());
    // PostgreSQL: SKIP LOCKED lets nodes pass over rows another node is claiming right now. H2
    // has no such clause; there the conditional UPDATE alone decides who wins. Projects with
    // fewer running jobs come first, and one with perProject of them is passed over.
    List<Object[]> candidates = new ArrayList<>();
    boolean postgres = isPostgres();
    try (PreparedStatement ps = c.prepareStatement("SELECT j.id, j.state, j.attempts, j.project FROM ingest_job j"
        + " LEFT JOIN (SELECT project AS p, COUNT(*) AS n FROM ingest_job WHERE state = 'running' AND lease_until >= ?"
        + " GROUP BY project) r ON r.p = j.project WHERE " + CLAIMABLE + " AND COALESCE(r.n, 0) < ?"
        + " ORDER BY COALESCE(r.n, 0), next_attempt_at, created LIMIT 8"
        + (postgres ? " FOR UPDATE OF j SKIP LOCKED" : ""))) {
      bind(ps, now.toEpochMilli(), now.toEpochMilli(), now.toEpochMilli(), perProject);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          candidates.add(new Object[] {rs.getString(1), rs.getString(2), rs.getInt(3), rs.getString(4)});
        }
      }
      for (Object[] candidate : candidates) {
        String id = (String) candidate[0];
        int attempts = (Integer) candidate[2];
        String project = (String) candidate[3];
        if ("running".equals(candidate[1]) && attempts >= maxAttempts) {
          // Its lease ran out: the node running its last attempt stopped (crashed, killed, out of
          // memory) before it could record an outcome. Claimed again, the job might stop the next
          // node the same way, and the one after, for ever.
          if (update("UPDATE ingest_job SET state = 'failed', last_error = ?, lease_owner = NULL, lease_until = NULL,"
              + " updated = ? WHERE id = ? AND state = 'running' AND " + CLAIMABLE,
              "gave up after " + attempts + " attempts: the node processing the last one stopped before it"
                  + " finished (its lease ran out)",
              now.toEpochMilli(), id, now.toEpochMilli(), now.toEpochMilli()) == 1) {
            return find(id);
          }
          continue;
        }
        if (postgres && !projectLock(project)) {
          continue; // another node is claiming a job of this project right now
        }
        // counted again: on PostgreSQL under the project's lock, which a concurrent claim held until it committed
        try (PreparedStatement up = c.prepareStatement("UPDATE ingest_job SET state = 'running', lease_owner = ?,"
            + " lease_until = ?, attempts = attempts + 1, updated = ? WHERE id = ? AND " + CLAIMABLE
            + " AND (" + RUNNING_OF_PROJECT + ") < ?")) {
          bind(up, token, leaseUntil.toEpochMilli(), now.toEpochMilli(), id, now.toEpochMilli(), now.toEpochMilli(),
              project, now.toEpochMilli(), perProject);
          if (up.executeUpdate() == 1) {
            return find(id);
          }
        }
      }
      return Optional.empty();
    } catch (SQLException e) {
      throw new StoreException("claim failed", e);
    }
  }

  @Override
  public boolean extendLease(String id, String owner, Instant leaseUntil) {
    return update("UPDATE ingest_job SET lease_until = ? WHERE id = ? AND lease_owner = ? AND state = 'running'",
        leaseUntil.toEpochMilli(), id, owner) == 1;
  }

  @Override
  public boolean recordBinary(String id, String owner, String binaryId) {
    return update("UPDATE ingest_job SET binary_id = ? WHERE id = ? AND lease_owner = ? AND state = 'running'"
        + " AND binary_id IS NULL", binaryId, id, owner) == 1;
  }

  @Override
  public boolean forgetFailedBinary(String id, String binaryId) {
    return update("UPDATE ingest_job SET binary_id = NULL WHERE id = ? AND state = 'failed' AND binary_id = ?",
        id, binaryId) == 1;
  }

  @Override
  public boolean forgetBinary(String id, String owner, String binaryId) {
    return update("UPDATE ingest_job SET binary_id = NULL WHERE id = ? AND lease_owner = ? AND state = 'running'"
        + " AND binary_id = ?", id, owner, binaryId) == 1;
  }

  @Override
  public boolean finish(String id, String owner, IngestJob.State state, String lastError, String binaryId,
      Instant nextAttemptAt, Instant now) {
    return update("UPDATE ingest_job SET state = ?, last_error = ?, binary_id = COALESCE(?, binary_id),"
        + " next_attempt_at = ?,"
        + " lease_owner = NULL, lease_until = NULL, updated = ? WHERE id = ? AND lease_owner = ? AND state = 'running'",
        state.code(), truncate(lastError, 1000), binaryId, nextAttemptAt.toEpochMilli(), now.toEpochMilli(), id,
        owner) == 1;
  }

  @Override
  public boolean requeue(String id, String project, Instant now) {
    return update("UPDATE ingest_job SET state = 'queued', attempts = 0, last_error = NULL, next_attempt_at = ?,"
        + " lease_owner = NULL, lease_until = NULL, updated = ? WHERE id = ? AND project = ?"
        + " AND state IN ('failed', 'skipped')", now.toEpochMilli(), now.toEpochMilli(), id, project) == 1;
  }

  @Override
  public List<IngestJob> list(String project, IngestJob.State state, ListPosition after, int limit) {
    List<Object> args = new ArrayList<>(List.of(project));
    String sql = "SELECT " + COLS + " FROM ingest_job WHERE project = ?";
    if (state != null) {
      sql += " AND state = ?";
      args.add(state.code());
    }
    if (after != null) {
      // newest first, and among jobs created in the same millisecond by id
      sql += " AND (created < ? OR (created = ? AND id > ?))";
      args.addAll(List.of(after.created().toEpochMilli(), after.created().toEpochMilli(), after.id()));
    }
    args.add(limit);
    return query(sql + " ORDER BY created DESC, id LIMIT ?", args.toArray());
  }

  @Override
  public long pendingCount() {
    return count("SELECT COUNT(*) FROM ingest_job WHERE state IN ('queued', 'running')");
  }

  @Override
  public long pendingCount(String project) {
    // the index ingest_job_project (project, state, created) answers it
    return count("SELECT COUNT(*) FROM ingest_job WHERE project = ? AND state IN ('queued', 'running')", project);
  }

  private long count(String sql, Object... args) {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, args);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw new StoreException("count failed", e);
    }
  }

  /** A transaction-scoped advisory lock on claiming {@code project}'s jobs; false when another holds it. */
  private boolean projectLock(String project) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_xact_lock(?, ?)")) {
      bind(ps, PROJECT_CLAIM_LOCK, project.hashCode());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && rs.getBoolean(1);
      }
    }
  }

  private boolean isPostgres() {
    try {
      return c.getMetaData().getDatabaseProductName().toLowerCase(java.util.Locale.ROOT).contains("postgres");
    } catch (SQLException e) {
      throw new StoreException("read failed", e);
    }
  }

  private int update(String sql, Object... args) {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, args);
      return ps.executeUpdate();
    } catch (SQLException e) {
      throw new StoreException("write failed", e);
    }
  }

  private List<IngestJob> query(String sql, Object... args) {
    List<IngestJob> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, args);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new IngestJob(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getLong(5),
              rs.getInt(6), rs.getString(7), rs.getString(8), IngestJob.State.parse(rs.getString(9)), rs.getInt(10),
              instant(rs, 11), rs.getString(12), instant(rs, 13), rs.getString(14), rs.getString(15),
              instant(rs, 16), instant(rs, 17)));
        }
      }
    } catch (SQLException e) {
      throw new StoreException("read failed", e);
    }
    return out;
  }

  private static Instant instant(ResultSet rs, int col) throws SQLException {
    long v = rs.getLong(col);
    return rs.wasNull() ? null : Instant.ofEpochMilli(v);
  }

  private static Long millis(Instant i) {
    return i == null ? null : i.toEpochMilli();
  }

  private static String truncate(String s, int max) {
    return s == null || s.length() <= max ? s : s.substring(0, max);
  }

  private static void bind(PreparedStatement ps, Object... args) throws SQLException {
    for (int i = 0; i < args.length; i++) {
      ps.setObject(i + 1, args[i]);
    }
  }
}
