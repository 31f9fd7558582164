package org.fhirbox.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.flywaydb.core.Flyway;

/**
 * The connection pool and schema. H2 (embedded default) or PostgreSQL, chosen by the JDBC URL.
 * Migrations run at start; Flyway takes a database lock so nodes starting together do not race.
 * The pool opens and the migrations run in the constructor, or with
 * {@link #openMigratingInBackground} on a thread of their own while the caller builds the rest
 * of the server: every {@link #connection()} then waits until the schema is migrated. A restart
 * on an embedded H2 database whose migrations and schema history are unchanged since the last
 * migrate skips Flyway ({@link SchemaStamp}).
 */
public final class Database implements AutoCloseable {
  /** The SQL dialects we speak. */
  public enum Vendor { H2, POSTGRESQL }

  private final Vendor vendor;
  /** The pool, once it is open and the schema migrated. */
  private final CompletableFuture<HikariDataSource> ready;

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
   * Opens the pool and migrates the schema on a thread of their own: opening an H2 file and
   * running the migrations are most of a start-up's critical path, and the rest of the server
   * is built meanwhile. {@link #connection()} waits for them, and {@link #awaitMigrated()}
   * reports their failure.
   */
  public static Database openMigratingInBackground(String jdbcUrl, String user, String password, int poolSize,
      long connectTimeoutMillis) {
    return new Database(jdbcUrl, user, password, poolSize, connectTimeoutMillis, true);
  }

  private Database(String jdbcUrl, String user, String password, int poolSize, long connectTimeoutMillis,
      boolean background) {
    this(jdbcUrl, user, password, poolSize, connectTimeoutMillis, background, SchemaStamp.of(jdbcUrl));
  }

  /** @param stamp lets a restart skip Flyway when neither the migrations nor the schema history changed */
  Database(String jdbcUrl, String user, String password, int poolSize, long connectTimeoutMillis,
      boolean background, Optional<SchemaStamp> stamp) {
    this.vendor = jdbcUrl.startsWith("jdbc:postgresql:") ? Vendor.POSTGRESQL : Vendor.H2;
    if (!jdbcUrl.startsWith("jdbc:postgresql:") && !jdbcUrl.startsWith("jdbc:h2:")) {
      throw new IllegalArgumentException("FHIRBOX_DATABASE_URL must be a jdbc:h2: or jdbc:postgresql: URL");
    }
    if (poolSize < 2) {
      // Flyway holds one connection for its lock and schema history and migrates on another.
      throw new IllegalArgumentException("FHIRBOX_DATABASE_POOL_SIZE must be at least 2");
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
    Supplier<HikariDataSource> open = () -> {
      if (vendor == Vendor.H2) {
        H2Durability.recoverIfNotClosedCleanly(jdbcUrl);
      }
      HikariDataSource dataSource = new HikariDataSource(hc);
      try {
        if (stamp.isEmpty() || !stamp.get().matches(dataSource)) {
          migrate(dataSource, vendor);
          stamp.ifPresent(st -> st.record(dataSource));
        }
      } catch (RuntimeException e) {
        dataSource.close();
        throw e;
      }
      return dataSource;
    };
    this.ready = background ? CompletableFuture.supplyAsync(open, task -> {
      Thread t = new Thread(task, "fhirbox-migrate");
      t.setDaemon(true);
      t.start();
    }) : CompletableFuture.completedFuture(open.get());
  }

  private static void migrate(HikariDataSource dataSource, Vendor vendor) {
    Flyway.configure()
        .dataSource(dataSource)
        // SQL per vendor; Java migrations, written for both, in the db.migration package
        .locations("classpath:db/migration/" + (vendor == Vendor.H2 ? "h2" : "postgresql"),
            "classpath:org/fhirbox/db/migration")
        .load()
        .migrate();
  }

  /** Waits until the pool is open and the schema migrated; rethrows the failure of either. */
  public void awaitMigrated() {
    dataSource();
  }

  private HikariDataSource dataSource() {
    if (ready.isDone() && !ready.isCompletedExceptionally()) {
      return ready.join();
    }
    try {
      return ready.get();
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
    HikariDataSource dataSource;
    try {
      dataSource = dataSource();
    } catch (RuntimeException e) {
      throw new SQLException("the database could not be opened or its schema migrated: " + e.getMessage(), e);
    }
    return dataSource.getConnection();
  }

  /** True when a connection can be had and answers (for readiness checks). */
  public boolean isReachable() {
    HikariDataSource dataSource = ready.isCompletedExceptionally() ? null : ready.getNow(null);
    if (dataSource == null) {
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
      // not mid-migration when the pool closes; a pool that failed to open or migrate is closed
      ready.get(30, TimeUnit.SECONDS).close();
    } catch (ExecutionException e) {
      // the failure was reported to whoever waited for the schema
    } catch (TimeoutException e) {
      ready.thenAccept(HikariDataSource::close);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      ready.thenAccept(HikariDataSource::close);
    }
  }
}
