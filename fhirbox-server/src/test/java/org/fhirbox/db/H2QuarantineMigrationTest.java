package org.fhirbox.db;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class H2QuarantineMigrationTest extends QuarantineMigrationContract {
  @TempDir
  Path dir;

  @Override
  protected String url() {
    return "jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_ON_EXIT=FALSE";
  }

  @Override
  protected String vendorLocation() {
    return "classpath:db/migration/h2";
  }
}
