package org.fhirbox.auth;

import java.nio.file.Path;
import java.util.List;
import org.fhirbox.db.Database;

/** A real H2 file database in a test's temporary folder, migrated like the server's. */
final class AuthDb {
  static final String BASE = "http://localhost:8103/";
  /** A server known by {@link #BASE} alone, which is also its issuer. */
  static final Audiences AUDIENCES = new Audiences(() -> BASE, List.of(), () -> BASE);
  /** Fingerprints under a fixed test key. */
  static final ClaimedText CLAIMED = new ClaimedText(new byte[32]);

  private AuthDb() {}

  static Database open(Path dir) {
    return new Database("jdbc:h2:file:" + dir.resolve("db").resolve("fhirbox") + ";DB_CLOSE_ON_EXIT=FALSE", "", "",
        8);
  }
}
