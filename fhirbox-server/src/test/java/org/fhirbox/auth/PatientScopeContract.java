package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.fhirbox.testing.PageWalk;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A token whose {@code patient/} scopes are limited to patient A reads A's things and is refused
 * B's on every path: read, vread, search (with {@code _include}, {@code _revinclude}, chains and
 * {@code _has}), history at all three levels, batch and transaction entries, Binary content, signed
 * Attachment URLs and {@code $presigned-url}; and writes only inside A's compartment. Subclasses
 * supply the database: the compartment is a criterion of the search and history SQL.
 */
abstract class PatientScopeContract extends PatientScopeFixture {
  /** A token with {@code patient/*.cruds} and patient A as its launch context. */
  private TestClient asA;
  private String patientA;
  private String patientB;
  private String practitioner;
  private String obsA;
  private String obsB;
  /** B's Observation whose focus is A: in B's compartment only. */
  private String obsBFocusA;
  /** Created for B, then moved to A: version 1 is B's, version 2 is A's. */
  private String obsMoved;
  private String obsBDeleted;
  private String obsADeleted;
  /** Photos without a securityContext, each named only by its Patient's photo. */
  private String photoA;
  private String photoB;
  /** Binaries whose securityContext is the patient. */
  private String contextA;
  private String contextB;
  /** Binaries without a securityContext, each named only by its patient's DocumentReference. */
  private String scanA;
  private String scanB;
  private String docA;
  private String docB;
  /** Deleted Binaries whose securityContext is each patient. */
  private String deletedContextA;
  private String deletedContextB;
  /** A's DocumentReference that a clinician made name B's securityContext Binary too. */
  private String docAMixed;

  /** Server settings naming the database. */
  protected abstract Map<String, String> settings();

  @BeforeAll
  void start() throws Exception {
    startServer(settings());
    practitioner = create("Practitioner", "{\"resourceType\":\"Practitioner\",\"name\":[{\"family\":\"Doc\"}]}");
    photoA = upload(null);
    photoB = upload(null);
    patientA = create("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Alpha\"}],"
        + "\"photo\":[{\"url\":\"Binary/" + photoA + "\"}]}");
    patientB = create("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Bravo\"}],"
        + "\"photo\":[{\"url\":\"Binary/" + photoB + "\"}]}");
    obsA = create("Observation", observation(patientA, "shared", null, practitioner));
    obsB = create("Observation", observation(patientB, "shared", null, null));
    obsBFocusA = create("Observation", observation(patientB, "secret-b", patientA, null));
    obsMoved = create("Observation", observation(patientB, "moved", null, null));
    HttpResponse<String> moved = seeder.putJson("fhir/R4/Observation/" + obsMoved,
        withId(observation(patientA, "moved", null, null), obsMoved));
    assertThat(moved.statusCode()).as(moved.body()).isEqualTo(200);
    obsBDeleted = create("Observation", observation(patientB, "gone", null, null));
    assertThat(seeder.delete("fhir/R4/Observation/" + obsBDeleted).statusCode()).isEqualTo(200);
    obsADeleted = create("Observation", observation(patientA, "gone", null, null));
    assertThat(seeder.delete("fhir/R4/Observation/" + obsADeleted).statusCode()).isEqualTo(200);
    contextA = upload("Patient/" + patientA);
    contextB = upload("Patient/" + patientB);
    scanA = upload(null);
    scanB = upload(null);
    deletedContextA = upload("Patient/" + patientA);
    deletedContextB = upload("Patient/" + patientB);
    for (String gone : List.of(deletedContextA, deletedContextB)) {
      assertThat(seeder.delete("fhir/R4/Binary/" + gone).statusCode()).isEqualTo(200);
    }
    docA = create("DocumentReference", document(patientA, scanA));
    docB = create("DocumentReference", document(patientB, scanB));
    docAMixed = create("DocumentReference", document(patientA, contextA, contextB));
    asA = patientToken("patient/*.cruds", Optional.of(patientA));
  }

  private static String observation(String subject, String code, String focus, String performer) {
    return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"urn:test\","
        + "\"code\":\"" + code + "\"}]},\"subject\":{\"reference\":\"Patient/" + subject + "\"}"
        + (focus == null ? "" : ",\"focus\":[{\"reference\":\"Patient/" + focus + "\"}]")
        + (performer == null ? "" : ",\"performer\":[{\"reference\":\"Practitioner/" + performer + "\"}]") + "}";
  }

  private static String document(String subject, String... binaries) {
    List<String> content = new ArrayList<>();
    for (String b : binaries) {
      content.add("{\"attachment\":{\"contentType\":\"text/plain\",\"url\":\"Binary/" + b + "\"}}");
    }
    return "{\"resourceType\":\"DocumentReference\",\"status\":\"current\",\"subject\":{\"reference\":\"Patient/"
        + subject + "\"},\"content\":[" + String.join(",", content) + "]}";
  }

  /** {@code Type/id} of the entries of a Bundle with the given search mode (null: any). */
  private static Set<String> entries(JsonNode bundle, String mode) {
    Set<String> out = new TreeSet<>();
    for (JsonNode e : bundle.path("entry")) {
      if (mode == null || mode.equals(e.at("/search/mode").asText())) {
        JsonNode r = e.path("resource");
        out.add(r.path("resourceType").asText() + "/" + r.path("id").asText());
      }
    }
    return out;
  }

  private String storage(String binary) {
    return server.baseUrl() + "storage/" + binary + "/";
  }

  @Test
  void readsAndVreadsOnlyInsideTheCompartment() throws Exception {
    assertThat(asA.get("fhir/R4/Observation/" + obsA).statusCode()).isEqualTo(200);
    assertThat(asA.get("fhir/R4/Patient/" + patientA).statusCode()).isEqualTo(200);
    assertThat(asA.get("fhir/R4/Observation/" + obsA + "/_history/1").statusCode()).isEqualTo(200);
    assertThat(asA.get("fhir/R4/Observation/" + obsMoved + "/_history/2").statusCode()).isEqualTo(200);
    assertThat(asA.get("fhir/R4/Observation/" + obsADeleted).statusCode()).isEqualTo(410);

    HttpResponse<String> other = asA.get("fhir/R4/Observation/" + obsB);
    assertThat(other.statusCode()).isEqualTo(404);
    // word for word what a resource that never existed gets: nothing tells B's apart
    assertThat(json(other).at("/issue/0/diagnostics").asText()).isEqualTo("Observation/" + obsB + " is not known");
    assertThat(asA.get("fhir/R4/Patient/" + patientB).statusCode()).isEqualTo(404);
    assertThat(asA.get("fhir/R4/Observation/" + obsBFocusA).statusCode()).isEqualTo(404);
    assertThat(asA.get("fhir/R4/Observation/" + obsB + "/_history/1").statusCode()).isEqualTo(404);
    assertThat(asA.get("fhir/R4/Observation/" + obsMoved + "/_history/1").statusCode()).isEqualTo(404);
    assertThat(asA.get("fhir/R4/Observation/" + obsBDeleted).statusCode()).isEqualTo(404);
    assertThat(asA.sendBytes(asA.request("fhir/R4/Observation/" + obsB).method("HEAD",
        HttpRequest.BodyPublishers.noBody())).statusCode()).isEqualTo(404);
    // outside every Patient compartment: the type itself is refused
    assertThat(asA.get("fhir/R4/Practitioner/" + practitioner).statusCode()).isEqualTo(403);
  }

  @Test
  void searchHasTheCompartmentAsACriterionSoTotalsAndPagesCountOnlyIt() throws Exception {
    String seeded = "fhir/R4/Observation?code=urn:test%7Cshared,urn:test%7Cmoved,urn:test%7Csecret-b,urn:test%7Cgone";
    JsonNode all = ok(asA.get(seeded + "&_count=50"));
    assertThat(entries(all, "match")).containsExactlyInAnyOrder("Observation/" + obsA, "Observation/" + obsMoved);
    assertThat(all.get("total").asInt()).isEqualTo(2);
    assertThat(ok(seeder.get(seeded)).get("total").asInt()).as("what a wider grant finds").isEqualTo(4);
    JsonNode first = ok(asA.get(seeded + "&_count=1&_total=accurate"));
    assertThat(first.get("total").asInt()).isEqualTo(2);
    assertThat(first.get("entry")).hasSize(1);
    assertThat(first.toString()).contains("\"relation\":\"next\"");
    JsonNode second = ok(asA.get(seeded + "&_count=1&_offset=1"));
    assertThat(second.get("entry")).hasSize(1);
    assertThat(second.toString()).doesNotContain("\"relation\":\"next\"");
    assertThat(ok(asA.get(seeded + "&_count=1&_offset=2")).path("entry")).isEmpty();
    assertThat(ok(asA.get("fhir/R4/Observation?code=urn:test%7Cshared&_summary=count")).get("total").asInt())
        .isEqualTo(1);
    assertThat(ok(asA.get("fhir/R4/Observation?subject=Patient/" + patientB)).get("total").asInt()).isZero();
    assertThat(ok(asA.get("fhir/R4/Observation?_id=" + obsB + "," + obsA)).get("total").asInt()).isEqualTo(1);
    assertThat(entries(ok(asA.get("fhir/R4/Patient")), "match")).containsExactly("Patient/" + patientA);
    assertThat(entries(ok(asA.get("fhir/R4/DocumentReference")), "match"))
        .contains("DocumentReference/" + docA, "DocumentReference/" + docAMixed)
        .doesNotContain("DocumentReference/" + docB);
    assertThat(asA.get("fhir/R4/Practitioner").statusCode()).isEqualTo(403);
    assertThat(asA.get("fhir/R4/Binary").statusCode()).isEqualTo(403);
  }

  /** {@code :missing} is one more criterion beside the compartment's: it finds nothing outside it. */
  @Test
  void missingFindsOnlyInsideTheCompartment() throws Exception {
    String seeded = "fhir/R4/Observation?code=urn:test%7Cshared,urn:test%7Cmoved,urn:test%7Csecret-b&";
    assertThat(entries(ok(asA.get(seeded + "performer:missing=true")), "match"))
        .containsExactly("Observation/" + obsMoved);
    assertThat(entries(ok(seeder.get(seeded + "performer:missing=true")), "match")).as("with a wider grant")
        .containsExactlyInAnyOrder("Observation/" + obsMoved, "Observation/" + obsB, "Observation/" + obsBFocusA);
    assertThat(entries(ok(asA.get(seeded + "performer:missing=false")), "match"))
        .containsExactly("Observation/" + obsA);
    assertThat(ok(asA.get(seeded + "focus:missing=false&_total=accurate")).get("total").asInt()).isZero();
    assertThat(ok(seeder.get(seeded + "focus:missing=false&_total=accurate")).get("total").asInt()).isEqualTo(1);
  }

  @Test
  void includesOutsideTheCompartmentAreDropped() throws Exception {
    JsonNode included = ok(asA.get("fhir/R4/Observation?code=urn:test%7Cshared"
        + "&_include=Observation:subject&_include=Observation:performer&_include=Observation:focus"));
    assertThat(entries(included, "match")).containsExactly("Observation/" + obsA);
    assertThat(entries(included, "include")).containsExactly("Patient/" + patientA);

    JsonNode rev = ok(asA.get("fhir/R4/Patient?_revinclude=Observation:subject&_revinclude=Observation:focus"
        + "&_revinclude=DocumentReference:subject"));
    assertThat(entries(rev, "match")).containsExactly("Patient/" + patientA);
    assertThat(entries(rev, "include")).contains("Observation/" + obsA, "Observation/" + obsMoved,
        "DocumentReference/" + docA, "DocumentReference/" + docAMixed)
        .doesNotContain("Observation/" + obsB, "Observation/" + obsBFocusA, "DocumentReference/" + docB);
  }

  @Test
  void iteratedIncludesOutsideTheCompartmentAreDropped() throws Exception {
    String query = "fhir/R4/Observation?code=urn:test%7Cshared&_include=Observation:subject"
        + "&_revinclude:iterate=Observation:subject&_revinclude:iterate=Observation:focus";
    JsonNode iterated = ok(asA.get(query));
    assertThat(entries(iterated, "match")).containsExactly("Observation/" + obsA);
    assertThat(entries(iterated, "include")).containsExactlyInAnyOrder("Patient/" + patientA,
        "Observation/" + obsMoved);
    assertThat(entries(ok(seeder.get(query)), "include")).as("with a wider grant")
        .contains("Patient/" + patientB, "Observation/" + obsBFocusA);
  }

  @Test
  void chainsAndHasOnlyMatchThroughTheCompartment() throws Exception {
    String seeded = "fhir/R4/Observation?code=urn:test%7Cshared,urn:test%7Cmoved,urn:test%7Csecret-b&";
    assertThat(ok(asA.get(seeded + "subject:Patient.name=alpha")).get("total").asInt()).isEqualTo(2);
    assertThat(ok(asA.get(seeded + "subject:Patient.name=bravo")).get("total").asInt()).isZero();
    assertThat(ok(seeder.get(seeded + "subject:Patient.name=bravo")).get("total").asInt()).isEqualTo(2);
    // A's own resources never reveal B's name through a reference outside the compartment
    assertThat(ok(asA.get("fhir/R4/Observation?focus:Patient.name=bravo")).get("total").asInt()).isZero();
    assertThat(ok(asA.get("fhir/R4/Patient?_has:Observation:subject:code=urn:test%7Cshared")).get("total").asInt())
        .isEqualTo(1);
    // B's Observation names A as its focus; that it exists, or its code, is B's to tell
    assertThat(ok(asA.get("fhir/R4/Patient?_has:Observation:focus:code=urn:test%7Csecret-b")).get("total").asInt())
        .isZero();
    JsonNode admin = ok(seeder.get("fhir/R4/Patient?_has:Observation:focus:code=urn:test%7Csecret-b"));
    assertThat(admin.get("total").asInt()).as("the same search with a wider grant").isEqualTo(1);
  }

  @Test
  void historyAtEveryLevelListsOnlyVersionsInTheCompartment() throws Exception {
    JsonNode instance = ok(asA.get("fhir/R4/Observation/" + obsMoved + "/_history"));
    assertThat(instance.get("entry")).hasSize(1);
    assertThat(instance.at("/entry/0/resource/meta/versionId").asText()).isEqualTo("2");
    assertThat(asA.get("fhir/R4/Observation/" + obsB + "/_history").statusCode()).isEqualTo(404);
    assertThat(asA.get("fhir/R4/Observation/" + obsBDeleted + "/_history").statusCode()).isEqualTo(404);
    assertThat(ok(asA.get("fhir/R4/Observation/" + obsADeleted + "/_history")).get("entry")).hasSize(2);

    Set<String> forbidden = Set.of(obsB, obsBFocusA, obsBDeleted, patientB, docB, photoB, contextB, scanB,
        practitioner);
    for (String path : List.of("fhir/R4/Observation/_history?_count=100", "fhir/R4/_history?_count=100")) {
      JsonNode history = ok(asA.get(path));
      List<String> seen = new ArrayList<>();
      for (JsonNode e : history.path("entry")) {
        String url = e.path("fullUrl").asText();
        seen.add(url.substring(url.indexOf("/R4/") + 4) + "@" + e.at("/response/etag").asText());
      }
      assertThat(seen).as(path).contains("Observation/" + obsA + "@W/\"1\"", "Observation/" + obsMoved + "@W/\"2\"")
          .doesNotContain("Observation/" + obsMoved + "@W/\"1\"");
      assertThat(seen).as(path).noneMatch(s -> forbidden.stream().anyMatch(s::contains));
    }
    JsonNode system = ok(asA.get("fhir/R4/_history?_count=100"));
    assertThat(system.toString()).contains("Patient/" + patientA, "DocumentReference/" + docA);
    assertThat(asA.get("fhir/R4/Practitioner/_history").statusCode()).isEqualTo(403);
    assertThat(asA.get("fhir/R4/Binary/_history").statusCode()).isEqualTo(403);
  }

  @Test
  void historyPagesNameInTheirLinksOnlyVersionsTheyList() throws Exception {
    // a page of one: one ending on a version left out (B's deletion, the moved Observation's
    // version in B's compartment) would otherwise name it in its next link
    for (String path : List.of("fhir/R4/Observation/_history", "fhir/R4/_history")) {
      PageWalk paged = PageWalk.of(asA, path + "?_count=1");
      assertThat(paged.entries()).as(path).containsExactlyElementsOf(PageWalk.of(asA, path + "?_count=100").entries());
      assertThat(paged.links()).as(path).noneMatch(l -> l.contains(obsBDeleted) || l.contains("~" + obsMoved + "~1"));
    }
  }

  @Test
  void batchEntriesAreJudgedOneByOne() throws Exception {
    String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        + get("Observation/" + obsA) + "," + get("Observation/" + obsB) + "," + get("Patient/" + patientB) + ","
        + get("Observation/" + obsMoved + "/_history/1") + "," + get("Practitioner/" + practitioner) + ","
        + get("Binary/" + contextB) + "," + get("Binary/" + contextA) + ","
        + "{\"resource\":" + observation(patientB, "batch", null, null)
        + ",\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}},"
        + "{\"resource\":" + withId(observation(patientA, "batch", null, null), obsB)
        + ",\"request\":{\"method\":\"PUT\",\"url\":\"Observation/" + obsB + "\"}},"
        + "{\"request\":{\"method\":\"DELETE\",\"url\":\"Observation/" + obsB + "\"}}]}";
    JsonNode out = ok(asA.postJson("fhir/R4", bundle));
    List<String> statuses = new ArrayList<>();
    out.get("entry").forEach(e -> statuses.add(e.at("/response/status").asText().substring(0, 3)));
    assertThat(statuses).containsExactly("200", "404", "404", "404", "403", "404", "200", "403", "404", "404");
    assertThat(seeder.get("fhir/R4/Observation/" + obsB).statusCode()).isEqualTo(200);
    assertThat(out.toString()).doesNotContain("Bravo");
  }

  private static String get(String url) {
    return "{\"request\":{\"method\":\"GET\",\"url\":\"" + url + "\"}}";
  }

  @Test
  void aTransactionFailsWholeOnAnEntryOutsideTheCompartment() throws Exception {
    String write = "{\"fullUrl\":\"urn:uuid:4b0f6a53-9b0e-4a54-8d3c-2f4f3c9d7a11\",\"resource\":"
        + observation(patientA, "in-transaction", null, null)
        + ",\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}";
    HttpResponse<String> refused = asA.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
        + "\"entry\":[" + write + "," + get("Observation/" + obsB) + "]}");
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(404);
    assertThat(ok(seeder.get("fhir/R4/Observation?code=urn:test%7Cin-transaction")).get("total").asInt()).isZero();

    String binary = "{\"fullUrl\":\"urn:uuid:0c9a2b51-7d5e-4f0e-9d61-5a1f0b3c8e22\",\"resource\":{\"resourceType\":"
        + "\"Binary\",\"contentType\":\"text/plain\",\"data\":\"aGk=\"},"
        + "\"request\":{\"method\":\"POST\",\"url\":\"Binary\"}}";
    String media = "{\"resource\":{\"resourceType\":\"Media\",\"status\":\"completed\",\"subject\":{\"reference\":"
        + "\"Patient/" + patientA + "\"},\"content\":{\"url\":\"urn:uuid:0c9a2b51-7d5e-4f0e-9d61-5a1f0b3c8e22\"}},"
        + "\"request\":{\"method\":\"POST\",\"url\":\"Media\"}}";
    JsonNode done = ok(asA.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        + binary + "," + media + "," + write + "," + get("Observation/" + obsA) + "]}"));
    assertThat(done.at("/entry/0/resource/securityContext/reference").asText()).isEqualTo("Patient/" + patientA);
    assertThat(done.at("/entry/1/resource/content/url").asText()).startsWith(server.baseUrl() + "storage/");
    assertThat(done.at("/entry/3/response/status").asText()).startsWith("200");
  }

  @Test
  void aTransactionsSearchSeesItsWritesOnlyInsideTheCompartment() throws Exception {
    String write = "{\"resource\":" + observation(patientA, "tx-search", null, null)
        + ",\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}";
    JsonNode out = ok(asA.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        + get("Observation?code=urn:test%7Cshared,urn:test%7Ctx-search") + "," + write + "]}"));
    String created = out.at("/entry/1/response/location").asText().split("/")[1];
    assertThat(entries(out.at("/entry/0/resource"), "match")).containsExactlyInAnyOrder("Observation/" + obsA,
        "Observation/" + created);
    // the other tests count A's Observations
    assertThat(seeder.delete("fhir/R4/Observation/" + created).statusCode()).isEqualTo(200);

    HttpResponse<String> refused = asA.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
        + "\"entry\":[" + write.replace("tx-search", "tx-refused") + "," + get("Practitioner?_id=" + practitioner)
        + "]}");
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(403);
    assertThat(ok(seeder.get("fhir/R4/Observation?code=urn:test%7Ctx-refused")).get("total").asInt()).isZero();
  }

  @Test
  void binaryContentOnlyInsideTheCompartment() throws Exception {
    for (String mine : List.of(photoA, contextA, scanA)) {
      assertThat(asA.rawBinaryStatus(mine)).as(mine).isEqualTo(200);
      assertThat(asA.get("fhir/R4/Binary/" + mine + "/$presigned-url").body()).as(mine).contains(storage(mine));
      assertThat(ok(asA.send(asA.request("fhir/R4/Binary/" + mine).header("Accept", "application/fhir+json").GET()))
          .get("url").asText()).startsWith(storage(mine));
    }
    for (String theirs : List.of(photoB, contextB, scanB)) {
      assertThat(asA.rawBinaryStatus(theirs)).as(theirs).isEqualTo(404);
      HttpResponse<String> presigned = asA.get("fhir/R4/Binary/" + theirs + "/$presigned-url");
      assertThat(presigned.statusCode()).as(theirs).isEqualTo(404);
      assertThat(presigned.body()).doesNotContain("/storage/");
      HttpResponse<String> resource = asA.send(asA.request("fhir/R4/Binary/" + theirs)
          .header("Accept", "application/fhir+json").GET());
      assertThat(resource.statusCode()).isEqualTo(404);
      assertThat(resource.body()).doesNotContain("/storage/");
      assertThat(asA.sendBytes(asA.request("fhir/R4/Binary/" + theirs + "/_history/1").GET()).statusCode())
          .isEqualTo(404);
      assertThat(asA.get("fhir/R4/Binary/" + theirs + "/_history").statusCode()).isEqualTo(404);
    }
    // a deletion tells no more than the Binary did: 410 for the patient's own, 404 for another's
    assertThat(asA.rawBinaryStatus(deletedContextA)).isEqualTo(410);
    assertThat(asA.get("fhir/R4/Binary/" + deletedContextA + "/$presigned-url").statusCode()).isEqualTo(410);
    assertThat(asA.rawBinaryStatus(deletedContextB)).isEqualTo(404);
    assertThat(asA.get("fhir/R4/Binary/" + deletedContextB + "/$presigned-url").statusCode()).isEqualTo(404);
    assertThat(asA.get("fhir/R4/Binary/" + deletedContextB + "/_history").statusCode()).isEqualTo(404);
  }

  @Test
  void attachmentsAreSignedOnlyForBinariesInTheCompartment() throws Exception {
    assertThat(ok(asA.get("fhir/R4/Patient/" + patientA)).at("/photo/0/url").asText()).startsWith(storage(photoA));
    assertThat(ok(asA.get("fhir/R4/DocumentReference/" + docA)).at("/content/0/attachment/url").asText())
        .startsWith(storage(scanA));
    JsonNode mixed = ok(asA.get("fhir/R4/DocumentReference/" + docAMixed));
    assertThat(mixed.at("/content/0/attachment/url").asText()).startsWith(storage(contextA));
    // named by A's record, but B's by its securityContext: never signed for A's token
    assertThat(mixed.at("/content/1/attachment/url").asText()).isEqualTo("Binary/" + contextB);
    HttpResponse<String> search = asA.get("fhir/R4/DocumentReference?subject=Patient/" + patientA);
    assertThat(search.body()).contains(storage(scanA), storage(contextA)).doesNotContain(storage(contextB))
        .doesNotContain(storage(scanB)).contains("\"url\":\"Binary/" + contextB + "\"");
    // the same records signed for a wider grant, so the difference is the compartment
    assertThat(ok(seeder.get("fhir/R4/DocumentReference/" + docAMixed)).at("/content/1/attachment/url").asText())
        .startsWith(storage(contextB));
  }

  @Test
  void writesStayInsideTheCompartment() throws Exception {
    HttpResponse<String> forB = asA.postJson("fhir/R4/Observation", observation(patientB, "w", null, null));
    assertThat(forB.statusCode()).as(forB.body()).isEqualTo(403);
    String mine = TestClient.createdId(asA.postJson("fhir/R4/Observation", observation(patientA, "w", null, null)));
    HttpResponse<String> moveOut = asA.putJson("fhir/R4/Observation/" + mine,
        withId(observation(patientB, "w", null, null), mine));
    assertThat(moveOut.statusCode()).as(moveOut.body()).isEqualTo(403);
    assertThat(ok(seeder.get("fhir/R4/Observation/" + mine)).at("/meta/versionId").asText()).isEqualTo("1");
    HttpResponse<String> takeOver = asA.putJson("fhir/R4/Observation/" + obsB,
        withId(observation(patientA, "w", null, null), obsB));
    assertThat(takeOver.statusCode()).isEqualTo(404);
    assertThat(asA.delete("fhir/R4/Observation/" + obsB).statusCode()).isEqualTo(404);
    // as the other patient's is: a limited caller cannot tell which ids exist elsewhere
    assertThat(asA.delete("fhir/R4/Observation/never-was").statusCode()).isEqualTo(404);
    assertThat(seeder.get("fhir/R4/Observation/" + obsB).statusCode()).isEqualTo(200);
    assertThat(asA.delete("fhir/R4/Observation/" + mine).statusCode()).isEqualTo(200);
    assertThat(asA.postJson("fhir/R4/Practitioner", "{\"resourceType\":\"Practitioner\"}").statusCode())
        .isEqualTo(403);
  }

  @Test
  void binariesWrittenWithPatientScopesBelongToThePatient() throws Exception {
    JsonNode created = json(uploadResponse(asA, null, "my photo"));
    assertThat(created.at("/securityContext/reference").asText()).isEqualTo("Patient/" + patientA);
    assertThat(created.get("url").asText()).startsWith(storage(created.get("id").asText()));
    assertThat(uploadResponse(asA, "Patient/" + patientB, "for B").statusCode()).isEqualTo(403);
    HttpResponse<String> overwrite = asA.send(asA.request("fhir/R4/Binary/" + photoB)
        .header("Content-Type", "text/plain").PUT(HttpRequest.BodyPublishers.ofString("mine now")));
    assertThat(overwrite.statusCode()).isEqualTo(404);
    assertThat(seeder.rawBinaryStatus(photoB)).isEqualTo(200);
  }

  @Test
  void resumableUploadsStayInsideTheCompartment() throws Exception {
    // the same checks as a raw upload, before a byte is stored
    assertThat(tusCreate(asA, 9, "securityContext", "Patient/" + patientB).statusCode()).isEqualTo(403);
    HttpResponse<String> overwrite = tusCreate(asA, 9, "binaryId", photoB);
    assertThat(overwrite.statusCode()).as(overwrite.body()).isEqualTo(404);
    assertThat(json(overwrite).at("/resourceType").asText()).isEqualTo("OperationOutcome");
    // no context means the launch patient's
    String upload = tusCreated(tusCreate(asA, 9, null, null));
    HttpResponse<String> done = tusPatch(asA, upload, 0, "tus photo");
    assertThat(done.statusCode()).as(done.body()).isEqualTo(204);
    String binary = done.headers().firstValue("Content-Location").orElseThrow()
        .replaceFirst("^.*/Binary/([^/]+)/.*$", "$1");
    assertThat(ok(seeder.get("fhir/R4/Binary/" + binary)).at("/securityContext/reference").asText())
        .isEqualTo("Patient/" + patientA);
  }

  @Test
  void aResumableUploadIsCommittedOnlyInsideTheCompartmentOfTheTokenThatCompletesIt() throws Exception {
    // two launches of one app by one user: the same client, two patients
    String scope = "patient/*.cruds";
    AuthModule auth = server.server().auth();
    OAuthClient client = auth.clients().find(auth.clients().create(PROJECT, scope, false).clientId()).orElseThrow();
    TestClient launchA = new TestClient(server.baseUrl()).withHeader("Authorization", "Bearer "
        + auth.tokens().issue(client, Scopes.parse(scope), Optional.empty(), Optional.of(patientA)).accessToken());
    TestClient launchB = new TestClient(server.baseUrl()).withHeader("Authorization", "Bearer "
        + auth.tokens().issue(client, Scopes.parse(scope), Optional.empty(), Optional.of(patientB)).accessToken());
    String upload = tusCreated(tusCreate(launchA, 9, null, null));
    assertThat(tusPatch(launchA, upload, 0, "tus ").statusCode()).isEqualTo(204);
    HttpResponse<String> last = tusPatch(launchB, upload, 4, "photo");
    assertThat(last.statusCode()).as(last.body()).isEqualTo(403);
    assertThat(last.headers().firstValue("Content-Location")).isEmpty();
    // the bytes are kept; the launch whose patient the upload belongs to completes it
    HttpResponse<String> head = launchA.send(launchA.request(upload).header("Tus-Resumable", "1.0.0")
        .method("HEAD", HttpRequest.BodyPublishers.noBody()));
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.headers().firstValue("Upload-Offset")).hasValue("9");
    String binary = head.headers().firstValue("Content-Location").orElseThrow()
        .replaceFirst("^.*/Binary/([^/]+)/.*$", "$1");
    assertThat(ok(seeder.get("fhir/R4/Binary/" + binary)).at("/securityContext/reference").asText())
        .isEqualTo("Patient/" + patientA);
  }

  /** tus creation with one metadata pair (or none); the answer. */
  private static HttpResponse<String> tusCreate(TestClient c, long length, String key, String value) {
    String metadata = "filetype " + b64("text/plain") + (key == null ? "" : "," + key + " " + b64(value));
    return c.send(c.request("fhir/R4/Binary/$upload").header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", Long.toString(length)).header("Upload-Metadata", metadata)
        .POST(HttpRequest.BodyPublishers.noBody()));
  }

  /** The upload's absolute URL from a creation's answer. */
  private String tusCreated(HttpResponse<String> created) {
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    return java.net.URI.create(server.baseUrl()).resolve(created.headers().firstValue("Location").orElseThrow())
        .toString();
  }

  private static HttpResponse<String> tusPatch(TestClient c, String upload, long offset, String bytes) {
    return c.send(c.request(upload).header("Tus-Resumable", "1.0.0")
        .header("Content-Type", "application/offset+octet-stream").header("Upload-Offset", Long.toString(offset))
        .method("PATCH", HttpRequest.BodyPublishers.ofString(bytes, StandardCharsets.UTF_8)));
  }

  private static String b64(String s) {
    return java.util.Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void anotherPatientsBinaryCannotBeAttachedToBringItIn() throws Exception {
    for (String theirs : List.of(scanB, contextB)) {
      HttpResponse<String> r = asA.postJson("fhir/R4/DocumentReference", document(patientA, theirs));
      assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
      assertThat(json(r).at("/issue/0/diagnostics").asText()).isEqualTo("Attachment.url names Binary/" + theirs
          + ", which does not exist");
    }
    assertThat(asA.rawBinaryStatus(scanB)).isEqualTo(404);
    String own = TestClient.createdId(asA.postJson("fhir/R4/DocumentReference", document(patientA, scanA, contextA)));
    assertThat(asA.delete("fhir/R4/DocumentReference/" + own).statusCode()).isEqualTo(200);
  }

  @Test
  void aWrongSizeOrHashTellsNothingOfABinaryOutsideTheCompartment() throws Exception {
    // a size or hash is compared only once the Binary may be attached: else a patient's app could
    // learn that another patient's Binary exists, its size, or confirm a guess of its content
    String sha1OfScanB = java.util.Base64.getEncoder().encodeToString(java.security.MessageDigest.getInstance("SHA-1")
        .digest(("scan of null").getBytes(StandardCharsets.UTF_8)));
    for (String extra : List.of("\"size\":1", "\"hash\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAA=\"", "\"hash\":\"" + sha1OfScanB + "\"")) {
      HttpResponse<String> r = asA.postJson("fhir/R4/DocumentReference", document(patientA, scanB)
          .replace("\"contentType\":\"text/plain\"", "\"contentType\":\"text/plain\"," + extra));
      assertThat(r.statusCode()).as(extra).isEqualTo(400);
      assertThat(json(r).at("/issue/0/diagnostics").asText()).as(extra)
          .isEqualTo("Attachment.url names Binary/" + scanB + ", which does not exist");
    }
  }

  @Test
  void aWriterWhoMayNotReadABinaryCannotBringItIntoAPatientsCompartment() throws Exception {
    // documents only: it sees B's DocumentReference, and there the unsigned Binary/{id} of B's scan
    TestClient writer = new ProjectClients(server).client(PROJECT, "system/DocumentReference.cruds");
    HttpResponse<String> r = writer.postJson("fhir/R4/DocumentReference", document(patientA, scanB));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(json(r).at("/issue/0/diagnostics").asText())
        .isEqualTo("Attachment.url names Binary/" + scanB + ", which does not exist");
    assertThat(r.body()).doesNotContain("\"size\"", "\"hash\"");
    assertThat(asA.rawBinaryStatus(scanB)).isEqualTo(404);
    // what the resource named already stays named: the writer may change the rest of it
    HttpResponse<String> update = writer.putJson("fhir/R4/DocumentReference/" + docB,
        withId(document(patientB, scanB), docB).replace("\"current\"", "\"superseded\""));
    assertThat(update.statusCode()).as(update.body()).isEqualTo(200);
  }

  @Test
  void aPatientTokenWithoutAPatientContextIsRefused() throws Exception {
    TestClient noContext = patientToken("patient/*.rs", Optional.empty());
    assertThat(noContext.get("fhir/R4/Observation/" + obsA).statusCode()).isEqualTo(403);
    HttpResponse<String> search = noContext.get("fhir/R4/Observation");
    assertThat(search.statusCode()).isEqualTo(403);
    assertThat(json(search).at("/issue/0/diagnostics").asText()).contains("patient context");
    assertThat(noContext.get("fhir/R4/Observation/_history").statusCode()).isEqualTo(403);
    assertThat(noContext.get("fhir/R4/_history").statusCode()).isEqualTo(403);
    assertThat(noContext.rawBinaryStatus(contextA)).isEqualTo(403);
    assertThat(noContext.get("fhir/R4/Binary/" + photoA + "/$presigned-url").statusCode()).isEqualTo(403);
    JsonNode batch = ok(noContext.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        + get("Observation/" + obsA) + "]}"));
    assertThat(batch.at("/entry/0/response/status").asText()).startsWith("403");
  }

  @Test
  void aWiderBinaryGrantStillNeedsItsContextInThePatientsCompartment() throws Exception {
    // Binary reads are not limited, but reads of the context's type (Patient) are
    TestClient mixed = patientToken("user/Binary.rs patient/Patient.rs", Optional.of(patientA));
    assertThat(mixed.get("fhir/R4/Patient/" + patientB).statusCode()).isEqualTo(404);

    assertThat(mixed.rawBinaryStatus(contextB)).as("the context is a patient this token cannot read").isEqualTo(404);
    assertThat(mixed.get("fhir/R4/Binary/" + contextB + "/$presigned-url").statusCode()).isEqualTo(404);
    assertThat(mixed.rawBinaryStatus(contextA)).isEqualTo(200);
    assertThat(mixed.rawBinaryStatus(photoB)).as("no context: the Binary grant decides").isEqualTo(200);
  }

  @Test
  void aWiderGrantCoversWhatItNames() throws Exception {
    TestClient mixed = patientToken("user/Practitioner.rs patient/*.rs", Optional.of(patientA));
    assertThat(mixed.get("fhir/R4/Practitioner/" + practitioner).statusCode()).isEqualTo(200);
    assertThat(mixed.get("fhir/R4/Observation/" + obsB).statusCode()).isEqualTo(404);
    JsonNode included = ok(mixed.get("fhir/R4/Observation?code=urn:test%7Cshared&_include=Observation:performer"));
    assertThat(entries(included, "include")).containsExactly("Practitioner/" + practitioner);
  }
}
