package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
          .hasMessageContaining("the database schema could not be migrated");
      assertThat(db.isReachable()).isFalse();
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
