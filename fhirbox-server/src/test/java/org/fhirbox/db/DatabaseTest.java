package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class DatabaseTest {

  private static String url(Path dir) {
    return "jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_ON_EXIT=FALSE";
  }

  @Test
  void onlyAnEmbeddedH2IsWrittenByThisProcessAlone() {
    assertThat(Database.soleWriter("jdbc:h2:file:/var/fhirbox/db/fhirbox;DB_CLOSE_ON_EXIT=FALSE")).isTrue();
    assertThat(Database.soleWriter("jdbc:h2:/var/fhirbox/db/fhirbox")).isTrue();
    assertThat(Database.soleWriter("jdbc:h2:mem:test")).isTrue();
    assertThat(Database.soleWriter("jdbc:h2:file:/var/fhirbox/db/fhirbox;AUTO_SERVER=TRUE")).isFalse();
    assertThat(Database.soleWriter("jdbc:h2:tcp://db.example.org/fhirbox")).isFalse();
    assertThat(Database.soleWriter("jdbc:postgresql://127.0.0.1:5432/test")).isFalse();
  }

  @Test
  void connectionsWaitForABackgroundMigration(@TempDir Path dir) throws Exception {
    try (Database db = Database.openMigratingInBackground(url(dir), null, null, 4, 10_000);
        Connection c = db.connection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM resource_current")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getLong(1)).isZero();
      assertThat(db.isReachable()).isTrue();
    }
  }

  /** A second close (a server stopped by its owner and again by a shutdown hook) stores nothing and warns of nothing. */
  @Test
  void aSecondCloseDoesNothing(@TempDir Path dir) throws Exception {
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    log.start();
    Logger logger = (Logger) LoggerFactory.getLogger(Database.class);
    logger.addAppender(log);
    try {
      Database db = new Database(url(dir), "", "", 4);
      try (Connection c = db.connection(); Statement s = c.createStatement()) {
        s.execute("CREATE TABLE closed_twice (x INT)");
        s.execute("INSERT INTO closed_twice VALUES (1)");
      }
      db.close();
      db.close();
    } finally {
      logger.detachAppender(log);
    }
    assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage).noneMatch(m -> m.contains("failed"));
    assertThat(H2Durability.closedCleanly(dir.resolve("db.mv.db"))).isTrue();
  }

  @Test
  void aFailedBackgroundMigrationFailsEveryConnectionWithItsCause(@TempDir Path dir) throws Exception {
    try (Connection c = DriverManager.getConnection(url(dir));
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE resource_version (x INT)"); // not ours: Flyway refuses to migrate over it
    }
    try (Database db = Database.openMigratingInBackground(url(dir), null, null, 4, 10_000)) {
      assertThatThrownBy(db::awaitMigrated).hasMessageContaining("no schema history table");
      assertThatThrownBy(db::connection).isInstanceOf(SQLException.class)
          .hasMessageContaining("the database could not be opened or its schema migrated");
      assertThat(db.isReachable()).isFalse();
    }
  }

  @Test
  void aDatabaseThatCannotBeOpenedFailsTheWaitNotTheCaller() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    String nobodyListens = "jdbc:postgresql://127.0.0.1:" + closedPort + "/fhirbox";
    try (Database db = Database.openMigratingInBackground(nobodyListens, "u", "p", 2, 2_000)) {
      // the pool opens on the migration thread: the caller goes on building the server meanwhile
      assertThat(db.isReachable()).isFalse();
      assertThatThrownBy(db::awaitMigrated).hasMessageContaining("Connection to 127.0.0.1:" + closedPort + " refused");
      assertThatThrownBy(db::connection).isInstanceOf(SQLException.class)
          .hasMessageContaining("the database could not be opened or its schema migrated");
    }
  }

  @Test
  void aRestartSkipsFlywayOnlyWhileTheMigrationsAndTheSchemaHistoryAreThoseStamped(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("db.mv.db.schema");
    SchemaStamp jar = new SchemaStamp(file, "/app/lib/fhirbox-server.jar 1000 1");
    new Database(url(dir), null, null, 4, 10_000, false, Optional.of(jar)).close();
    assertThat(file).isRegularFile();

    // an applied migration whose recorded checksum is not its script's: Flyway's validation refuses it
    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL(url(dir));
    try (Connection c = h2.getConnection(); Statement s = c.createStatement()) {
      s.executeUpdate("UPDATE \"flyway_schema_history\" SET \"checksum\" = 1 WHERE \"version\" = '1'");
    }
    assertThatThrownBy(() -> new Database(url(dir), null, null, 4, 10_000, false, Optional.of(jar)).close())
        .as("the history changed since the stamp: Flyway runs").hasMessageContaining("checksum mismatch");

    jar.record(h2); // as if the history had been migrated like this by these migrations
    try (Database db = new Database(url(dir), null, null, 4, 10_000, false, Optional.of(jar));
        Connection c = db.connection()) {
      assertThat(c.isValid(1)).as("stamped: Flyway is skipped, so nothing refuses the history").isTrue();
    }
    SchemaStamp anotherJar = new SchemaStamp(file, "/app/lib/fhirbox-server.jar 1000 2");
    assertThatThrownBy(() -> new Database(url(dir), null, null, 4, 10_000, false, Optional.of(anotherJar)).close())
        .as("other migrations: Flyway runs").hasMessageContaining("checksum mismatch");
    Files.writeString(file, "unreadable");
    assertThatThrownBy(() -> new Database(url(dir), null, null, 4, 10_000, false, Optional.of(jar)).close())
        .as("a stamp that does not match: Flyway runs").hasMessageContaining("checksum mismatch");
  }

  @Test
  void theBlockingConstructorThrowsTheMigrationFailure(@TempDir Path dir) throws Exception {
    try (Connection c = DriverManager.getConnection(url(dir));
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE resource_version (x INT)");
    }
    assertThatThrownBy(() -> new Database(url(dir), null, null, 4).close()).hasMessageContaining("no schema history table");
  }
}
