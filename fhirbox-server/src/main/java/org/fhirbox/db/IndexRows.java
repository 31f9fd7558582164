package org.fhirbox.db;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.fhirbox.model.StoredResource;

/**
 * The search index: one {@code search_value} row per extracted value of the current version of a
 * resource (deleted resources have none), and the version of the extractor that built it.
 */
final class IndexRows {
  private final JdbcStatements st;
  private final SearchSql searchSql;

  IndexRows(JdbcStatements st, SearchSql searchSql) {
    this.st = st;
    this.searchSql = searchSql;
  }

  /** Writes {@code index} as the rows of {@code r}; with {@code replace}, its old rows go first. */
  void write(StoredResource r, List<SearchValue> index, boolean replace) {
    if (replace) {
      st.update("index write failed", "DELETE FROM search_value WHERE project = ? AND res_type = ? AND res_id = ?",
          List.of(r.project(), r.type(), r.id()));
    }
    if (index.isEmpty()) {
      return;
    }
    List<List<Object>> rows = new ArrayList<>(index.size());
    for (SearchValue v : index) {
      rows.add(Arrays.asList(r.project(), r.type(), r.id(), v.param(), SearchSql.truncate(v.system(), SearchSql.SYS_MAX),
          SearchSql.truncate(v.code(), SearchSql.CODE_MAX), v.low(), v.high(), v.number()));
    }
    st.batch("index write failed", "INSERT INTO search_value (project, res_type, res_id, param, sys, code, low, high,"
        + " num) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows);
  }

  List<String> indexedValues(String project, String type, List<String> ids, String param, String prefix, int limit) {
    if (ids.isEmpty()) {
      return List.of();
    }
    SearchSql.Sql sql = searchSql.indexedValues(project, type, ids, param, prefix, limit);
    return st.list("query failed", sql.text(), sql.args(), rs -> rs.getString(1));
  }

  List<IndexedValue> indexedRows(String project, String type, List<String> ids, String param, int limit) {
    if (ids.isEmpty()) {
      return List.of();
    }
    SearchSql.Sql sql = searchSql.indexedRows(project, type, ids, param, limit);
    return st.list("query failed", sql.text(), sql.args(),
        rs -> new IndexedValue(rs.getString(1), rs.getString(2), rs.getString(3)));
  }

  /** {@code Type/id} of the current resources of {@code types} whose {@code param} holds {@code code}. */
  List<String> namedBy(String project, List<String> types, String param, String code) {
    if (types.isEmpty()) {
      return List.of();
    }
    List<Object> args = new ArrayList<>(List.of(project));
    args.addAll(types);
    args.add(param);
    args.add(SearchSql.truncate(code, SearchSql.CODE_MAX));
    // res_type IN (...) keeps the lookup on the index (project, res_type, param, code): one probe per type
    return st.list("query failed", "SELECT DISTINCT res_type, res_id FROM search_value WHERE project = ?"
        + " AND res_type IN (" + "?, ".repeat(types.size() - 1) + "?) AND param = ? AND code = ?", args,
        rs -> rs.getString(1) + "/" + rs.getString(2));
  }

  int extractorVersion() {
    List<Integer> v = st.list("read failed", "SELECT version FROM search_index_state WHERE id = 1", List.of(),
        rs -> rs.getInt(1));
    return v.isEmpty() ? 0 : v.get(0);
  }

  void setExtractorVersion(int version) {
    st.update("write failed", "UPDATE search_index_state SET version = ? WHERE id = 1", List.of(version));
  }
}
