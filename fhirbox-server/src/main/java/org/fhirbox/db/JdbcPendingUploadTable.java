package org.fhirbox.db;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.fhirbox.model.PendingUpload;
import org.fhirbox.storage.BlobKey;

/** {@link PendingUploadTable} over one connection; the same SQL on H2 and PostgreSQL. */
final class JdbcPendingUploadTable implements PendingUploadTable {
  private static final String COLS = "binary_id, project, client_id, blob_key, upload_id, size_bytes, sha256,"
      + " content_type, filename, security_context, expires, next_check, confirmed, sha1, user_id";
  private final JdbcStatements st;

  JdbcPendingUploadTable(JdbcStatements st) {
    this.st = st;
  }

  @Override
  public void insert(PendingUpload u) {
    st.update("write failed", "INSERT INTO direct_upload (" + COLS + ")"
        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        Arrays.asList(u.binaryId(), u.project(), u.clientId(), u.blobKey(), u.uploadId(), u.size(), u.sha256Hex(),
            u.contentType(), u.filename(), u.securityContext(), u.expires().toEpochMilli(),
            u.nextCheck().toEpochMilli(), u.confirmed(), u.sha1Hex(), u.userId()));
  }

  @Override
  public Optional<PendingUpload> find(String binaryId) {
    return st.first("read failed", "SELECT " + COLS + " FROM direct_upload WHERE binary_id = ?", List.of(binaryId),
        JdbcPendingUploadTable::row);
  }

  @Override
  public List<PendingUpload> due(Instant now, int limit) {
    return st.list("read failed", "SELECT " + COLS + " FROM direct_upload WHERE next_check <= ?"
        + " ORDER BY next_check LIMIT " + limit, List.of(now.toEpochMilli()), JdbcPendingUploadTable::row);
  }

  @Override
  public boolean take(String binaryId, Instant seen, Instant next) {
    return st.update("write failed", "UPDATE direct_upload SET next_check = ? WHERE binary_id = ? AND next_check = ?",
        List.of(next.toEpochMilli(), binaryId, seen.toEpochMilli())) == 1;
  }

  @Override
  public boolean markConfirmed(String binaryId, Instant next) {
    return st.update("write failed", "UPDATE direct_upload SET confirmed = TRUE, next_check = ? WHERE binary_id = ?",
        List.of(next.toEpochMilli(), binaryId)) == 1;
  }

  @Override
  public boolean delete(String binaryId) {
    return st.update("write failed", "DELETE FROM direct_upload WHERE binary_id = ?", List.of(binaryId)) == 1;
  }

  @Override
  public boolean lock(String binaryId) {
    return !st.list("read failed", "SELECT 1 FROM direct_upload WHERE binary_id = ? FOR UPDATE", List.of(binaryId),
        rs -> rs.getInt(1)).isEmpty();
  }

  @Override
  public boolean isAwaited(BlobKey key, Instant expiredSince) {
    return !st.list("read failed", "SELECT 1 FROM direct_upload WHERE blob_key = ? AND confirmed = FALSE"
        + " AND expires >= ? LIMIT 1", List.of(key.value(), expiredSince.toEpochMilli()), rs -> rs.getInt(1)).isEmpty();
  }

  private static PendingUpload row(ResultSet rs) throws SQLException {
    return new PendingUpload(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(15), rs.getString(4),
        rs.getString(5), rs.getLong(6), rs.getString(7), rs.getString(14), rs.getString(8), rs.getString(9),
        rs.getString(10), Instant.ofEpochMilli(rs.getLong(11)), Instant.ofEpochMilli(rs.getLong(12)), rs.getBoolean(13));
  }
}
