package org.fhirbox.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.flywaydb.core.Flyway;

/**
 * The connection pool and schema. H2 (embedded default) or PostgreSQL, chosen by the JDBC URL.
 * Migrations run at start; Flyway takes a database lock so nodes starting together do not race.
 * They run in the constructor, or with {@link #openMigratingInBackground} on a thread of their
 * own while the caller builds the rest of the server: every {@link #connection()} then waits
 * until the schema is migrated.
 */
public final class Database implements AutoCloseable {
  /** The SQL dialects we speak. */
  public enum Vendor { H2, POSTGRESQL }

  private final HikariDataSource dataSource;
  private final Vendor vendor;
  private final CompletableFuture<Void> migrated;

  public Database(String jdbcUrl, String user, String password, int poolSize) {
    this(jdbcUrl, user, password, poolSize, 10_000);
  }

  /**
   * @param connectTimeoutMillis how long a caller waits for a pooled connection (and so, at
   *     start, for the database to answer) before failing
   */
  public Database(String jdbcUrl, String user, String password, int poolSize, long connectTimeoutMillis) {
    this(jdbcUrl, user, password, poolSize, connectTimeoutMillis, false);
  }

  /**
   * Opens the pool and starts the migrations on a thread of their own (on a first start they
   * cost about half a second of a start-up that should take under two); {@link #connection()}
   * waits for them, and {@link #awaitMigrated()} reports their failure.
   */
  public static Database openMigratingInBackground(String jdbcUrl, String user, String password, int poolSize,
      long connectTimeoutMillis) {
    return new Database(jdbcUrl, user, password, poolSize, connectTimeoutMillis, true);
  }

  private Database(String jdbcUrl, String user, String password, int poolSize, long connectTimeoutMillis,
      boolean background) {
    this.vendor = jdbcUrl.startsWith("jdbc:postgresql:") ? Vendor.POSTGRESQL : Vendor.H2;
    if (!jdbcUrl.startsWith("jdbc:postgresql:") && !jdbcUrl.startsWith("jdbc:h2:")) {
      throw new IllegalArgumentException("FHIRBOX_DATABASE_URL must be a jdbc:h2: or jdbc:postgresql: URL");
    }
    if (poolSize < 2) {
      // Flyway holds one connection for its lock and schema history and migrates on another.
      throw new IllegalArgumentException("FHIRBOX_DATABASE_POOL_SIZE must be at least 2");
    }
    if (vendor == Vendor.H2) {
      H2Durability.recoverIfNotClosedCleanly(jdbcUrl);
    }
    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl(vendor == Vendor.H2 ? H2Durability.withCommitsWritten(jdbcUrl) : jdbcUrl);
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
    Runnable migrate = () -> Flyway.configure()
        .dataSource(dataSource)
        // SQL per vendor; Java migrations, written for both, in the db.migration package
        .locations("classpath:db/migration/" + (vendor == Vendor.H2 ? "h2" : "postgresql"),
            "classpath:org/fhirbox/db/migration")
        .load()
        .migrate();
    if (background) {
      this.migrated = CompletableFuture.runAsync(migrate, task -> {
        Thread t = new Thread(task, "fhirbox-migrate");
        t.setDaemon(true);
        t.start();
      });
    } else {
      try {
        migrate.run();
      } catch (RuntimeException e) {
        dataSource.close();
        throw e;
      }
      this.migrated = CompletableFuture.completedFuture(null);
    }
  }

  /** Waits until the schema is migrated; rethrows the migration's failure. */
  public void awaitMigrated() {
    if (migrated.isDone() && !migrated.isCompletedExceptionally()) {
      return;
    }
    try {
      migrated.get();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException("migrating the schema failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while the schema was migrated", e);
    }
  }

  public Vendor vendor() {
    return vendor;
  }

  public Connection connection() throws SQLException {
    try {
      awaitMigrated();
    } catch (RuntimeException e) {
      throw new SQLException("the database schema could not be migrated: " + e.getMessage(), e);
    }
    return dataSource.getConnection();
  }

  /** True when a connection can be had and answers (for readiness checks). */
  public boolean isReachable() {
    if (!migrated.isDone() || migrated.isCompletedExceptionally()) {
      return false;
    }
    try (Connection c = dataSource.getConnection()) {
      return c.isValid(2);
    } catch (SQLException e) {
      return false;
    }
  }

  @Override
  public void close() {
    try {
      migrated.get(30, TimeUnit.SECONDS); // not mid-migration when the pool closes
    } catch (ExecutionException | TimeoutException e) {
      // the failure was reported to whoever waited for the schema
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    dataSource.close();
  }
}
