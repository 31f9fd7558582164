package org.fhirbox.db;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.model.BinaryContent;

/** {@code binary_content}: the stored blob, size, digests and type of each Binary version. */
final class BinaryContentRows {
  private static final String COLS = "project, res_id, version_id, blob_key, size, sha256, sha1, content_type,"
      + " filename, security_context, created";
  private final JdbcStatements st;

  BinaryContentRows(JdbcStatements st) {
    this.st = st;
  }

  void insert(BinaryContent b) {
    st.update("write failed", "INSERT INTO binary_content (" + COLS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        Arrays.asList(b.project(), b.binaryId(), b.versionId(), b.blobKey().value(), b.size(), b.sha256Hex(),
            b.sha1Hex(), b.contentType(), b.filename(), b.securityContext(), b.lastUpdated().toEpochMilli()));
  }

  Optional<BinaryContent> version(String project, String binaryId, long versionId) {
    return first(select("project = ? AND res_id = ? AND version_id = ?", project, binaryId, versionId));
  }

  Optional<BinaryContent> current(String project, String binaryId) {
    // one indexed join instead of reading the Binary's row and then its content
    return first(select("project = ? AND res_id = ? AND version_id = (SELECT c.version_id FROM resource_current c"
        + " WHERE c.project = ? AND c.res_type = 'Binary' AND c.res_id = ? AND NOT c.deleted)",
        project, binaryId, project, binaryId));
  }

  List<BinaryContent> anyProject(String binaryId, long versionId) {
    return select("res_id = ? AND version_id = ?", binaryId, versionId);
  }

  List<BinaryContent> byBlob(BlobKey key) {
    return select("blob_key = ?", key.value());
  }

  /**
   * Records {@code sha1Hex} on every version stored in blob {@code key} that has none yet; the
   * number of versions filled.
   *
   * <p>It first takes the rows of the Binaries stored in the blob, as a Binary update does before
   * it adds a version that copies its previous one's blob and SHA-1: an update in progress
   * commits first, and its version is then seen here and filled, or waits, and then copies the
   * SHA-1. Each version is then written by its key, so that the statements read no rows but those
   * they write: a commit journal's replay, which sees every transaction that committed before,
   * changes the same rows (a {@code WHERE blob_key = ?} would also take versions that were not
   * committed yet when it ran).
   */
  int fillSha1(BlobKey key, String sha1Hex) {
    List<List<Object>> binaries = st.list("read failed", "SELECT DISTINCT project, res_id FROM binary_content"
        + " WHERE blob_key = ? ORDER BY project, res_id", List.of(key.value()),
        rs -> List.of(rs.getString(1), rs.getString(2)));
    for (List<Object> binary : binaries) {
      st.list("write failed", "SELECT res_id FROM resource_current WHERE project = ? AND res_type = 'Binary'"
          + " AND res_id = ? FOR UPDATE", binary, rs -> rs.getString(1));
    }
    List<List<Object>> unknown = st.list("read failed", "SELECT project, res_id, version_id FROM binary_content"
        + " WHERE blob_key = ? AND sha1 IS NULL", List.of(key.value()),
        rs -> List.of(rs.getString(1), rs.getString(2), rs.getLong(3)));
    int filled = 0;
    for (List<Object> version : unknown) {
      filled += st.update("write failed", "UPDATE binary_content SET sha1 = ? WHERE project = ? AND res_id = ?"
          + " AND version_id = ? AND sha1 IS NULL", List.of(sha1Hex, version.get(0), version.get(1), version.get(2)));
    }
    return filled;
  }

  boolean isReferenced(BlobKey key) {
    return !st.list("read failed", "SELECT 1 FROM binary_content WHERE blob_key = ? LIMIT 1", List.of(key.value()),
        rs -> rs.getInt(1)).isEmpty();
  }

  private List<BinaryContent> select(String where, Object... args) {
    return st.list("read failed", "SELECT " + COLS + " FROM binary_content WHERE " + where, Arrays.asList(args),
        BinaryContentRows::row);
  }

  private static Optional<BinaryContent> first(List<BinaryContent> found) {
    return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
  }

  private static BinaryContent row(ResultSet rs) throws SQLException {
    return new BinaryContent(rs.getString(1), rs.getString(2), rs.getLong(3), new BlobKey(rs.getString(4)),
        rs.getLong(5), rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9), rs.getString(10),
        Instant.ofEpochMilli(rs.getLong(11)));
  }
}
