package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLDecoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Values of each search kind as FHIR R4 search.html defines them: a Timing's outer limits, a
 * Quantity's code or unit, a URN reference, {@code :missing} on every kind, modifiers refused
 * rather than ignored, and the total of a page reached through {@code _after}, and empty
 * parameters, which are ignored (R4 search.html#errors) in a search as on reads, history and
 * writes, and empty values among commas, which are 400; of a repeated {@code _summary} or
 * {@code _elements} the last is used.
 */
class SearchValueKindsTest {
  private static TestServer server;
  private static TestClient http;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
    http = server.client();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static Bundle searched(String query) {
    HttpResponse<String> r = http.get("fhir/R4/" + query);
    assertThat(r.statusCode()).as(query + ": " + r.body()).isEqualTo(200);
    return http.parse(r, Bundle.class);
  }

  /**
   * A string search ignores case as Unicode folds it (R4 search.html#string: "case-insensitive"):
   * a letter whose upper case is two letters matches them, as "Straße" is "STRASSE" in upper case.
   */
  @Test
  void aStringSearchFoldsCaseFullyAndIgnoresAccents() {
    String strasse = http.create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Großstraße\"}]}");
    String upper = http.create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"GROSSSTRASSE\"}]}");

    assertThat(http.foundIds("Patient?family=grossstrasse")).containsExactlyInAnyOrder(strasse, upper);
    assertThat(http.foundIds("Patient?family=Großstraße")).containsExactlyInAnyOrder(strasse, upper);
    assertThat(http.foundIds("Patient?family=GROSSS")).containsExactlyInAnyOrder(strasse, upper);
    assertThat(http.foundIds("Patient?family:contains=stras")).containsExactlyInAnyOrder(strasse, upper);
    // :exact keeps case as written
    assertThat(http.foundIds("Patient?family:exact=Großstraße")).containsExactly(strasse);
    assertThat(http.foundIds("Patient?family:exact=GROSSSTRASSE")).containsExactly(upper);
  }

  /** Unicode's full case folding: capital sharp s is "ss" as "ß" is; a final sigma is a sigma. */
  @Test
  void aCapitalSharpSAndAFinalSigmaFoldAsUnicodeFoldsThem() {
    String capital = http.create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"WEIẞBACH\"}]}");
    String greek = http.create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Κωνσταντίνου\"}]}");

    assertThat(http.foundIds("Patient?family=Weißbach")).containsExactly(capital);
    assertThat(http.foundIds("Patient?family=weissbach")).containsExactly(capital);
    assertThat(http.foundIds("Patient?family=WEIẞB")).containsExactly(capital);
    // a query ending in σ (lower case, as typed) is no final ς
    assertThat(http.foundIds("Patient?family=κωνσ")).containsExactly(greek);
    assertThat(http.foundIds("Patient?family:contains=ωνσ")).containsExactly(greek);
  }

  @Test
  void aTimingIsSearchedByItsOuterLimits() {
    String events = http.create("{\"resourceType\":\"ServiceRequest\",\"status\":\"active\",\"intent\":\"order\","
        + "\"subject\":{\"reference\":\"Patient/timing\"},\"occurrenceTiming\":{\"event\":[\"2020-05-01\","
        + "\"2020-05-20\"]}}");
    String bounded = http.create("{\"resourceType\":\"ServiceRequest\",\"status\":\"active\",\"intent\":\"order\","
        + "\"subject\":{\"reference\":\"Patient/timing\"},\"occurrenceTiming\":{\"repeat\":{\"boundsPeriod\":"
        + "{\"start\":\"2021-01-10\"},\"frequency\":1,\"period\":1,\"periodUnit\":\"d\"}}}");

    assertThat(http.foundIds("ServiceRequest?subject=Patient/timing&occurrence=2020-05")).containsExactly(events);
    assertThat(http.foundIds("ServiceRequest?subject=Patient/timing&occurrence=ge2020-05-15")).contains(events);
    assertThat(http.foundIds("ServiceRequest?subject=Patient/timing&occurrence=2020-06")).isEmpty();
    // an open bounding end reaches forever
    assertThat(http.foundIds("ServiceRequest?subject=Patient/timing&occurrence=ge2030-01-01")).containsExactly(bounded);
    assertThat(http.foundIds("ServiceRequest?subject=Patient/timing&occurrence=lt2021-01-01")).containsExactly(events);
  }

  @Test
  void aQuantityWithoutSystemMatchesItsCodeOrItsUnitAsWritten() {
    String o = http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"dose\"},"
        + "\"subject\":{\"reference\":\"Patient/quantity\"},\"valueQuantity\":{\"value\":5.4,\"unit\":\"milligram\","
        + "\"system\":\"http://unitsofmeasure.org\",\"code\":\"mg\"}}");

    assertThat(http.foundIds("Observation?subject=Patient/quantity&value-quantity=5.4%7C%7Cmg")).containsExactly(o);
    assertThat(http.foundIds("Observation?subject=Patient/quantity&value-quantity=5.4%7C%7Cmilligram")).containsExactly(o);
    assertThat(http.foundIds("Observation?subject=Patient/quantity&value-quantity=5.4")).containsExactly(o);
    assertThat(http.foundIds("Observation?subject=Patient/quantity&value-quantity=5.4%7Chttp://unitsofmeasure.org%7Cmg"))
        .containsExactly(o);
    // a system names the coded unit, which "milligram" is not
    assertThat(http.foundIds("Observation?subject=Patient/quantity"
        + "&value-quantity=5.4%7Chttp://unitsofmeasure.org%7Cmilligram")).isEmpty();
  }

  @Test
  void dateValuesCombineWithCommasAndTakeEveryPrefix() {
    String march = http.create("{\"resourceType\":\"Encounter\",\"status\":\"finished\",\"class\":{\"code\":\"AMB\"},"
        + "\"subject\":{\"reference\":\"Patient/dates\"},\"period\":{\"start\":\"2020-03-10\",\"end\":\"2020-03-12\"}}");
    String spanning = http.create("{\"resourceType\":\"Encounter\",\"status\":\"finished\",\"class\":{\"code\":\"AMB\"},"
        + "\"subject\":{\"reference\":\"Patient/dates\"},\"period\":{\"start\":\"2020-02-20\",\"end\":\"2020-04-02\"}}");
    String may = http.create("{\"resourceType\":\"Encounter\",\"status\":\"finished\",\"class\":{\"code\":\"AMB\"},"
        + "\"subject\":{\"reference\":\"Patient/dates\"},\"period\":{\"start\":\"2020-05-01\",\"end\":\"2020-05-02\"}}");
    String q = "Encounter?subject=Patient/dates&date=";

    assertThat(http.foundIds(q + "2020-03,2020-05")).containsExactlyInAnyOrder(march, may);
    // ne: not within March, so the Encounter that begins in February and the one in May
    assertThat(http.foundIds(q + "ne2020-03")).containsExactlyInAnyOrder(spanning, may);
    // sa: begins after March; eb: ends before April
    assertThat(http.foundIds(q + "sa2020-03")).containsExactly(may);
    assertThat(http.foundIds(q + "eb2020-04")).containsExactly(march);
    assertThat(http.foundIds(q + "eb2020-04,sa2020-04")).containsExactlyInAnyOrder(march, may);
  }

  @Test
  void numberValuesCombineWithCommas() {
    String low = http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"n\"},"
        + "\"subject\":{\"reference\":\"Patient/numbers\"},\"valueQuantity\":{\"value\":4,\"unit\":\"mg\"}}");
    String high = http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"n\"},"
        + "\"subject\":{\"reference\":\"Patient/numbers\"},\"valueQuantity\":{\"value\":9,\"unit\":\"mg\"}}");
    http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"n\"},"
        + "\"subject\":{\"reference\":\"Patient/numbers\"},\"valueQuantity\":{\"value\":6,\"unit\":\"mg\"}}");

    assertThat(http.foundIds("Observation?subject=Patient/numbers&value-quantity=4,9")).containsExactlyInAnyOrder(low, high);
    assertThat(http.foundIds("Observation?subject=Patient/numbers&value-quantity=lt5,gt8%7C%7Cmg"))
        .containsExactlyInAnyOrder(low, high);
  }

  @Test
  void aUrnReferenceIsSearchedAsWritten() {
    String o = http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"urn\"},"
        + "\"subject\":{\"reference\":\"urn:oid:1.2.36.1.4711\"}}");

    assertThat(http.foundIds("Observation?subject=urn:oid:1.2.36.1.4711")).containsExactly(o);
  }

  @Test
  void aModifierTheServerDoesNotSupportIsRefusedNotIgnored() {
    String p = http.create("{\"resourceType\":\"Patient\"}");
    for (String q : List.of("Patient?_id:not=" + p, "Patient?_id:missing=true", "Patient?_lastUpdated:missing=true",
        "Observation?subject:Foo=1", "Observation?_include=Observation:subject:P_tient")) {
      HttpResponse<String> r = http.get("fhir/R4/" + q);
      assertThat(r.statusCode()).as(q + ": " + r.body()).isEqualTo(400);
      assertThat(r.body()).contains("OperationOutcome");
    }
    assertThat(http.foundIds("Observation?_include=Observation:subject:Patient&_id=" + p)).isEmpty();
  }

  @Test
  void anAskedTotalOfAPageReachedThroughAfterIsCountedNotTakenFromTheOffset() {
    for (int i = 0; i < 3; i++) {
      http.create("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:total\",\"value\":\"after\"}]}");
    }
    Bundle first = searched("Patient?identifier=urn:total%7Cafter&_count=2");
    assertThat(first.hasTotal()).isFalse();
    String next = first.getLink("next").getUrl();
    String tampered = next.substring(next.indexOf("Patient?")).replaceAll("_offset=\\d+", "_offset=1000");

    assertThat(searched(tampered + "&_total=accurate").getTotal()).isEqualTo(3);
    assertThat(searched(tampered + "&_total=estimate").getTotal()).isEqualTo(3);
  }

  /** Every parameter of the self link's query, as {@code name=value} decoded. */
  private static List<String> selfParameters(Bundle b) {
    String self = b.getLink("self").getUrl();
    return Arrays.stream(self.substring(self.indexOf('?') + 1).split("&")).filter(s -> !s.isEmpty())
        .map(s -> URLDecoder.decode(s, StandardCharsets.UTF_8)).toList();
  }

  /**
   * R4 search.html#errors: "Empty parameters are not an error - they are just ignored by the
   * server", whatever the parameter's kind or modifier, and whether the server knows it or not.
   */
  @Test
  void anEmptyParameterOfAnyKindIsIgnoredAndLeftOutOfTheSelfLink() {
    String p = http.create("{\"resourceType\":\"Patient\",\"gender\":\"female\",\"name\":[{\"family\":\"Emptyset\"}]}");
    http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"e\"},"
        + "\"subject\":{\"reference\":\"Patient/" + p + "\"}}");
    List<String> empty = List.of("family", "name:exact", "name:contains", "family:missing", "gender", "gender:not",
        "gender:text", "identifier", "_tag", "_security", "general-practitioner", "general-practitioner:Practitioner",
        "organization.name", "general-practitioner:Practitioner.name", "_has:Observation:patient:code", "birthdate",
        "_lastUpdated", "_profile", "_profile:below", "_source", "_id", "nonsense", "_count", "_offset", "_after",
        "_sort", "_total", "_summary", "_elements", "_include", "_revinclude", "_format", "_pretty");
    String query = "Patient?_id=" + p + "&" + String.join("=&", empty) + "=";
    Bundle all = searched(query);
    assertThat(all.getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart()).containsExactly(p);
    assertThat(selfParameters(all)).containsExactly("_id=" + p, "_count=20");
    // with a strict client too: an empty parameter asks for nothing the server could not do
    HttpResponse<String> strict = http.send(http.request("fhir/R4/Patient?_id=" + p + "&nonsense=&family=")
        .header("Prefer", "handling=strict"));
    assertThat(strict.statusCode()).as(strict.body()).isEqualTo(200);
    assertThat(http.foundIds("Observation?subject=&code=&value-quantity=&date=&_id=" + "x" + p)).isEmpty();
    assertThat(http.foundIds("RiskAssessment?probability=&_id=" + p)).isEmpty();

    HttpResponse<String> posted = http.send(http.request("fhir/R4/Patient/_search?family=")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("_id=" + p + "&gender=&_sort=&_format=")));
    assertThat(posted.statusCode()).as(posted.body()).isEqualTo(200);
    Bundle b = http.parse(posted, Bundle.class);
    assertThat(b.getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart()).containsExactly(p);
    assertThat(selfParameters(b)).allMatch(s -> !s.endsWith("="));
  }

  /**
   * An empty value between commas ({@code family=a,,b}, {@code family=,}) is 400 naming the
   * parameter, for every kind: it is no empty parameter, and leaving it out would answer another
   * question than the client asked.
   */
  @Test
  void anEmptyValueAmongCommasIs400NamingTheParameter() {
    for (String query : List.of("Patient?family=a,,b", "Patient?family=,", "Patient?family:exact=a,", "Patient?gender=,male",
        "Patient?identifier=a,,b", "Patient?general-practitioner=Practitioner/1,", "Patient?birthdate=2020,,2021",
        "Patient?_profile=http://x/a,", "Patient?_id=a,,b", "Observation?value-quantity=5,",
        "Observation?subject:Patient.name=a,", "Patient?_has:Observation:patient:code=,x")) {
      HttpResponse<String> r = http.get("fhir/R4/" + query);
      assertThat(r.statusCode()).as(query + ": " + r.body()).isEqualTo(400);
      String name = query.substring(query.indexOf('?') + 1, query.indexOf('='));
      String leaf = name.contains(".") ? name.substring(name.lastIndexOf('.') + 1)
          : name.startsWith("_has:") ? name.substring(name.lastIndexOf(':') + 1) : name.split(":")[0];
      assertThat(r.body()).as(query).contains("OperationOutcome", "'" + leaf, "empty");
    }
  }

  /**
   * The index keeps a string's first 512 characters (normalised): a longer value searched as a
   * prefix is compared on as many, as {@code :exact} is on its 255, rather than never matching.
   */
  @Test
  void aStringLongerThanTheIndexKeepsIsSearchedByItsIndexedPart() {
    String family = "Long" + System.nanoTime() + "x".repeat(600);
    String p = http.create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}]}");
    assertThat(http.foundIds("Patient?family=" + family.substring(0, 520))).containsExactly(p);
    assertThat(http.foundIds("Patient?family=" + family.substring(0, 511) + "y")).isEmpty();
  }

  /** {@code _lastUpdated} is a parameter of every type (R4 search.html#all), so chains and {@code _has} reach it too. */
  @Test
  void chainsAndHasReachLastUpdated() {
    String p = http.create("{\"resourceType\":\"Patient\"}");
    String o = http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"l\"},"
        + "\"subject\":{\"reference\":\"Patient/" + p + "\"}}");
    assertThat(http.foundIds("Observation?_id=" + o + "&subject:Patient._lastUpdated=gt2000-01-01")).containsExactly(o);
    assertThat(http.foundIds("Observation?_id=" + o + "&subject._lastUpdated=lt2000-01-01")).isEmpty();
    assertThat(http.foundIds("Patient?_id=" + p + "&_has:Observation:subject:_lastUpdated=ge2000")).containsExactly(p);
    assertThat(http.foundIds("Patient?_id=" + p + "&_has:Observation:subject:_lastUpdated=le2000")).isEmpty();
  }

  /**
   * Outside search an empty parameter is as if absent too: an empty {@code _format} or
   * {@code _pretty} picks no format, an empty {@code _summary} or {@code _elements} no subset,
   * and a history's empty {@code _count} or {@code _since} no page size or start.
   */
  @Test
  void anEmptyParameterOutsideSearchIsAsIfAbsent() {
    String p = http.create("{\"resourceType\":\"Patient\",\"gender\":\"male\",\"name\":[{\"family\":\"Blank\"}]}");
    String empty = "_format=&_pretty=&_summary=&_elements=";
    for (String path : List.of("Patient/" + p + "?" + empty, "Patient/" + p + "/_history/1?" + empty)) {
      HttpResponse<String> r = http.get("fhir/R4/" + path);
      assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
      assertThat(r.headers().firstValue("Content-Type")).get().asString().startsWith("application/fhir+json");
      assertThat(http.parse(r, Patient.class).getGender()).as(path).isNotNull();
    }
    HttpResponse<String> history = http.get("fhir/R4/Patient/" + p + "/_history?_count=&_since=&_offset=&_after=&_at=&"
        + empty);
    assertThat(history.statusCode()).as(history.body()).isEqualTo(200);
    assertThat(http.parse(history, Bundle.class).getEntry()).hasSize(1);
    HttpResponse<String> updated = http.send(http.request("fhir/R4/Patient/" + p + "?_format=&_pretty=")
        .header("Content-Type", "application/fhir+json")
        .PUT(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"id\":\"" + p + "\"}")));
    assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
    HttpResponse<String> conditional = http.send(http.request("fhir/R4/Patient?_id=" + p + "&_format=")
        .header("Content-Type", "application/fhir+json")
        .PUT(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"gender\":\"other\"}")));
    assertThat(conditional.statusCode()).as(conditional.body()).isEqualTo(200);
    HttpResponse<String> created = http.send(http.request("fhir/R4/Patient?_format=&_pretty=")
        .header("Content-Type", "application/fhir+json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\"}")));
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    // a Binary read with an empty _format asks for no FHIR format: the raw content
    String binary = TestClient.createdId(http.postBytes("fhir/R4/Binary", "text/plain",
        "raw".getBytes(StandardCharsets.UTF_8)));
    HttpResponse<String> raw = http.send(http.request("fhir/R4/Binary/" + binary + "?_format=").GET());
    assertThat(raw.statusCode()).as(raw.body()).isEqualTo(200);
    assertThat(raw.body()).isEqualTo("raw");
  }

  /**
   * Of a repeated {@code _summary} or {@code _elements} the last is used, as of a repeated
   * {@code _sort}: by the search, by the encoder and in the self link alike.
   */
  @Test
  void ofARepeatedSummaryOrElementsTheLastIsUsedAndNamed() {
    String p = http.create("{\"resourceType\":\"Patient\",\"gender\":\"male\",\"name\":[{\"family\":\"Twice\"}]}");
    Bundle counted = searched("Patient?_id=" + p + "&_summary=true&_summary=count");
    assertThat(counted.getEntry()).isEmpty();
    assertThat(counted.getTotal()).isEqualTo(1);
    assertThat(selfParameters(counted)).containsOnlyOnce("_summary=count").doesNotContain("_summary=true");

    Bundle summarised = searched("Patient?_id=" + p + "&_summary=count&_summary=data");
    assertThat(summarised.getEntry()).hasSize(1);
    assertThat(selfParameters(summarised)).contains("_summary=data").doesNotContain("_summary=count");

    Bundle elements = searched("Patient?_id=" + p + "&_elements=gender&_elements=name");
    Patient found = (Patient) elements.getEntryFirstRep().getResource();
    assertThat(found.hasName()).isTrue();
    assertThat(found.hasGender()).isFalse();
    assertThat(selfParameters(elements)).contains("_elements=name").doesNotContain("_elements=gender");

    Patient read = http.parse(http.get("fhir/R4/Patient/" + p + "?_elements=gender&_elements=name"), Patient.class);
    assertThat(read.hasName()).isTrue();
    assertThat(read.hasGender()).isFalse();
    HttpResponse<String> whole = http.get("fhir/R4/Patient/" + p + "?_summary=true&_summary=false");
    assertThat(http.parse(whole, Patient.class).getMeta().getTag()).as(whole.body()).isEmpty();
  }

  /** A history {@code _count} past what an int holds gets the largest page, as a search's does. */
  @Test
  void aHistoryCountPastAnIntGetsTheLargestPage() {
    String p = http.create("{\"resourceType\":\"Patient\"}");
    HttpResponse<String> r = http.get("fhir/R4/Patient/" + p + "/_history?_count=99999999999999999999");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(http.parse(r, Bundle.class).getEntry()).hasSize(1);
  }

  /** A reference value with nothing after the slash names no resource: 400 naming the parameter. */
  @Test
  void aReferenceWithoutAnIdIs400NamingTheParameter() {
    for (String query : List.of("Observation?subject=Patient/", "Observation?subject:Patient=Patient/",
        "Observation?subject=Patient/1,Patient/")) {
      HttpResponse<String> r = http.get("fhir/R4/" + query);
      assertThat(r.statusCode()).as(query + ": " + r.body()).isEqualTo(400);
      assertThat(r.body()).as(query).contains("OperationOutcome", "'subject");
    }
  }

  /**
   * R4 search.html#modifiers: {@code :missing=true} finds the resources with no value for the
   * parameter, {@code :missing=false} those with one, on every kind the server indexes.
   */
  @Test
  void missingFindsTheResourcesWithoutAValueOrWithOneOnEveryKind() {
    String p = http.create("{\"resourceType\":\"Patient\"}");
    String full = http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"m\"},"
        + "\"meta\":{\"profile\":[\"http://x/sd\"]},\"category\":[{\"coding\":[{\"code\":\"vital-signs\"}]}],"
        + "\"subject\":{\"reference\":\"Patient/" + p + "\"},\"performer\":[{\"reference\":\"Practitioner/m\"}],"
        + "\"effectiveDateTime\":\"2020-01-01\",\"valueQuantity\":{\"value\":5,\"unit\":\"mg\"}}");
    String bare = http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"m\"},"
        + "\"subject\":{\"reference\":\"Patient/" + p + "\"},\"valueString\":\"text\"}");
    String q = "Observation?subject=Patient/" + p + "&";
    for (String param : List.of("category", "performer", "date", "value-quantity", "_profile")) {
      assertThat(http.foundIds(q + param + ":missing=true")).as(param).containsExactly(bare);
      assertThat(http.foundIds(q + param + ":missing=false")).as(param).containsExactly(full);
    }
    assertThat(http.foundIds(q + "value-string:missing=true")).containsExactly(full);
    assertThat(http.foundIds(q + "value-string:missing=false")).containsExactly(bare);
    // AND with the parameter's other values, as any repeated parameter
    assertThat(http.foundIds(q + "value-quantity:missing=false&value-quantity=gt4")).containsExactly(full);
    assertThat(http.foundIds(q + "value-quantity:missing=false&value-quantity=gt6")).isEmpty();
    assertThat(http.foundIds(q + "category:missing=true&category=vital-signs")).isEmpty();

    String r = "RiskAssessment?subject=Patient/" + p + "&probability:missing=";
    String scored = http.create("{\"resourceType\":\"RiskAssessment\",\"status\":\"final\",\"subject\":"
        + "{\"reference\":\"Patient/" + p + "\"},\"prediction\":[{\"probabilityDecimal\":0.3}]}");
    String unscored = http.create("{\"resourceType\":\"RiskAssessment\",\"status\":\"final\",\"subject\":"
        + "{\"reference\":\"Patient/" + p + "\"}}");
    assertThat(http.foundIds(r + "true")).containsExactly(unscored);
    assertThat(http.foundIds(r + "false")).containsExactly(scored);

    // name is stored under name, family and given: a family alone is a name
    String id = "identifier=urn:missing%7C" + p + "&";
    String family = http.create("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:missing\","
        + "\"value\":\"" + p + "\"}],\"name\":[{\"family\":\"Absent\"}]}");
    String nameless = http.create("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:missing\","
        + "\"value\":\"" + p + "\"}]}");
    assertThat(http.foundIds("Patient?" + id + "name:missing=true")).containsExactly(nameless);
    assertThat(http.foundIds("Patient?" + id + "name:missing=false")).containsExactly(family);
    assertThat(http.foundIds("Patient?" + id + "given:missing=true")).containsExactlyInAnyOrder(family, nameless);
  }

  /**
   * {@code :missing} reads current versions only: a value an older version had, or a deleted
   * resource, does not count; it pages and counts as any criterion, in a compartment and through
   * chains and {@code _has} too.
   */
  @Test
  void missingReadsCurrentVersionsAndPagesInCompartmentsChainsAndHas() {
    String p = http.create("{\"resourceType\":\"Patient\",\"gender\":\"other\"}");
    String obs = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"v\"},"
        + "\"subject\":{\"reference\":\"Patient/" + p + "\"}";
    String dropped = http.create(obs + ",\"category\":[{\"coding\":[{\"code\":\"lab\"}]}]}");
    String[] none = {http.create(obs + "}"), http.create(obs + "}")};
    String deleted = http.create(obs + "}");
    assertThat(http.putJson("fhir/R4/Observation/" + dropped, obs.replace("{\"resourceType", "{\"id\":\"" + dropped
        + "\",\"resourceType") + "}").statusCode()).isEqualTo(200);
    assertThat(http.delete("fhir/R4/Observation/" + deleted).statusCode()).isIn(200, 204);

    String q = "Observation?subject=Patient/" + p + "&category:missing=true";
    assertThat(http.foundIds(q)).containsExactlyInAnyOrder(dropped, none[0], none[1]);
    assertThat(http.foundIds(q.replace("true", "false"))).isEmpty();
    Bundle first = searched(q + "&_count=2&_total=accurate");
    assertThat(first.getTotal()).isEqualTo(3);
    assertThat(first.getEntry()).hasSize(2);
    String next = first.getLink("next").getUrl();
    assertThat(searched(next.substring(next.indexOf("Observation?"))).getEntry()).hasSize(1);

    assertThat(http.foundIds("Patient/" + p + "/Observation?category:missing=true"))
        .containsExactlyInAnyOrder(dropped, none[0], none[1]);
    assertThat(http.foundIds("Patient/" + p + "/Observation?category:missing=false")).isEmpty();
    assertThat(http.foundIds("Observation?subject:Patient.gender:missing=false&subject=Patient/" + p)).hasSize(3);
    assertThat(http.foundIds("Observation?subject:Patient.birthdate:missing=false&subject=Patient/" + p)).isEmpty();
    assertThat(http.foundIds("Patient?_id=" + p + "&_has:Observation:subject:category:missing=true"))
        .containsExactly(p);
    assertThat(http.foundIds("Patient?_id=" + p + "&_has:Observation:subject:category:missing=false")).isEmpty();
  }

  /** {@code :missing} takes true or false only: anything else is 400 naming the parameter. */
  @Test
  void missingOtherThanTrueOrFalseIs400NamingTheParameter() {
    for (String query : List.of("Observation?date:missing=yes", "Observation?date:missing=true,false",
        "Observation?subject:Patient.birthdate:missing=1")) {
      HttpResponse<String> r = http.get("fhir/R4/" + query);
      assertThat(r.statusCode()).as(query + ": " + r.body()).isEqualTo(400);
      assertThat(r.body()).as(query).contains("OperationOutcome", "'" + (query.contains("birthdate") ? "birthdate"
          : "date") + ":missing'");
    }
  }
}
