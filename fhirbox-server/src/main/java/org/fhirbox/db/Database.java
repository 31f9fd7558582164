package org.fhirbox.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * The connection pool and schema. H2 (embedded default) or PostgreSQL, chosen by the JDBC URL.
 * Migrations run at start; Flyway takes a database lock so nodes starting together do not race.
 */
public final class Database implements AutoCloseable {
  /** The SQL dialects we speak. */
  public enum Vendor { H2, POSTGRESQL }

  private final HikariDataSource dataSource;
  private final Vendor vendor;

  public Database(String jdbcUrl, String user, String password, int poolSize) {
    this(jdbcUrl, user, password, poolSize, 10_000);
  }

  /**
   * @param connectTimeoutMillis how long a caller waits for a pooled connection (and so, at
   *     start, for the database to answer) before failing
   */
  public Database(String jdbcUrl, String user, String password, int poolSize, long connectTimeoutMillis) {
    this.vendor = jdbcUrl.startsWith("jdbc:postgresql:") ? Vendor.POSTGRESQL : Vendor.H2;
    if (!jdbcUrl.startsWith("jdbc:postgresql:") && !jdbcUrl.startsWith("jdbc:h2:")) {
      throw new IllegalArgumentException("FHIRBOX_DATABASE_URL must be a jdbc:h2: or jdbc:postgresql: URL");
    }
    if (poolSize < 2) {
      // Flyway holds one connection for its lock and schema history and migrates on another.
      throw new IllegalArgumentException("FHIRBOX_DATABASE_POOL_SIZE must be at least 2");
    }
    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl(jdbcUrl);
    if (user != null && !user.isEmpty()) {
      hc.setUsername(user);
    }
    if (password != null && !password.isEmpty()) {
      hc.setPassword(password);
    }
    hc.setMaximumPoolSize(poolSize);
    hc.setPoolName("fhirbox");
    hc.setAutoCommit(true);
    hc.setConnectionTimeout(connectTimeoutMillis);
    this.dataSource = new HikariDataSource(hc);
    try {
      Flyway.configure()
          .dataSource(dataSource)
          .locations("classpath:db/migration/" + (vendor == Vendor.H2 ? "h2" : "postgresql"))
          .load()
          .migrate();
    } catch (RuntimeException e) {
      dataSource.close();
      throw e;
    }
  }

  public DataSource dataSource() {
    return dataSource;
  }

  public Vendor vendor() {
    return vendor;
  }

  public Connection connection() throws SQLException {
    return dataSource.getConnection();
  }

  /** True when a connection can be had and answers (for readiness checks). */
  public boolean isReachable() {
    try (Connection c = dataSource.getConnection()) {
      return c.isValid(2);
    } catch (SQLException e) {
      return false;
    }
  }

  @Override
  public void close() {
    dataSource.close();
  }
}
