package org.fhirbox.db;

import java.math.BigDecimal;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.fhirbox.model.PagePosition;

/**
 * The {@code ORDER BY} of a search with {@code _sort} (R4 search.html#sort) over the
 * resource_current row {@code r}, and where a page of it ends. A key on a search parameter is a
 * correlated subquery on the parameter's {@code search_value} rows of that resource, found through
 * the index on (project, res_type, res_id): the smallest value for an ascending key and the
 * largest for a descending one, a date by the start of its range ascending and the end descending
 * (R4 search.html#sort leaves repeated and complex elements to the server; this is what HAPI FHIR
 * does). A resource with no value sorts last either way: {@code NULLS LAST} is written out, as H2
 * puts nulls first ascending and PostgreSQL first descending. Ties are then ordered newest first
 * and by id, which no two resources of a type share, so the order is total: a page's last entry
 * and its value of each key ({@link #values}) name one place in it, and the next page is the rows
 * strictly after that place ({@link #after}). The database sorts the matches and returns one page
 * ({@code LIMIT}): no row beyond the page reaches the server.
 */
final class SortOrder {
  private SortOrder() {}

  static void orderBy(List<SortKey> keys, StringBuilder sql, List<Object> args) {
    sql.append(" ORDER BY ");
    for (int i = 0; i < keys.size(); i++) {
      SortKey k = keys.get(i);
      sql.append(i > 0 ? ", " : "");
      value(k, sql, args);
      sql.append(k.descending() ? " DESC NULLS LAST" : " ASC NULLS LAST");
    }
    if (!has(keys, SortKey.Column.LAST_UPDATED)) {
      sql.append(", r.last_updated DESC");
    }
    if (!has(keys, SortKey.Column.ID)) {
      sql.append(", r.res_id DESC");
    }
  }

  /** Appends {@code , <value of key 1>, ...}: the columns a select list adds for {@link #read}. */
  static void values(List<SortKey> keys, StringBuilder sql, List<Object> args) {
    for (SortKey k : keys) {
      sql.append(", ");
      value(k, sql, args);
    }
  }

  /** The values {@link #values} selected, from the result column {@code first} on. */
  static List<Object> read(List<SortKey> keys, ResultSet rs, int first) throws SQLException {
    List<Object> out = new ArrayList<>();
    for (int i = 0; i < keys.size(); i++) {
      int column = first + i;
      Object v = switch (keys.get(i).column()) {
        case ID, CODE -> rs.getString(column);
        case LAST_UPDATED, DATE -> rs.getLong(column);
        case NUMBER -> rs.getBigDecimal(column);
      };
      out.add(rs.wasNull() ? null : v);
    }
    return out;
  }

  /**
   * Appends {@code AND <the row is strictly after at>}: nested, key by key, {@code value beyond
   * v OR (value = v AND <the next key decides>)}, the tie-breakers last. "Beyond" is greater for
   * an ascending key and less for a descending one, and includes no value, which sorts last; after
   * a position without a value only rows without one follow, and the next key decides among them.
   * Each value is a bound parameter, compared with the expression the {@code ORDER BY} sorts by.
   */
  static void after(List<SortKey> keys, PagePosition at, StringBuilder sql, List<Object> args) {
    List<Term> terms = new ArrayList<>();
    for (int i = 0; i < keys.size(); i++) {
      terms.add(new Term(keys.get(i), keys.get(i).descending(), at.sortValues().get(i)));
    }
    if (!has(keys, SortKey.Column.LAST_UPDATED)) {
      terms.add(new Term(new SortKey(SortKey.Column.LAST_UPDATED, List.of(), true), true, at.lastUpdated()));
    }
    if (!has(keys, SortKey.Column.ID)) {
      terms.add(new Term(new SortKey(SortKey.Column.ID, List.of(), true), true, at.id()));
    }
    sql.append(" AND ");
    beyond(terms, 0, sql, args);
  }

  private record Term(SortKey key, boolean descending, Object value) {}

  private static void beyond(List<Term> terms, int i, StringBuilder sql, List<Object> args) {
    Term t = terms.get(i);
    boolean last = i == terms.size() - 1;
    if (t.value() == null) {
      // the tie-breakers always have a value, so a term without one is never the last
      sql.append("(");
      value(t.key(), sql, args);
      sql.append(" IS NULL AND ");
      beyond(terms, i + 1, sql, args);
      sql.append(")");
      return;
    }
    sql.append("(");
    value(t.key(), sql, args);
    sql.append(t.descending() ? " < ?" : " > ?");
    args.add(t.value());
    if (indexed(t.key())) {
      sql.append(" OR ");
      value(t.key(), sql, args);
      sql.append(" IS NULL");
    }
    if (!last) {
      sql.append(" OR (");
      value(t.key(), sql, args);
      sql.append(" = ? AND ");
      args.add(t.value());
      beyond(terms, i + 1, sql, args);
      sql.append(")");
    }
    sql.append(")");
  }

  private static boolean has(List<SortKey> keys, SortKey.Column column) {
    return keys.stream().anyMatch(k -> k.column() == column);
  }

  private static boolean indexed(SortKey k) {
    return k.column() != SortKey.Column.ID && k.column() != SortKey.Column.LAST_UPDATED;
  }

  /** Appends the value {@code k} sorts by. */
  private static void value(SortKey k, StringBuilder sql, List<Object> args) {
    switch (k.column()) {
      case ID -> sql.append("r.res_id");
      case LAST_UPDATED -> sql.append("r.last_updated");
      default -> indexed(k, sql, args);
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
