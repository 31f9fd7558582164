package org.fhirbox.db;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.Optional;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets a restart on an embedded H2 database skip Flyway when nothing Flyway would look at has
 * changed. On a schema that is already up to date, Flyway's migrate still loads its plugins,
 * scans and reads every migration and validates each applied one against the schema history:
 * on 2 cores the largest part of a restart. After a successful migrate this records, in a file
 * beside the database, the migrations (the jar that holds them: path, size, modification time)
 * and a SHA-256 of the schema history table; a start that finds both unchanged skips Flyway,
 * whose validation would compare the same migrations with the same history again. A missing or
 * unreadable stamp, another jar, any change to the history, or migrations outside a jar (a
 * build's classes directory) run Flyway as before. Embedded H2 only: a PostgreSQL schema is
 * shared by nodes that may run other versions, and they always migrate under Flyway's lock.
 */
final class SchemaStamp {
  private static final Logger LOG = LoggerFactory.getLogger(SchemaStamp.class);
  private static final String HISTORY = "SELECT \"installed_rank\", \"version\", \"script\", \"checksum\", \"success\""
      + " FROM \"flyway_schema_history\" ORDER BY \"installed_rank\"";

  private final Path file;
  private final String migrations;

  /**
   * @param file where the stamp is kept
   * @param migrations what identifies the migrations: changes whenever any of them could have
   */
  SchemaStamp(Path file, String migrations) {
    this.file = file;
    this.migrations = migrations;
  }

  /** The stamp of the H2 file database of {@code jdbcUrl}, when its migrations come from a jar. */
  static Optional<SchemaStamp> of(String jdbcUrl) {
    Optional<Path> store = H2Durability.storeFile(jdbcUrl);
    Optional<String> jar = migrationsJar();
    if (store.isEmpty() || jar.isEmpty()) {
      return Optional.empty();
    }
    Path db = store.get().toAbsolutePath();
    return Optional.of(new SchemaStamp(db.resolveSibling(db.getFileName() + ".schema"), jar.get()));
  }

  /** Path, size and modification time of the jar holding the migrations; empty outside a jar. */
  private static Optional<String> migrationsJar() {
    try {
      Path jar = Path.of(SchemaStamp.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      if (!Files.isRegularFile(jar)) {
        return Optional.empty();
      }
      return Optional.of(jar.toAbsolutePath() + " " + Files.size(jar) + " " + Files.getLastModifiedTime(jar).toMillis());
    } catch (IOException | URISyntaxException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** Whether the migrations and the schema history are those recorded after the last migrate. */
  boolean matches(DataSource db) {
    if (!Files.isRegularFile(file)) {
      return false;
    }
    try (Connection c = db.getConnection()) {
      return Files.readString(file, StandardCharsets.UTF_8).equals(stamp(c));
    } catch (IOException | SQLException e) {
      return false; // no history table yet, or an unreadable stamp: Flyway decides
    }
  }

  /** Records the migrations and the schema history after a successful migrate. */
  void record(DataSource db) {
    try (Connection c = db.getConnection()) {
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.writeString(tmp, stamp(c), StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | SQLException e) {
      LOG.warn("cannot record the schema stamp {}: {}; the next start runs Flyway's checks again", file, e.toString());
    }
  }

  private String stamp(Connection c) throws SQLException {
    MessageDigest sha256;
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    int rows = 0;
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(HISTORY)) {
      while (rs.next()) {
        rows++;
        for (int i = 1; i <= 5; i++) {
          sha256.update(String.valueOf(rs.getObject(i)).getBytes(StandardCharsets.UTF_8));
          sha256.update((byte) 0);
        }
      }
    }
    return "migrations " + migrations + "\nhistory " + rows + " " + HexFormat.of().formatHex(sha256.digest()) + "\n";
  }
}
