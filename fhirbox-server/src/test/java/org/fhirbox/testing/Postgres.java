package org.fhirbox.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * PostgreSQL for tests. Uses the server at {@code FHIRBOX_TEST_POSTGRES_URL} (default: the
 * machine's server, {@code jdbc:postgresql://127.0.0.1:5432/test?user=postgres}). When that is
 * unreachable: in CI ({@code CI=true}) the run fails; elsewhere an embedded PostgreSQL is started
 * (it refuses to run as root, which is why CI uses the machine's server).
 *
 * <p>Each caller gets its own fresh schema, so runs never see each other's data, and no schema
 * outlives its use: {@link Schema#close()} drops it, and one still there when the test JVM exits
 * is dropped then. Schemas are named {@code t_<UTC yyyyMMddHHmmss>_<random>}; one left by a JVM
 * that was killed is dropped by the first run more than {@value #ABANDONED_HOURS} hours later.
 */
public final class Postgres {
  private static final int ABANDONED_HOURS = 12;
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMddHHmmss");
  private static final Set<String> LIVE = new LinkedHashSet<>();
  private static String serverUrl;
  private static EmbeddedPostgres embedded;

  private Postgres() {}

  /** A schema of one test's own; {@link #close()} drops it with everything in it. */
  public record Schema(String name, String url) implements AutoCloseable {
    @Override
    public void close() {
      drop(name);
    }
  }

  /** A new, empty schema; close it (after the pools on it) when the test is done. */
  public static synchronized Schema freshSchema() {
    String base = serverUrl();
    String schema = "t_" + LocalDateTime.now(ZoneOffset.UTC).format(STAMP) + "_"
        + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection c = DriverManager.getConnection(base); Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create a test schema on PostgreSQL", e);
    }
    LIVE.add(schema);
    return new Schema(schema, base + (base.contains("?") ? "&" : "?") + "currentSchema=" + schema);
  }

  /** Whether the schema exists (for tests of this class's promise). */
  public static synchronized boolean exists(String schema) {
    try (Connection c = DriverManager.getConnection(serverUrl());
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT 1 FROM pg_namespace WHERE nspname = '" + schema.replace("'", "''")
            + "'")) {
      return rs.next();
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read PostgreSQL's schemas", e);
    }
  }

  private static synchronized void drop(String schema) {
    if (!LIVE.remove(schema)) {
      return;
    }
    try (Connection c = DriverManager.getConnection(serverUrl()); Statement s = c.createStatement()) {
      dropOn(s, schema);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot drop test schema " + schema, e);
    }
  }

  private static void dropOn(Statement s, String schema) throws SQLException {
    // a pool someone forgot to close must not hang the run: wait for its locks a few seconds at most
    s.execute("SET lock_timeout = '10s'");
    s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
  }

  private static synchronized void dropAllLive() {
    if (LIVE.isEmpty() || serverUrl == null) {
      return;
    }
    try (Connection c = DriverManager.getConnection(serverUrl); Statement s = c.createStatement()) {
      for (String schema : List.copyOf(LIVE)) {
        dropOn(s, schema);
        LIVE.remove(schema);
      }
    } catch (SQLException e) {
      System.err.println("could not drop test schemas " + LIVE + ": " + e.getMessage());
    }
  }

  /** Drops test schemas whose name says they were made more than {@value #ABANDONED_HOURS} hours ago. */
  private static void dropAbandoned(Connection c) throws SQLException {
    String cutoff = LocalDateTime.now(ZoneOffset.UTC).minusHours(ABANDONED_HOURS).format(STAMP);
    List<String> old = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT nspname FROM pg_namespace WHERE nspname ~ '^t_[0-9]{14}_[0-9a-f]{12}$'")) {
      while (rs.next()) {
        if (rs.getString(1).substring(2, 16).compareTo(cutoff) < 0) {
          old.add(rs.getString(1));
        }
      }
    }
    try (Statement s = c.createStatement()) {
      for (String schema : old) {
        dropOn(s, schema);
      }
    }
  }

  /** The URL of the test server's database, for a test that needs a database of its own beside it. */
  public static synchronized String serverUrl() {
    if (serverUrl != null) {
      return serverUrl;
    }
    String url = System.getenv().getOrDefault("FHIRBOX_TEST_POSTGRES_URL",
        "jdbc:postgresql://127.0.0.1:5432/test?user=postgres");
    try (Connection c = DriverManager.getConnection(url)) {
      serverUrl = url;
      try {
        dropAbandoned(c);
      } catch (SQLException e) {
        System.err.println("could not drop abandoned test schemas: " + e.getMessage());
      }
    } catch (SQLException e) {
      if ("true".equals(System.getenv("CI"))) {
        throw new IllegalStateException("PostgreSQL at " + url.replaceAll("password=[^&]*", "password=***")
            + " is unreachable; CI requires it", e);
      }
    }
    if (serverUrl == null) {
      try {
        embedded = EmbeddedPostgres.builder().start();
        serverUrl = embedded.getJdbcUrl("postgres", "postgres");
      } catch (IOException e) {
        throw new IllegalStateException("no PostgreSQL server and the embedded one did not start", e);
      }
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      dropAllLive();
      if (embedded != null) {
        try {
          embedded.close();
        } catch (IOException ignored) {
          // the JVM is exiting
        }
      }
    }, "drop-test-schemas"));
    return serverUrl;
  }
}
