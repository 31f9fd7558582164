package org.fhirbox.db;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.Properties;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * The PostgreSQL connections Flyway migrates on: each a new one, outside the request pool, that
 * runs {@link #SESSION} before Flyway sees it. Flyway's own per-connection statement
 * ({@code initSql}) would do the same, but is deprecated and logs a warning for every connection.
 */
final class MigrationConnections implements DataSource {
  /**
   * Lifts every limit a role, the database or postgresql.conf may set on waits and statements (a
   * migration that waits for a table another node still reads must not fail the start, nor a
   * long one be cut), and commits synchronously, as the request sessions do.
   */
  static final String SESSION = "SET synchronous_commit = on; SET lock_timeout = 0; SET statement_timeout = 0;"
      + " SET idle_in_transaction_session_timeout = 0";

  private final String url;
  private final Properties credentials = new Properties();
  private volatile PrintWriter logWriter;
  private volatile int loginTimeout;

  /** @param user and {@code password}: none (null or empty) leaves the URL's, or the driver's default */
  MigrationConnections(String url, String user, String password) {
    this.url = url;
    if (user != null && !user.isEmpty()) {
      credentials.setProperty("user", user);
    }
    if (password != null && !password.isEmpty()) {
      credentials.setProperty("password", password);
    }
  }

  @Override
  public Connection getConnection() throws SQLException {
    Connection c = DriverManager.getConnection(url, credentials);
    try (Statement s = c.createStatement()) {
      s.execute(SESSION);
    } catch (SQLException | RuntimeException e) {
      c.close();
      throw e;
    }
    return c;
  }

  @Override
  public Connection getConnection(String user, String password) throws SQLException {
    return new MigrationConnections(url, user, password).getConnection();
  }

  @Override
  public PrintWriter getLogWriter() {
    return logWriter;
  }

  /** Kept for whoever asks; the driver logs through its own logging. */
  @Override
  public void setLogWriter(PrintWriter out) {
    logWriter = out;
  }

  /** Kept for whoever asks; a connection waits as long as the driver's own settings say. */
  @Override
  public void setLoginTimeout(int seconds) {
    loginTimeout = seconds;
  }

  @Override
  public int getLoginTimeout() {
    return loginTimeout;
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    throw new SQLFeatureNotSupportedException("no parent logger");
  }

  @Override
  public <T> T unwrap(Class<T> type) throws SQLException {
    if (type.isInstance(this)) {
      return type.cast(this);
    }
    throw new SQLException("not a wrapper of " + type.getName());
  }

  @Override
  public boolean isWrapperFor(Class<?> type) {
    return type.isInstance(this);
  }
}
