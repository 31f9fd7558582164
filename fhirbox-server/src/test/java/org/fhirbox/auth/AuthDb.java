package org.fhirbox.auth;

import java.nio.file.Path;
import org.fhirbox.db.Database;

/** A real H2 file database in a test's temporary folder, migrated like the server's. */
final class AuthDb {
  static final String BASE = "http://localhost:8103/";
  /** Fingerprints under a fixed test key. */
  static final ClaimedText CLAIMED = new ClaimedText(new byte[32]);

  private AuthDb() {}

  static Database open(Path dir) {
    return new Database("jdbc:h2:file:" + dir.resolve("db").resolve("fhirbox") + ";DB_CLOSE_ON_EXIT=FALSE", "", "",
        8);
  }
}
