package org.fhirbox.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * The one database connection of {@code /readyz}, in a pool of its own beside the request pool.
 * When every pooled connection serves a request, the database still answers; a check that
 * borrowed from that pool would wait the full {@code FHIRBOX_DATABASE_CONNECT_TIMEOUT} and then
 * report the database down, and every node under the same load would leave its load balancer at
 * once. The check is bounded: at most a second to get the connection (opening a new one if the
 * last one broke) and a second for it to answer, within an orchestrator's probe timeout. The
 * pool opens its connection on first use, so a database that is down at start delays nothing.
 * It never writes: an embedded H2 file database's commits all go through its journal, which
 * this connection bypasses.
 */
final class HealthConnection implements AutoCloseable {
  private static final int WAIT_MILLIS = 1_000;
  private static final int ANSWER_SECONDS = 1;
  private final HikariDataSource pool;

  HealthConnection(String jdbcUrl, String user, String password) {
    HikariConfig hc = Database.pool("fhirbox-health", jdbcUrl, user, password);
    hc.setMaximumPoolSize(1);
    hc.setMinimumIdle(0);
    hc.setConnectionTimeout(WAIT_MILLIS);
    hc.setValidationTimeout(WAIT_MILLIS);
    // no connection at construction: the request pool's opening reports an unreachable database
    hc.setInitializationFailTimeout(-1);
    hc.setReadOnly(true);
    this.pool = new HikariDataSource(hc);
  }

  /** True when the connection could be had within a second and answered within another. */
  boolean isReachable() {
    try (Connection c = pool.getConnection()) {
      return c.isValid(ANSWER_SECONDS);
    } catch (SQLException e) {
      return false;
    }
  }

  @Override
  public void close() {
    pool.close();
  }
}
