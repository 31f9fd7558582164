package org.fhirbox.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
  private static final Logger LOG = LoggerFactory.getLogger(Database.class);
  /** The SQL dialects we speak. */
  public enum Vendor { H2, POSTGRESQL }

  private final Vendor vendor;
  private final boolean soleWriter;
  /** The pool, once it is open and the schema migrated. */
  private final CompletableFuture<HikariDataSource> ready;
  /** The embedded H2's redo log (null for PostgreSQL and in-memory H2), set before {@link #ready}. */
  private volatile CommitJournal journal;
  private volatile Thread checkpointer;
  /** Ends the checkpointer without an interrupt, which would close H2's file channel under it. */
  private final CountDownLatch stopping = new CountDownLatch(1);
  private final AtomicBoolean closed = new AtomicBoolean();
  /** The readiness check's own connection, outside the pool. */
  private final HealthConnection health;

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
    return openMigratingInBackground(jdbcUrl, user, password, poolSize, connectTimeoutMillis, true);
  }

  /**
   * @param syncCommits an embedded H2 file database's commit returns once its journal record is on
   *     the disk ({@code FHIRBOX_H2_SYNC_COMMITS}); false leaves the record to the operating system
   */
  public static Database openMigratingInBackground(String jdbcUrl, String user, String password, int poolSize,
      long connectTimeoutMillis, boolean syncCommits) {
    return new Database(jdbcUrl, user, password, poolSize, connectTimeoutMillis, true, syncCommits);
  }

  private Database(String jdbcUrl, String user, String password, int poolSize, long connectTimeoutMillis,
      boolean background) {
    this(jdbcUrl, user, password, poolSize, connectTimeoutMillis, background, true);
  }

  private Database(String jdbcUrl, String user, String password, int poolSize, long connectTimeoutMillis,
      boolean background, boolean syncCommits) {
    this(jdbcUrl, user, password, poolSize, connectTimeoutMillis, background, SchemaStamp.of(jdbcUrl), syncCommits);
  }

  /** @param stamp lets a restart skip Flyway when neither the migrations nor the schema history changed */
  Database(String jdbcUrl, String user, String password, int poolSize, long connectTimeoutMillis,
      boolean background, Optional<SchemaStamp> stamp) {
    this(jdbcUrl, user, password, poolSize, connectTimeoutMillis, background, stamp, true);
  }

  /**
   * What every pooled PostgreSQL session runs with, whatever the role, the database or
   * postgresql.conf set. A commit answers only once PostgreSQL wrote it to its log on the disk
   * ({@code synchronous_commit = off} acknowledges before that). A wait for a row lock ends after
   * 2 s, as H2's lock timeout does (SQLSTATE 55P03, a conflict the store retries), instead of
   * never: a node that froze or lost its network while holding a lock would otherwise stop every
   * writer of that row and, one thread after another, every node. And a session that stays idle
   * inside a transaction for 60 s is ended by the server, which rolls it back and frees its
   * locks: no transaction here waits on anything but the database (blobs are stored before their
   * transaction begins), so only such a stalled node's would.
   */
  static final String POSTGRES_SESSION = "SET synchronous_commit = on; SET lock_timeout = '2s';"
      + " SET idle_in_transaction_session_timeout = '60s'";

  private Database(String jdbcUrl, String user, String password, int poolSize, long connectTimeoutMillis,
      boolean background, Optional<SchemaStamp> stamp, boolean syncCommits) {
    this.vendor = jdbcUrl.startsWith("jdbc:postgresql:") ? Vendor.POSTGRESQL : Vendor.H2;
    if (!jdbcUrl.startsWith("jdbc:postgresql:") && !jdbcUrl.startsWith("jdbc:h2:")) {
      throw new IllegalArgumentException("FHIRBOX_DATABASE_URL must be a jdbc:h2: or jdbc:postgresql: URL");
    }
    if (poolSize < 2) {
      // Flyway holds one connection for its lock and schema history and migrates on another.
      throw new IllegalArgumentException("FHIRBOX_DATABASE_POOL_SIZE must be at least 2");
    }
    this.soleWriter = soleWriter(jdbcUrl);
    Optional<Path> journalDir = vendor == Vendor.H2
        ? H2Durability.storeFile(jdbcUrl).map(CommitJournal::directoryFor) : Optional.empty();
    // a file database keeps its commits through the journal, which stores the file every 200 ms;
    // any other H2 URL (a server's tcp:, say) writes each commit before it returns
    if (journalDir.isPresent() && !H2Durability.withoutWriteDelay(jdbcUrl).equals(jdbcUrl)) {
      LOG.warn("the WRITE_DELAY that FHIRBOX_DATABASE_URL sets is ignored: an embedded file database is stored "
          + "by its commit journal, which keeps every acknowledged commit through a crash");
    }
    HikariConfig hc = pool("fhirbox", vendor == Vendor.H2 && journalDir.isEmpty()
        ? H2Durability.withCommitsWritten(jdbcUrl)
        : vendor == Vendor.H2 ? H2Durability.storedByCheckpoints(jdbcUrl) : jdbcUrl, user, password);
    hc.setMaximumPoolSize(poolSize);
    hc.setAutoCommit(true);
    hc.setConnectionTimeout(connectTimeoutMillis);
    if (vendor == Vendor.POSTGRESQL) {
      hc.setConnectionInitSql(POSTGRES_SESSION);
    }
    this.health = new HealthConnection(hc.getJdbcUrl(), user, password);
    Supplier<HikariDataSource> open = () -> {
      if (vendor == Vendor.H2) {
        H2Durability.recoverIfNotClosedCleanly(jdbcUrl);
      }
      HikariDataSource dataSource;
      try {
        dataSource = new HikariDataSource(hc);
      } catch (RuntimeException e) {
        throw journalDir.isPresent() && H2Durability.isLocked(e)
            ? new IllegalStateException("the embedded database " + H2Durability.storeFile(jdbcUrl).orElseThrow()
                + " is in use by another process (another fhirbox serving the same data directory?)", e)
            : e;
      }
      CommitJournal opened = null;
      try {
        if (vendor == Vendor.POSTGRESQL) {
          warnIfFsyncOff(dataSource);
        }
        if (journalDir.isPresent()) {
          if (onlyJournalStores(dataSource)) {
            opened = CommitJournal.open(journalDir.get(), raw(dataSource), System::currentTimeMillis,
                syncCommits ? JournalSync.FDATASYNC : null);
          } else {
            storeEveryCommit(dataSource);
          }
        }
        if (stamp.isEmpty() || !stamp.get().matches(dataSource)) {
          migrate(dataSource, vendor, jdbcUrl, user, password);
          stamp.ifPresent(st -> st.record(dataSource));
        }
        if (opened != null) {
          // the migrations, which are not journaled, are stored and synced before any commit is, and
          // a new segment records that store's version: an unclean open rolls back no further
          storeMigrated(opened, dataSource);
          journal = opened;
          checkpointer = startCheckpointer(opened, dataSource);
        }
      } catch (RuntimeException e) {
        dataSource.close();
        if (opened != null) {
          opened.close();
          opened.release();
        }
        throw e;
      }
      return dataSource;
    };
    if (background) {
      this.ready = CompletableFuture.supplyAsync(open, task -> {
        Thread t = new Thread(task, "fhirbox-migrate");
        t.setDaemon(true);
        t.start();
      });
    } else {
      try {
        this.ready = CompletableFuture.completedFuture(open.get());
      } catch (RuntimeException e) {
        health.close(); // nobody gets a Database to close
        throw e;
      }
    }
  }

  /**
   * Makes MVStore store only when the journal asks: no store from a writing thread once its
   * unsaved pages pass the auto-commit buffer, and no compaction by the background writer
   * (which, with the URL's long {@code WRITE_DELAY}, wakes every few minutes only for that).
   * Either can fall in the middle of another transaction's commit, and a file stored there held,
   * after a {@code SIGKILL}, a transaction's row without the journal mark of the same transaction
   * (H2CrashTest, 1 run in 3). H2's URL does not expose these settings, so they are set on the
   * open store (MVStore reads them on every write and housekeeping pass).
   *
   * @return false when this H2 lacks them (another version): the caller then falls back to
   *     a store at every commit, without a journal
   */
  private static boolean onlyJournalStores(HikariDataSource dataSource) {
    try (Connection c = dataSource.getConnection()) {
      org.h2.engine.SessionLocal session = (org.h2.engine.SessionLocal) c.unwrap(org.h2.jdbc.JdbcConnection.class)
          .getSession();
      org.h2.mvstore.MVStore store = session.getDatabase().getStore().getMvStore();
      java.lang.reflect.Field buffer = org.h2.mvstore.MVStore.class.getDeclaredField("autoCommitMemory");
      java.lang.reflect.Field compactBelow = org.h2.mvstore.FileStore.class.getDeclaredField("autoCompactFillRate");
      buffer.setAccessible(true);
      compactBelow.setAccessible(true);
      // large, yet 4x and 3x of it stay within an int as MVStore compares them
      buffer.setInt(store, 500_000_000);
      compactBelow.setInt(store.getFileStore(), 0);
      return true;
    } catch (ReflectiveOperationException | RuntimeException | SQLException e) {
      LOG.warn("this H2 cannot be told to store only on request ({}): "
          + "every commit is written to the database file before it returns, without a journal", e.toString());
      return false;
    }
  }

  /**
   * A {@code WARN} when the PostgreSQL server runs with {@code fsync = off}: it then never makes
   * sure a commit reached the disk, and a power loss or an operating system crash can lose
   * acknowledged commits or corrupt the database. A connection cannot change that setting.
   */
  private static void warnIfFsyncOff(HikariDataSource dataSource) {
    try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
        java.sql.ResultSet rs = s.executeQuery("SHOW fsync")) {
      if (rs.next() && "off".equalsIgnoreCase(rs.getString(1))) {
        LOG.warn("the PostgreSQL server runs with fsync = off: a power loss or an operating system crash can lose "
            + "acknowledged writes or corrupt its database; set fsync = on in its configuration");
      }
    } catch (SQLException e) {
      LOG.warn("could not read PostgreSQL's fsync setting: {}", e.getMessage());
    }
  }

  /** {@code WRITE_DELAY=0} on an open database: what a URL without a journal gets. */
  private static void storeEveryCommit(HikariDataSource dataSource) {
    try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
      s.execute("SET WRITE_DELAY 0");
    } catch (SQLException e) {
      throw new IllegalStateException("setting WRITE_DELAY 0 on the embedded database failed: " + e.getMessage(), e);
    }
  }

  private static Supplier<Connection> raw(HikariDataSource dataSource) {
    return () -> {
      try {
        return dataSource.getConnection();
      } catch (SQLException e) {
        throw new IllegalStateException("no connection to the embedded database: " + e.getMessage(), e);
      }
    };
  }

  private static void storeMigrated(CommitJournal journal, HikariDataSource dataSource) {
    try {
      journal.checkpointIfDue(raw(dataSource), true);
    } catch (SQLException | IOException | RuntimeException e) {
      throw new IllegalStateException("storing the embedded database failed: " + e.getMessage(), e);
    }
  }

  /**
   * Every {@link CommitJournal#CHECKPOINT_MILLIS}: stores what was committed since, and starts a
   * new journal segment when the current one is big or old enough. A failure is logged at most
   * once a minute; the journal keeps every commit meanwhile.
   */
  private Thread startCheckpointer(CommitJournal journal, HikariDataSource dataSource) {
    Thread t = new Thread(() -> {
      long warned = 0;
      while (true) {
        try {
          if (stopping.await(CommitJournal.CHECKPOINT_MILLIS, TimeUnit.MILLISECONDS)) {
            return;
          }
          journal.checkpointIfDue(raw(dataSource), false);
        } catch (InterruptedException e) {
          return;
        } catch (Exception e) {
          if (System.nanoTime() - warned > TimeUnit.MINUTES.toNanos(1) || warned == 0) {
            warned = System.nanoTime();
            LOG.warn(
                "storing the embedded database for its journal failed: {}", e.toString());
          }
        }
      }
    }, "fhirbox-journal");
    t.setDaemon(true);
    t.start();
    return t;
  }

  /**
   * What a PostgreSQL connection that migrates runs first: it lifts every limit a role, the
   * database or postgresql.conf may set on waits and statements ({@link #POSTGRES_SESSION}'s are
   * for requests: a migration that waits for a table another node still reads must not fail the
   * start after 2 s, nor a long one be cut), and commits synchronously, as the request sessions do.
   */
  static final String MIGRATION_SESSION = "SET synchronous_commit = on; SET lock_timeout = 0;"
      + " SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0";

  /**
   * Migrates the schema. On PostgreSQL, on connections of a pool of its own, closed once done,
   * that run {@link #MIGRATION_SESSION} (Flyway's own per-connection {@code initSql} is deprecated
   * and warns at every start; its {@code afterConnect} callback misses the connection that holds
   * the lock and the schema history).
   */
  private static void migrate(HikariDataSource dataSource, Vendor vendor, String jdbcUrl, String user,
      String password) {
    if (vendor != Vendor.POSTGRESQL) {
      migrate(dataSource, vendor);
      return;
    }
    HikariConfig hc = pool("fhirbox-migration", jdbcUrl, user, password);
    // Flyway holds one connection for its lock and schema history and migrates on another
    hc.setMaximumPoolSize(3);
    hc.setMinimumIdle(0);
    hc.setConnectionInitSql(MIGRATION_SESSION);
    try (HikariDataSource migrations = new HikariDataSource(hc)) {
      migrate(migrations, vendor);
    }
  }

  /**
   * A pool's settings for {@code jdbcUrl} with the credentials as given: none (null or empty)
   * leaves the URL's, or the driver's default.
   */
  static HikariConfig pool(String name, String jdbcUrl, String user, String password) {
    HikariConfig hc = new HikariConfig();
    hc.setPoolName(name);
    hc.setJdbcUrl(jdbcUrl);
    if (user != null && !user.isEmpty()) {
      hc.setUsername(user);
    }
    if (password != null && !password.isEmpty()) {
      hc.setPassword(password);
    }
    return hc;
  }

  private static void migrate(DataSource dataSource, Vendor vendor) {
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

  /**
   * Whether this process is the only one that writes the database: an embedded H2 file (H2 locks
   * it to one process unless {@code AUTO_SERVER} is set) or in-memory database. What this process
   * keeps of the data in memory then stays true without asking the database; on PostgreSQL or an
   * H2 server, other server nodes write too.
   */
  public boolean soleWriter() {
    return soleWriter;
  }

  static boolean soleWriter(String jdbcUrl) {
    // H2 locks a file database to the process that opened it; AUTO_SERVER lets others in through it
    return jdbcUrl.startsWith("jdbc:h2:") && !jdbcUrl.toUpperCase(java.util.Locale.ROOT).contains("AUTO_SERVER=TRUE")
        && (H2Durability.storeFile(jdbcUrl).isPresent() || jdbcUrl.startsWith("jdbc:h2:mem:"));
  }

  public Connection connection() throws SQLException {
    HikariDataSource dataSource;
    try {
      dataSource = dataSource();
    } catch (RuntimeException e) {
      throw new SQLException("the database could not be opened or its schema migrated: " + e.getMessage(), e);
    }
    CommitJournal j = journal;
    return j == null ? dataSource.getConnection() : JournaledConnection.wrap(dataSource.getConnection(), j);
  }

  /**
   * True when the database answers (for readiness checks), within about two seconds, and, on the
   * embedded H2, its journal has not failed a store or a sync (which needs a restart). The check
   * has a connection of its own ({@link HealthConnection}): one borrowed from the request pool
   * would read a pool busy with requests as a database that is down.
   */
  public boolean isReachable() {
    HikariDataSource dataSource = ready.isCompletedExceptionally() ? null : ready.getNow(null);
    CommitJournal j = journal;
    // after a failed store of the file or sync of the journal every commit is refused until a restart
    return dataSource != null && (j == null || j.healthy()) && health.isReachable();
  }

  /** The embedded H2's commit journal, or null: for tests. */
  CommitJournal journal() {
    return journal;
  }

  /**
   * Stops journaled commits, has H2 store everything committed, and only then drops the journal;
   * a store that fails keeps it, for the next start to apply.
   */
  private void closeJournal(CommitJournal j, HikariDataSource dataSource) {
    Thread t = checkpointer;
    stopping.countDown();
    if (t != null) {
      try {
        t.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    j.close();
    if (j.storeFailed()) {
      // its segments are the only sure copy of what was committed since the last synced store; H2
      // stops without storing, so that the next start rolls the file back to that store (it
      // was not closed cleanly) and applies them
      LOG.warn("the embedded database file could not be stored earlier; the journal is kept and applied on the "
          + "next start");
      try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
        s.execute("SHUTDOWN IMMEDIATELY");
      } catch (SQLException e) {
        // the connection ends with the database
      }
      return;
    }
    try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
      // no commit follows: whatever stores the file from here on (the pool's close included) holds them all
      j.mark(s);
      if (j.storeAlone(s, 5_000, true)) {
        j.deleteAll();
      } else {
        LOG.warn("statements were still writing to the embedded database as it closed; "
            + "the journal is kept and applied on the next start");
      }
    } catch (SQLException | RuntimeException e) {
      LOG.warn("storing the embedded database failed: {}; the journal is kept and applied on the next start",
          e.getMessage());
    }
  }

  /** Closes once; a second call waits for the first to finish and does nothing more (the pool it would store through is gone). */
  @Override
  public synchronized void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    health.close();
    try {
      // not mid-migration when the pool closes; a pool that failed to open or migrate is closed
      HikariDataSource dataSource = ready.get(30, TimeUnit.SECONDS);
      CommitJournal j = journal;
      if (j != null) {
        closeJournal(j, dataSource);
      }
      dataSource.close();
      if (j != null) {
        j.release();
      }
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
