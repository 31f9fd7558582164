package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatabaseTest {

  private static String url(Path dir) {
    return "jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_ON_EXIT=FALSE";
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
  void theBlockingConstructorThrowsTheMigrationFailure(@TempDir Path dir) throws Exception {
    try (Connection c = DriverManager.getConnection(url(dir));
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE resource_version (x INT)");
    }
    assertThatThrownBy(() -> new Database(url(dir), null, null, 4).close()).hasMessageContaining("no schema history table");
  }
}
