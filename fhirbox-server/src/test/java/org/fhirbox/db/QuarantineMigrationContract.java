package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/**
 * Migration 6 on a database an older server left with unreadable versions: they move to
 * {@code quarantined_version} whole and become deletions, readable versions stay as they were,
 * and the store reads, searches and lists history without error. Subclasses supply the database.
 */
abstract class QuarantineMigrationContract {
  /** A fresh, empty database. */
  protected abstract String url();

  protected abstract String vendorLocation();

  static final String HUGE = "1" + "0".repeat(1001);

  static String obs(String id, String value) {
    return "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"valueQuantity\":{\"value\":" + value + "}}";
  }

  static void insert(Connection c, String id, long version, String json, boolean current) throws SQLException {
    for (String table : current ? new String[] {"resource_version", "resource_current"}
        : new String[] {"resource_version"}) {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table
          + " (project, res_type, res_id, version_id, last_updated, deleted, content) VALUES (?,?,?,?,?,?,?)")) {
        ps.setString(1, "p");
        ps.setString(2, "Observation");
        ps.setString(3, id);
        ps.setLong(4, version);
        ps.setLong(5, 1000 * version);
        ps.setBoolean(6, false);
        ps.setString(7, json);
        ps.executeUpdate();
      }
    }
  }

  static List<String> rows(Connection c, String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
          sb.append(i > 1 ? "|" : "").append(rs.getString(i));
        }
        out.add(sb.toString());
      }
    }
    return out;
  }

  @Test
  void unreadableVersionsAreQuarantinedAndTheRestIsUntouched() throws Exception {
    String url = url();
    Flyway.configure().dataSource(url, "", "").locations(vendorLocation()).target("5").load().migrate();
    try (Connection c = DriverManager.getConnection(url)) {
      insert(c, "good", 1, obs("good", "5.4"), true);
      insert(c, "bad", 1, obs("bad", "7"), false);
      insert(c, "bad", 2, obs("bad", HUGE), true);
      insert(c, "old", 1, obs("old", "1e999999"), false);
      insert(c, "old", 2, obs("old", "2"), true);
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO search_value (project, res_type, res_id, param, num)"
          + " VALUES ('p', 'Observation', ?, 'value-quantity', 1)")) {
        for (String id : new String[] {"good", "bad"}) {
          ps.setString(1, id);
          ps.executeUpdate();
        }
      }
    }

    try (Database db = new Database(url, "", "", 2); Connection c = db.connection()) {
      assertThat(rows(c, "SELECT res_id, version_id, reason FROM quarantined_version ORDER BY res_id"))
          .hasSize(2)
          .anySatisfy(r -> assertThat(r).startsWith("bad|2|"))
          .anySatisfy(r -> assertThat(r).startsWith("old|1|").contains("1e999999"));
      assertThat(rows(c, "SELECT content FROM quarantined_version WHERE res_id = 'bad'").get(0)).contains(HUGE);
      assertThat(rows(c, "SELECT res_id, version_id, CASE WHEN deleted THEN 'deleted' ELSE 'live' END,"
          + " CASE WHEN content IS NULL THEN 'empty' ELSE 'json' END FROM resource_version "
          + "ORDER BY res_id, version_id")).containsExactly(
          "bad|1|live|json", "bad|2|deleted|empty", "good|1|live|json", "old|1|deleted|empty", "old|2|live|json");
      assertThat(rows(c, "SELECT res_id, version_id, CASE WHEN deleted THEN 'deleted' ELSE 'live' END FROM resource_current"
          + " ORDER BY res_id")).containsExactly("bad|2|deleted", "good|1|live", "old|2|live");
      assertThat(rows(c, "SELECT res_id FROM search_value")).containsExactly("good");

      JdbcResourceStore store = new JdbcResourceStore(db);
      Page history = store.read(tx -> tx.history(new HistoryQuery("p", "Observation", null, null, 50, 0)));
      assertThat(history.items()).hasSize(5).allSatisfy(s -> assertThat(s.deleted() || !s.json().contains(HUGE)).isTrue());
    }
  }
}
