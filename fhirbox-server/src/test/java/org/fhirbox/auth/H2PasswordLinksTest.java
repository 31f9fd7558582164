package org.fhirbox.auth;

import java.nio.file.Path;
import org.fhirbox.db.Database;
import org.junit.jupiter.api.io.TempDir;

class H2PasswordLinksTest extends PasswordLinksContract {
  @TempDir
  Path dir;

  @Override
  protected Database newDatabase() {
    return AuthDb.open(dir);
  }
}
