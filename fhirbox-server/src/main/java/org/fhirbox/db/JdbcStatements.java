package org.fhirbox.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Runs the store's statements on one connection: binds arguments in order and turns every
 * {@link SQLException} into a {@link StoreException} whose message says what failed.
 */
final class JdbcStatements {
  /** Reads one row. */
  @FunctionalInterface
  interface RowReader<T> {
    T read(ResultSet rs) throws SQLException;
  }

  private final Connection c;

  JdbcStatements(Connection c) {
    this.c = c;
  }

  <T> List<T> list(String failure, String sql, List<?> args, RowReader<T> reader) {
    List<T> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, args);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(reader.read(rs));
        }
      }
    } catch (SQLException e) {
      throw new StoreException(failure, e);
    }
    return out;
  }

  /** The first row the query returns, if any; the rest are not read. */
  <T> Optional<T> first(String failure, String sql, List<?> args, RowReader<T> reader) {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, args);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(reader.read(rs)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw new StoreException(failure, e);
    }
  }

  int update(String failure, String sql, List<?> args) {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, args);
      return ps.executeUpdate();
    } catch (SQLException e) {
      throw new StoreException(failure, e);
    }
  }

  /** One statement run once per argument list, as a JDBC batch. */
  void batch(String failure, String sql, List<List<Object>> argLists) {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (List<Object> args : argLists) {
        bind(ps, args);
        ps.addBatch();
      }
      ps.executeBatch();
    } catch (SQLException e) {
      throw new StoreException(failure, e);
    }
  }

  private static void bind(PreparedStatement ps, List<?> args) throws SQLException {
    for (int i = 0; i < args.size(); i++) {
      ps.setObject(i + 1, args.get(i));
    }
  }
}
