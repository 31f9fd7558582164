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

  int fillSha1(BlobKey key, String sha1Hex) {
    return st.update("write failed", "UPDATE binary_content SET sha1 = ? WHERE blob_key = ? AND sha1 IS NULL",
        List.of(sha1Hex, key.value()));
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
