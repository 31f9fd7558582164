package org.fhirbox.fhir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.context.FhirContext;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TimeZone;
import java.util.stream.Stream;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.SearchClause;
import org.fhirbox.db.SearchClause.AnyOf;
import org.fhirbox.db.SearchClause.DateRange;
import org.fhirbox.db.SearchClause.NumberRange;
import org.fhirbox.db.SearchClause.Text;
import org.fhirbox.db.SearchClause.TextMatch;
import org.fhirbox.db.SearchClause.Token;
import org.fhirbox.db.SearchClause.TokenValue;
import org.fhirbox.db.SearchQuery;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each kind of search parameter, modifier and prefix, with the examples of the FHIR R4 search
 * page (search.html) where it gives one, parsed into the clause the store runs; and each form the
 * server does not support, with the 400 (or 403) and diagnostic the caller gets.
 */
class SearchParserTest {
  private static final SearchIndexer INDEXER = new SearchIndexer(FhirContext.forR4Cached());
  private static final SearchParser PARSER = new SearchParser(INDEXER, 20, 100);

  private static Arguments row(String query, SearchClause expected) {
    return Arguments.of(query, expected);
  }

  private static Token token(String param, String system, String code) {
    return new Token(param, List.of(new TokenValue(system, code)));
  }

  private static NumberRange range(String param, String low, boolean lowIn, String high, boolean highIn) {
    return new NumberRange(param, low == null ? null : new BigDecimal(low), lowIn, high == null ? null
        : new BigDecimal(high), highIn, false, null, null);
  }

  /** Epoch millis of a local date-time in the server's zone: dates without a zone are taken in it. */
  private static long local(String dateTime) {
    return LocalDateTime.parse(dateTime).toInstant(ZoneOffset.UTC).toEpochMilli();
  }

  private static long dayStart(String date) {
    return LocalDate.parse(date).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
  }

  private static long utc(String instant) {
    return Instant.parse(instant).toEpochMilli();
  }

  static Stream<Arguments> supported() {
    List<String> nameParts = List.of("name", "family", "given");
    return Stream.of(
        // string (search.html#string): starts with, ignoring case and accents
        row("Patient?given=eve", new Text(List.of("given"), List.of("eve"), TextMatch.STARTS_WITH)),
        row("Patient?given=Ève", new Text(List.of("given"), List.of("eve"), TextMatch.STARTS_WITH)),
        row("Patient?given:contains=eve", new Text(List.of("given"), List.of("eve"), TextMatch.CONTAINS)),
        row("Patient?given:exact=Eve", new Text(List.of("given"), List.of("Eve"), TextMatch.EXACT)),
        row("Patient?name=peter", new Text(nameParts, List.of("peter"), TextMatch.STARTS_WITH)),
        row("Patient?name=peter,paul", new Text(nameParts, List.of("peter", "paul"), TextMatch.STARTS_WITH)),
        row("Patient?address-city=Zürich", new Text(List.of("address-city"), List.of("zurich"), TextMatch.STARTS_WITH)),
        // token (search.html#token): [system]|[code], [code]
        row("Patient?identifier=http://acme.org/patient|2345", token("identifier", "http://acme.org/patient", "2345")),
        row("Condition?code=http://acme.org/conditions/codes|ha125",
            token("code", "http://acme.org/conditions/codes", "ha125")),
        row("Condition?code=ha125", token("code", null, "ha125")),
        row("Patient?gender=male", token("gender", null, "male")),
        row("Observation?code=http://loinc.org|1234-5,http://loinc.org|5678-9", new Token("code",
            List.of(new TokenValue("http://loinc.org", "1234-5"), new TokenValue("http://loinc.org", "5678-9")))),
        // escapes (search.html#escaping): \, \| and \\ stand for themselves
        row("Patient?identifier=A\\,1", token("identifier", null, "A,1")),
        row("Observation?subject:identifier=urn:mrn|1", token("subject:identifier", "urn:mrn", "1")),
        row("Patient?identifier:of-type=urn:types\\|1|MR|44\\|6", token("identifier:of-type", "urn:types|1",
            "MR|44|6")),
        row("Patient?identifier:of-type=urn:t|M\\|R|4", token("identifier:of-type", "urn:t", "M\\|R|4")),
        row("Condition?code:text=Héad\\,ache,Migr", new Text(List.of("code:text"), List.of("head,ache", "migr"),
            TextMatch.STARTS_WITH)),
        row("Patient?identifier=urn:x\\|y|A\\\\B", token("identifier", "urn:x|y", "A\\B")),
        row("Observation?code=\\|", token("code", null, "|")),
        row("Patient?given:exact=A\\,b,C", new Text(List.of("given"), List.of("A,b", "C"), TextMatch.EXACT)),
        // reference (search.html#reference): Type/id, :Type with id, a bare id for each target type
        row("Observation?subject=Patient/23", token("subject", null, "Patient/23")),
        row("Observation?subject:Patient=23", token("subject", null, "Patient/23")),
        row("Observation?subject:Patient=Patient/23", token("subject", null, "Patient/23")),
        row("Observation?subject:Patient=http://other.org/fhir/Patient/23",
            token("subject", null, "http://other.org/fhir/Patient/23")),
        // a value of another type names no Patient: a reference no resource can hold (ids have no
        // slash), so it matches nothing rather than the Group
        row("Observation?subject:Patient=Group/g1", token("subject", null, "Patient/Group/g1")),
        row("Observation?subject:Patient=http://other.org/fhir/Group/g1",
            token("subject", null, "Patient/http://other.org/fhir/Group/g1")),
        row("Observation?patient=23", token("patient", null, "Patient/23")),
        row("Encounter?practitioner=p1", token("practitioner", null, "Practitioner/p1")),
        // uri (search.html#uri): the whole URI, or :below
        row("ValueSet?url=http://acme.org/fhir/ValueSet/123", token("url", null, "http://acme.org/fhir/ValueSet/123")),
        row("ValueSet?url:above=http://acme.org/fhir/ValueSet", new Token("url", List.of(
            new TokenValue(null, "http://acme.org"), new TokenValue(null, "http://acme.org/"),
            new TokenValue(null, "http://acme.org/fhir"), new TokenValue(null, "http://acme.org/fhir/"),
            new TokenValue(null, "http://acme.org/fhir/ValueSet")))),
        row("ValueSet?url:below=http://acme.org/fhir/", new Text(List.of("url"), List.of("http://acme.org/fhir/"),
            TextMatch.STARTS_WITH)),
        // number (search.html#number): no prefix covers the value's precision
        row("RiskAssessment?probability=gt0.8", range("probability", "0.8", false, null, false)),
        row("RiskAssessment?probability=100", range("probability", "99.5", true, "100.5", false)),
        row("RiskAssessment?probability=100.00", range("probability", "99.995", true, "100.005", false)),
        row("RiskAssessment?probability=eq100", range("probability", "99.5", true, "100.5", false)),
        row("RiskAssessment?probability=lt100", range("probability", null, false, "100", false)),
        row("RiskAssessment?probability=le100", range("probability", null, false, "100", true)),
        row("RiskAssessment?probability=ge100", range("probability", "100", true, null, false)),
        row("RiskAssessment?probability=ne100", new NumberRange("probability", new BigDecimal("99.5"), true,
            new BigDecimal("100.5"), false, true, null, null)),
        row("RiskAssessment?probability=sa0.8", range("probability", "0.8", false, null, false)),
        row("RiskAssessment?probability=eb0.8", range("probability", null, false, "0.8", false)),
        row("RiskAssessment?probability=ap100", range("probability", "90", true, "110", true)),
        // quantity (search.html#quantity): [prefix]number|system|code, or ||code
        row("Observation?value-quantity=5.4|http://unitsofmeasure.org|mg", new NumberRange("value-quantity",
            new BigDecimal("5.35"), true, new BigDecimal("5.45"), false, false, "http://unitsofmeasure.org", "mg")),
        row("Observation?value-quantity=5.4||mg", new NumberRange("value-quantity", new BigDecimal("5.35"), true,
            new BigDecimal("5.45"), false, false, null, "mg")),
        row("Observation?value-quantity=le5.4|http://unitsofmeasure.org|mg", new NumberRange("value-quantity",
            null, false, new BigDecimal("5.4"), true, false, "http://unitsofmeasure.org", "mg")),
        row("Observation?value-quantity=ap5.4|http://unitsofmeasure.org|mg", new NumberRange("value-quantity",
            new BigDecimal("4.86"), true, new BigDecimal("5.94"), true, false, "http://unitsofmeasure.org", "mg")),
        // date (search.html#date, #prefix): a value covers its precision
        row("Patient?birthdate=1987-02-20", new DateRange("birthdate", dayStart("1987-02-20"),
            dayStart("1987-02-21") - 1, true)),
        row("Observation?date=ge2013-03-14", new DateRange("date", dayStart("2013-03-14"), null, false)),
        row("Observation?date=gt2013-03-14", new DateRange("date", dayStart("2013-03-15"), null, false)),
        row("Observation?date=lt2013-03-14", new DateRange("date", null, dayStart("2013-03-14") - 1, false)),
        row("Observation?date=le2013-03-14", new DateRange("date", null, dayStart("2013-03-15") - 1, false)),
        row("Observation?date=eq2013-01-14T10:00", new DateRange("date", local("2013-01-14T10:00"),
            local("2013-01-14T10:01") - 1, true)),
        row("Observation?date=ge2013-01-14T10:00:00Z", new DateRange("date", utc("2013-01-14T10:00:00Z"), null,
            false)),
        // sa, eb: the stored range begins after / ends before the value; ne: it begins before or ends after it
        row("Observation?date=sa2013-03-14", new DateRange("date", dayStart("2013-03-15"), null, true)),
        row("Observation?date=eb2013-03-14", new DateRange("date", null, dayStart("2013-03-14") - 1, true)),
        row("Observation?date=ne2013-03-14", new AnyOf(List.of(
            new DateRange("date", null, dayStart("2013-03-14") - 1, false),
            new DateRange("date", dayStart("2013-03-15"), null, false)))),
        // commas are OR (search.html#combining)
        row("Observation?date=2013-03-14,ge2014", new AnyOf(List.of(
            new DateRange("date", dayStart("2013-03-14"), dayStart("2013-03-15") - 1, true),
            new DateRange("date", dayStart("2014-01-01"), null, false)))),
        row("RiskAssessment?probability=0.8,gt0.9", new AnyOf(List.of(
            new NumberRange("probability", new BigDecimal("0.75"), true, new BigDecimal("0.85"), false, false, null, null),
            new NumberRange("probability", new BigDecimal("0.9"), false, null, false, false, null, null)))),
        // _id and _lastUpdated (search.html#id, #lastUpdated)
        row("Patient?_id=23,24", new SearchClause.Ids(List.of("23", "24"))),
        row("Patient?_lastUpdated=gt2010-10-01", new SearchClause.LastUpdated(dayStart("2010-10-02"), null)),
        // chaining (search.html#chaining) and reverse chaining (#has)
        row("DiagnosticReport?subject:Patient.name=peter", new SearchClause.Chain("subject",
            Map.of("Patient", new Text(nameParts, List.of("peter"), TextMatch.STARTS_WITH)))),
        row("Patient?_has:Observation:patient:code=1234-5", new SearchClause.Has("Observation", "patient",
            token("code", null, "1234-5"))),
        // :missing on every kind (search.html#modifiers); a name is also stored as its parts
        row("Patient?given:missing=true", new SearchClause.Missing(List.of("given"), true)),
        row("Patient?name:missing=false", new SearchClause.Missing(nameParts, false)),
        row("Observation?value-quantity:missing=true", new SearchClause.Missing(List.of("value-quantity"), true)),
        row("Observation?subject:missing=false", new SearchClause.Missing(List.of("subject"), false)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("supported")
  void eachKindOfParameterBecomesItsClause(String query, SearchClause expected) {
    assertThat(parse(query, false).clauses()).containsExactly(expected);
  }

  static Stream<Arguments> unsupported() {
    return Stream.of(
        // modifiers the server does not implement are refused, never ignored (search.html#modifiers)
        Arguments.of("Patient?family:not=eve", 400, "the modifier ':not' is not supported on search parameter 'family'"),
        Arguments.of("Patient?gender:text=female", 400, "the modifier ':text' is not supported"),
        Arguments.of("Condition?code:in=http://acme.org/ValueSet/x", 400, "the modifier ':in' is not supported"),
        Arguments.of("Condition?code:below=123", 400, "the modifier ':below' is not supported"),
        Arguments.of("Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR", 400,
            "'identifier:of-type' takes the type's system, the type's code and the identifier's value"),
        Arguments.of("Patient?gender:of-type=urn:x|MR|1", 400, "the modifier ':of-type' is not supported"),
        Arguments.of("Patient?given:missing=yes", 400, "'given:missing' is true or false, not 'yes'"),
        Arguments.of("Patient?given:text=eve", 400, "the modifier ':text' is not supported"),
        Arguments.of("ValueSet?url:above=urn:oid:1.2.3", 400, "'url:above' takes a URL"),
        Arguments.of("ValueSet?url:contains=acme", 400, "the modifier ':contains' is not supported on search parameter"
            + " 'url'"),
        Arguments.of("Observation?code:identifier=urn:mrn|1", 400, "the modifier ':identifier' is not supported"),
        Arguments.of("Observation?date:missing=true,false", 400, "'date:missing' is true or false"),
        Arguments.of("Patient?_id:missing=true", 400,
            "the modifier ':missing' is not supported on search parameter '_id'"),
        // prefixes that make no sense for the kind, and malformed values
        Arguments.of("Observation?subject:not=Patient/1", 400,
            "the modifier ':not' is not supported on search parameter 'subject'"),
        Arguments.of("Patient?_profile:exact=http://acme.org/sd", 400,
            "the modifier ':exact' is not supported on search parameter '_profile'"),
        Arguments.of("Observation?date=yesterday", 400, "date value 'yesterday' is not a date"),
        Arguments.of("Observation?date=2013-03-14,", 400, "search parameter 'date' has an empty value among its comma-separated values"),
        Arguments.of("Patient?_lastUpdated=ne2013-03-14", 400, "_lastUpdated takes one value"),
        Arguments.of("Patient?_lastUpdated=2013,2014", 400, "_lastUpdated takes one value"),
        Arguments.of("RiskAssessment?probability=0.8,", 400, "search parameter 'probability' has an empty value among its comma-separated values"),
        Arguments.of("RiskAssessment?probability=high", 400, "probability: 'high' is not a number"),
        Arguments.of("Observation?value-quantity=5.4|mg", 400, "value-quantity takes values [prefix]number[|system|code]"),
        Arguments.of("Patient?given=,", 400, "search parameter 'given' has an empty value among its comma-separated values"),
        // references that name no type, chains through what is not a reference, too deep a chain
        Arguments.of("AuditEvent?entity=123", 400, "'entity' may name any type of resource"),
        Arguments.of("Observation?code.name=x", 400, "'code' is not a reference parameter of Observation"),
        Arguments.of("Observation?subject:Nope.name=x", 400, "'Nope' is not a resource type"),
        Arguments.of("Observation?subject:Patient.nope=x", 400, "has a supported search parameter 'nope'"),
        Arguments.of("Observation?subject:Patient.organization.partof.partof.name=x", 400,
            "a chain or _has may follow at most 3 references"),
        Arguments.of("Patient?_has:Observation:patient=1", 400, "_has takes _has:SourceType:reference:parameter=value"),
        Arguments.of("Patient?_has:Observation:code:code=1", 400, "'code' is not a reference parameter of Observation"),
        Arguments.of("Patient?_has:Binary:x:y=1", 400, "'Binary' is not a resource type _has can search"),
        // result parameters
        Arguments.of("Patient?_sort=nickname", 400, "_sort: 'nickname' is no search parameter of Patient"),
        Arguments.of("Patient?_summary=maybe", 400, "_summary is true, text, data, count or false"),
        Arguments.of("Patient?_count=-1", 400, "_count must be a non-negative whole number"),
        Arguments.of("Patient?_include=*", 400, "(the wildcard is not supported)"),
        Arguments.of("Patient?_include:deep=Patient:organization", 400,
            "the modifier ':deep' is not supported on search parameter '_include'"),
        Arguments.of("Patient?_include=Observation:subject", 400, "the source type must be the searched type"),
        Arguments.of("Patient?_id=,", 400, "search parameter '_id' has an empty value among its comma-separated values"),
        Arguments.of("Patient?_id= ", 400, "_id takes 1 to 100 comma-separated ids"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("unsupported")
  void eachUnsupportedFormIsRefusedWithItsDiagnostic(String query, int status, String diagnostic) {
    assertThatThrownBy(() -> parse(query, false))
        .isInstanceOfSatisfying(FhirException.class, e -> assertThat(e.status()).isEqualTo(status))
        .hasMessageContaining(diagnostic);
  }

  @org.junit.jupiter.api.Test
  void unknownParametersAreIgnoredUnlessTheClientAsksForStrictHandling() {
    assertThat(parse("Patient?nickname=x", false).clauses()).isEmpty();
    assertThatThrownBy(() -> parse("Patient?nickname=x", true))
        .hasMessageContaining("unknown or unsupported search parameter 'nickname' for Patient");
  }

  @Test
  void anEmptyParameterIsIgnoredWhateverItsName() {
    SearchQuery q = parse("Patient?_id=&given=&given:missing=&birthdate=&nickname=&_count=&_sort=", true);
    assertThat(q.clauses()).isEmpty();
    assertThat(q.count()).isEqualTo(20);
    assertThat(q.descending()).isTrue();
  }

  @org.junit.jupiter.api.Test
  void aChainToATypeTheCallerMayNotSearchIsForbidden() {
    assertThatThrownBy(() -> PARSER.parse("p", "Observation", params("subject:Patient.name=x"), false,
        t -> !t.equals("Patient")))
        .isInstanceOfSatisfying(FhirException.class, e -> assertThat(e.status()).isEqualTo(403));
  }

  @org.junit.jupiter.api.Test
  void countOffsetAndSortShapeThePage() {
    SearchQuery q = parse("Patient?_count=500&_offset=40&_sort=_lastUpdated", false);
    assertThat(q.count()).as("capped at the maximum").isEqualTo(100);
    assertThat(q.offset()).isEqualTo(40);
    assertThat(q.descending()).isFalse();
    assertThat(parse("Patient?", false).count()).isEqualTo(20);
    assertThat(parse("Patient?", false).descending()).isTrue();
  }

  @Test
  void aDateWithoutTimeZoneIsReadInUtcWhateverTheJvmZone() {
    TimeZone before = TimeZone.getDefault();
    try {
      TimeZone.setDefault(TimeZone.getTimeZone("Europe/Berlin"));
      assertThat(parse("Patient?birthdate=1987-02-20", false).clauses()).containsExactly(
          new DateRange("birthdate", dayStart("1987-02-20"), dayStart("1987-02-21") - 1, true));
      assertThat(parse("Observation?date=ge2013-07-14T10:00", false).clauses()).containsExactly(
          new DateRange("date", local("2013-07-14T10:00"), null, false));
      assertThat(parse("Observation?date=ge2013-07-14T10:00:00+02:00", false).clauses()).containsExactly(
          new DateRange("date", utc("2013-07-14T08:00:00Z"), null, false));
    } finally {
      TimeZone.setDefault(before);
    }
  }

  private static SearchQuery parse(String query, boolean strict) {
    int q = query.indexOf('?');
    return PARSER.parse("p", query.substring(0, q), params(query.substring(q + 1)), strict, t -> true).query();
  }

  private static Map<String, List<String>> params(String query) {
    Map<String, List<String>> params = new LinkedHashMap<>();
    for (String kv : query.split("&")) {
      if (!kv.isEmpty()) {
        String[] p = kv.split("=", 2);
        params.computeIfAbsent(p[0], k -> new java.util.ArrayList<>()).add(p.length > 1 ? p[1] : "");
      }
    }
    return params;
  }
}
