package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.fhirbox.db.Database.Vendor;
import org.fhirbox.db.SearchClause.TextMatch;
import org.fhirbox.db.SearchClause.TokenValue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The SQL a search asks of each database, one row per kind of parameter and modifier: the
 * condition a clause adds after {@code WHERE r.project = ? AND r.res_type = ? AND r.deleted = FALSE},
 * and its arguments. Most conditions read the search_value index through a subquery that names
 * no column of the outer row; on H2 those subqueries are a derived table joined by id instead
 * (see {@link SearchSql}).
 */
class SearchSqlTest {
  private static final String BASE = "SELECT project, res_type, res_id, version_id, last_updated, deleted, content"
      + " FROM resource_current r" + SearchSqlTest.WHERE;
  private static final String WHERE = " WHERE r.project = ? AND r.res_type = ? AND r.deleted = FALSE";
  private static final String INDEX = " AND r.res_id IN (SELECT s.res_id FROM search_value s WHERE s.project = ?"
      + " AND s.res_type = ? AND ";
  private static final String UNION = " UNION SELECT s.res_id FROM search_value s WHERE s.project = ? AND s.res_type = ?"
      + " AND ";
  private static final String DISTINCT = "(SELECT DISTINCT s.res_id FROM search_value s WHERE s.project = ?"
      + " AND s.res_type = ? AND ";
  private static final String MISSING = " AND NOT EXISTS (SELECT 1 FROM search_value s WHERE s.project = r.project"
      + " AND s.res_type = r.res_type AND s.res_id = r.res_id AND s.param IN (";
  /** H2 reads the matches of an index criterion or an id list through the index on res_id (migration V7). */
  private static final String BY_ID = " USE INDEX (resource_current_id)";

  private static Arguments row(String name, Vendor vendor, SearchClause clause, String condition, Object... args) {
    return Arguments.of(name + " (" + vendor + ")", vendor, clause, condition, Arrays.asList(args));
  }

  /** A row whose SQL is the same on both databases. */
  private static Stream<Arguments> both(String name, SearchClause clause, String condition, Object... args) {
    return Stream.of(row(name, Vendor.H2, clause, condition, args), row(name, Vendor.POSTGRESQL, clause, condition,
        args));
  }

  private static Object[] indexArgs(Object... args) {
    List<Object> all = new ArrayList<>(List.of("p", "Patient"));
    all.addAll(Arrays.asList(args));
    return all.toArray();
  }

  static Stream<Arguments> clauses() {
    List<String> name = List.of("name", "family", "given");
    return Stream.of(
        both("_id", new SearchClause.Ids(List.of("a", "b")), " AND r.res_id IN (?, ?)", "a", "b"),
        both("_id matching nothing (an empty chain)", new SearchClause.Ids(List.of()), " AND 1 = 0"),
        both("_lastUpdated=ge..&_lastUpdated=le..", new SearchClause.LastUpdated(1000L, 2000L),
            " AND r.last_updated >= ? AND r.last_updated <= ?", 1000L, 2000L),
        both("_lastUpdated=gt..", new SearchClause.LastUpdated(1000L, null), " AND r.last_updated >= ?", 1000L),
        both("token code", new SearchClause.Token("gender", List.of(new TokenValue(null, "male"))),
            INDEX + "s.param = ? AND (s.code = ?))", indexArgs("gender", "male")),
        both("token system|code,code", new SearchClause.Token("identifier", List.of(new TokenValue("urn:mrn", "4711"),
            new TokenValue(null, "12"))), INDEX + "s.param = ? AND ((s.sys = ? AND s.code = ?) OR s.code = ?))",
            indexArgs("identifier", "urn:mrn", "4711", "12")),
        both("token longer than the stored column, cut as stored",
            new SearchClause.Token("identifier", List.of(new TokenValue("u".repeat(300), "c".repeat(600)))),
            INDEX + "s.param = ? AND ((s.sys = ? AND s.code = ?)))",
            indexArgs("identifier", "u".repeat(255), "c".repeat(512))),
        both("reference Type/id (and a resolved chain)", new SearchClause.Token("general-practitioner",
            List.of(new TokenValue(null, "Practitioner/1"), new TokenValue(null, "Organization/1"))),
            INDEX + "s.param = ? AND (s.code = ? OR s.code = ?))",
            indexArgs("general-practitioner", "Practitioner/1", "Organization/1")),
        both("uri (a token on the URI as written)", new SearchClause.Token("url",
            List.of(new TokenValue(null, "http://x/ValueSet/1"))), INDEX + "s.param = ? AND (s.code = ?))",
            indexArgs("url", "http://x/ValueSet/1")),
        row("string prefix", Vendor.H2, new SearchClause.Text(name, List.of("mül"), TextMatch.STARTS_WITH),
            INDEX + "s.param = ? AND ((s.code >= ? AND s.code < ?))" + UNION + "s.param = ? AND ((s.code >= ? AND s.code < ?))"
                + UNION + "s.param = ? AND ((s.code >= ? AND s.code < ?)))",
            indexArgs("name", "mül", "müm", "p", "Patient", "family", "mül", "müm", "p", "Patient", "given", "mül", "müm")),
        row("string prefix", Vendor.POSTGRESQL, new SearchClause.Text(name, List.of("mül"), TextMatch.STARTS_WITH),
            INDEX + "s.param = ? AND (s.code LIKE ? ESCAPE '!')" + UNION + "s.param = ? AND (s.code LIKE ? ESCAPE '!')"
                + UNION + "s.param = ? AND (s.code LIKE ? ESCAPE '!'))",
            indexArgs("name", "mül%", "p", "Patient", "family", "mül%", "p", "Patient", "given", "mül%")),
        row("string prefix with LIKE wildcards", Vendor.POSTGRESQL,
            new SearchClause.Text(List.of("family"), List.of("a_b%c!"), TextMatch.STARTS_WITH),
            INDEX + "s.param = ? AND (s.code LIKE ? ESCAPE '!'))", indexArgs("family", "a!_b!%c!!%")),
        row("string prefix of OR-ed values", Vendor.H2,
            new SearchClause.Text(List.of("family"), List.of("ab", "cd"), TextMatch.STARTS_WITH),
            INDEX + "s.param = ? AND ((s.code >= ? AND s.code < ?) OR (s.code >= ? AND s.code < ?)))",
            indexArgs("family", "ab", "ac", "cd", "ce")),
        both("string :contains", new SearchClause.Text(List.of("family"), List.of("ll_"), TextMatch.CONTAINS),
            INDEX + "s.param = ? AND (s.code LIKE ? ESCAPE '!'))", indexArgs("family", "%ll!_%")),
        both("string :exact (the value as written, by its normal form in the index)",
            new SearchClause.Text(List.of("family"), List.of("Müller"), TextMatch.EXACT),
            INDEX + "s.param = ? AND ((s.code = ? AND s.sys = ?)))", indexArgs("family", "muller", "Müller")),
        row("uri :below", Vendor.H2, new SearchClause.Text(List.of("url"), List.of("http://x/"),
            TextMatch.STARTS_WITH), INDEX + "s.param = ? AND ((s.code >= ? AND s.code < ?)))",
            indexArgs("url", "http://x/", "http://x0")),
        row("uri :below", Vendor.POSTGRESQL, new SearchClause.Text(List.of("url"), List.of("http://x/"),
            TextMatch.STARTS_WITH), INDEX + "s.param = ? AND (s.code LIKE ? ESCAPE '!'))",
            indexArgs("url", "http://x/%")),
        // PostgreSQL reads its date index; H2 has one index for every kind (migration V18), in
        // which a date row is one without a code
        row("date eq (the stored range lies within)", Vendor.POSTGRESQL,
            new SearchClause.DateRange("birthdate", 10L, 20L, true),
            INDEX + "s.param = ? AND s.low >= ? AND s.high <= ? AND s.low <= ?)", indexArgs("birthdate", 10L, 20L, 20L)),
        row("date eq (the stored range lies within)", Vendor.H2, new SearchClause.DateRange("birthdate", 10L, 20L, true),
            INDEX + "s.param = ? AND s.code IS NULL AND s.low >= ? AND s.high <= ? AND s.low <= ?)",
            indexArgs("birthdate", 10L, 20L, 20L)),
        row("date ge (the stored range overlaps)", Vendor.POSTGRESQL,
            new SearchClause.DateRange("birthdate", 10L, null, false),
            INDEX + "s.param = ? AND s.high >= ?)", indexArgs("birthdate", 10L)),
        row("date ge (the stored range overlaps)", Vendor.H2, new SearchClause.DateRange("birthdate", 10L, null, false),
            INDEX + "s.param = ? AND s.code IS NULL AND s.high >= ?)", indexArgs("birthdate", 10L)),
        row("date le", Vendor.POSTGRESQL, new SearchClause.DateRange("birthdate", null, 20L, false),
            INDEX + "s.param = ? AND s.low <= ?)", indexArgs("birthdate", 20L)),
        row("date le", Vendor.H2, new SearchClause.DateRange("birthdate", null, 20L, false),
            INDEX + "s.param = ? AND s.code IS NULL AND s.low <= ?)", indexArgs("birthdate", 20L)),
        both("number eq (the value's precision)", new SearchClause.NumberRange("probability", new BigDecimal("99.5"),
            true, new BigDecimal("100.5"), false, false, null, null),
            INDEX + "s.param = ? AND s.num IS NOT NULL AND (s.num >= ? AND s.num < ?))",
            indexArgs("probability", new BigDecimal("99.5"), new BigDecimal("100.5"))),
        both("number ne", new SearchClause.NumberRange("probability", new BigDecimal("99.5"), true,
            new BigDecimal("100.5"), false, true, null, null),
            INDEX + "s.param = ? AND s.num IS NOT NULL AND NOT (s.num >= ? AND s.num < ?))",
            indexArgs("probability", new BigDecimal("99.5"), new BigDecimal("100.5"))),
        both("number gt", new SearchClause.NumberRange("probability", new BigDecimal("0.8"), false, null, false, false,
            null, null), INDEX + "s.param = ? AND s.num IS NOT NULL AND (s.num > ?))",
            indexArgs("probability", new BigDecimal("0.8"))),
        both("quantity le with system and code", new SearchClause.NumberRange("value-quantity", null, false,
            new BigDecimal("5.4"), true, false, "http://unitsofmeasure.org", "mg"),
            INDEX + "s.param = ? AND s.num IS NOT NULL AND s.sys = ? AND s.code = ? AND (s.num <= ?))",
            indexArgs("value-quantity", "http://unitsofmeasure.org", "mg", new BigDecimal("5.4"))),
        both("patient compartment of a type: one index lookup per membership parameter",
            new SearchClause.Compartment(List.of("general-practitioner", "link"), "Patient/7", null),
            INDEX + "s.param = ? AND s.code = ?" + UNION + "s.param = ? AND s.code = ?)",
            indexArgs("general-practitioner", "Patient/7", "p", "Patient", "link", "Patient/7")),
        both("patient compartment of Patient: the patient itself too",
            new SearchClause.Compartment(List.of("link"), "Patient/7", "7"),
            INDEX + "s.param = ? AND s.code = ? UNION SELECT CAST(? AS VARCHAR(64)))",
            indexArgs("link", "Patient/7", "7")),
        both("quantity ||code", new SearchClause.NumberRange("value-quantity", new BigDecimal("5.35"), true,
            new BigDecimal("5.45"), false, false, null, "mg"),
            INDEX + "s.param = ? AND s.num IS NOT NULL AND s.code = ? AND (s.num >= ? AND s.num < ?))",
            indexArgs("value-quantity", "mg", new BigDecimal("5.35"), new BigDecimal("5.45"))),
        both(":missing=false (any value, under each name the parameter is stored as)",
            new SearchClause.Missing(name, false),
            INDEX + "s.param = ?" + UNION + "s.param = ?" + UNION + "s.param = ?)",
            indexArgs("name", "p", "Patient", "family", "p", "Patient", "given")),
        both(":missing=true (no index row of the parameter for the row)", new SearchClause.Missing(name, true),
            MISSING + "?, ?, ?))", "name", "family", "given"))
        .flatMap(s -> s instanceof Stream<?> st ? st.map(Arguments.class::cast) : Stream.of((Arguments) s));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("clauses")
  void eachKindOfClauseAddsItsCondition(String name, Vendor vendor, SearchClause clause, String condition,
      List<Object> args) {
    SearchSql.Sql sql = new SearchSql(vendor).count(query(List.of(clause)));
    boolean byId = vendor == Vendor.H2 && !(clause instanceof SearchClause.LastUpdated)
        && !(clause instanceof SearchClause.Missing m && m.missing());
    List<Object> expected = new ArrayList<>();
    if (vendor == Vendor.H2 && condition.startsWith(INDEX)) {
      // the same subquery, distinct, as the derived table the rows are joined to
      String matching = condition.substring(INDEX.length(), condition.length() - 1);
      assertThat(sql.text()).isEqualTo("SELECT COUNT(*) FROM (" + DISTINCT + matching + ")) hit(hit_id)"
          + " JOIN resource_current r" + BY_ID + " ON r.res_id = hit.hit_id" + WHERE);
      expected.addAll(args);
      expected.addAll(List.of("p", "Patient"));
    } else {
      assertThat(sql.text()).isEqualTo("SELECT COUNT(*) FROM resource_current r" + (byId ? BY_ID : "") + WHERE
          + condition);
      expected.addAll(List.of("p", "Patient"));
      expected.addAll(args);
    }
    assertThat(sql.args()).containsExactlyElementsOf(expected);
  }

  @Test
  void clausesAreAndedInTheirOrder() {
    List<SearchClause> clauses = List.of(new SearchClause.Token("gender", List.of(new TokenValue(null, "male"))),
        new SearchClause.LastUpdated(1000L, null), new SearchClause.DateRange("birthdate", null, 20L, false));
    SearchSql.Sql pg = new SearchSql(Vendor.POSTGRESQL).count(query(clauses));
    assertThat(pg.text()).endsWith(WHERE + INDEX + "s.param = ? AND (s.code = ?))" + " AND r.last_updated >= ?"
        + INDEX + "s.param = ? AND s.low <= ?)");
    assertThat(pg.args()).containsExactly("p", "Patient", "p", "Patient", "gender", "male", 1000L, "p", "Patient",
        "birthdate", 20L);
    // H2: the index criteria intersected into one derived table, the others on the joined rows
    SearchSql.Sql h2 = new SearchSql(Vendor.H2).count(query(clauses));
    assertThat(h2.text()).isEqualTo("SELECT COUNT(*) FROM (" + DISTINCT + "s.param = ? AND (s.code = ?))"
        + " INTERSECT " + DISTINCT + "s.param = ? AND s.code IS NULL AND s.low <= ?)) hit(hit_id)"
        + " JOIN resource_current r" + BY_ID
        + " ON r.res_id = hit.hit_id" + WHERE + " AND r.last_updated >= ?");
    assertThat(h2.args()).containsExactly("p", "Patient", "gender", "male", "p", "Patient", "birthdate", 20L, "p",
        "Patient", 1000L);
  }

  @Test
  void missingTrueFiltersTheRowsTheOtherCriteriaFind() {
    List<SearchClause> clauses = List.of(new SearchClause.Missing(List.of("birthdate"), true),
        new SearchClause.Token("gender", List.of(new TokenValue(null, "male"))));
    SearchSql.Sql h2 = new SearchSql(Vendor.H2).count(query(clauses));
    assertThat(h2.text()).isEqualTo("SELECT COUNT(*) FROM (" + DISTINCT + "s.param = ? AND (s.code = ?))) hit(hit_id)"
        + " JOIN resource_current r" + BY_ID + " ON r.res_id = hit.hit_id" + WHERE + MISSING + "?))");
    assertThat(h2.args()).containsExactly("p", "Patient", "gender", "male", "p", "Patient", "birthdate");
    SearchSql.Sql pg = new SearchSql(Vendor.POSTGRESQL).count(query(clauses));
    assertThat(pg.text()).endsWith(WHERE + MISSING + "?))" + INDEX + "s.param = ? AND (s.code = ?))");
    assertThat(pg.args()).containsExactly("p", "Patient", "birthdate", "p", "Patient", "gender", "male");
  }

  @Test
  void aPageIsOrderedByLastUpdateAndAsksForOneRowMore() {
    SearchQuery newestFirst = new SearchQuery("p", "Patient", List.of(), true, 10, 20);
    assertThat(new SearchSql(Vendor.H2).page(newestFirst).text())
        .isEqualTo(BASE + " ORDER BY last_updated DESC, res_id DESC LIMIT ? OFFSET ?");
    assertThat(new SearchSql(Vendor.H2).page(newestFirst).args()).containsExactly("p", "Patient", 11, 20);
    SearchQuery oldestFirst = new SearchQuery("p", "Patient", List.of(), false, 10, 0);
    assertThat(new SearchSql(Vendor.POSTGRESQL).page(oldestFirst).text())
        .isEqualTo(BASE + " ORDER BY last_updated, res_id LIMIT ? OFFSET ?");
  }

  @Test
  void idsForAChainLevelAreBoundedByTheCount() {
    SearchSql.Sql sql = new SearchSql(Vendor.POSTGRESQL).ids(new SearchQuery("p", "Patient",
        List.of(new SearchClause.Ids(List.of("a"))), true, 1001, 0));
    assertThat(sql.text()).isEqualTo("SELECT res_id FROM resource_current r" + WHERE + " AND r.res_id IN (?) LIMIT ?");
    assertThat(sql.args()).containsExactly("p", "Patient", "a", 1001);
  }

  @Test
  void chainsAndHasMustBeLookedUpBeforeTheyReachTheSql() {
    SearchClause chain = new SearchClause.Chain("subject", Map.of("Patient",
        new SearchClause.Ids(List.of("1"))));
    SearchClause has = new SearchClause.Has("Observation", "patient", new SearchClause.Ids(List.of("1")));
    for (SearchClause c : List.of(chain, has)) {
      assertThatThrownBy(() -> new SearchSql(Vendor.H2).count(query(List.of(c))))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unresolved search clause");
    }
  }

  @Test
  void aPrefixOfTheLargestCharacterHasNoUpperBoundAndFallsBackToLike() {
    assertThat(SearchSql.after("a" + Character.MAX_VALUE)).isEqualTo("b");
    assertThat(SearchSql.after(String.valueOf(Character.MAX_VALUE))).isNull();
    SearchSql.Sql sql = new SearchSql(Vendor.H2).count(query(List.of(new SearchClause.Text(List.of("family"),
        List.of(String.valueOf(Character.MAX_VALUE)), TextMatch.STARTS_WITH))));
    assertThat(sql.text()).contains("s.param = ? AND (s.code LIKE ? ESCAPE '!'))) hit(hit_id)");
  }

  @Test
  void historyInAScopeListsOpenTypesWholeAndLimitedTypesByTheirCriteria() {
    HistoryQuery.Scope scope = new HistoryQuery.Scope(Set.of("Practitioner", "Organization"),
        Map.of("Observation", List.of(new SearchClause.Compartment(List.of("subject"), "Patient/7", null))));
    SearchSql.Sql sql = new SearchSql(Vendor.H2).history(new HistoryQuery("p", null, null, null, 50, 0, scope));
    assertThat(sql.text()).isEqualTo("SELECT project, res_type, res_id, version_id, last_updated, deleted, content"
        + " FROM resource_version r WHERE project = ? AND (r.res_type IN (?, ?) OR (r.res_type = ?"
        + " AND r.res_id IN (SELECT s.res_id FROM search_value s WHERE s.project = ? AND s.res_type = ?"
        + " AND s.param = ? AND s.code = ?))"
        + " OR (r.res_type IN (?) AND EXISTS (SELECT 1 FROM resource_current c WHERE c.project = r.project"
        + " AND c.res_type = r.res_type AND c.res_id = r.res_id AND c.deleted = TRUE)))"
        + " ORDER BY last_updated DESC, res_type, res_id, version_id DESC LIMIT ? OFFSET ?");
    assertThat(sql.args()).containsExactly("p", "Organization", "Practitioner", "Observation", "p", "Observation",
        "subject", "Patient/7", "Observation", 51, 0);
  }

  @Test
  void historyInAnEmptyScopeListsNothingAndWithoutAScopeEverything() {
    HistoryQuery.Scope none = new HistoryQuery.Scope(Set.of(), Map.of());
    assertThat(new SearchSql(Vendor.POSTGRESQL).history(new HistoryQuery("p", "Observation", null, null, 50, 0, none))
        .text()).contains(" AND res_type = ? AND 1 = 0 ORDER BY");
    assertThat(new SearchSql(Vendor.POSTGRESQL).history(new HistoryQuery("p", null, null, null, 50, 0)).text())
        .isEqualTo("SELECT project, res_type, res_id, version_id, last_updated, deleted, content"
            + " FROM resource_version r WHERE project = ?"
            + " ORDER BY last_updated DESC, res_type, res_id, version_id DESC LIMIT ? OFFSET ?");
  }

  @Test
  void indexedValuesAreBoundedAndMayKeepOnlyReferencesToOneType() {
    SearchSql.Sql sql = new SearchSql(Vendor.POSTGRESQL).indexedValues("p", "Group", List.of("g1", "g2"), "member",
        "Patient/", 11);
    assertThat(sql.text()).isEqualTo("SELECT DISTINCT s.code FROM resource_current r"
        + " JOIN search_value s ON s.project = r.project AND s.res_type = r.res_type AND s.res_id = r.res_id"
        + " WHERE r.res_id IN (?, ?) AND r.project = ? AND r.res_type = ? AND s.param = ? AND s.code LIKE ?"
        + " LIMIT ?");
    assertThat(sql.args()).containsExactly("g1", "g2", "p", "Group", "member", "Patient/%", 11);
    SearchSql.Sql any = new SearchSql(Vendor.POSTGRESQL).indexedValues("p", "Group", List.of("g1"), "member", null, 5);
    assertThat(any.text()).endsWith(" AND s.param = ? LIMIT ?");
    assertThat(any.args()).containsExactly("g1", "p", "Group", "member", 5);
  }

  private static SearchQuery query(List<SearchClause> clauses) {
    return new SearchQuery("p", "Patient", clauses, true, 10, 0);
  }
}
