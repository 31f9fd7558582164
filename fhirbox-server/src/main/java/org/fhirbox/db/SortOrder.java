package org.fhirbox.db;

import java.util.List;

/**
 * The {@code ORDER BY} of a search with {@code _sort} (R4 search.html#sort) over the
 * resource_current row {@code r}. A key on a search parameter is a correlated subquery on the
 * parameter's {@code search_value} rows of that resource, found through the index on (project,
 * res_type, res_id): the smallest value for an ascending key and the largest for a descending one,
 * a date by the start of its range ascending and the end descending (R4 search.html#sort leaves
 * repeated and complex elements to the server; this is what HAPI FHIR does). A resource with no
 * value sorts last either way: {@code NULLS LAST} is written out, as H2 puts nulls first ascending
 * and PostgreSQL first descending. Ties are then ordered newest first and by id, which no two
 * resources of a type share, so the order is total and an offset names the same place on every
 * page read in one state of the database. The database sorts the matches and returns one page
 * ({@code LIMIT}): no row beyond the page reaches the server.
 */
final class SortOrder {
  private SortOrder() {}

  static void orderBy(List<SortKey> keys, StringBuilder sql, List<Object> args) {
    sql.append(" ORDER BY ");
    boolean byLastUpdated = false;
    boolean byId = false;
    for (int i = 0; i < keys.size(); i++) {
      SortKey k = keys.get(i);
      sql.append(i > 0 ? ", " : "");
      switch (k.column()) {
        case ID -> {
          sql.append("r.res_id");
          byId = true;
        }
        case LAST_UPDATED -> {
          sql.append("r.last_updated");
          byLastUpdated = true;
        }
        default -> indexed(k, sql, args);
      }
      sql.append(k.descending() ? " DESC NULLS LAST" : " ASC NULLS LAST");
    }
    if (!byLastUpdated) {
      sql.append(", r.last_updated DESC");
    }
    if (!byId) {
      sql.append(", r.res_id DESC");
    }
  }

  private static void indexed(SortKey k, StringBuilder sql, List<Object> args) {
    String value = switch (k.column()) {
      case CODE -> k.descending() ? "MAX(s.code)" : "MIN(s.code)";
      case DATE -> k.descending() ? "MAX(s.high)" : "MIN(s.low)";
      case NUMBER -> k.descending() ? "MAX(s.num)" : "MIN(s.num)";
      default -> throw new IllegalArgumentException("not an index column: " + k.column());
    };
    sql.append("(SELECT ").append(value).append(" FROM search_value s WHERE s.project = r.project"
        + " AND s.res_type = r.res_type AND s.res_id = r.res_id AND s.param IN (")
        .append("?, ".repeat(k.params().size() - 1)).append("?))");
    args.addAll(k.params());
  }
}
