package org.fhirbox.db;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.fhirbox.model.PagePosition;

/**
 * The SQL of a type-level search over {@code resource_current r}: each {@link SearchClause}
 * becomes one {@code AND} condition, most of them a lookup in the {@code search_value} index
 * (columns by kind: see migration V1). Pure: it builds text and arguments and runs nothing, so
 * that what each kind of parameter asks of the database can be read and tested on its own.
 * Chains and {@code _has} are not here: {@code SearchChains} turns them into tokens and ids first.
 */
final class SearchSql {
  /** A statement and its arguments, in order. */
  record Sql(String text, List<Object> args) {}

  /** Widths of search_value.sys and .code (migration V1): longer values are stored cut. */
  static final int SYS_MAX = 255;
  static final int CODE_MAX = 512;
  static final String COLS = "project, res_type, res_id, version_id, last_updated, deleted, content";
  /** How many columns {@link #COLS} names. */
  static final int COLS_COUNT = COLS.split(",").length;
  private static final String UNION = " UNION SELECT s.res_id FROM search_value s"
      + " WHERE s.project = ? AND s.res_type = ? AND ";

  private final Database.Vendor vendor;

  SearchSql(Database.Vendor vendor) {
    this.vendor = vendor;
  }

  /**
   * A page of matches in last-update order, or in the order of the query's sort keys
   * ({@link SortOrder}), with one row more than the page to tell if there is a next. With sort
   * keys each row has, after {@link #COLS}, its value of each key (for where the page ends).
   */
  Sql page(SearchQuery q) {
    List<Object> args = new ArrayList<>();
    if (!q.sort().isEmpty()) {
      // the matches with their sort values as a derived table, which the page condition and the
      // ORDER BY read by name: each value is looked up once per match (see SortOrder#values)
      StringBuilder sql = new StringBuilder("SELECT * FROM (SELECT " + COLS);
      SortOrder.values(q.sort(), sql, args);
      fromWhere(q, sql, args);
      // OFFSET 0 keeps the derived table one: PostgreSQL would otherwise pull it up into this query
      // and write each value's lookup again wherever its column is read (a next page 8x slower)
      sql.append(" OFFSET 0) m");
      if (q.after() != null) {
        sql.append(" WHERE ");
        SortOrder.after(q.sort(), q.after(), sql, args);
      }
      SortOrder.orderBy(q.sort(), sql);
      sql.append(" LIMIT ? OFFSET ?");
      args.add(q.count() + 1);
      args.add(q.after() != null ? 0 : q.offset());
      return new Sql(sql.toString(), args);
    }
    StringBuilder sql = new StringBuilder("SELECT " + COLS);
    fromWhere(q, sql, args);
    if (q.after() != null) {
      // the rows after the previous page's last, in the page's order
      String beyond = q.descending() ? " < " : " > ";
      sql.append(" AND (r.last_updated").append(beyond).append("? OR (r.last_updated = ? AND r.res_id")
          .append(beyond).append("?))");
      args.addAll(List.of(q.after().lastUpdated(), q.after().lastUpdated(), q.after().id()));
    }
    sql.append(q.descending() ? " ORDER BY last_updated DESC, res_id DESC" : " ORDER BY last_updated, res_id");
    sql.append(" LIMIT ? OFFSET ?");
    args.add(q.count() + 1);
    args.add(q.after() != null ? 0 : q.offset());
    return new Sql(sql.toString(), args);
  }

  /** The number of matches. */
  Sql count(SearchQuery q) {
    StringBuilder sql = new StringBuilder("SELECT COUNT(*)");
    List<Object> args = new ArrayList<>();
    fromWhere(q, sql, args);
    return new Sql(sql.toString(), args);
  }

  /** The number of matches, reading no more than {@code limit} of them. */
  Sql countUpTo(SearchQuery q, int limit) {
    StringBuilder sql = new StringBuilder("SELECT COUNT(*) FROM (SELECT 1 AS one");
    List<Object> args = new ArrayList<>();
    fromWhere(q, sql, args);
    sql.append(" LIMIT ?) capped");
    args.add(limit);
    return new Sql(sql.toString(), args);
  }

  /** The ids of at most {@code q.count()} matches, in no particular order. */
  Sql ids(SearchQuery q) {
    StringBuilder sql = new StringBuilder("SELECT res_id");
    List<Object> args = new ArrayList<>();
    fromWhere(q, sql, args);
    sql.append(" LIMIT ?");
    args.add(q.count());
    return new Sql(sql.toString(), args);
  }

  /**
   * The distinct values of {@code param} indexed for the resources {@code ids} of {@code type}
   * (what a {@code _has} source names). Driven from resource_current by id, then the index by
   * (project, res_type, res_id): H2 uses an IN list only on an index's first column, and on
   * search_value alone it read every value of the type (scanCount 320,001 for 400 ids at 40,000
   * Observations; 3,600 this way). At most {@code limit} values, and with a {@code prefix}
   * ({@code Patient/}) only those that start with it: one resource may index any number of values
   * (a Group's members), and the caller caps what it uses anyway.
   */
  Sql indexedValues(String project, String type, List<String> ids, String param, String prefix, int limit) {
    return indexed("SELECT DISTINCT s.code", project, type, ids, param, prefix, limit);
  }

  /**
   * As {@link #indexedValues}, each value with its resource's id and its system (a canonical
   * reference's version), in no particular order: what a lookup through a canonical reference needs.
   */
  Sql indexedRows(String project, String type, List<String> ids, String param, int limit) {
    return indexed("SELECT DISTINCT r.res_id, s.sys, s.code", project, type, ids, param, null, limit);
  }

  private Sql indexed(String select, String project, String type, List<String> ids, String param, String prefix,
      int limit) {
    List<Object> args = new ArrayList<>(ids);
    args.addAll(List.of(project, type, param));
    if (prefix != null) {
      args.add(prefix + "%");
    }
    args.add(limit);
    return new Sql(select + " FROM resource_current r"
        + (vendor == Database.Vendor.H2 ? " USE INDEX (resource_current_id)" : "")
        + " JOIN search_value s ON s.project = r.project AND s.res_type = r.res_type AND s.res_id = r.res_id"
        + " WHERE r.res_id IN (" + "?, ".repeat(ids.size() - 1) + "?) AND r.project = ? AND r.res_type = ?"
        + " AND s.param = ?" + (prefix != null ? " AND s.code LIKE ?" : "") + " LIMIT ?", args);
  }

  /**
   * Appends {@code FROM ... WHERE ...} of a type-level search over {@code resource_current r}.
   *
   * <p>On H2 the indexed clauses become one derived table, {@code hit(hit_id)}: the ids the
   * search_value index gives for each (combined with {@code INTERSECT}), computed once and joined
   * to the rows by id. As {@code r.res_id IN (SELECT ...)} in the WHERE clause, H2 used the
   * subquery to find the rows and then evaluated it again for every row it found; it reuses a
   * subquery's result only while no table it reads has changed, and never for a {@code UNION},
   * so under writes each row re-ran it: a name prefix matching 1,111 Patients of 11,047 took 4–15 s
   * (reading about 1.2 million index entries) instead of tens of milliseconds, and the cost grew
   * with the square of the matches. PostgreSQL plans the {@code IN} as a semi-join and keeps it.
   *
   * <p>H2's {@code USE INDEX (resource_current_id)}: it looks rows up by a list of ids ({@code _id},
   * or what a chain or {@code _has} found) or a joined id only through an index whose first column
   * is the id (migration V7); through the primary key, whose first columns are project and type,
   * its plan named the condition and still read every resource of the type (scanCount 20,001 at
   * 20,000 Patients), and its cost model prefers the primary key.
   */
  private void fromWhere(SearchQuery q, StringBuilder sql, List<Object> args) {
    List<SearchClause> joined = vendor == Database.Vendor.H2
        ? q.clauses().stream().filter(SearchSql::indexed).toList() : List.of();
    // :missing=true and :not only filter the rows found otherwise: they give no ids to look them up by
    boolean byIds = q.clauses().stream().anyMatch(c -> c instanceof SearchClause.Ids || indexed(c));
    if (joined.isEmpty()) {
      sql.append(" FROM resource_current r");
    } else {
      sql.append(" FROM (");
      for (int i = 0; i < joined.size(); i++) {
        sql.append(i > 0 ? " INTERSECT (" : "(");
        // DISTINCT: a resource can hold several matching values, and INTERSECT is distinct anyway
        matching(q.project(), q.type(), joined.get(i), sql, args, true);
        sql.append(")");
      }
      sql.append(") hit(hit_id) JOIN resource_current r");
    }
    if (vendor == Database.Vendor.H2 && byIds) {
      sql.append(" USE INDEX (resource_current_id)");
    }
    if (!joined.isEmpty()) {
      sql.append(" ON r.res_id = hit.hit_id");
    }
    sql.append(" WHERE r.project = ? AND r.res_type = ? AND r.deleted = FALSE");
    args.add(q.project());
    args.add(q.type());
    for (SearchClause clause : q.clauses()) {
      if (!joined.contains(clause)) {
        clause(q.project(), q.type(), clause, sql, args);
      }
    }
  }

  /**
   * A page of history, newest first, with one row more than the page. A {@link HistoryQuery.Scope}
   * adds {@code AND (r.res_type IN (open types) OR (r.res_type = ? AND <clauses>) OR ...)}: its
   * clauses read the search index, which holds current versions, so they pick resources, and
   * every version of a picked resource is listed (the caller judges each version on its own).
   * A deleted resource has no index rows for a clause to match, so every deleted resource of a
   * limited type is picked as well: {@code OR (r.res_type IN (limited types) AND EXISTS (its
   * current row, deleted))}, one primary-key lookup per version read.
   */
  Sql history(HistoryQuery q) {
    StringBuilder sql = new StringBuilder("SELECT " + COLS + " FROM resource_version r WHERE project = ?");
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
    if (q.scope() != null) {
      scope(q.project(), q.scope(), sql, args);
    }
    // One resource's history is in version order, newest first: versions written before
    // lastUpdated was kept in version order may have times out of order (nodes' clocks differ).
    boolean instance = q.id() != null && q.type() != null;
    PagePosition after = q.after();
    if (after != null && instance) {
      sql.append(" AND version_id < ?");
      args.add(after.versionId());
    } else if (after != null) {
      // the rows after the previous page's last, in the order below
      sql.append(" AND (last_updated < ? OR (last_updated = ? AND (res_type > ? OR (res_type = ?"
          + " AND (res_id > ? OR (res_id = ? AND version_id < ?))))))");
      args.addAll(List.of(after.lastUpdated(), after.lastUpdated(), after.type(), after.type(), after.id(),
          after.id(), after.versionId()));
    }
    sql.append(instance ? " ORDER BY version_id DESC LIMIT ? OFFSET ?"
        : " ORDER BY last_updated DESC, res_type, res_id, version_id DESC LIMIT ? OFFSET ?");
    args.add(q.count() + 1);
    args.add(after != null ? 0 : q.offset());
    return new Sql(sql.toString(), args);
  }

  private void scope(String project, HistoryQuery.Scope scope, StringBuilder sql, List<Object> args) {
    List<String> open = List.copyOf(new TreeSet<>(scope.open()));
    Map<String, List<SearchClause>> limited = new TreeMap<>(scope.limited());
    if (open.isEmpty() && limited.isEmpty() && scope.except() == null) {
      sql.append(" AND 1 = 0");
      return;
    }
    sql.append(" AND (");
    String or = "";
    if (scope.except() != null) {
      Set<String> notOpen = new TreeSet<>(scope.except());
      notOpen.addAll(limited.keySet());
      sql.append("(1 = 1");
      for (String t : notOpen) {
        sql.append(" AND r.res_type <> ?");
        args.add(t);
      }
      sql.append(")");
      or = " OR ";
    } else if (!open.isEmpty()) {
      sql.append("r.res_type IN (").append("?, ".repeat(open.size() - 1)).append("?)");
      args.addAll(open);
      or = " OR ";
    }
    for (Map.Entry<String, List<SearchClause>> e : limited.entrySet()) {
      sql.append(or).append("(r.res_type = ?");
      args.add(e.getKey());
      for (SearchClause clause : e.getValue()) {
        clause(project, e.getKey(), clause, sql, args);
      }
      sql.append(")");
      or = " OR ";
    }
    if (!limited.isEmpty()) {
      sql.append(" OR (r.res_type IN (").append("?, ".repeat(limited.size() - 1)).append("?) AND EXISTS (SELECT 1"
          + " FROM resource_current c WHERE c.project = r.project AND c.res_type = r.res_type"
          + " AND c.res_id = r.res_id AND c.deleted = TRUE))");
      args.addAll(limited.keySet());
    }
    sql.append(")");
  }

  /**
   * Appends {@code AND <clause>} on the resource_current row {@code r}. An indexed parameter is
   * {@code r.res_id IN (SELECT s.res_id FROM search_value s WHERE ...)}, a subquery that names
   * no column of {@code r}: the database runs it from the {@code search_value} index and then
   * reads only the matching rows by id (PostgreSQL: a semi-join on the primary key). On H2 a
   * search's indexed clauses are not written here but joined ({@link #from}). The same criterion
   * as a correlated {@code EXISTS} made H2 visit every resource of the type and probe the index
   * once for each: 0.15 s for a search that matched nothing at 26,629 Patients.
   */
  private void clause(String project, String type, SearchClause clause, StringBuilder sql, List<Object> args) {
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
    } else if (absent(clause)) {
      // No index row of the parameter for this resource: a correlated NOT EXISTS, a lookup in the
      // index on (project, res_type, res_id) per row the other criteria leave. The complement of
      // the rows that have a value cannot be read from the index by value, as the others are.
      List<String> params = ((SearchClause.Missing) clause).params();
      sql.append(" AND NOT EXISTS (SELECT 1 FROM search_value s WHERE s.project = r.project"
          + " AND s.res_type = r.res_type AND s.res_id = r.res_id AND s.param IN (")
          .append("?, ".repeat(params.size() - 1)).append("?))");
      args.addAll(params);
    } else if (clause instanceof SearchClause.Not not) {
      // No matching index row for this resource: a correlated NOT EXISTS, as for :missing=true,
      // since the resources without a value cannot be read from the index by value
      sql.append(" AND NOT EXISTS (SELECT 1 FROM search_value s WHERE s.project = r.project"
          + " AND s.res_type = r.res_type AND s.res_id = r.res_id AND s.param = ? AND (");
      args.add(not.token().param());
      tokenValues(not.token(), sql, args);
      sql.append("))");
    } else {
      sql.append(" AND r.res_id IN (");
      matching(project, type, clause, sql, args, false);
      sql.append(")");
    }
  }

  /** Whether a clause is answered from the search_value index ({@link #matching}), not from resource_current. */
  private static boolean indexed(SearchClause clause) {
    return !(clause instanceof SearchClause.Ids) && !(clause instanceof SearchClause.LastUpdated) && !absent(clause)
        && !(clause instanceof SearchClause.Not);
  }

  /** {@code :missing=true}: resources with no value, which no index lookup by value can list. */
  private static boolean absent(SearchClause clause) {
    return clause instanceof SearchClause.Missing m && m.missing();
  }

  /**
   * Appends {@code SELECT s.res_id FROM search_value s WHERE ...}: the ids of the resources of
   * {@code type} that the indexed {@code clause} matches, once each if {@code distinct}.
   */
  private void matching(String project, String type, SearchClause clause, StringBuilder sql, List<Object> args,
      boolean distinct) {
    if (clause instanceof SearchClause.AnyOf any) {
      // a UNION is distinct: the resources any alternative matches, once each
      for (int i = 0; i < any.alternatives().size(); i++) {
        sql.append(i > 0 ? " UNION " : "");
        matching(project, type, any.alternatives().get(i), sql, args, false);
      }
      return;
    }
    String values = (distinct ? "SELECT DISTINCT" : "SELECT")
        + " s.res_id FROM search_value s WHERE s.project = ? AND s.res_type = ? AND ";
    args.add(project);
    args.add(type);
    if (clause instanceof SearchClause.Token t) {
      sql.append(values).append("s.param = ? AND (");
      args.add(t.param());
      tokenValues(t, sql, args);
      sql.append(")");
    } else if (clause instanceof SearchClause.Text t) {
      // One branch per parameter (name reads name, family and given): with param IN (...) H2 used
      // only project and type of the index and read every string row of the type.
      sql.append(values);
      perParam(t.params(), project, type, sql, args, () -> {
        sql.append(" AND (");
        textValues(t, sql, args);
        sql.append(")");
      });
    } else if (clause instanceof SearchClause.Missing m) {
      // :missing=false: the resources with a value, one branch per parameter as for strings
      sql.append(values);
      perParam(m.params(), project, type, sql, args, () -> { });
    } else if (clause instanceof SearchClause.Compartment c) {
      // One branch per parameter, as for strings: each is a point lookup in the index on
      // (project, res_type, param, code) on either database.
      sql.append(values);
      perParam(c.params(), project, type, sql, args, () -> {
        sql.append(" AND s.code = ?");
        args.add(truncate(c.reference(), CODE_MAX));
      });
      if (c.selfId() != null) {
        sql.append(" UNION SELECT CAST(? AS VARCHAR(64))");
        args.add(c.selfId());
      }
    } else if (clause instanceof SearchClause.DateRange d) {
      sql.append(values).append("s.param = ?");
      args.add(d.param());
      if (vendor == Database.Vendor.H2) {
        // H2 has one index for every kind (migration V18): (param, code, low, high). A date row
        // has no code, and naming that is what lets the range of low below use the index.
        sql.append(" AND s.code IS NULL");
      }
      if (d.lowInclusive() != null) {
        sql.append(d.within() ? " AND s.low >= ?" : " AND s.high >= ?");
        args.add(d.lowInclusive());
      }
      if (d.highInclusive() != null) {
        sql.append(d.within() ? " AND s.high <= ?" : " AND s.low <= ?");
        args.add(d.highInclusive());
      }
      if (d.within() && d.lowInclusive() != null && d.highInclusive() != null) {
        // Implied (low <= high), but it bounds low on both sides: a narrow range of the index on
        // (param, low, high), and one PostgreSQL's statistics estimate well. Without it PostgreSQL
        // took low >= a AND high <= b as a quarter of all dates, walked every Observation newest
        // first to fill a page, and answered one day of 100,000 in 5.6 s instead of milliseconds.
        sql.append(" AND s.low <= ?");
        args.add(d.highInclusive());
      }
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
    } else {
      // Chain and Has name other resources: SearchChains turns them into tokens and ids first.
      throw new IllegalArgumentException("unresolved search clause " + clause.getClass().getSimpleName());
    }
  }

  /** The OR-ed values of a token criterion on {@code s.sys} and {@code s.code}. */
  private static void tokenValues(SearchClause.Token t, StringBuilder sql, List<Object> args) {
    for (int i = 0; i < t.values().size(); i++) {
      SearchClause.TokenValue v = t.values().get(i);
      sql.append(i > 0 ? " OR " : "");
      // R4 search.html#token: |code is the code with no system (stored as NULL), system| any
      // code in the system; as stored, a longer value matches on its first part
      if (v.system() == null) {
        sql.append("s.code = ?");
      } else if (v.system().isEmpty()) {
        sql.append("(s.sys IS NULL AND s.code = ?)");
      } else if (v.code().isEmpty()) {
        sql.append("s.sys = ?");
        args.add(truncate(v.system(), SYS_MAX));
        continue;
      } else {
        sql.append("(s.sys = ? AND s.code = ?)");
        args.add(truncate(v.system(), SYS_MAX));
      }
      args.add(truncate(v.code(), CODE_MAX));
    }
  }

  /**
   * One branch per parameter of {@code params}, joined by {@link #UNION}: {@code s.param = ?}, then
   * what {@code rest} appends of the branch. With {@code param IN (...)} H2 used only project and
   * type of the index; a branch each is a lookup on (project, res_type, param, code) on either
   * database.
   */
  private static void perParam(List<String> params, String project, String type, StringBuilder sql,
      List<Object> args, Runnable rest) {
    for (int p = 0; p < params.size(); p++) {
      if (p > 0) {
        sql.append(UNION);
        args.add(project);
        args.add(type);
      }
      sql.append("s.param = ?");
      args.add(params.get(p));
      rest.run();
    }
  }

  /** The OR-ed values of a string or uri {@code :below} criterion on {@code s.code} (or {@code s.sys} for :exact). */
  private void textValues(SearchClause.Text t, StringBuilder sql, List<Object> args) {
    for (int i = 0; i < t.values().size(); i++) {
      String v = t.values().get(i);
      sql.append(i > 0 ? " OR " : "");
      switch (t.match()) {
        case EXACT -> {
          // compared as stored (SearchValue.string): the first 255 characters as written, and the
          // normal form, which is what lets the index on code find the rows
          sql.append("(s.code = ? AND s.sys = ?)");
          args.add(truncate(SearchValue.normalize(v), CODE_MAX));
          args.add(truncate(SearchValue.exact(v), SYS_MAX));
        }
        case STARTS_WITH -> {
          // the index keeps a string's first CODE_MAX characters: a longer prefix is compared on as
          // many, or it could never match what starts with it
          String prefix = truncate(v, CODE_MAX);
          String after = vendor == Database.Vendor.H2 ? after(prefix) : null;
          if (after != null) {
            // On H2 a prefix is a range: with LIKE and a parameter, H2 probed every row, and a
            // prefix search on 20,000 Patients took 120-340 ms instead of 1 ms. H2 orders
            // strings by UTF-16 code unit (String.compareTo), where [v, after(v)) holds exactly
            // the strings that start with v. PostgreSQL orders by its collation, so there the
            // LIKE uses the pattern index (migration V5).
            sql.append("(s.code >= ? AND s.code < ?)");
            args.add(prefix);
            args.add(after);
          } else {
            sql.append("s.code LIKE ? ESCAPE '!'");
            args.add(likeLiteral(prefix) + "%");
          }
        }
        case CONTAINS -> {
          sql.append("s.code LIKE ? ESCAPE '!'");
          args.add("%" + likeLiteral(v) + "%");
        }
      }
    }
  }

  /** The least string above every string that starts with {@code prefix}, or null when there is none. */
  static String after(String prefix) {
    int i = prefix.length() - 1;
    while (i >= 0 && prefix.charAt(i) == Character.MAX_VALUE) {
      i--;
    }
    return i < 0 ? null : prefix.substring(0, i) + (char) (prefix.charAt(i) + 1);
  }

  /** {@code s} matched literally by LIKE ... ESCAPE '!' (no wildcards of its own). */
  static String likeLiteral(String s) {
    return s.replace("!", "!!").replace("%", "!%").replace("_", "!_");
  }

  static String truncate(String s, int max) {
    return s == null || s.length() <= max ? s : s.substring(0, max);
  }
}
