package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.fhirbox.model.PagePosition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.fhirbox.model.StoredResource;

/**
 * How H2 runs a search: from the search_value index to the matching rows by id, never through
 * every resource of the type, and the index read once per search, not once per match. The
 * correlated EXISTS this replaced made H2 probe the index once per resource of the type (0.15 s
 * for a search that matched nothing at 26,629 Patients); the {@code IN (SELECT ...)} after it was
 * evaluated again for every row found (4–15 s for 1,111 matches of 11,047 while others wrote).
 * The plan is what guards against either coming back, not a timing.
 */
class H2SearchPlanTest {
  @TempDir
  Path dir;

  static Stream<SearchClause> clauses() {
    return Stream.of(
        new SearchClause.Token("gender", List.of(new SearchClause.TokenValue(null, "male"))),
        new SearchClause.Text(List.of("name", "family", "given"), List.of("fam01"), SearchClause.TextMatch.STARTS_WITH),
        new SearchClause.DateRange("birthdate", 0L, 86_399_999L, true),
        new SearchClause.Token("general-practitioner", List.of(new SearchClause.TokenValue(null, "Practitioner/1"))),
        new SearchClause.Ids(List.of("id1", "id3", "id5", "id7", "id9", "id11", "id13", "id15", "id17", "id19")),
        // a patient/ scope's compartment, for another type and for Patient itself
        new SearchClause.Compartment(List.of("general-practitioner", "link"), "Patient/id3", null),
        new SearchClause.Compartment(List.of("link"), "Patient/id3", "id3"));
  }

  @ParameterizedTest
  @MethodSource("clauses")
  void aSearchReadsTheMatchesByIdFromTheIndex(SearchClause clause) throws Exception {
    try (Database db = new Database("jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_ON_EXIT=FALSE", "", "", 2)) {
      JdbcResourceStore store = new JdbcResourceStore(db);
      store.inTransaction(tx -> {
        for (int i = 0; i < 1000; i++) {
          int day = i % 10 == 0 ? 0 : 1;
          tx.insert(new StoredResource("p", "Patient", "id" + i, 1, Instant.ofEpochMilli(1000 + i), false, "{}"),
              List.of(SearchValue.token("gender", null, i % 10 == 0 ? "male" : "female"),
                  SearchValue.string("family", "Fam" + i), SearchValue.token("link", null, "Patient/id" + (i / 2)),
                  SearchValue.date("birthdate", 86_400_000L * day, 86_400_000L * day + 86_399_999)));
        }
        return null;
      });
      SearchQuery q = new SearchQuery("p", "Patient", List.of(clause), true, 10, 0);
      SearchSql sql = new SearchSql(Database.Vendor.H2);
      for (SearchSql.Sql s : List.of(sql.count(q), sql.page(q), sql.ids(q))) {
        String plan = explain(db, s);
        if (clause instanceof SearchClause.Ids) {
          assertThat(plan).as(plan).contains("PUBLIC.RESOURCE_CURRENT_ID: RES_ID IN(");
        } else {
          // the index gives the ids once, in a derived table, and the rows are joined to it by id;
          // nothing after the join reads the index again
          assertThat(plan).as(plan).contains("\"HIT\"(\"HIT_ID\")")
              .contains("PUBLIC.RESOURCE_CURRENT_ID: RES_ID = HIT.HIT_ID");
          assertThat(plan.substring(plan.lastIndexOf("INNER JOIN"))).as(plan).doesNotContain("SEARCH_VALUE");
        }
        // no index is read end to end: 1,000 Patients and at most 100 matches, each found with
        // one look-up that reads the match and the entry after it, so a scan would count 1,000
        Matcher scans = Pattern.compile("scanCount: (\\d+)").matcher(plan);
        while (scans.find()) {
          assertThat(Integer.parseInt(scans.group(1))).as(plan).isLessThanOrEqualTo(202);
        }
      }
    }
  }

  /**
   * {@code :missing=true} beside an index criterion: the criterion gives the ids, and each row found
   * is checked for the parameter's index rows by its id (search_value_res), not every resource of
   * the type.
   */
  @Test
  void missingTrueChecksTheRowsFoundByTheirIdInTheIndex() throws Exception {
    try (Database db = new Database("jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_ON_EXIT=FALSE", "", "", 2)) {
      JdbcResourceStore store = new JdbcResourceStore(db);
      store.inTransaction(tx -> {
        for (int i = 0; i < 1000; i++) {
          List<SearchValue> values = new ArrayList<>(List.of(SearchValue.token("gender", null,
              i % 10 == 0 ? "male" : "female")));
          if (i % 20 == 0) {
            values.add(SearchValue.date("birthdate", 0L, 86_399_999L));
          }
          tx.insert(new StoredResource("p", "Patient", "id" + i, 1, Instant.ofEpochMilli(1000 + i), false, "{}"),
              values);
        }
        return null;
      });
      SearchQuery q = new SearchQuery("p", "Patient", List.of(new SearchClause.Missing(List.of("birthdate"), true),
          new SearchClause.Token("gender", List.of(new SearchClause.TokenValue(null, "male")))), true, 100, 0);
      SearchSql sql = new SearchSql(Database.Vendor.H2);
      String plan = explain(db, sql.count(q));
      assertThat(plan).as(plan).contains("PUBLIC.RESOURCE_CURRENT_ID: RES_ID = HIT.HIT_ID");
      String probe = plan.substring(plan.indexOf("NOT EXISTS"));
      assertThat(probe).as(plan).contains("PUBLIC.SEARCH_VALUE_RES: RES_ID = R.RES_ID");
      // the probes read the index rows of the 100 men only (two each at most), never the type's
      Matcher scans = Pattern.compile("scanCount: (\\d+)").matcher(probe);
      while (scans.find()) {
        assertThat(Integer.parseInt(scans.group(1))).as(plan).isLessThanOrEqualTo(202);
      }
      // 100 men, every other one born on day 0
      long men = store.read(tx -> tx.count(q));
      assertThat(men).isEqualTo(50L);
    }
  }

  /**
   * A sort key and a token's {@code :not} beside an index criterion: the criterion gives the ids,
   * and each row found has its key, and its values of the {@code :not} parameter, read by its id
   * (search_value_res), not through every value of the parameter.
   */
  @Test
  void aSortKeyAndNotAreReadByTheIdOfEachMatch() throws Exception {
    try (Database db = new Database("jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_ON_EXIT=FALSE", "", "", 2)) {
      JdbcResourceStore store = thousandPatients(db);
      SearchQuery q = new SearchQuery("p", "Patient", menNotSpeakingGerman(), true, 3, 0, null,
          List.of(new SortKey(SortKey.Column.CODE, List.of("family"), false)));
      String plan = explain(db, new SearchSql(Database.Vendor.H2).page(q));
      assertThat(plan).as(plan).contains("PUBLIC.RESOURCE_CURRENT_ID: RES_ID = HIT.HIT_ID");
      // the plan H2 chose, after the statement as written
      String chosen = plan.substring(plan.indexOf("/* SELECT"));
      assertThat(chosen.substring(chosen.indexOf("NOT EXISTS"))).as(plan)
          .contains("PUBLIC.SEARCH_VALUE_RES: RES_ID = R.RES_ID");
      // the key, once per match, in the select list of the derived table the ORDER BY reads
      assertThat(chosen.substring(0, chosen.indexOf("AS SORT_1"))).as(plan).contains("PUBLIC.SEARCH_VALUE_RES:")
          .contains("RES_ID = R.RES_ID");
      // H2 names the column by its place: the eighth, after the seven of every row
      assertThat(plan.substring(plan.lastIndexOf("ORDER BY"))).as(plan).startsWith("ORDER BY 8 NULLS LAST")
          .doesNotContain("SEARCH_VALUE");
      // 100 men, half of them speaking de; the others by family as text: "fam10" (id990), then
      // "fam110" (id890) and "fam130" (id870) before "fam30" (id970)
      assertThat(store.read(tx -> tx.search(q)).items()).extracting(StoredResource::id)
          .containsExactly("id990", "id890", "id870");
    }
  }

  /**
   * A next page of a sorted search: the position's comparison reads the key's column of the
   * derived table, so the key is looked up once per match, not once more for each comparison.
   */
  @Test
  void aNextPageLooksEachKeyUpOncePerMatch() throws Exception {
    try (Database db = new Database("jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_ON_EXIT=FALSE", "", "", 2)) {
      JdbcResourceStore store = thousandPatients(db);
      List<SortKey> byFamily = List.of(new SortKey(SortKey.Column.CODE, List.of("family"), false));
      PagePosition afterFirst = new PagePosition(1990, "Patient", "id990", 1, List.of("fam10"));
      SearchQuery next = new SearchQuery("p", "Patient", menNotSpeakingGerman(), true, 3, 0, afterFirst, byFamily);
      String plan = explain(db, new SearchSql(Database.Vendor.H2).page(next));
      String chosen = plan.substring(plan.indexOf("/* SELECT"));
      assertThat(chosen.split("MIN\\(S\\.CODE\\)", -1)).as(plan).hasSize(2);
      assertThat(store.read(tx -> tx.search(next)).items()).extracting(StoredResource::id)
          .containsExactly("id890", "id870", "id850");
    }
  }

  @Test
  void theValuesAHasSourceNamesAreReadByIdNotByScanningTheType() throws Exception {
    try (Database db = new Database("jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_ON_EXIT=FALSE", "", "", 2)) {
      JdbcResourceStore store = new JdbcResourceStore(db);
      store.inTransaction(tx -> {
        for (int i = 0; i < 200; i++) {
          tx.insert(new StoredResource("p", "Observation", "o" + i, 1, Instant.ofEpochMilli(1000 + i), false, "{}"),
              List.of(SearchValue.token("patient", null, "Patient/p" + i), SearchValue.token("code", null, "c" + i)));
        }
        return null;
      });
      List<String> ids = List.of("o1", "o2", "o3", "o4", "o5");
      SearchSql.Sql sql = new SearchSql(Database.Vendor.H2).indexedValues("p", "Observation", ids, "patient", null, 100);
      String plan = explain(db, sql);
      assertThat(plan).as(plan).contains("PUBLIC.RESOURCE_CURRENT_ID: RES_ID IN(");
      Matcher scans = Pattern.compile("scanCount: (\\d+)").matcher(plan);
      while (scans.find()) {
        // 5 resources with 2 values each; a scan of the type's index would count 400
        assertThat(Integer.parseInt(scans.group(1))).as(plan).isLessThanOrEqualTo(20);
      }
      List<String> named = store.read(tx -> tx.indexedValues("p", "Observation", ids, "patient", null, 100));
      assertThat(named)
          .containsExactlyInAnyOrder("Patient/p1", "Patient/p2", "Patient/p3", "Patient/p4", "Patient/p5");
    }
  }

  @Test
  void theBackgroundReindexReadsEachPageFromItsStartInThePrimaryKey() throws Exception {
    try (Database db = new Database("jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_ON_EXIT=FALSE", "", "", 2)) {
      JdbcResourceStore store = new JdbcResourceStore(db);
      List<String> all = new ArrayList<>();
      store.inTransaction(tx -> {
        for (String project : List.of("p", "q")) {
          for (String type : List.of("Observation", "Patient")) {
            for (int i = 0; i < 200; i++) {
              String id = String.format("id%03d", i);
              tx.insert(new StoredResource(project, type, id, 1, Instant.ofEpochMilli(1000), false, "{}"), List.of());
              all.add(project + "/" + type + "/" + id);
            }
          }
        }
        return null;
      });
      StoredResource after = new StoredResource("p", "Patient", "id100", 1, Instant.ofEpochMilli(1000), false, "{}");
      SearchSql.Sql rest = VersionRows.currentAfterSql(after).get(0);
      List<Object> args = new ArrayList<>(rest.args());
      args.add(50);
      String plan = explain(db, new SearchSql.Sql(rest.text(), args));
      // the page starts at its first row: 50 rows read, not the 300 before it
      assertThat(plan).as(plan).containsPattern("PRIMARY_KEY_\\w+: [^*]*RES_ID > ").contains("/* index sorted */");
      Matcher scans = Pattern.compile("scanCount: (\\d+)").matcher(plan);
      assertThat(scans.find()).as(plan).isTrue();
      assertThat(Integer.parseInt(scans.group(1))).as(plan).isLessThanOrEqualTo(51);

      List<String> walked = new ArrayList<>();
      List<StoredResource> page = store.read(tx -> tx.currentAfter(null, 150));
      while (!page.isEmpty()) {
        page.forEach(r -> walked.add(r.project() + "/" + r.type() + "/" + r.id()));
        StoredResource last = page.get(page.size() - 1);
        page = store.read(tx -> tx.currentAfter(last, 150));
      }
      assertThat(walked).containsExactlyElementsOf(all);
    }
  }

  /**
   * Patients id0 to id999: every tenth male, every twentieth speaking de, id{i} of family
   * Fam{1000 - i}.
   */
  private static JdbcResourceStore thousandPatients(Database db) {
    JdbcResourceStore store = new JdbcResourceStore(db);
    store.inTransaction(tx -> {
      for (int i = 0; i < 1000; i++) {
        tx.insert(new StoredResource("p", "Patient", "id" + i, 1, Instant.ofEpochMilli(1000 + i), false, "{}"),
            List.of(SearchValue.token("gender", null, i % 10 == 0 ? "male" : "female"),
                SearchValue.string("family", "Fam" + (1000 - i)),
                SearchValue.token("language", null, i % 20 == 0 ? "de" : "en")));
      }
      return null;
    });
    return store;
  }

  /** {@code gender=male&language:not=de} */
  private static List<SearchClause> menNotSpeakingGerman() {
    return List.of(new SearchClause.Token("gender", List.of(new SearchClause.TokenValue(null, "male"))),
        new SearchClause.Not(new SearchClause.Token("language", List.of(new SearchClause.TokenValue(null, "de")))));
  }

  private static String explain(Database db, SearchSql.Sql sql) throws Exception {
    try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement("EXPLAIN ANALYZE " + sql.text())) {
      List<Object> args = new ArrayList<>(sql.args());
      for (int i = 0; i < args.size(); i++) {
        ps.setObject(i + 1, args.get(i));
      }
      try (ResultSet rs = ps.executeQuery()) {
        StringBuilder plan = new StringBuilder();
        while (rs.next()) {
          plan.append(rs.getString(1)).append('\n');
        }
        return plan.toString();
      }
    }
  }
}
