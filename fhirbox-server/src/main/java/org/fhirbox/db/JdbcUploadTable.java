package org.fhirbox.db;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.fhirbox.model.ResumableUpload;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.storage.PartialBlob;

/**
 * {@link UploadTable} over one connection; the same SQL on H2 and PostgreSQL. Leases are dated by
 * the database's clock ({@code CURRENT_TIMESTAMP}), read in the transaction that takes, renews or
 * judges them and bound as a value: the one clock every node shares, and a statement that the
 * embedded H2's journal replays as it ran.
 */
final class JdbcUploadTable implements UploadTable {
  private static final String COLS = "id, project, client_id, user_id, binary_id, content_type, filename,"
      + " security_context, metadata, length_bytes, offset_bytes, blob_key, blob_state, lease_owner, lease_until,"
      + " result_id, result_version, created, updated, expires, security_context_kept";
  /** The columns and, last, the database's time, against which a row's lease is judged. */
  private static final String COLS_NOW = COLS + ", CURRENT_TIMESTAMP";
  private static final String UNLEASED = "(lease_until IS NULL OR lease_until < ?)";
  private final JdbcStatements st;

  JdbcUploadTable(JdbcStatements st) {
    this.st = st;
  }

  @Override
  public void insert(ResumableUpload u) {
    st.update("write failed", "INSERT INTO resumable_upload (" + COLS
        + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        Arrays.asList(u.id(), u.project(), u.clientId(), u.userId(), u.binaryId(), u.contentType(), u.filename(),
            u.securityContext(), u.metadata(), u.length(), u.blob().length(), u.blob().key().value(),
            u.blob().state(), u.leaseOwner(), null, u.resultId(), u.resultVersion(),
            millis(u.created()), millis(u.updated()), millis(u.expires()), u.securityContextKept()));
  }

  @Override
  public Optional<ResumableUpload> find(String id) {
    return st.first("read failed", "SELECT " + COLS_NOW + " FROM resumable_upload WHERE id = ?", List.of(id),
        JdbcUploadTable::row);
  }

  @Override
  public boolean claim(String id, long offset, String owner, Duration lease) {
    long now = databaseMillis();
    return st.update("claim failed", "UPDATE resumable_upload SET lease_owner = ?, lease_until = ? WHERE id = ?"
        + " AND offset_bytes = ? AND result_id IS NULL AND " + UNLEASED,
        List.of(owner, now + lease.toMillis(), id, offset, now)) == 1;
  }

  @Override
  public boolean extendLease(String id, String owner, Duration lease) {
    long now = databaseMillis();
    return st.update("write failed", "UPDATE resumable_upload SET lease_until = ? WHERE id = ? AND lease_owner = ?",
        List.of(now + lease.toMillis(), id, owner)) == 1;
  }

  /** The database's time now, in epoch milliseconds (PostgreSQL: the transaction's start). */
  private long databaseMillis() {
    return st.first("read failed", "SELECT CURRENT_TIMESTAMP", List.of(),
        rs -> rs.getObject(1, OffsetDateTime.class).toInstant().toEpochMilli()).orElseThrow();
  }

  @Override
  public boolean advance(String id, String owner, PartialBlob blob, Long length, Instant now, Instant expires) {
    return st.update("write failed", "UPDATE resumable_upload SET offset_bytes = ?, blob_key = ?, blob_state = ?,"
        + " length_bytes = ?, lease_owner = NULL, lease_until = NULL, updated = ?, expires = ?"
        + " WHERE id = ? AND lease_owner = ?",
        Arrays.asList(blob.length(), blob.key().value(), blob.state(), length, now.toEpochMilli(),
            expires.toEpochMilli(), id, owner)) == 1;
  }

  @Override
  public boolean releaseLease(String id, String owner) {
    return st.update("write failed", "UPDATE resumable_upload SET lease_owner = NULL, lease_until = NULL"
        + " WHERE id = ? AND lease_owner = ?", List.of(id, owner)) == 1;
  }

  @Override
  public boolean finish(String id, String owner, String resultId, long resultVersion, Instant now, Instant expires) {
    return st.update("write failed", "UPDATE resumable_upload SET result_id = ?, result_version = ?,"
        + " lease_owner = NULL, lease_until = NULL, updated = ?, expires = ?"
        + " WHERE id = ? AND lease_owner = ? AND result_id IS NULL",
        List.of(resultId, resultVersion, now.toEpochMilli(), expires.toEpochMilli(), id, owner)) == 1;
  }

  @Override
  public boolean deleteHeld(String id, String owner) {
    return st.update("write failed", "DELETE FROM resumable_upload WHERE id = ? AND lease_owner = ?",
        List.of(id, owner)) == 1;
  }

  @Override
  public boolean delete(String id) {
    return st.update("write failed", "DELETE FROM resumable_upload WHERE id = ?", List.of(id)) == 1;
  }

  @Override
  public int releaseAll() {
    return st.update("write failed", "UPDATE resumable_upload SET lease_owner = NULL, lease_until = NULL"
        + " WHERE lease_owner IS NOT NULL", List.of());
  }

  @Override
  public List<ResumableUpload> claimExpired(String owner, Instant now, Duration lease, int limit) {
    long at = now.toEpochMilli();
    // expiry is the nodes' time (it is dated by them), leases the database's (see claim)
    long dbNow = databaseMillis();
    // the rows are locked until this transaction ends, and another sweeper's SELECT skips them
    // instead of waiting to find them leased: each node's batch is rows no other node took
    List<String> ids = st.list("read failed", "SELECT id FROM resumable_upload WHERE result_id IS NULL"
        + " AND expires < ? AND " + UNLEASED + " ORDER BY expires, id LIMIT " + limit + " FOR UPDATE SKIP LOCKED",
        List.of(at, dbNow), rs -> rs.getString(1));
    if (ids.isEmpty()) {
      return List.of();
    }
    String in = String.join(", ", Collections.nCopies(ids.size(), "?"));
    List<Object> args = new ArrayList<>(List.of(owner, dbNow + lease.toMillis()));
    args.addAll(ids);
    args.addAll(List.of(at, dbNow));
    st.update("claim failed", "UPDATE resumable_upload SET lease_owner = ?, lease_until = ? WHERE id IN (" + in
        + ") AND result_id IS NULL AND expires < ? AND " + UNLEASED, args);
    List<Object> held = new ArrayList<>(ids);
    held.add(owner);
    return st.list("read failed", "SELECT " + COLS_NOW + " FROM resumable_upload WHERE id IN (" + in
        + ") AND lease_owner = ? ORDER BY expires, id", held, JdbcUploadTable::row);
  }

  @Override
  public int deleteFinishedExpired(Instant now, int limit) {
    // the rows are chosen, in a fixed order, and locked first, then deleted by key: the delete is
    // one a journal's replay applies to the same rows (README, Durability and failures)
    List<String> ids = st.list("read failed", "SELECT id FROM resumable_upload WHERE result_id IS NOT NULL"
        + " AND expires < ? ORDER BY expires, id LIMIT " + limit + " FOR UPDATE SKIP LOCKED",
        List.of(now.toEpochMilli()), rs -> rs.getString(1));
    if (ids.isEmpty()) {
      return 0;
    }
    return st.update("write failed", "DELETE FROM resumable_upload WHERE id IN ("
        + String.join(", ", Collections.nCopies(ids.size(), "?")) + ")", ids);
  }

  @Override
  public int countOpen(String project, String clientId, String userId, Instant now) {
    String sql = "SELECT COUNT(*) FROM resumable_upload WHERE project = ? AND client_id = ? AND user_id "
        + (userId == null ? "IS NULL" : "= ?") + " AND result_id IS NULL AND expires >= ?";
    List<Object> args = new ArrayList<>(List.of(project, clientId));
    if (userId != null) {
      args.add(userId);
    }
    args.add(now.toEpochMilli());
    return st.first("read failed", sql, args, rs -> rs.getInt(1)).orElse(0);
  }

  @Override
  public int countOpenInProject(String project, Instant now) {
    return st.first("read failed", "SELECT COUNT(*) FROM resumable_upload WHERE project = ? AND result_id IS NULL"
        + " AND expires >= ?", List.of(project, now.toEpochMilli()), rs -> rs.getInt(1)).orElse(0);
  }

  @Override
  public boolean isResuming(BlobKey key) {
    return !st.list("read failed", "SELECT 1 FROM resumable_upload WHERE blob_key = ? AND result_id IS NULL"
        + " LIMIT 1", List.of(key.value()), rs -> rs.getInt(1)).isEmpty();
  }

  private static Long millis(Instant t) {
    return t == null ? null : t.toEpochMilli();
  }

  private static Instant instant(ResultSet rs, int column) throws SQLException {
    long v = rs.getLong(column);
    return rs.wasNull() ? null : Instant.ofEpochMilli(v);
  }

  private static Long nullableLong(ResultSet rs, int column) throws SQLException {
    long v = rs.getLong(column);
    return rs.wasNull() ? null : v;
  }

  private static ResumableUpload row(ResultSet rs) throws SQLException {
    Instant leaseUntil = instant(rs, 15);
    boolean leased = leaseUntil != null && leaseUntil.isAfter(rs.getObject(22, OffsetDateTime.class).toInstant());
    PartialBlob blob = new PartialBlob(new BlobKey(rs.getString(12)), rs.getLong(11), rs.getString(13));
    return new ResumableUpload(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
        rs.getString(6), rs.getString(7), rs.getString(8), rs.getBoolean(21), rs.getString(9), nullableLong(rs, 10),
        blob,
        rs.getString(14), leased, rs.getString(16), nullableLong(rs, 17), instant(rs, 18),
        instant(rs, 19), instant(rs, 20));
  }
}
