package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import org.fhirbox.model.StoredResource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Migration V18 on a database that already holds search rows: the two search_value indexes become
 * one, what was indexed before is found through it, and a first start that stopped halfway
 * (an index dropped, the new one not built) migrates on the next start.
 */
class H2OneSearchIndexMigrationTest {
  @TempDir
  Path dir;

  @ParameterizedTest(name = "done before the stop: {0}")
  @ValueSource(strings = {"nothing", "DROP INDEX search_value_date", "DROP INDEX search_value_date;DROP INDEX search_value_code"})
  void searchRowsWrittenBeforeTheMigrationAreFoundThroughTheOneIndex(String doneBeforeTheStop) throws Exception {
    String url = "jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_ON_EXIT=FALSE";
    Flyway.configure().dataSource(url, "", "").locations("classpath:db/migration/h2", "classpath:org/fhirbox/db/migration")
        .target("17").load().migrate();
    try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
      for (int i = 0; i < 50; i++) {
        st.executeUpdate("INSERT INTO resource_current (project, res_type, res_id, version_id, last_updated, deleted,"
            + " content) VALUES ('p', 'Patient', 'id" + i + "', 1, " + (1000 + i) + ", FALSE, '{}')");
        st.executeUpdate("INSERT INTO search_value (project, res_type, res_id, param, code) VALUES ('p', 'Patient', 'id"
            + i + "', 'gender', '" + (i % 5 == 0 ? "male" : "female") + "')");
        long day = i % 10 == 0 ? 0 : 1;
        st.executeUpdate("INSERT INTO search_value (project, res_type, res_id, param, low, high) VALUES ('p', 'Patient',"
            + " 'id" + i + "', 'birthdate', " + 86_400_000L * day + ", " + (86_400_000L * day + 86_399_999) + ")");
      }
      if (!doneBeforeTheStop.equals("nothing")) {
        for (String ddl : doneBeforeTheStop.split(";")) {
          st.execute(ddl);
        }
      }
    }

    try (Database db = new Database(url, "", "", 2)) {
      try (Connection c = db.connection()) {
        assertThat(QuarantineMigrationContract.rows(c, "SELECT index_name FROM information_schema.indexes"
            + " WHERE table_name = 'SEARCH_VALUE' ORDER BY index_name"))
            .containsExactly("SEARCH_VALUE_CODE", "SEARCH_VALUE_RES");
        assertThat(QuarantineMigrationContract.rows(c, "SELECT column_name FROM information_schema.index_columns"
            + " WHERE index_name = 'SEARCH_VALUE_CODE' ORDER BY ordinal_position"))
            .containsExactly("PROJECT", "RES_TYPE", "PARAM", "CODE", "LOW", "HIGH");
      }
      JdbcResourceStore store = new JdbcResourceStore(db);
      SearchQuery day0 = new SearchQuery("p", "Patient",
          List.of(new SearchClause.DateRange("birthdate", 0L, 86_399_999L, true)), true, 100, 0);
      assertThat(store.read(tx -> tx.search(day0)).items()).extracting(StoredResource::id)
          .containsExactlyInAnyOrder("id0", "id10", "id20", "id30", "id40");
      SearchQuery male = new SearchQuery("p", "Patient", List.of(new SearchClause.Token("gender",
          List.of(new SearchClause.TokenValue(null, "male")))), true, 100, 0);
      assertThat(store.read(tx -> tx.search(male)).items()).extracting(StoredResource::id)
          .containsExactlyInAnyOrder("id0", "id5", "id10", "id15", "id20", "id25", "id30", "id35", "id40", "id45");
      // written after the migration, found the same way
      store.inTransaction(tx -> {
        tx.insert(new StoredResource("p", "Patient", "late", 1, Instant.ofEpochMilli(5000), false, "{}"),
            List.of(SearchValue.date("birthdate", 0L, 86_399_999L)));
        return null;
      });
      assertThat(store.read(tx -> tx.search(day0)).items()).extracting(StoredResource::id).contains("late").hasSize(6);
    }
  }
}
