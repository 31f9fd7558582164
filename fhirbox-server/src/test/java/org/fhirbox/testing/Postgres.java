package org.fhirbox.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * PostgreSQL for tests. Uses the server at {@code FHIRBOX_TEST_POSTGRES_URL} (default: the
 * machine's server, {@code jdbc:postgresql://127.0.0.1:5432/test?user=postgres}). When that is
 * unreachable: in CI ({@code CI=true}) the run fails; elsewhere an embedded PostgreSQL is started
 * (it refuses to run as root, which is why CI uses the machine's server).
 * Each caller gets its own fresh schema, so runs never see each other's data.
 */
public final class Postgres {
  private static String serverUrl;
  private static EmbeddedPostgres embedded;

  private Postgres() {}

  /** A JDBC URL whose default schema is new and empty. */
  public static synchronized String freshSchemaUrl() {
    String base = serverUrl();
    String schema = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    try (Connection c = DriverManager.getConnection(base); Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create a test schema on PostgreSQL", e);
    }
    return base + (base.contains("?") ? "&" : "?") + "currentSchema=" + schema;
  }

  private static String serverUrl() {
    if (serverUrl != null) {
      return serverUrl;
    }
    String url = System.getenv().getOrDefault("FHIRBOX_TEST_POSTGRES_URL",
        "jdbc:postgresql://127.0.0.1:5432/test?user=postgres");
    try (Connection c = DriverManager.getConnection(url)) {
      serverUrl = url;
      return url;
    } catch (SQLException e) {
      if ("true".equals(System.getenv("CI"))) {
        throw new IllegalStateException("PostgreSQL at " + url.replaceAll("password=[^&]*", "password=***")
            + " is unreachable; CI requires it", e);
      }
    }
    try {
      embedded = EmbeddedPostgres.builder().start();
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          embedded.close();
        } catch (java.io.IOException ignored) {
          // the JVM is exiting
        }
      }));
      serverUrl = embedded.getJdbcUrl("postgres", "postgres");
      return serverUrl;
    } catch (java.io.IOException e) {
      throw new IllegalStateException("no PostgreSQL server and the embedded one did not start", e);
    }
  }
}
