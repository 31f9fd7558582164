package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.PostgresSchema;
import org.fhirbox.testing.SlowTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.fhirbox.model.StoredResource;

@SlowTest
class PlannerStatisticsTest {
  @RegisterExtension
  final PostgresSchema postgres = new PostgresSchema();

  @Test
  void staleTablesAreAnalyzedSoReadsByIdUseThePrimaryKey() throws Exception {
    try (Database db = new Database(postgres.url(), "", "", 4)) {
      JdbcResourceStore store = new JdbcResourceStore(db);
      PlannerStatistics statistics = new PlannerStatistics(db);
      store.inTransaction(tx -> {
        for (int i = 0; i < 500; i++) {
          tx.insert(new StoredResource("p", "Patient", UUID.randomUUID().toString(), 1,
              Instant.ofEpochMilli(1000 + i), false, "{}"), List.of());
        }
        return null;
      });

      // PostgreSQL publishes table activity counters within about a second of the commit
      List<String> analyzed = new ArrayList<>();
      Poll.until("resource_current analyzed", () -> {
        analyzed.addAll(statistics.refresh());
        return analyzed.contains("resource_current");
      });
      assertThat(analyzed).contains("resource_current", "resource_version");
      assertThat(statistics.refresh()).as("nothing changed since").doesNotContain("resource_current");

      try (Connection c = db.connection(); Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("EXPLAIN SELECT * FROM resource_current"
              + " WHERE project = 'p' AND res_type = 'Patient' AND res_id = 'x'")) {
        StringBuilder plan = new StringBuilder();
        while (rs.next()) {
          plan.append(rs.getString(1)).append('\n');
        }
        assertThat(plan.toString()).contains("resource_current_pkey");
      }
    }
  }

  @Test
  void theBackgroundReindexReadsEachPageFromItsStartInThePrimaryKey() throws Exception {
    try (Database db = new Database(postgres.url(), "", "", 2)) {
      JdbcResourceStore store = new JdbcResourceStore(db);
      store.inTransaction(tx -> {
        for (int i = 0; i < 2000; i++) {
          tx.insert(new StoredResource("p", i % 2 == 0 ? "Patient" : "Observation", String.format("id%04d", i), 1,
              Instant.ofEpochMilli(1000), false, "{}"), List.of());
        }
        return null;
      });
      StoredResource after = new StoredResource("p", "Patient", "id1000", 1, Instant.ofEpochMilli(1000), false, "{}");
      try (Connection c = db.connection(); Statement analyze = c.createStatement()) {
        analyze.execute("ANALYZE resource_current");
        SearchSql.Sql rest = VersionRows.currentAfterSql(after).get(0);
        try (java.sql.PreparedStatement ps = c.prepareStatement("EXPLAIN " + rest.text())) {
          for (int i = 0; i < rest.args().size(); i++) {
            ps.setObject(i + 1, rest.args().get(i));
          }
          ps.setObject(rest.args().size() + 1, 50);
          StringBuilder plan = new StringBuilder();
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              plan.append(rs.getString(1)).append('\n');
            }
          }
          assertThat(plan.toString()).as(plan.toString()).contains("resource_current_pkey")
              .containsPattern("Index Cond: .*res_id\\)::text > 'id1000'");
        }
      }
    }
  }

  @Test
  void h2NeedsNothing() {
    try (Database db = new Database("jdbc:h2:mem:stats" + UUID.randomUUID(), "", "", 2)) {
      assertThat(new PlannerStatistics(db).needed()).isFalse();
    }
  }
}
