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

/** Runs one statement on a pooled connection (auto-commit) for the sign-in tables; failures become {@link StoreException}. */
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
    try (Connection c = db.connection()) {
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        for (Object arg : args) {
          ps.setObject(1, arg);
          ps.addBatch();
        }
        ps.executeBatch();
        c.commit();
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

  private static void bind(PreparedStatement ps, Object[] args) throws SQLException {
    for (int i = 0; i < args.length; i++) {
      ps.setObject(i + 1, args[i]);
    }
  }
}
