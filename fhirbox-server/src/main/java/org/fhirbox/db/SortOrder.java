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
 * ({@code LIMIT}): no row beyond the page reaches the server. The matches and their values are a
 * derived table ({@code SELECT * FROM (SELECT ..., <value> AS sort_1 ...) m}) that the page
 * condition and the {@code ORDER BY} read by column, so each value is looked up once per match.
 */
final class SortOrder {
  private SortOrder() {}

  /**
   * Appends {@code ORDER BY}, over the derived table whose select list {@link #values} wrote: each
   * key by its column there, then the tie-breakers.
   */
  static void orderBy(List<SortKey> keys, StringBuilder sql) {
    sql.append(" ORDER BY ");
    for (int i = 0; i < keys.size(); i++) {
      sql.append(i > 0 ? ", " : "").append(column(i));
      sql.append(keys.get(i).descending() ? " DESC NULLS LAST" : " ASC NULLS LAST");
    }
    if (!has(keys, SortKey.Column.LAST_UPDATED)) {
      sql.append(", last_updated DESC");
    }
    if (!has(keys, SortKey.Column.ID)) {
      sql.append(", res_id DESC");
    }
  }

  /**
   * Appends {@code , <value of key 1> AS sort_1, ...} to the select list of the derived table
   * that {@link #orderBy} and {@link #after} read: each key's value is computed once per row
   * there, not again in each place that compares or sorts by it (a correlated subquery, which
   * neither database recognises as the same expression when its parameters are bound apart).
   */
  static void values(List<SortKey> keys, StringBuilder sql, List<Object> args) {
    for (int i = 0; i < keys.size(); i++) {
      sql.append(", ");
      value(keys.get(i), sql, args);
      sql.append(" AS ").append(column(i));
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
   * Appends {@code <the row is strictly after at>}, over the derived table of {@link #values}:
   * nested, key by key, {@code value beyond v OR (value = v AND <the next key decides>)}, the
   * tie-breakers last. "Beyond" is greater for an ascending key and less for a descending one, and
   * includes no value, which sorts last; after a position without a value only rows without one
   * follow, and the next key decides among them. Each value is a bound parameter.
   */
  static void after(List<SortKey> keys, PagePosition at, StringBuilder sql, List<Object> args) {
    List<Term> terms = new ArrayList<>();
    for (int i = 0; i < keys.size(); i++) {
      terms.add(new Term(column(i), keys.get(i).indexed(), keys.get(i).descending(), at.sortValues().get(i)));
    }
    if (!has(keys, SortKey.Column.LAST_UPDATED)) {
      terms.add(new Term("last_updated", false, true, at.lastUpdated()));
    }
    if (!has(keys, SortKey.Column.ID)) {
      terms.add(new Term("res_id", false, true, at.id()));
    }
    beyond(terms, 0, sql, args);
  }

  /** One comparison of {@link #after}: a column of the derived table, and the page's last value in it. */
  private record Term(String column, boolean nullable, boolean descending, Object value) {}

  private static void beyond(List<Term> terms, int i, StringBuilder sql, List<Object> args) {
    Term t = terms.get(i);
    boolean last = i == terms.size() - 1;
    if (t.value() == null) {
      // the tie-breakers always have a value, so a term without one is never the last
      sql.append("(").append(t.column()).append(" IS NULL AND ");
      beyond(terms, i + 1, sql, args);
      sql.append(")");
      return;
    }
    sql.append("(").append(t.column()).append(t.descending() ? " < ?" : " > ?");
    args.add(t.value());
    if (t.nullable()) {
      sql.append(" OR ").append(t.column()).append(" IS NULL");
    }
    if (!last) {
      sql.append(" OR (").append(t.column()).append(" = ? AND ");
      args.add(t.value());
      beyond(terms, i + 1, sql, args);
      sql.append(")");
    }
    sql.append(")");
  }

  /** The derived table's column of the key at {@code index}. */
  private static String column(int index) {
    return "sort_" + (index + 1);
  }

  private static boolean has(List<SortKey> keys, SortKey.Column column) {
    return keys.stream().anyMatch(k -> k.column() == column);
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
