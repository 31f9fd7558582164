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
 * Token value forms (FHIR R4 search.html#token), POST {@code _search} forms, the paging links of
 * searches and history, followed as given, and what history entries say of each version.
 */
class SearchFormsTest {
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

  @Test
  void tokenWithEmptySystemMatchesCodesWithoutSystemAndWithEmptyCodeAnyCodeOfTheSystem() {
    String noSystem = http.create("{\"resourceType\":\"Patient\",\"identifier\":[{\"value\":\"4711\"}]}");
    String mrn = http.create("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:mrn\",\"value\":\"1\"}]}");
    String mrn4711 = http.create("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:mrn\","
        + "\"value\":\"4711\"}]}");

    assertThat(http.foundIds("Patient?identifier=%7C4711")).containsExactly(noSystem);
    assertThat(http.foundIds("Patient?identifier=urn:mrn%7C")).containsExactlyInAnyOrder(mrn, mrn4711);
    assertThat(http.foundIds("Patient?identifier=4711")).containsExactlyInAnyOrder(noSystem, mrn4711);
    assertThat(http.foundIds("Patient?identifier=urn:mrn%7C1")).containsExactly(mrn);
    HttpResponse<String> neither = http.get("fhir/R4/Patient?identifier=%7C");
    assertThat(neither.statusCode()).as(neither.body()).isEqualTo(400);
    assertThat(neither.body()).contains("names neither a system nor a code");
  }

  @Test
  void escapedCommasAndBarsAreSearchedAsThemselves() {
    String comma = http.create("{\"resourceType\":\"Patient\",\"identifier\":[{\"value\":\"A,1\"}]}");
    String bar = http.create("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:a|b\",\"value\":\"2\"}]}");
    // R4 search.html#escaping: \, is a comma in the value, a bare comma separates values
    assertThat(http.foundIds("Patient?identifier=A%5C%2C1")).containsExactly(comma);
    assertThat(http.foundIds("Patient?identifier=A%2C1")).doesNotContain(comma);
    assertThat(http.foundIds("Patient?identifier=urn:a%5C%7Cb%7C2")).containsExactly(bar);
  }

  @Test
  void aReferenceTypeModifierIsNotOverruledByAValueOfAnotherType() {
    String group = http.create("{\"resourceType\":\"Group\",\"type\":\"person\",\"actual\":true}");
    String aboutGroup = http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"t\"},"
        + "\"subject\":{\"reference\":\"Group/" + group + "\"}}");
    assertThat(http.foundIds("Observation?subject=Group/" + group)).containsExactly(aboutGroup);
    assertThat(http.foundIds("Observation?subject:Group=Group/" + group)).containsExactly(aboutGroup);
    assertThat(http.foundIds("Observation?subject:Patient=Group/" + group)).isEmpty();
  }

  @Test
  void ascendingLastUpdatedPagingListsAResourceUpdatedBetweenPagesAgain() throws InterruptedException {
    List<String> ids = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ids.add(http.create("{\"resourceType\":\"Patient\",\"active\":true}"));
      Thread.sleep(3); // each in its own millisecond, so the order is the creation order
    }
    String query = "Patient?_id=" + String.join(",", ids) + "&_sort=_lastUpdated&_count=2";
    Bundle first = http.parse(http.get("fhir/R4/" + query), Bundle.class);
    assertThat(first.getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart())
        .containsExactly(ids.get(0), ids.get(1));
    assertThat(http.putJson("fhir/R4/Patient/" + ids.get(0), "{\"resourceType\":\"Patient\",\"id\":\"" + ids.get(0)
        + "\",\"active\":false}").statusCode()).isEqualTo(200);
    // the update moved it past the position the next page reads from
    Bundle next = http.parse(http.get(first.getLink("next").getUrl()), Bundle.class);
    assertThat(next.getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart())
        .containsExactly(ids.get(2), ids.get(0));
  }

  @Test
  void telecomEmailAndPhoneFindAContactPointByItsValue() {
    String eve = http.create("{\"resourceType\":\"Patient\",\"telecom\":[{\"system\":\"phone\","
        + "\"value\":\"555-1234\"},{\"system\":\"email\",\"value\":\"eve@example.org\"}]}");
    http.create("{\"resourceType\":\"Patient\",\"telecom\":[{\"system\":\"phone\",\"value\":\"555-9999\"}]}");

    assertThat(http.foundIds("Patient?telecom=555-1234")).containsExactly(eve);
    assertThat(http.foundIds("Patient?phone=555-1234")).containsExactly(eve);
    assertThat(http.foundIds("Patient?email=eve@example.org")).containsExactly(eve);
    assertThat(http.foundIds("Patient?email=555-1234")).isEmpty();
  }

  @Test
  void postSearchKeepsBodyParametersThatShareANameWithUrlParametersAndAndsThem() {
    String a = http.create("{\"resourceType\":\"Patient\"}");
    String b = http.create("{\"resourceType\":\"Patient\"}");
    for (String[] urlAndBody : List.of(new String[] {a + "," + b, b}, new String[] {a, b})) {
      List<String> viaGet = http.foundIds("Patient?_id=" + urlAndBody[0] + "&_id=" + urlAndBody[1]);
      HttpResponse<String> post = http.send(http.request("fhir/R4/Patient/_search?_id=" + urlAndBody[0])
          .header("Content-Type", "application/x-www-form-urlencoded")
          .POST(HttpRequest.BodyPublishers.ofString("_id=" + urlAndBody[1])));
      assertThat(post.statusCode()).as(post.body()).isEqualTo(200);
      assertThat(http.parse(post, Bundle.class).getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart())
          .containsExactlyElementsOf(viaGet);
    }
    assertThat(http.foundIds("Patient?_id=" + a + "," + b + "&_id=" + b)).containsExactly(b);
  }

  @Test
  void postSearchPresentsItsPagesAsTheBodysSummaryElementsAndFormatSay() {
    String family = "Formbody" + System.nanoTime();
    for (int i = 0; i < 3; i++) {
      http.create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}],"
          + "\"text\":{\"status\":\"generated\",\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">p</div>\"}}");
    }
    HttpResponse<String> first = postSearch("", "application/x-www-form-urlencoded",
        "family=" + family + "&_summary=true&_count=2");
    Bundle page = http.parse(first, Bundle.class);
    assertThat(page.getEntry()).hasSize(2).allSatisfy(e -> {
      assertThat(e.getResource().getMeta().getTag()).extracting(c -> c.getCode()).contains("SUBSETTED");
      assertThat(((Patient) e.getResource()).hasText()).isFalse();
    });
    Bundle next = http.parse(http.get(page.getLink("next").getUrl()), Bundle.class);
    assertThat(next.getEntry()).hasSize(1).allSatisfy(e ->
        assertThat(e.getResource().getMeta().getTag()).extracting(c -> c.getCode()).contains("SUBSETTED"));

    HttpResponse<String> elements = postSearch("", "application/x-www-form-urlencoded",
        "family=" + family + "&_elements=name&_count=2");
    Bundle subset = http.parse(elements, Bundle.class);
    assertThat(subset.getEntry()).hasSize(2).allSatisfy(e ->
        assertThat(((Patient) e.getResource()).hasText()).isFalse());
    assertThat(subset.getLink("next").getUrl()).contains("_elements=name");

    HttpResponse<String> xml = postSearch("", "application/x-www-form-urlencoded", "family=" + family + "&_format=xml");
    assertThat(xml.statusCode()).as(xml.body()).isEqualTo(200);
    assertThat(xml.headers().firstValue("Content-Type").orElse("")).startsWith("application/fhir+xml");

    HttpResponse<String> both = postSearch("?_summary=true", "application/x-www-form-urlencoded",
        "family=" + family + "&_elements=name");
    assertThat(both.statusCode()).as(both.body()).isEqualTo(400);
  }

  private static HttpResponse<String> postSearch(String query, String contentType, String body) {
    HttpRequest.Builder b = http.request("fhir/R4/Patient/_search" + query)
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    return http.send(b);
  }

  private static List<String> ids(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return http.parse(r, Bundle.class).getEntry().stream().map(e -> e.getResource().getIdElement().getIdPart())
        .toList();
  }

  @Test
  void postSearchWithAnEmptyFormOrNoBodySearchesTheUrlsParameters() {
    String a = http.create("{\"resourceType\":\"Patient\"}");
    assertThat(ids(postSearch("?_id=" + a, "application/x-www-form-urlencoded", ""))).containsExactly(a);
    assertThat(ids(postSearch("?_id=" + a, null, ""))).containsExactly(a);
  }

  @Test
  void postSearchFormMediaTypeIsCaseInsensitiveAndAnotherBodyIs415() {
    String a = http.create("{\"resourceType\":\"Patient\"}");
    http.create("{\"resourceType\":\"Patient\"}");
    assertThat(ids(postSearch("", "Application/X-WWW-Form-Urlencoded; charset=UTF-8", "_id=" + a)))
        .containsExactly(a);
    assertThat(ids(postSearch("", "APPLICATION/X-WWW-FORM-URLENCODED", "_id=nomatch"))).isEmpty();
    for (String type : List.of("application/fhir+json", "text/plain")) {
      HttpResponse<String> r = postSearch("", type, "{\"_id\":\"" + a + "\"}");
      assertThat(r.statusCode()).as(type + ": " + r.body()).isEqualTo(415);
      assertThat(r.body()).contains("\"resourceType\":\"OperationOutcome\"", "x-www-form-urlencoded");
    }
  }

  @Test
  void historyPagingLinksKeepSummaryAndSearchsetLinksNameItOnce() {
    String id = http.create("{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\",\"div\":"
        + "\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">Birch</div>\"},\"name\":[{\"family\":\"Birch\"}],"
        + "\"maritalStatus\":{\"text\":\"single\"}}");
    assertThat(http.putJson("fhir/R4/Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\","
        + "\"text\":{\"status\":\"generated\",\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">Birch"
        + "</div>\"},\"name\":[{\"family\":\"Birch\"}],\"maritalStatus\":{\"text\":\"married\"}}")
        .statusCode()).isEqualTo(200);
    HttpResponse<String> first = http.get("fhir/R4/Patient/" + id + "/_history?_summary=true&_count=1");
    assertThat(first.body()).contains(SUBSETTED).doesNotContain("maritalStatus");
    String nextUrl = http.parse(first, Bundle.class).getLink("next").getUrl();

    HttpResponse<String> next = http.get(nextUrl);
    assertThat(next.statusCode()).as(next.body()).isEqualTo(200);
    assertThat(http.parse(next, Bundle.class).getEntry()).hasSize(1);
    assertThat(next.body()).contains(SUBSETTED, "\"family\":\"Birch\"").doesNotContain("maritalStatus", "<div");

    http.create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Birch\"}]}");
    Bundle search = http.parse(http.get("fhir/R4/Patient?name=birch&_summary=true&_count=1"), Bundle.class);
    for (String relation : List.of("self", "next")) {
      assertThat(search.getLink(relation).getUrl().split("_summary=", -1)).as(relation).hasSize(2);
    }
  }

  /** Every parameter of the self link's query, as {@code name=value} decoded. */
  private static List<String> selfParameters(Bundle b) {
    String self = b.getLink("self").getUrl();
    return Arrays.stream(self.substring(self.indexOf('?') + 1).split("&")).filter(s -> !s.isEmpty())
        .map(s -> URLDecoder.decode(s, StandardCharsets.UTF_8)).toList();
  }

  /**
   * The self link names the search as it ran (R4 http.html#paging): a count reads no page, so it
   * names no page size, place, order or subset, and a total it overrides; a first page names its
   * size, not a place.
   */
  @Test
  void theSelfLinkNamesOnlyWhatTheSearchUsed() {
    String family = "Selflink" + System.nanoTime();
    http.create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}]}");
    Bundle counted = http.parse(http.get("fhir/R4/Patient?family=" + family + "&_summary=count&_count=5"
        + "&_sort=_lastUpdated&_total=none&_elements=name&_include=Patient:organization"), Bundle.class);
    assertThat(counted.getTotal()).isEqualTo(1);
    assertThat(selfParameters(counted)).containsExactly("family=" + family, "_summary=count");

    Bundle page = http.parse(http.get("fhir/R4/Patient?family=" + family + "&_total=accurate&_sort=_lastUpdated"
        + "&_elements=name"), Bundle.class);
    assertThat(selfParameters(page)).containsExactlyInAnyOrder("family=" + family, "_total=accurate",
        "_sort=_lastUpdated", "_elements=name", "_count=20");
    // a repeated _sort or _total: the last is the one used, and the one named
    Bundle repeated = http.parse(http.get("fhir/R4/Patient?family=" + family + "&_sort=-_lastUpdated&_total=none"
        + "&_sort=_lastUpdated&_total=accurate"), Bundle.class);
    assertThat(repeated.getTotal()).isEqualTo(1);
    assertThat(selfParameters(repeated)).containsExactlyInAnyOrder("family=" + family, "_sort=_lastUpdated",
        "_total=accurate", "_count=20");
    Bundle none = http.parse(http.get("fhir/R4/Patient?family=" + family + "&_count=0"), Bundle.class);
    assertThat(selfParameters(none)).containsExactly("family=" + family, "_count=0");
  }

  @Test
  void historyNextLinkKeepsTheSinceOffsetAndFollowingItReachesTheNextPage() {
    String id = http.create("{\"resourceType\":\"Patient\",\"active\":true}");
    assertThat(http.putJson("fhir/R4/Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id
        + "\",\"active\":false}").statusCode()).isEqualTo(200);
    Bundle first = http.parse(http.get("fhir/R4/Patient/" + id
        + "/_history?_count=1&_since=2000-01-01T00:00:00%2B02:00"), Bundle.class);
    assertThat(first.getEntry()).hasSize(1);

    HttpResponse<String> next = http.get(first.getLink("next").getUrl());
    assertThat(next.statusCode()).as(next.body()).isEqualTo(200);
    Bundle second = http.parse(next, Bundle.class);
    assertThat(second.getEntry()).extracting(e -> e.getResponse().getEtag()).containsExactly("W/\"1\"");
    assertThat(second.getLink("next")).isNull();
  }

  @Test
  void historyEntriesTellPutCreatesRecreatesAndDeletesWithTheirTimes() {
    String put = "{\"resourceType\":\"Patient\",\"id\":\"hist-put-1\"}";
    assertThat(http.putJson("fhir/R4/Patient/hist-put-1", put).statusCode()).isEqualTo(201);
    HttpResponse<String> delete = http.delete("fhir/R4/Patient/hist-put-1");
    assertThat(delete.headers().firstValue("Last-Modified")).isPresent();
    assertThat(http.putJson("fhir/R4/Patient/hist-put-1", put).statusCode()).isEqualTo(201);
    // a change: the same body again would make no version
    assertThat(http.putJson("fhir/R4/Patient/hist-put-1", put.replace("}", ",\"active\":true}")).statusCode())
        .isEqualTo(200);
    Bundle h = http.parse(http.get("fhir/R4/Patient/hist-put-1/_history"), Bundle.class);
    assertThat(h.getEntry()).extracting(e -> e.getRequest().getMethod().toCode() + " " + e.getRequest().getUrl() + " "
        + e.getResponse().getStatus().substring(0, 3) + " " + e.getResponse().hasLastModified()).containsExactly(
        "PUT Patient/hist-put-1 200 true", "PUT Patient/hist-put-1 201 true", "DELETE Patient/hist-put-1 204 true",
        "PUT Patient/hist-put-1 201 true");
    String posted = http.create("{\"resourceType\":\"Patient\"}");
    assertThat(http.parse(http.get("fhir/R4/Patient/" + posted + "/_history"), Bundle.class).getEntryFirstRep()
        .getRequest().getMethod()).isEqualTo(Bundle.HTTPVerb.POST);
    String tx = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"request\":"
        + "{\"method\":\"DELETE\",\"url\":\"Patient/hist-put-1\"}}]}";
    assertThat(http.parse(http.postJson("fhir/R4", tx), Bundle.class).getEntryFirstRep().getResponse()
        .hasLastModified()).isTrue();
  }

  @Test
  void historyWithCountZeroHasNoNextLink() {
    http.create("{\"resourceType\":\"Patient\"}");
    Bundle none = http.parse(http.get("fhir/R4/Patient/_history?_count=0"), Bundle.class);
    assertThat(none.getEntry()).isEmpty();
    assertThat(none.getLink("next")).isNull();
  }

  @Test
  void searchNextLinkKeepsFormatAndPretty() {
    http.create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Pagewell\"}]}");
    http.create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Pagewell\"}]}");
    HttpResponse<String> first = http.get("fhir/R4/Patient?name=pagewell&_count=1&_format=xml&_pretty=true");
    assertThat(first.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/fhir+xml");
    String nextUrl = xml(first).getLink("next").getUrl();

    // TestClient.get asks for JSON in Accept: only the link's _format makes the next page XML
    HttpResponse<String> next = http.get(nextUrl);
    assertThat(next.statusCode()).as(next.body()).isEqualTo(200);
    assertThat(next.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/fhir+xml");
    assertThat(next.body()).as("pretty").contains("\n   <");
    Bundle second = xml(next);
    assertThat(second.getEntry()).hasSize(1);
    assertThat(second.getLink("self").getUrl()).contains("_format=xml").contains("_pretty=true");
  }

  private static Bundle xml(HttpResponse<String> r) {
    return TestServer.FHIR.newXmlParser().parseResource(Bundle.class, r.body());
  }
  private static final String SUBSETTED = "\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ObservationValue\","
      + "\"code\":\"SUBSETTED\"";

  @Test
  void readWithElementsReturnsIdMetaAndTheNamedElementsOnlyMarkedSubsetted() {
    String id = http.create("{\"resourceType\":\"Patient\",\"gender\":\"female\",\"name\":[{\"family\":\"Elm\"}]}");
    for (String path : List.of("Patient/" + id, "Patient/" + id + "/_history/1")) {
      HttpResponse<String> r = http.get("fhir/R4/" + path + "?_elements=gender");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(r.body()).contains("\"id\":\"" + id + "\"", "\"versionId\":\"1\"", "\"gender\":\"female\"",
          SUBSETTED).doesNotContain("Elm");
    }
    HttpResponse<String> whole = http.get("fhir/R4/Patient/" + id);
    assertThat(whole.body()).contains("Elm").doesNotContain("SUBSETTED");
  }

  @Test
  void readWithSummaryTrueLeavesOutNonSummaryElementsAndSummaryDataTheNarrative() {
    String id = http.create("{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\",\"div\":"
        + "\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">Oak</div>\"},\"name\":[{\"family\":\"Oak\"}],"
        + "\"maritalStatus\":{\"text\":\"single\"}}");
    HttpResponse<String> summary = http.get("fhir/R4/Patient/" + id + "?_summary=true");
    assertThat(summary.statusCode()).as(summary.body()).isEqualTo(200);
    assertThat(summary.body()).contains("\"family\":\"Oak\"", SUBSETTED).doesNotContain("maritalStatus", "<div");
    HttpResponse<String> data = http.get("fhir/R4/Patient/" + id + "?_summary=data");
    assertThat(data.body()).contains("maritalStatus", SUBSETTED).doesNotContain("<div");
    assertThat(http.get("fhir/R4/Patient/" + id + "?_summary=maybe").statusCode()).isEqualTo(400);
  }

  /**
   * {@code _summary=text} is the text, id, meta and the top-level mandatory elements
   * (search.html#summary); {@code _elements} keeps the mandatory elements too (search.html#elements):
   * an Observation keeps its status and code (1..1), so that the subset still parses strictly.
   */
  @Test
  void summaryTextAndElementsKeepTheMandatoryElementsOnReadAndSearch() {
    String id = http.create("{\"resourceType\":\"Observation\",\"text\":{\"status\":\"generated\",\"div\":"
        + "\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">Birch</div>\"},\"status\":\"final\","
        + "\"code\":{\"text\":\"birch-code\"},\"issued\":\"2024-01-02T03:04:05Z\",\"valueString\":\"birch-value\"}");
    for (String path : List.of("Observation/" + id + "?", "Observation?_id=" + id + "&")) {
      HttpResponse<String> text = http.get("fhir/R4/" + path + "_summary=text");
      assertThat(text.statusCode()).as(text.body()).isEqualTo(200);
      assertThat(text.body()).as(path).contains("Birch", "\"status\":\"final\"", "birch-code", SUBSETTED)
          .doesNotContain("birch-value", "\"issued\"");
      HttpResponse<String> elements = http.get("fhir/R4/" + path + "_elements=issued");
      assertThat(elements.statusCode()).as(elements.body()).isEqualTo(200);
      assertThat(elements.body()).as(path).contains("\"issued\"", "\"status\":\"final\"", "birch-code", SUBSETTED)
          .doesNotContain("birch-value", "Birch");
    }
  }

  @Test
  void searchWithElementsSubsetsTheMatchesKeepsIncludesWholeAndCarriesElementsIntoPagingLinks() {
    String patient = http.create("{\"resourceType\":\"Patient\",\"gender\":\"male\",\"name\":[{\"family\":\"Ash\"}]}");
    http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"ash-weight\"},"
        + "\"subject\":{\"reference\":\"Patient/" + patient + "\"},\"valueString\":\"ash-value\"}");
    http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"ash-weight\"},"
        + "\"subject\":{\"reference\":\"Patient/" + patient + "\"},\"valueString\":\"ash-value\"}");
    HttpResponse<String> r = http.get("fhir/R4/Observation?subject=Patient/" + patient
        + "&_include=Observation:subject&_elements=issued&_count=1");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Bundle b = http.parse(r, Bundle.class);
    assertThat(b.getEntry()).hasSize(2);
    // status and code are mandatory (1..1), so kept (search.html#elements)
    assertThat(r.body()).contains("\"status\":\"final\"", "ash-weight", SUBSETTED, "\"family\":\"Ash\"")
        .doesNotContain("ash-value", "\"subject\"");
    assertThat(b.getLink("next").getUrl()).contains("_elements=issued");
  }

  @Test
  void historyWithAtIsRefusedWith400NamingItInsteadOfIgnoringIt() {
    String id = http.create("{\"resourceType\":\"Patient\"}");
    for (String path : List.of("Patient/" + id + "/_history", "Patient/_history", "_history")) {
      HttpResponse<String> r = http.get("fhir/R4/" + path + "?_at=2024-01");
      assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(400);
      assertThat(r.body()).contains("_at");
    }
  }
}
