package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With {@code WRITE_DELAY=0} H2 runs no background writer; the database's own housekeeping
 * compacts the file instead, so a file whose rows were written one commit at a time and then
 * mostly deleted shrinks while it stays open.
 */
class H2HousekeepingTest {
  @Test
  void aChurnedFileShrinksWhileTheDatabaseStaysOpen(@TempDir Path dir) throws Exception {
    // retention 0: dead chunks may be reused at once, so what stays is what compaction leaves
    String url = "jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_ON_EXIT=FALSE;RETENTION_TIME=0";
    Path file = dir.resolve("db.mv.db");
    try (Database db = new Database(url, "", "", 2)) {
      try (Connection c = db.connection(); Statement s = c.createStatement()) {
        s.execute("CREATE TABLE churn (id VARCHAR(40) PRIMARY KEY, payload VARCHAR(2000), n INT)");
        s.execute("CREATE INDEX churn_n ON churn (n)");
      }
      // one commit per row with random keys: every commit's chunk keeps a few live pages
      for (int i = 0; i < 3_000; i++) {
        try (Connection c = db.connection();
            PreparedStatement ps = c.prepareStatement("INSERT INTO churn VALUES (?, ?, ?)")) {
          c.setAutoCommit(false);
          ps.setString(1, UUID.randomUUID().toString());
          ps.setString(2, "x".repeat(1_500));
          ps.setInt(3, i);
          ps.executeUpdate();
          c.commit();
        }
      }
      try (Connection c = db.connection(); Statement s = c.createStatement()) {
        s.execute("DELETE FROM churn WHERE MOD(n, 10) <> 0");
      }
      long churned = Files.size(file);
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (Files.size(file) > churned / 2 && System.nanoTime() < deadline) {
        Thread.sleep(200);
      }
      assertThat(Files.size(file)).as("file size after housekeeping, from %d bytes", churned).isLessThan(churned / 2);
    }
  }
}
