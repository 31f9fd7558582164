package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class H2DurabilityTest {
  @Test
  void writeDelayZeroIsAddedUnlessTheUrlChoosesOne() {
    assertThat(H2Durability.withCommitsWritten("jdbc:h2:file:/d/x")).isEqualTo("jdbc:h2:file:/d/x;WRITE_DELAY=0");
    assertThat(H2Durability.withCommitsWritten("jdbc:h2:file:/d/x;write_delay=500")).endsWith("=500");
    assertThat(H2Durability.withCommitsWritten("jdbc:h2:mem:t")).isEqualTo("jdbc:h2:mem:t");
  }

  @Test
  void storeFileIsFoundForFileUrlsOnly() {
    assertThat(H2Durability.storeFile("jdbc:h2:file:/d/db/fhirbox;DB_CLOSE_ON_EXIT=FALSE"))
        .contains(Path.of("/d/db/fhirbox.mv.db"));
    assertThat(H2Durability.storeFile("jdbc:h2:./data/x")).contains(Path.of("./data/x.mv.db"));
    assertThat(H2Durability.storeFile("jdbc:h2:~/x")).contains(Path.of(System.getProperty("user.home") + "/x.mv.db"));
    assertThat(H2Durability.storeFile("jdbc:h2:mem:test")).isEmpty();
    assertThat(H2Durability.storeFile("jdbc:h2:tcp://host/~/x")).isEmpty();
    assertThat(H2Durability.storeFile("jdbc:postgresql://h/db")).isEmpty();
  }

  @Test
  void aClosedDatabaseCarriesTheCleanMarkAndIsNotRecoveredOnTheNextOpen(@TempDir Path dir) throws Exception {
    String url = "jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_ON_EXIT=FALSE";
    try (Database db = new Database(url, "", "", 2); Connection c = db.connection(); Statement s = c.createStatement()) {
      s.execute("INSERT INTO project (name, created) VALUES ('p', 1)");
      assertThat(H2Durability.closedCleanly(dir.resolve("db.mv.db"))).as("open and written").isFalse();
    }
    assertThat(H2Durability.closedCleanly(dir.resolve("db.mv.db"))).isTrue();
    assertThat(H2Durability.recoverIfNotClosedCleanly(url)).isFalse();
  }
}
