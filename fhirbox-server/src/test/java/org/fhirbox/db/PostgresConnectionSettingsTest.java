package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import org.fhirbox.testing.Postgres;
import org.fhirbox.testing.PostgresSchema;
import org.fhirbox.testing.SlowTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/** The connections fhirbox opens to PostgreSQL, whatever the server's configuration says. */
@SlowTest
class PostgresConnectionSettingsTest {
  @RegisterExtension
  final PostgresSchema postgres = new PostgresSchema();

  /**
   * A row another session holds locked (a node that froze, or lost its network, inside its
   * transaction): a writer's wait for it ends as a conflict after about 2 s, as on H2, which the
   * store retries and then answers 409; PostgreSQL's own default is to wait without end.
   */
  @Test
  void aWaitForARowLockedElsewhereEndsAsAConflictAfterAboutTwoSeconds() throws Exception {
    try (Database db = postgres.database(); Connection holder = DriverManager.getConnection(postgres.url())) {
      try (Connection c = db.connection(); Statement s = c.createStatement()) {
        s.execute("INSERT INTO condition_lock (lock_key) VALUES ('" + "a".repeat(64) + "')");
      }
      holder.setAutoCommit(false);
      try (Statement s = holder.createStatement()) {
        s.executeQuery("SELECT lock_key FROM condition_lock FOR UPDATE").close();
      }
      try (Connection c = db.connection(); Statement s = c.createStatement()) {
        c.setAutoCommit(false);
        s.setQueryTimeout(15); // without the limit, the wait would end only here (57014), not as a conflict
        long start = System.nanoTime();
        SQLException refused = catchThrowableOfType(
            () -> s.executeQuery("SELECT lock_key FROM condition_lock FOR UPDATE"), SQLException.class);
        double seconds = (System.nanoTime() - start) / 1e9;
        c.rollback();

        assertThat((Throwable) refused).as("the wait's end").isNotNull();
        assertThat(refused.getSQLState()).isEqualTo("55P03");
        assertThat(new StoreException("x", refused).isConflict()).isTrue();
        assertThat(seconds).isBetween(1.5, 10.0);
      }
      holder.rollback();
    }
  }

  /**
   * A session the server ends when it sits idle inside a transaction for a minute, releasing its
   * locks; and a lock wait limited to 2 s; on every pooled connection, not only the first.
   */
  @Test
  void pooledSessionsLimitLockWaitsAndIdleTransactions() throws Exception {
    try (Database db = postgres.database(); Connection a = db.connection(); Connection b = db.connection()) {
      for (Connection c : new Connection[] {a, b}) {
        assertThat(show(c, "lock_timeout")).isEqualTo("2s");
        assertThat(show(c, "idle_in_transaction_session_timeout")).isEqualTo("1min");
      }
    }
  }

  /**
   * The migrations run on connections without those limits: a start whose migration waits for a
   * table another session holds must not fail after 2 s. Here the schema history, which every
   * start reads, is held locked for 3.5 s while a second node starts on the schema.
   */
  @Test
  void aStartWaitsForTheSchemaHistoryLockedElsewhereBeyondTheLockTimeout() throws Exception {
    postgres.database().close();
    try (Connection holder = DriverManager.getConnection(postgres.url())) {
      holder.setAutoCommit(false);
      try (Statement s = holder.createStatement()) {
        s.execute("LOCK TABLE flyway_schema_history IN ACCESS EXCLUSIVE MODE");
      }
      java.util.concurrent.CompletableFuture<Database> start =
          java.util.concurrent.CompletableFuture.supplyAsync(postgres::database);
      Thread.sleep(3_500); // the start must still be waiting past the 2 s of a request's lock wait
      assertThat(start).as("a start while the history is locked").isNotDone();
      holder.rollback();
      try (Database db = start.get(60, java.util.concurrent.TimeUnit.SECONDS)) {
        assertThat(db.isReachable()).isTrue();
      }
    }
  }

  /** A start that migrates a new schema warns of nothing deprecated (Flyway warned once per connection). */
  @Test
  void aStartThatMigratesLogsNoDeprecationWarning() {
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    log.start();
    Logger flyway = (Logger) LoggerFactory.getLogger("org.flywaydb");
    Level before = flyway.getLevel();
    flyway.setLevel(Level.INFO);
    flyway.addAppender(log);
    try (Database db = postgres.database()) {
      assertThat(db.isReachable()).isTrue();
    } finally {
      flyway.detachAppender(log);
      flyway.setLevel(before);
    }

    assertThat(log.list.stream().map(ILoggingEvent::getFormattedMessage)).as("Flyway's log of the start")
        .anyMatch(m -> m.contains("Successfully applied"));
    assertThat(log.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
        .map(ILoggingEvent::getFormattedMessage)).noneMatch(m -> m.toLowerCase(java.util.Locale.ROOT)
            .contains("deprecated"));
  }

  /**
   * A database whose own setting is {@code synchronous_commit = off} (commits acknowledged before
   * they are on the disk): the server's connections still commit with it on.
   */
  @Test
  void connectionsCommitSynchronouslyEvenWhereTheDatabaseSaysOtherwise() throws Exception {
    onDatabaseWith("synchronous_commit = off", url -> {
      try (Connection plain = DriverManager.getConnection(url)) {
        assertThat(setting(plain)).as("a plain connection to that database").isEqualTo("off");
      }
      try (Database db = new Database(url, "", "", 2); Connection c = db.connection()) {
        assertThat(setting(c)).isEqualTo("on");
      }
    });
  }

  /**
   * A database whose own statement limit is short (1 s): the migrations, on connections that lift
   * it, still run, here while their schema history is held locked for longer than that limit;
   * the request sessions keep it (an operator's bound on runaway queries).
   */
  @Test
  void migrationsLiftTheDatabasesStatementLimitWhichRequestSessionsKeep() throws Exception {
    onDatabaseWith("statement_timeout = '1s'", url -> {
      new Database(url, "", "", 2).close(); // the schema, and its history, made
      try (Connection holder = DriverManager.getConnection(url)) {
        holder.setAutoCommit(false);
        try (Statement s = holder.createStatement()) {
          s.execute("LOCK TABLE flyway_schema_history IN ACCESS EXCLUSIVE MODE");
        }
        java.util.concurrent.CompletableFuture<Database> start = java.util.concurrent.CompletableFuture.supplyAsync(
            () -> new Database(url, "", "", 2));
        Thread.sleep(1_800); // the start's read of the history waits past the database's 1 s limit
        assertThat(start).as("a start while the history is locked").isNotDone();
        holder.rollback();
        try (Database db = start.get(60, java.util.concurrent.TimeUnit.SECONDS); Connection c = db.connection();
            Statement s = c.createStatement()) {
          assertThat(show(c, "statement_timeout")).isEqualTo("1s");
          SQLException cut = catchThrowableOfType(() -> s.execute("SELECT pg_sleep(3)"), SQLException.class);
          assertThat((Throwable) cut).as("a request's statement past the limit").isNotNull();
          assertThat(cut.getSQLState()).isEqualTo("57014");
        }
      }
    });
  }

  private interface WithUrl {
    void run(String url) throws Exception;
  }

  /** Runs {@code body} on the URL of a new database whose own default is {@code setting}; drops it after. */
  private static void onDatabaseWith(String setting, WithUrl body) throws Exception {
    String base = Postgres.serverUrl();
    String name = "t_set_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection admin = DriverManager.getConnection(base); Statement s = admin.createStatement()) {
      s.execute("CREATE DATABASE " + name);
      s.execute("ALTER DATABASE " + name + " SET " + setting);
    }
    try {
      body.run(base.replaceFirst("^(jdbc:postgresql://[^/]+/)[^?]*", "$1" + name));
    } finally {
      try (Connection admin = DriverManager.getConnection(base); Statement s = admin.createStatement()) {
        s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      }
    }
  }

  private static String setting(Connection c) throws Exception {
    return show(c, "synchronous_commit");
  }

  private static String show(Connection c, String name) throws Exception {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW " + name)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
