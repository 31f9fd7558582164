package org.fhirbox.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.fhirbox.storage.BlobKey;

/** {@link ResourceStore} over JDBC, one SQL dialect subset shared by H2 and PostgreSQL. */
public final class JdbcResourceStore implements ResourceStore {
  private static final int MAX_ATTEMPTS = 8;
  private final Database db;

  public JdbcResourceStore(Database db) {
    this.db = db;
  }

  @Override
  public <T> T inTransaction(Work<T> work) {
    for (int attempt = 1; ; attempt++) {
      try (Connection c = db.connection()) {
        c.setAutoCommit(false);
        try {
          T result = work.run(new JdbcTx(c));
          commit(c);
          return result;
        } catch (RuntimeException e) {
          rollbackQuietly(c, e);
          if (!(e instanceof StoreException se && se.isConflict() && attempt < MAX_ATTEMPTS)) {
            throw e;
          }
          backoff(attempt); // a lost race: run the work again on fresh data
        } finally {
          c.setAutoCommit(true);
        }
      } catch (SQLException e) {
        throw new StoreException("database unavailable", e);
      }
    }
  }

  private static void commit(Connection c) {
    try {
      c.commit();
    } catch (SQLException e) {
      throw new StoreException("commit failed", e);
    }
  }

  @Override
  public <T> T read(Work<T> work) {
    try (Connection c = db.connection()) {
      return work.run(new JdbcTx(c));
    } catch (SQLException e) {
      throw new StoreException("database unavailable", e);
    }
  }

  private static void rollbackQuietly(Connection c, Exception cause) {
    try {
      c.rollback();
    } catch (SQLException e) {
      cause.addSuppressed(e);
    }
  }

  private static void backoff(int attempt) {
    try {
      Thread.sleep(Math.min(50, 2L << attempt) + (long) (Math.random() * 5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted", null);
    }
  }

  private static final String COLS = "project, res_type, res_id, version_id, last_updated, deleted, content";
  /** Widths of search_value.sys and .code (migration V1): longer values are stored cut. */
  private static final int SYS_MAX = 255;
  private static final int CODE_MAX = 512;

  private static StoredResource row(ResultSet rs) throws SQLException {
    return new StoredResource(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4),
        Instant.ofEpochMilli(rs.getLong(5)), rs.getBoolean(6), rs.getString(7));
  }

  private final class JdbcTx implements Tx {
    private final Connection c;

    JdbcTx(Connection c) {
      this.c = c;
    }

    @Override
    public Optional<StoredResource> current(String project, String type, String id, boolean lock) {
      String sql = "SELECT " + COLS + " FROM resource_current WHERE project = ? AND res_type = ? AND res_id = ?"
          + (lock ? " FOR UPDATE" : "");
      return one(sql, project, type, id);
    }

    @Override
    public Optional<StoredResource> version(String project, String type, String id, long versionId) {
      return one("SELECT " + COLS + " FROM resource_version WHERE project = ? AND res_type = ? AND res_id = ?"
          + " AND version_id = ?", project, type, id, versionId);
    }

    private Optional<StoredResource> one(String sql, Object... args) {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        bind(ps, args);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? Optional.of(row(rs)) : Optional.empty();
        }
      } catch (SQLException e) {
        throw new StoreException("read failed", e);
      }
    }

    @Override
    public void insert(StoredResource r, List<SearchValue> index) {
      try {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO resource_version (" + COLS
            + ") VALUES (?, ?, ?, ?, ?, ?, ?)")) {
          bindRow(ps, r);
          ps.executeUpdate();
        }
        // A first version has no current row to move on, nor index rows to replace: two statements
        // fewer for every create.
        boolean first = r.versionId() == 1;
        int updated = 0;
        if (!first) {
          try (PreparedStatement ps = c.prepareStatement("UPDATE resource_current SET version_id = ?,"
              + " last_updated = ?, deleted = ?, content = ? WHERE project = ? AND res_type = ? AND res_id = ?"
              + " AND version_id = ?")) {
            bind(ps, r.versionId(), r.lastUpdated().toEpochMilli(), r.deleted(), r.json(), r.project(), r.type(),
                r.id(), r.versionId() - 1);
            updated = ps.executeUpdate();
          }
        }
        if (updated == 0) {
          // No current row at versionId - 1: this is the first version, or another writer won
          // (then the primary key of resource_version or resource_current rejects us).
          try (PreparedStatement ps = c.prepareStatement("INSERT INTO resource_current (" + COLS
              + ") VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            bindRow(ps, r);
            ps.executeUpdate();
          }
        }
        writeIndex(r, r.deleted() ? List.of() : index, !first);
      } catch (SQLException e) {
        throw new StoreException("write failed", e);
      }
    }

    @Override
    public void replaceIndex(StoredResource r, List<SearchValue> index) {
      try {
        writeIndex(r, index, true);
      } catch (SQLException e) {
        throw new StoreException("index write failed", e);
      }
    }

    private void writeIndex(StoredResource r, List<SearchValue> index, boolean replace) throws SQLException {
      if (replace) {
        try (PreparedStatement ps = c.prepareStatement(
            "DELETE FROM search_value WHERE project = ? AND res_type = ? AND res_id = ?")) {
          bind(ps, r.project(), r.type(), r.id());
          ps.executeUpdate();
        }
      }
      if (!index.isEmpty()) {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO search_value (project, res_type, res_id,"
            + " param, sys, code, low, high, num) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
          for (SearchValue v : index) {
            bind(ps, r.project(), r.type(), r.id(), v.param(), truncate(v.system(), SYS_MAX),
                truncate(v.code(), CODE_MAX), v.low(), v.high(), v.number());
            ps.addBatch();
          }
          ps.executeBatch();
        }
      }
    }

    @Override
    public List<StoredResource> currentAfter(StoredResource after, int limit) {
      String sql = "SELECT " + COLS + " FROM resource_current WHERE deleted = FALSE"
          + (after == null ? "" : " AND (project > ? OR (project = ? AND (res_type > ? OR (res_type = ? AND res_id > ?))))")
          + " ORDER BY project, res_type, res_id LIMIT ?";
      List<Object> args = new ArrayList<>();
      if (after != null) {
        args.addAll(List.of(after.project(), after.project(), after.type(), after.type(), after.id()));
      }
      args.add(limit);
      return rows(sql, args.toArray());
    }

    @Override
    public List<String> indexedValues(String project, String type, List<String> ids, String param) {
      if (ids.isEmpty()) {
        return List.of();
      }
      List<Object> args = new ArrayList<>(List.of(project, type, param));
      args.addAll(ids);
      return strings("SELECT DISTINCT code FROM search_value WHERE project = ? AND res_type = ? AND param = ?"
          + " AND res_id IN (" + "?, ".repeat(ids.size() - 1) + "?)", args);
    }

    /** The first column of every row. */
    private List<String> strings(String sql, List<Object> args) {
      List<String> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        bind(ps, args.toArray());
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(rs.getString(1));
          }
        }
      } catch (SQLException e) {
        throw new StoreException("query failed", e);
      }
      return out;
    }

    @Override
    public int searchIndexVersion() {
      try (PreparedStatement ps = c.prepareStatement("SELECT version FROM search_index_state WHERE id = 1");
          ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getInt(1) : 0;
      } catch (SQLException e) {
        throw new StoreException("read failed", e);
      }
    }

    @Override
    public void setSearchIndexVersion(int version) {
      try (PreparedStatement ps = c.prepareStatement("UPDATE search_index_state SET version = ? WHERE id = 1")) {
        bind(ps, version);
        ps.executeUpdate();
      } catch (SQLException e) {
        throw new StoreException("write failed", e);
      }
    }

    /** {@code s} matched literally by LIKE ... ESCAPE '!' (no wildcards of its own). */
    /** The least string above every string that starts with {@code prefix}, or null when there is none. */
    private static String after(String prefix) {
      int i = prefix.length() - 1;
      while (i >= 0 && prefix.charAt(i) == Character.MAX_VALUE) {
        i--;
      }
      return i < 0 ? null : prefix.substring(0, i) + (char) (prefix.charAt(i) + 1);
    }

    private static String likeLiteral(String s) {
      return s.replace("!", "!!").replace("%", "!%").replace("_", "!_");
    }

    private static String truncate(String s, int max) {
      return s == null || s.length() <= max ? s : s.substring(0, max);
    }

    private static void bindRow(PreparedStatement ps, StoredResource r) throws SQLException {
      bind(ps, r.project(), r.type(), r.id(), r.versionId(), r.lastUpdated().toEpochMilli(), r.deleted(), r.json());
    }

    @Override
    public Page history(HistoryQuery q) {
      StringBuilder sql = new StringBuilder("SELECT " + COLS + " FROM resource_version WHERE project = ?");
      List<Object> args = new ArrayList<>(List.of(q.project()));
      if (q.type() != null) {
        sql.append(" AND res_type = ?");
        args.add(q.type());
      }
      if (q.id() != null) {
        sql.append(" AND res_id = ?");
        args.add(q.id());
      }
      if (q.since() != null) {
        sql.append(" AND last_updated >= ?");
        args.add(q.since().toEpochMilli());
      }
      sql.append(" ORDER BY last_updated DESC, res_type, res_id, version_id DESC");
      return page(sql, args, q.count(), q.offset());
    }

    @Override
    public Page search(SearchQuery q) {
      StringBuilder sql = new StringBuilder("SELECT " + COLS + " FROM resource_current r");
      List<Object> args = new ArrayList<>();
      where(q, sql, args);
      sql.append(q.descending() ? " ORDER BY last_updated DESC, res_id DESC" : " ORDER BY last_updated, res_id");
      return page(sql, args, q.count(), q.offset());
    }

    @Override
    public long count(SearchQuery q) {
      StringBuilder sql = new StringBuilder("SELECT COUNT(*) FROM resource_current r");
      List<Object> args = new ArrayList<>();
      where(q, sql, args);
      try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
        bind(ps, args.toArray());
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return rs.getLong(1);
        }
      } catch (SQLException e) {
        throw new StoreException("count failed", e);
      }
    }

    @Override
    public List<String> ids(SearchQuery q) {
      StringBuilder sql = new StringBuilder("SELECT res_id FROM resource_current r");
      List<Object> args = new ArrayList<>();
      where(q, sql, args);
      sql.append(" LIMIT ?");
      args.add(q.count());
      return strings(sql.toString(), args);
    }

    private void where(SearchQuery q, StringBuilder sql, List<Object> args) {
      sql.append(" WHERE project = ? AND res_type = ? AND deleted = FALSE");
      args.add(q.project());
      args.add(q.type());
      for (SearchClause clause : q.clauses()) {
        clause(clause, sql, args);
      }
    }

    /** Appends {@code AND <clause>} on the resource_current row {@code r}. */
    private void clause(SearchClause clause, StringBuilder sql, List<Object> args) {
      String values = " AND EXISTS (SELECT 1 FROM search_value s WHERE s.project = r.project AND s.res_type ="
          + " r.res_type AND s.res_id = r.res_id AND ";
      if (clause instanceof SearchClause.Ids ids && ids.ids().isEmpty()) {
        sql.append(" AND 1 = 0");
      } else if (clause instanceof SearchClause.Ids ids) {
        sql.append(" AND r.res_id IN (").append("?, ".repeat(ids.ids().size() - 1)).append("?)");
        args.addAll(ids.ids());
      } else if (clause instanceof SearchClause.LastUpdated lu) {
        if (lu.lowInclusive() != null) {
          sql.append(" AND r.last_updated >= ?");
          args.add(lu.lowInclusive());
        }
        if (lu.highInclusive() != null) {
          sql.append(" AND r.last_updated <= ?");
          args.add(lu.highInclusive());
        }
      } else if (clause instanceof SearchClause.Token t) {
        sql.append(values).append("s.param = ? AND (");
        args.add(t.param());
        for (int i = 0; i < t.values().size(); i++) {
          SearchClause.TokenValue v = t.values().get(i);
          sql.append(i > 0 ? " OR " : "").append(v.system() == null ? "s.code = ?" : "(s.sys = ? AND s.code = ?)");
          // as stored: a longer value matches on its first part
          if (v.system() != null) {
            args.add(truncate(v.system(), SYS_MAX));
          }
          args.add(truncate(v.code(), CODE_MAX));
        }
        sql.append("))");
      } else if (clause instanceof SearchClause.Text t) {
        sql.append(values).append("s.param IN (").append("?, ".repeat(t.params().size() - 1)).append("?) AND (");
        args.addAll(t.params());
        for (int i = 0; i < t.values().size(); i++) {
          String v = t.values().get(i);
          sql.append(i > 0 ? " OR " : "");
          switch (t.match()) {
            case EXACT -> {
              sql.append("s.sys = ?");
              args.add(v);
            }
            case STARTS_WITH -> {
              String after = db.vendor() == Database.Vendor.H2 ? after(v) : null;
              if (after != null) {
                // On H2 a prefix is a range: with LIKE and a parameter, H2 probed every row, and a
                // prefix search on 20,000 Patients took 120-340 ms instead of 1 ms. H2 orders
                // strings by UTF-16 code unit (String.compareTo), where [v, after(v)) holds exactly
                // the strings that start with v. PostgreSQL orders by its collation, so there the
                // LIKE uses the pattern index (migration V5).
                sql.append("(s.code >= ? AND s.code < ?)");
                args.add(v);
                args.add(after);
              } else {
                sql.append("s.code LIKE ? ESCAPE '!'");
                args.add(likeLiteral(v) + "%");
              }
            }
            case CONTAINS -> {
              sql.append("s.code LIKE ? ESCAPE '!'");
              args.add("%" + likeLiteral(v) + "%");
            }
          }
        }
        sql.append("))");
      } else if (clause instanceof SearchClause.DateRange d) {
        sql.append(values).append("s.param = ?");
        args.add(d.param());
        if (d.lowInclusive() != null) {
          sql.append(d.within() ? " AND s.low >= ?" : " AND s.high >= ?");
          args.add(d.lowInclusive());
        }
        if (d.highInclusive() != null) {
          sql.append(d.within() ? " AND s.high <= ?" : " AND s.low <= ?");
          args.add(d.highInclusive());
        }
        sql.append(")");
      } else if (clause instanceof SearchClause.NumberRange n) {
        sql.append(values).append("s.param = ? AND s.num IS NOT NULL");
        args.add(n.param());
        if (n.system() != null) {
          sql.append(" AND s.sys = ?");
          args.add(n.system());
        }
        if (n.code() != null) {
          sql.append(" AND s.code = ?");
          args.add(n.code());
        }
        List<String> bounds = new ArrayList<>();
        if (n.low() != null) {
          bounds.add(n.lowInclusive() ? "s.num >= ?" : "s.num > ?");
          args.add(n.low());
        }
        if (n.high() != null) {
          bounds.add(n.highInclusive() ? "s.num <= ?" : "s.num < ?");
          args.add(n.high());
        }
        if (!bounds.isEmpty()) {
          sql.append(n.outside() ? " AND NOT (" : " AND (").append(String.join(" AND ", bounds)).append(")");
        }
        sql.append(")");
      } else {
        // Chain and Has name other resources: SearchChains turns them into tokens and ids first.
        throw new IllegalArgumentException("unresolved search clause " + clause.getClass().getSimpleName());
      }
    }

    private Page page(StringBuilder sql, List<Object> args, int count, int offset) {
      sql.append(" LIMIT ? OFFSET ?");
      args.add(count + 1);
      args.add(offset);
      List<StoredResource> items = rows(sql.toString(), args.toArray());
      boolean more = items.size() > count;
      return new Page(more ? List.copyOf(items.subList(0, count)) : List.copyOf(items), more);
    }

    private List<StoredResource> rows(String sql, Object... args) {
      List<StoredResource> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        bind(ps, args);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(row(rs));
          }
        }
      } catch (SQLException e) {
        throw new StoreException("query failed", e);
      }
      return out;
    }

    @Override
    public void insertBinaryContent(BinaryContent b) {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO binary_content (project, res_id, version_id,"
          + " blob_key, size, sha256, sha1, content_type, filename, security_context, created)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
        bind(ps, b.project(), b.binaryId(), b.versionId(), b.blobKey().value(), b.size(), b.sha256Hex(),
            b.sha1Hex(), b.contentType(), b.filename(), b.securityContext(), b.lastUpdated().toEpochMilli());
        ps.executeUpdate();
      } catch (SQLException e) {
        throw new StoreException("write failed", e);
      }
    }

    @Override
    public Optional<BinaryContent> binaryContent(String project, String binaryId, long versionId) {
      List<BinaryContent> found = binaryContents(" AND project = ?", binaryId, versionId, project);
      return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
    }

    @Override
    public Optional<BinaryContent> currentBinaryContent(String project, String binaryId) {
      // one indexed join instead of reading the Binary's row and then its content
      List<BinaryContent> found = selectBinaryContents("project = ? AND res_id = ? AND version_id = (SELECT"
          + " c.version_id FROM resource_current c WHERE c.project = ? AND c.res_type = 'Binary' AND c.res_id = ?"
          + " AND NOT c.deleted)", project, binaryId, project, binaryId);
      return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
    }

    @Override
    public List<BinaryContent> binaryContentAnyProject(String binaryId, long versionId) {
      return binaryContents("", binaryId, versionId);
    }

    @Override
    public List<BinaryContent> binaryContentByBlob(BlobKey key) {
      return selectBinaryContents("blob_key = ?", key.value());
    }

    private List<BinaryContent> binaryContents(String extraWhere, Object... args) {
      return selectBinaryContents("res_id = ? AND version_id = ?" + extraWhere, args);
    }

    private List<BinaryContent> selectBinaryContents(String where, Object... args) {
      List<BinaryContent> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT project, res_id, version_id, blob_key, size, sha256, sha1,"
          + " content_type, filename, security_context, created FROM binary_content WHERE " + where)) {
        bind(ps, args);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(new BinaryContent(rs.getString(1), rs.getString(2), rs.getLong(3), new BlobKey(rs.getString(4)),
                rs.getLong(5), rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9), rs.getString(10),
                Instant.ofEpochMilli(rs.getLong(11))));
          }
        }
      } catch (SQLException e) {
        throw new StoreException("read failed", e);
      }
      return out;
    }

    @Override
    public boolean isBlobReferenced(BlobKey key) {
      try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM binary_content WHERE blob_key = ?")) {
        bind(ps, key.value());
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next();
        }
      } catch (SQLException e) {
        throw new StoreException("read failed", e);
      }
    }

    @Override
    public IngestJobTable ingestJobs() {
      return new JdbcIngestJobTable(c);
    }

    private static void bind(PreparedStatement ps, Object... args) throws SQLException {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
    }
  }
}
