package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.fhirbox.fhir.SearchParser;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What one search may ask of the database is bounded (FHIR R4 search.html): includes, the ids a
 * {@code _has} yields, the values a search binds in all. The server's largest page is 10 here,
 * and a search binds at most 25 values, so the bounds are cheap to reach.
 */
class SearchLimitsTest {
  private static final int MAX_COUNT = 10;
  private static final int MAX_VALUES = 25;
  private static TestServer server;
  private static TestClient http;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(Map.of("FHIRBOX_SEARCH_MAX_COUNT", Integer.toString(MAX_COUNT),
        "FHIRBOX_SEARCH_MAX_VALUES", Integer.toString(MAX_VALUES)));
    http = server.client();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static HttpResponse<String> postSearch(String type, String form) {
    return http.send(http.request("fhir/R4/" + type + "/_search")
        .header("Content-Type", "application/x-www-form-urlencoded").header("Accept", "application/fhir+json")
        .POST(HttpRequest.BodyPublishers.ofString(form)));
  }

  @Test
  void repeatedIncludesCountOnceAndDistinctOnesAreCapped() {
    String obs = http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"}}");
    String prov = http.create("{\"resourceType\":\"Provenance\",\"target\":[{\"reference\":\"Observation/" + obs
        + "\"}],\"recorded\":\"2024-01-01T00:00:00Z\",\"agent\":[{\"who\":{\"display\":\"lab\"}}]}");

    HttpResponse<String> repeated = postSearch("Observation",
        "_id=" + obs + "&_revinclude=Provenance%3Atarget".repeat(990));
    assertThat(repeated.statusCode()).as(repeated.body()).isEqualTo(200);
    Bundle bundle = http.parse(repeated, Bundle.class);
    assertThat(bundle.getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart())
        .containsExactly(obs, prov);
    String self = bundle.getLink("self").getUrl();
    assertThat(self.split("_revinclude=", -1).length - 1).as("_revinclude values in the self link").isEqualTo(1);

    List<String> distinct = List.of("Provenance:target", "Provenance:entity", "Provenance:agent",
        "Provenance:patient", "Provenance:location", "Observation:subject", "Observation:patient",
        "Observation:focus", "Observation:encounter", "Observation:performer", "Observation:part-of",
        "Observation:has-member", "Observation:derived-from", "Observation:based-on", "Observation:specimen",
        "Observation:device", "DocumentReference:subject");
    assertThat(distinct).hasSize(SearchParser.MAX_INCLUDES + 1);
    String atCap = String.join("&", distinct.subList(0, SearchParser.MAX_INCLUDES).stream()
        .map(v -> "_revinclude=" + v).toList());
    assertThat(http.get("fhir/R4/Observation?_id=" + obs + "&" + atCap).statusCode()).isEqualTo(200);
    HttpResponse<String> over = http.get("fhir/R4/Observation?_id=" + obs + "&" + atCap
        + "&_revinclude=" + distinct.get(SearchParser.MAX_INCLUDES));
    assertThat(over.statusCode()).isEqualTo(400);
    assertThat(http.parse(over, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("at most " + SearchParser.MAX_INCLUDES + " distinct _include and _revinclude");
  }

  @Test
  void hasWhoseSourcesNameMoreThanTheLargestPageIs400() {
    List<String> patients = java.util.stream.IntStream.rangeClosed(0, MAX_COUNT)
        .mapToObj(i -> http.create("{\"resourceType\":\"Patient\"}")).toList();
    String atCap = group(patients.subList(0, MAX_COUNT));
    String over = group(patients);

    HttpResponse<String> ok = http.get("fhir/R4/Patient?_has:Group:member:_id=" + atCap);
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(http.parse(ok, Bundle.class).getEntry()).hasSize(MAX_COUNT);
    HttpResponse<String> tooMany = http.get("fhir/R4/Patient?_has:Group:member:_id=" + over);
    assertThat(tooMany.statusCode()).as(tooMany.body()).isEqualTo(400);
    assertThat(http.parse(tooMany, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("more than " + MAX_COUNT + " Patient resources; narrow it");
  }

  @Test
  void aSearchWhoseCriteriaBindMoreValuesThanAllowedIs400AndRepeatsCountOnce() {
    List<String> groups = java.util.stream.IntStream.range(0, 3).mapToObj(g -> group(java.util.stream.IntStream
        .range(0, MAX_COUNT).mapToObj(i -> "bound-" + g + "-" + i).toList())).toList();
    String two = "Patient?_has:Group:member:_id=" + groups.get(0) + "&_has:Group:member:_id=" + groups.get(1);

    HttpResponse<String> within = http.get("fhir/R4/" + two);
    assertThat(within.statusCode()).as(within.body()).isEqualTo(200);
    HttpResponse<String> repeated = http.get("fhir/R4/" + two + ("&_has:Group:member:_id=" + groups.get(0)).repeat(5));
    assertThat(repeated.statusCode()).as(repeated.body()).isEqualTo(200);
    HttpResponse<String> over = http.get("fhir/R4/" + two + "&_has:Group:member:_id=" + groups.get(2));
    assertThat(over.statusCode()).as(over.body()).isEqualTo(400);
    assertThat(http.parse(over, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("at most " + MAX_VALUES + " are accepted");
  }

  @Test
  void aSearchWithoutCountGetsPagesNoLargerThanTheLargestPage() {
    for (int i = 0; i <= MAX_COUNT; i++) {
      http.create("{\"resourceType\":\"Basic\",\"code\":{\"text\":\"paged\"}}");
    }
    HttpResponse<String> page = http.get("fhir/R4/Basic");
    assertThat(page.statusCode()).as(page.body()).isEqualTo(200);
    Bundle bundle = http.parse(page, Bundle.class);
    assertThat(bundle.getEntry()).hasSize(MAX_COUNT);
    assertThat(bundle.getLink("self").getUrl()).contains("_count=" + MAX_COUNT);
    assertThat(bundle.getLink("next")).isNotNull();
  }

  /**
   * R4 search.html#count: the server returns no more than it allows, however many more a client
   * asks for; a count past what an int holds is asked for too, not a malformed value.
   */
  @Test
  void aCountPastTheLargestNumberIsTheLargestPageNotAnError() {
    for (String count : List.of("2147483648", "99999999999999999999", " 1000000000000 ")) {
      HttpResponse<String> r = http.get("fhir/R4/Basic?_count=" + count.replace(" ", "%20"));
      assertThat(r.statusCode()).as(count + ": " + r.body()).isEqualTo(200);
      assertThat(http.parse(r, Bundle.class).getLink("self").getUrl()).contains("_count=" + MAX_COUNT);
    }
    for (String count : List.of("-99999999999", "1e3", "%2B-1")) {
      HttpResponse<String> r = http.get("fhir/R4/Basic?_count=" + count);
      assertThat(r.statusCode()).as(count + ": " + r.body()).isEqualTo(400);
      assertThat(r.body()).contains("_count");
    }
  }

  @Test
  void followingNextWhileOthersWriteNeitherRepeatsNorSkipsWhatWasThereAllAlong() {
    String patient = "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:paging\",\"value\":\"1\"}]";
    List<String> ids = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ids.add(http.create(patient + "}"));
    }
    String since = http.parse(http.get("fhir/R4/Patient/" + ids.get(0)), org.hl7.fhir.r4.model.Patient.class)
        .getMeta().getLastUpdatedElement().getValue().toInstant().toString();

    // search, newest first: the resource not on the first page is updated, which moves it to the front
    Bundle first = http.parse(http.get("fhir/R4/Patient?identifier=urn:paging%7C1&_count=2"), Bundle.class);
    List<String> seen = new java.util.ArrayList<>(entryIds(first));
    String moved = ids.stream().filter(id -> !seen.contains(id)).findFirst().orElseThrow();
    update(moved, patient);
    seen.addAll(followNext(first, b -> entryIds(b)));
    assertThat(seen).doesNotHaveDuplicates().containsAll(entryIds(first)).hasSizeBetween(2, 3);

    // history: a version written between the pages is newer than the first page, and moves nothing
    Bundle history = http.parse(http.get("fhir/R4/Patient/_history?_count=2&_since=" + since), Bundle.class);
    List<String> versions = new java.util.ArrayList<>(entryVersions(history));
    update(ids.get(0), patient);
    versions.addAll(followNext(history, SearchLimitsTest::entryVersions));
    assertThat(versions).doesNotHaveDuplicates().contains(ids.get(0) + "/1", ids.get(1) + "/1", ids.get(2) + "/1");
  }

  private static void update(String id, String json) {
    assertThat(http.putJson("fhir/R4/Patient/" + id, json + ",\"id\":\"" + id + "\"}").statusCode()).isEqualTo(200);
  }

  private static List<String> followNext(Bundle page, java.util.function.Function<Bundle, List<String>> entries) {
    List<String> out = new java.util.ArrayList<>();
    for (Bundle b = page; b.getLink("next") != null; ) {
      HttpResponse<String> next = http.get(b.getLink("next").getUrl());
      assertThat(next.statusCode()).as(next.body()).isEqualTo(200);
      b = http.parse(next, Bundle.class);
      out.addAll(entries.apply(b));
    }
    return out;
  }

  @Test
  void anOffsetBeyondTenThousandIs400AndDeepPagesGoOnWithAfter() {
    for (String path : List.of("fhir/R4/Patient?_offset=2147483647", "fhir/R4/Patient/_history?_offset=2147483647",
        "fhir/R4/Patient?_offset=10001")) {
      HttpResponse<String> r = http.get(path);
      assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(400);
      assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
          .contains("_offset is at most " + SearchParser.MAX_OFFSET).contains("_after");
    }
    assertThat(http.get("fhir/R4/Patient?_offset=" + SearchParser.MAX_OFFSET).statusCode()).isEqualTo(200);

    for (int i = 0; i < MAX_COUNT + 2; i++) {
      http.create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Deeppaged\"}]}");
    }
    Bundle first = http.parse(http.get("fhir/R4/Patient?family=Deeppaged&_count=" + MAX_COUNT), Bundle.class);
    String next = first.getLink("next").getUrl();
    // beside _after the offset only counts the entries before the page, and may be large
    String deep = next.replace("_offset=" + MAX_COUNT, "_offset=50000");
    HttpResponse<String> page = http.send(http.request(deep));
    assertThat(page.statusCode()).as(page.body()).isEqualTo(200);
    Bundle second = http.parse(page, Bundle.class);
    assertThat(second.getEntry()).hasSize(2);
    assertThat(second.getLink("previous")).as("no previous link past what _offset may skip").isNull();
    HttpResponse<String> overflow = http.send(http.request(next.replace("_offset=" + MAX_COUNT,
        "_offset=2147483647")));
    assertThat(overflow.statusCode()).as(overflow.body()).isEqualTo(400);
  }

  private static List<String> entryIds(Bundle b) {
    return b.getEntry().stream().map(e -> e.getResource().getIdElement().getIdPart()).toList();
  }

  private static List<String> entryVersions(Bundle b) {
    return b.getEntry().stream().map(e -> e.getResource().getIdElement().getIdPart() + "/"
        + e.getResponse().getEtag().replaceAll("[^0-9]", "")).toList();
  }

  private static String group(List<String> members) {
    return http.create("{\"resourceType\":\"Group\",\"type\":\"person\",\"actual\":true,\"member\":["
        + String.join(",", members.stream().map(p -> "{\"entity\":{\"reference\":\"Patient/" + p + "\"}}").toList())
        + "]}");
  }
}
