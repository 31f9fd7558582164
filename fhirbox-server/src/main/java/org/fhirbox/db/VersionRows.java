package org.fhirbox.db;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.fhirbox.model.PagePosition;
import org.fhirbox.model.StoredResource;

/**
 * The tables of resource versions: every version in {@code resource_version}, the newest of each
 * resource in {@code resource_current} (what read and search see). History and search pages
 * read them.
 */
final class VersionRows {
  private static final String COLS = SearchSql.COLS;
  private final JdbcStatements st;
  private final SearchSql searchSql;

  VersionRows(JdbcStatements st, SearchSql searchSql) {
    this.st = st;
    this.searchSql = searchSql;
  }

  Optional<StoredResource> current(String project, String type, String id, boolean lock) {
    return one("SELECT " + COLS + " FROM resource_current WHERE project = ? AND res_type = ? AND res_id = ?"
        + (lock ? " FOR UPDATE" : ""), project, type, id);
  }

  Optional<StoredResource> version(String project, String type, String id, long versionId) {
    return one("SELECT " + COLS + " FROM resource_version WHERE project = ? AND res_type = ? AND res_id = ?"
        + " AND version_id = ?", project, type, id, versionId);
  }

  boolean deletedAfter(String project, String type, String id, long versionId) {
    return one("SELECT " + COLS + " FROM resource_version WHERE project = ? AND res_type = ? AND res_id = ?"
        + " AND version_id > ? AND deleted = TRUE ORDER BY version_id LIMIT 1", project, type, id, versionId)
        .isPresent();
  }

  private Optional<StoredResource> one(String sql, Object... args) {
    return st.first("read failed", sql, Arrays.asList(args), VersionRows::row);
  }

  /**
   * Stores {@code r} as a new version and makes it current; {@code patched}: made by PATCH, its
   * {@code method} (migration V31), written by the same INSERT. Fails with a conflict when another
   * writer stored that version first (the primary key of either table rejects it).
   */
  void insert(StoredResource r, boolean patched) {
    st.update("write failed", patched
        ? "INSERT INTO resource_version (" + COLS + ", method) VALUES (?, ?, ?, ?, ?, ?, ?, 'PATCH')"
        : "INSERT INTO resource_version (" + COLS + ") VALUES (?, ?, ?, ?, ?, ?, ?)", rowArgs(r));
    // A first version has no current row to move on: one statement fewer for every create.
    int updated = 0;
    if (r.versionId() != 1) {
      updated = st.update("write failed", "UPDATE resource_current SET version_id = ?, last_updated = ?,"
          + " deleted = ?, content = ? WHERE project = ? AND res_type = ? AND res_id = ? AND version_id = ?",
          Arrays.asList(r.versionId(), r.lastUpdated().toEpochMilli(), r.deleted(), r.json(), r.project(),
              r.type(), r.id(), r.versionId() - 1));
    }
    if (updated == 0) {
      // No current row at versionId - 1: this is the first version, or another writer won
      // (then the primary key of resource_version or resource_current rejects us).
      st.update("write failed", "INSERT INTO resource_current (" + COLS + ") VALUES (?, ?, ?, ?, ?, ?, ?)",
          rowArgs(r));
    }
  }

  private static final int PATCHED_PER_STATEMENT = 100;

  /**
   * Those of {@code versions} (of one project, as a page of history lists them) that a PATCH made:
   * looked up by their primary keys, {@value #PATCHED_PER_STATEMENT} to a statement, so the cost is
   * the page's, however many versions of the type or project lie between its first and last (a
   * patient's page of {@code Observation/_history} may span years of others' versions).
   */
  List<StoredResource> patched(List<StoredResource> versions) {
    Set<String> found = new HashSet<>();
    for (int from = 0; from < versions.size(); from += PATCHED_PER_STATEMENT) {
      List<StoredResource> part = versions.subList(from, Math.min(versions.size(), from + PATCHED_PER_STATEMENT));
      // the whole primary key as a row value: H2 looks up an IN list of rows through the index,
      // while an OR of ANDs it reads through the project's prefix alone, every version of it
      StringBuilder sql = new StringBuilder("SELECT res_type, res_id, version_id FROM resource_version"
          + " WHERE method = 'PATCH' AND (project, res_type, res_id, version_id) IN (");
      List<Object> args = new ArrayList<>();
      for (int i = 0; i < part.size(); i++) {
        sql.append(i == 0 ? "" : ", ").append("(?, ?, ?, ?)");
        args.addAll(List.of(part.get(i).project(), part.get(i).type(), part.get(i).id(), part.get(i).versionId()));
      }
      found.addAll(st.list("read failed", sql.append(')').toString(), args,
          rs -> rs.getString(1) + "/" + rs.getString(2) + "/" + rs.getLong(3)));
    }
    return versions.stream().filter(v -> found.contains(v.type() + "/" + v.id() + "/" + v.versionId())).toList();
  }

  /**
   * The next {@code limit} current, not deleted resources after {@code after}, in primary key
   * order, read by the statements of {@link #currentAfterSql} in turn until the page is full.
   */
  List<StoredResource> currentAfter(StoredResource after, int limit) {
    List<StoredResource> out = new ArrayList<>();
    for (SearchSql.Sql sql : currentAfterSql(after)) {
      List<Object> args = new ArrayList<>(sql.args());
      args.add(limit - out.size());
      out.addAll(st.list("query failed", sql.text(), args, VersionRows::row));
      if (out.size() >= limit) {
        break;
      }
    }
    return out;
  }

  /**
   * The statements that read on from {@code after}, each still to be given its LIMIT: the rest of
   * its type, the project's later types, then later projects. Each names a start in the primary
   * key (project, res_type, res_id) that both databases seek to, so a page costs its own rows, not
   * every row before it. One condition {@code project > ? OR (project = ? AND ...)} was a scan
   * from the first row for every page; H2 seeks by only the first column of a row value
   * {@code (project, res_type, res_id) > (?, ?, ?)}.
   */
  static List<SearchSql.Sql> currentAfterSql(StoredResource after) {
    String select = "SELECT " + COLS + " FROM resource_current WHERE deleted = FALSE";
    String order = " ORDER BY project, res_type, res_id LIMIT ?";
    if (after == null) {
      return List.of(new SearchSql.Sql(select + order, List.of()));
    }
    return List.of(
        new SearchSql.Sql(select + " AND project = ? AND res_type = ? AND res_id > ?" + order,
            List.of(after.project(), after.type(), after.id())),
        new SearchSql.Sql(select + " AND project = ? AND res_type > ?" + order, List.of(after.project(), after.type())),
        new SearchSql.Sql(select + " AND project > ?" + order, List.of(after.project())));
  }

  Page history(HistoryQuery q) {
    return page(searchSql.history(q), q.count());
  }

  Page search(SearchQuery q) {
    SearchSql.Sql sql = searchSql.page(q);
    if (q.sort().isEmpty()) {
      return page(sql, q.count());
    }
    // a page starts after an entry of the one before, at its values of the sort keys
    List<Map.Entry<StoredResource, List<Object>>> rows = st.list("query failed", sql.text(), sql.args(),
        rs -> Map.entry(row(rs), SortOrder.read(q.sort(), rs, SearchSql.COLS_COUNT + 1)));
    List<Map.Entry<StoredResource, List<Object>>> shown = rows.stream().limit(q.count()).toList();
    return new Page(shown.stream().map(Map.Entry::getKey).toList(), rows.size() > q.count(),
        shown.stream().map(e -> PagePosition.of(e.getKey()).withSortValues(e.getValue())).toList());
  }

  long count(SearchQuery q) {
    SearchSql.Sql sql = searchSql.count(q);
    return st.list("count failed", sql.text(), sql.args(), rs -> rs.getLong(1)).get(0);
  }

  long countUpTo(SearchQuery q, int limit) {
    SearchSql.Sql sql = searchSql.countUpTo(q, limit);
    return st.list("count failed", sql.text(), sql.args(), rs -> rs.getLong(1)).get(0);
  }

  List<String> ids(SearchQuery q) {
    SearchSql.Sql sql = searchSql.ids(q);
    return st.list("query failed", sql.text(), sql.args(), rs -> rs.getString(1));
  }

  /** A statement that asks for one row more than {@code count}, as a page that knows if another follows. */
  private Page page(SearchSql.Sql sql, int count) {
    List<StoredResource> items = st.list("query failed", sql.text(), sql.args(), VersionRows::row);
    boolean more = items.size() > count;
    return new Page(more ? List.copyOf(items.subList(0, count)) : List.copyOf(items), more);
  }

  private static StoredResource row(ResultSet rs) throws SQLException {
    return new StoredResource(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4),
        Instant.ofEpochMilli(rs.getLong(5)), rs.getBoolean(6), rs.getString(7));
  }

  private static List<Object> rowArgs(StoredResource r) {
    return Arrays.asList(r.project(), r.type(), r.id(), r.versionId(), r.lastUpdated().toEpochMilli(), r.deleted(),
        r.json());
  }
}
