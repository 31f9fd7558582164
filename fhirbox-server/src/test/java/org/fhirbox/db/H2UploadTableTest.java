package org.fhirbox.db;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class H2UploadTableTest extends UploadTableContract {
  @TempDir
  Path dir;

  @Override
  protected Database newDatabase() {
    return new Database("jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_ON_EXIT=FALSE", "", "", 8);
  }

  @Override
  protected boolean skipsLockedRowsBeforeTheLimit() {
    return false;
  }
}
