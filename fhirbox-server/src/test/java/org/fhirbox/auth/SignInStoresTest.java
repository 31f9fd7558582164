package org.fhirbox.auth;

import java.nio.file.Path;
import org.fhirbox.db.Database;
import org.junit.jupiter.api.io.TempDir;

class SignInStoresTest extends SignInStoresContract {
  @TempDir
  Path dir;

  @Override
  protected Database newDatabase() {
    return AuthDb.open(dir);
  }
}
