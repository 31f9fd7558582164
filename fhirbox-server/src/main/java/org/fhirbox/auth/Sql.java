package org.fhirbox.auth;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.fhirbox.db.Database;
import org.fhirbox.db.StoreException;
import org.fhirbox.model.ListPosition;

/**
 * Runs statements on a pooled connection for the sign-in tables, one at a time (auto-commit) or in
 * one transaction; failures become {@link StoreException}.
 */
final class Sql {
  /** Reads one row. */
  interface Row<T> {
    T read(ResultSet rs) throws SQLException;
  }

  private final Database db;

  Sql(Database db) {
    this.db = db;
  }

  int update(String what, String sql, Object... args) {
    try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, args);
      return ps.executeUpdate();
    } catch (SQLException e) {
      throw new StoreException("could not " + what, e);
    }
  }

  /** {@code sql} once for each of {@code args} (its one parameter), in one transaction, as a batch. */
  void updateEach(String what, String sql, List<?> args) {
    if (args.isEmpty()) {
      return;
    }
    inTransaction(what, c -> {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        for (Object arg : args) {
          ps.setObject(1, arg);
          ps.addBatch();
        }
        return ps.executeBatch();
      }
    });
  }

  /** Statements run on one connection within one transaction. */
  interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  /** Runs {@code work} in one transaction: committed when it returns, rolled back when it throws. */
  <T> T inTransaction(String what, Work<T> work) {
    try (Connection c = db.connection()) {
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw new StoreException("could not " + what, e);
    }
  }

  /**
   * A page of {@code table}'s rows ordered by {@code created} and then {@code idColumn}: those of
   * {@code project} (null: of every project) after {@code after} (null: from the first), at most
   * {@code limit}. The position is compared in the query (keyset paging), so a row created between
   * two pages comes at the end rather than shifting the pages.
   */
  <T> List<T> page(String what, String columns, String table, String idColumn, String project, ListPosition after,
      int limit, Row<T> row) {
    List<Object> args = new ArrayList<>();
    List<String> where = new ArrayList<>();
    if (project != null) {
      where.add("project = ?");
      args.add(project);
    }
    if (after != null) {
      where.add("(created > ? OR (created = ? AND " + idColumn + " > ?))");
      args.addAll(List.of(after.created().toEpochMilli(), after.created().toEpochMilli(), after.id()));
    }
    args.add(limit);
    return query(what, "SELECT " + columns + " FROM " + table + (where.isEmpty() ? "" : " WHERE "
        + String.join(" AND ", where)) + " ORDER BY created, " + idColumn + " LIMIT ?", row, args.toArray());
  }

  <T> List<T> query(String what, String sql, Row<T> row, Object... args) {
    try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, args);
      List<T> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(row.read(rs));
        }
      }
      return out;
    } catch (SQLException e) {
      throw new StoreException("could not " + what, e);
    }
  }

  <T> Optional<T> one(String what, String sql, Row<T> row, Object... args) {
    return query(what, sql, row, args).stream().findFirst();
  }

  /** {@code sql} on {@code c}, within the caller's transaction: its update count. */
  static int update(Connection c, String sql, Object... args) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, args);
      return ps.executeUpdate();
    }
  }

  /** The first row {@code sql} reads on {@code c}, within the caller's transaction. */
  static <T> Optional<T> one(Connection c, String sql, Row<T> row, Object... args) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, args);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(row.read(rs)) : Optional.empty();
      }
    }
  }

  private static void bind(PreparedStatement ps, Object[] args) throws SQLException {
    for (int i = 0; i < args.length; i++) {
      ps.setObject(i + 1, args[i]);
    }
  }
}
