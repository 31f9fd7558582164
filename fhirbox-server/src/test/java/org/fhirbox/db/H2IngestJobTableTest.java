package org.fhirbox.db;

import java.nio.file.Files;
import java.nio.file.Path;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterEach;

class H2IngestJobTableTest extends IngestJobTableContract {
  private Path dir;

  @Override
  protected Database newDatabase() throws Exception {
    dir = Files.createTempDirectory("fhirbox-jobs");
    return new Database("jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_ON_EXIT=FALSE", "", "", 8);
  }

  @AfterEach
  void deleteDir() throws Exception {
    TestServer.deleteTree(dir);
  }
}
