package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.UUID;
import org.fhirbox.testing.Postgres;
import org.junit.jupiter.api.Test;

/** The connections fhirbox opens to PostgreSQL, whatever the server's configuration says. */
class PostgresConnectionSettingsTest {
  /**
   * A database whose own setting is {@code synchronous_commit = off} (commits acknowledged before
   * they are on the disk): the server's connections still commit with it on.
   */
  @Test
  void connectionsCommitSynchronouslyEvenWhereTheDatabaseSaysOtherwise() throws Exception {
    String base = Postgres.serverUrl();
    String name = "t_sync_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection admin = DriverManager.getConnection(base); Statement s = admin.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    }
    try {
      try (Connection admin = DriverManager.getConnection(base); Statement s = admin.createStatement()) {
        s.execute("ALTER DATABASE " + name + " SET synchronous_commit = off");
      }
      String url = base.replaceFirst("^(jdbc:postgresql://[^/]+/)[^?]*", "$1" + name);
      try (Connection plain = DriverManager.getConnection(url)) {
        assertThat(setting(plain)).as("a plain connection to that database").isEqualTo("off");
      }
      try (Database db = new Database(url, "", "", 2); Connection c = db.connection()) {
        assertThat(setting(c)).isEqualTo("on");
      }
    } finally {
      try (Connection admin = DriverManager.getConnection(base); Statement s = admin.createStatement()) {
        s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      }
    }
  }

  private static String setting(Connection c) throws Exception {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW synchronous_commit")) {
      rs.next();
      return rs.getString(1);
    }
  }
}
