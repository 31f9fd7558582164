package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Where a write or a read could carry a Binary or a resource across the line between two patients,
 * or tell a token of patient A something of patient B's: moving a resource that keeps a Binary its
 * writer may not read, membership fields that disagree (a record about B that names A as its
 * performer or author is A's to read, not to change, delete or file content under), counts of
 * Binaries a token may not read, a securityContext naming a resource outside the compartment, a
 * deleted Binary, and deletions in type and system history.
 */
class PatientScopeEdgesTest extends PatientScopeFixture {
  /** {@code patient/*.cruds} with patient A as its launch context. */
  private TestClient asA;
  private String patientA;
  private String patientB;

  @BeforeAll
  void start() throws Exception {
    startServer(Map.of());
    patientA = create("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Alpha\"}]}");
    patientB = create("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Bravo\"}]}");
    asA = patientToken("patient/*.cruds", Optional.of(patientA));
  }

  private static String document(String subject, String binary) {
    return "{\"resourceType\":\"DocumentReference\",\"status\":\"current\",\"subject\":{\"reference\":\"Patient/"
        + subject + "\"},\"content\":[{\"attachment\":{\"contentType\":\"text/plain\",\"url\":\"Binary/" + binary
        + "\"}}]}";
  }

  @Test
  void keepingABinaryOneMayNotReadDoesNotMoveItToAnotherPatient() throws Exception {
    String scan = upload(null);
    String doc = create("DocumentReference", document(patientB, scan));
    TestClient writer = new ProjectClients(server).client(PROJECT, "system/DocumentReference.cruds");
    HttpResponse<String> moved = writer.putJson("fhir/R4/DocumentReference/" + doc,
        withId(document(patientA, scan), doc));
    assertThat(moved.statusCode()).as(moved.body()).isEqualTo(400);
    assertThat(json(moved).at("/issue/0/diagnostics").asText())
        .isEqualTo("Attachment.url names Binary/" + scan + ", which does not exist");
    assertThat(ok(seeder.get("fhir/R4/DocumentReference/" + doc)).at("/subject/reference").asText())
        .isEqualTo("Patient/" + patientB);
    assertThat(asA.rawBinaryStatus(scan)).isEqualTo(404);
    // with its patient unchanged, the writer may still change the rest of it
    HttpResponse<String> kept = writer.putJson("fhir/R4/DocumentReference/" + doc,
        withId(document(patientB, scan), doc).replace("\"current\"", "\"superseded\""));
    assertThat(kept.statusCode()).as(kept.body()).isEqualTo(200);
  }

  @Test
  void aBinaryFiledUnderAPatientsBinaryGetsNoShareLinkFromATokenLimitedToThatPatient() throws Exception {
    String scan = upload("Patient/" + patientA);
    String filed = upload("Binary/" + scan);
    TestClient mixed = patientToken("user/Binary.rs patient/Patient.rs", Optional.of(patientA));
    assertThat(mixed.rawBinaryStatus(filed)).isEqualTo(200);
    assertThat(mixed.get("fhir/R4/Binary/" + filed + "/$presigned-url").statusCode()).isEqualTo(200);
    // the link would be judged on its use by the Binaries alone, never by the compartment that
    // scan's Patient context gave: as for scan itself, no share link
    assertThat(mixed.get("fhir/R4/Binary/" + scan + "/$presigned-url?expiresIn=600").statusCode()).isEqualTo(403);
    HttpResponse<String> shared = mixed.get("fhir/R4/Binary/" + filed + "/$presigned-url?expiresIn=600");
    assertThat(shared.statusCode()).as(shared.body()).isEqualTo(403);
    TestClient wider = patientToken("user/Binary.rs user/Patient.rs", Optional.of(patientA));
    assertThat(wider.get("fhir/R4/Binary/" + filed + "/$presigned-url?expiresIn=600").statusCode()).isEqualTo(200);
  }

  private static String observation(String subject, String code, String performer) {
    return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"urn:test\","
        + "\"code\":\"" + code + "\"}]},\"subject\":{\"reference\":\"Patient/" + subject + "\"},"
        + "\"performer\":[{\"reference\":\"Patient/" + performer + "\"}]}";
  }

  @Test
  void aPatientTokenWritesNothingAboutAnotherPatientByNamingItsOwnElsewhere() throws Exception {
    HttpResponse<String> aboutB = asA.postJson("fhir/R4/Observation", observation(patientB, "about-b", patientA));
    assertThat(aboutB.statusCode()).as(aboutB.body()).isEqualTo(403);
    assertThat(ok(seeder.get("fhir/R4/Observation?code=urn:test%7Cabout-b")).get("total").asInt()).isZero();
    String mine = TestClient.createdId(asA.postJson("fhir/R4/Observation", observation(patientA, "own", patientA)));
    HttpResponse<String> moved = asA.putJson("fhir/R4/Observation/" + mine,
        withId(observation(patientB, "own", patientA), mine));
    assertThat(moved.statusCode()).as(moved.body()).isEqualTo(403);
    assertThat(ok(seeder.get("fhir/R4/Observation/" + mine)).at("/subject/reference").asText())
        .isEqualTo("Patient/" + patientA);
  }

  @Test
  void aReferencesIdentifierNeitherKeepsARecordOutOfTheCompartmentNorPutsItIn() throws Exception {
    // Reference.identifier is indexed for subject:identifier; it names no patient of the compartment,
    // so it neither spoils a reference to the patient nor stands in for one
    String withIdentifier = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"own\"},"
        + "\"subject\":{\"reference\":\"Patient/" + patientA + "\",\"identifier\":{\"system\":\"urn:mrn\","
        + "\"value\":\"a-4711\"}}}";
    HttpResponse<String> created = asA.postJson("fhir/R4/Observation", withIdentifier);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String byIdentifierOnly = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"type\":\"Patient\",\"identifier\":{\"value\":\"Patient/" + patientA + "\"}}}";
    HttpResponse<String> outside = asA.postJson("fhir/R4/Observation", byIdentifierOnly);
    assertThat(outside.statusCode()).as(outside.body()).isEqualTo(403);
  }

  @Test
  void aPatientTokenNeitherChangesNorDeletesARecordAboutAnotherPatientThatNamesItsOwnElsewhere() throws Exception {
    // about B, with A as its performer: in A's compartment, so A's app reads it, but not A's to change
    String aboutB = create("Observation", observation(patientB, "performed-by-a", patientA));
    assertThat(asA.get("fhir/R4/Observation/" + aboutB).statusCode()).isEqualTo(200);
    HttpResponse<String> movedToA = asA.putJson("fhir/R4/Observation/" + aboutB,
        withId(observation(patientA, "performed-by-a", patientA), aboutB));
    assertThat(movedToA.statusCode()).as(movedToA.body()).isEqualTo(403);
    String toA = "[{\"op\":\"replace\",\"path\":\"/subject/reference\",\"value\":\"Patient/" + patientA + "\"}]";
    HttpResponse<String> patched = asA.send(asA.request("fhir/R4/Observation/" + aboutB)
        .header("Content-Type", "application/json-patch+json")
        .method("PATCH", HttpRequest.BodyPublishers.ofString(toA)));
    assertThat(patched.statusCode()).as(patched.body()).isEqualTo(403);
    HttpResponse<String> deleted = asA.delete("fhir/R4/Observation/" + aboutB);
    assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(403);
    HttpResponse<String> conditional = asA.send(asA.request("fhir/R4/Observation?code=urn:test%7Cperformed-by-a")
        .DELETE());
    assertThat(conditional.statusCode()).as(conditional.body()).isEqualTo(403);
    JsonNode kept = ok(seeder.get("fhir/R4/Observation/" + aboutB));
    assertThat(kept.at("/subject/reference").asText()).isEqualTo("Patient/" + patientB);
    assertThat(kept.at("/meta/versionId").asText()).isEqualTo("1");
    // A's own record, with B as its performer, stays A's to change and delete
    String own = create("Observation", observation(patientA, "own-performed-by-b", patientB));
    assertThat(asA.putJson("fhir/R4/Observation/" + own, withId(observation(patientA, "own-performed-by-b", patientA),
        own)).statusCode()).isEqualTo(200);
    assertThat(asA.delete("fhir/R4/Observation/" + own).statusCode()).isEqualTo(200);
  }

  @Test
  void aPatientTokenPutsNothingIntoAnotherPatientsCompartment() throws Exception {
    // its own patient as subject, another as performer: B's app would read it as B's record
    HttpResponse<String> planted = asA.postJson("fhir/R4/Observation", observation(patientA, "planted", patientB));
    assertThat(planted.statusCode()).as(planted.body()).isEqualTo(403);
    assertThat(ok(seeder.get("fhir/R4/Observation?code=urn:test%7Cplanted")).get("total").asInt()).isZero();
    HttpResponse<String> linked = asA.putJson("fhir/R4/Patient/" + patientA, withId("{\"resourceType\":\"Patient\","
        + "\"link\":[{\"other\":{\"reference\":\"Patient/" + patientB + "\"},\"type\":\"seealso\"}]}", patientA));
    assertThat(linked.statusCode()).as(linked.body()).isEqualTo(403);
    assertThat(ok(seeder.get("fhir/R4/Patient/" + patientA)).has("link")).isFalse();
  }

  @Test
  void aPatientTokenNeitherReplacesNorDeletesTheContentOfARecordAboutAnotherPatient() throws Exception {
    String aboutB = create("Observation", observation(patientB, "scanned-by-a", patientA));
    String filed = upload("Observation/" + aboutB);
    String attached = upload(null);
    create("DocumentReference", document(patientB, attached).replaceFirst("\\{",
        "{\"author\":[{\"reference\":\"Patient/" + patientA + "\"}],"));
    for (String scan : List.of(filed, attached)) {
      assertThat(asA.rawBinaryStatus(scan)).as(scan).isEqualTo(200);
      HttpResponse<String> replaced = asA.send(asA.request("fhir/R4/Binary/" + scan)
          .header("Content-Type", "text/plain").PUT(HttpRequest.BodyPublishers.ofString("replaced by A")));
      assertThat(replaced.statusCode()).as(replaced.body()).isEqualTo(403);
      HttpResponse<String> deleted = asA.delete("fhir/R4/Binary/" + scan);
      assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(403);
      assertThat(seeder.send(seeder.request("fhir/R4/Binary/" + scan).GET()).body()).startsWith("scan of ");
    }
    // nor does attaching it to a record of A's own make it A's
    HttpResponse<String> adopted = asA.postJson("fhir/R4/DocumentReference", document(patientA, attached));
    assertThat(adopted.statusCode()).as(adopted.body()).isEqualTo(400);
    assertThat(asA.delete("fhir/R4/Binary/" + attached).statusCode()).isEqualTo(403);
    // nor does A file content of its own under that record, where B's app would take it for B's
    HttpResponse<String> filedUnderB = uploadResponse(asA, "Observation/" + aboutB, "A's words in B's record");
    assertThat(filedUnderB.statusCode()).as(filedUnderB.body()).isEqualTo(403);
  }

  @Test
  void searchTotalsCountOnlyTheBinariesTheCallerMayRead() throws Exception {
    String contextA = upload("Patient/" + patientA);
    String contextB = upload("Patient/" + patientB);
    // Binary reads are not limited, but reads of the context's type (Patient) are
    TestClient mixed = patientToken("user/Binary.rs patient/Patient.rs", Optional.of(patientA));
    JsonNode hidden = ok(mixed.get("fhir/R4/Binary?_id=" + contextB));
    assertThat(hidden.path("entry")).isEmpty();
    assertThat(hidden.get("total").asInt()).isZero();
    assertThat(ok(mixed.get("fhir/R4/Binary?_id=" + contextB + "&_summary=count")).get("total").asInt()).isZero();
    assertThat(ok(mixed.get("fhir/R4/Binary?_id=" + contextB + "&_total=accurate&_count=0")).get("total").asInt())
        .isZero();
    JsonNode both = ok(mixed.get("fhir/R4/Binary?_id=" + contextA + "," + contextB + "&_total=accurate"));
    assertThat(both.get("total").asInt()).isEqualTo(1);
    assertThat(ok(seeder.get("fhir/R4/Binary?_id=" + contextA + "," + contextB + "&_summary=count")).get("total")
        .asInt()).as("a caller who reads everything").isEqualTo(2);
  }

  private static String binaryJson(String securityContext) {
    return "{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\",\"securityContext\":{\"reference\":\""
        + securityContext + "\"},\"data\":\"aGk=\"}";
  }

  @Test
  void aSecurityContextOutsideTheCompartmentIsRefusedAlikeWhetherItExistsOrNot() throws Exception {
    for (String ctx : List.of("Patient/" + patientB, "Patient/never-was")) {
      HttpResponse<String> r = asA.postJson("fhir/R4/Binary", binaryJson(ctx));
      assertThat(r.statusCode()).as(ctx + ": " + r.body()).isEqualTo(403);
    }
    String entries = "";
    for (String ctx : List.of("Patient/" + patientB, "Patient/never-was")) {
      entries += (entries.isEmpty() ? "" : ",") + "{\"resource\":" + binaryJson(ctx)
          + ",\"request\":{\"method\":\"POST\",\"url\":\"Binary\"}}";
    }
    JsonNode batch = ok(asA.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        + entries + "]}"));
    assertThat(batch.at("/entry/0/response/status").asText()).startsWith("403");
    assertThat(batch.at("/entry/1/response/status").asText()).startsWith("403");
    // a caller without the limit still learns that a context does not exist
    assertThat(seeder.postJson("fhir/R4/Binary", binaryJson("Patient/never-was")).statusCode()).isEqualTo(400);
  }

  private static final String DOC = "urn:uuid:5b1f3c2e-7a4d-4e8b-9c6f-1d2e3f4a5b02";

  /** A transaction: a Binary with {@code context}, and a DocumentReference about {@code subject} attaching it. */
  private static String binaryWithItsDocument(String context, String subject) {
    String binary = "urn:uuid:5b1f3c2e-7a4d-4e8b-9c6f-1d2e3f4a5b01";
    String doc = DOC;
    return "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        + "{\"fullUrl\":\"" + binary + "\",\"resource\":" + binaryJson(context)
        + ",\"request\":{\"method\":\"POST\",\"url\":\"Binary\"}},"
        + "{\"fullUrl\":\"" + doc + "\",\"resource\":{\"resourceType\":\"DocumentReference\",\"status\":\"current\","
        + "\"subject\":{\"reference\":\"Patient/" + subject + "\"},\"content\":[{\"attachment\":{\"url\":\""
        + binary + "\"}}]},\"request\":{\"method\":\"POST\",\"url\":\"DocumentReference\"}}]}";
  }

  @Test
  void aTransactionAttachesABinaryWhoseContextIsTheResourceAttachingIt() throws Exception {
    JsonNode entries = ok(asA.postJson("fhir/R4", binaryWithItsDocument(DOC, patientA))).get("entry");
    String binaryId = entries.get(0).at("/resource/id").asText();
    String docId = entries.get(1).at("/resource/id").asText();
    assertThat(entries.get(0).at("/resource/securityContext/reference").asText())
        .isEqualTo("DocumentReference/" + docId);
    assertThat(ok(asA.get("fhir/R4/DocumentReference/" + docId)).at("/content/0/attachment/size").asInt())
        .isEqualTo(2);
    assertThat(asA.rawBinaryStatus(binaryId)).isEqualTo(200);
    // the compartment still holds: a document about patient B is refused, and nothing is written
    HttpResponse<String> aboutB = asA.postJson("fhir/R4", binaryWithItsDocument(DOC, patientB));
    assertThat(aboutB.statusCode()).as(aboutB.body()).isEqualTo(403);
    // a writer whose Binary creates are not limited may create one of patient B's, but not attach it here
    TestClient wide = patientToken("system/Binary.c system/Patient.rs patient/DocumentReference.cruds",
        Optional.of(patientA));
    HttpResponse<String> elsewhere = wide.postJson("fhir/R4", binaryWithItsDocument("Patient/" + patientB, patientA));
    assertThat(elsewhere.statusCode()).as(elsewhere.body()).isEqualTo(400);
    assertThat(json(elsewhere).at("/issue/0/diagnostics").asText()).startsWith("Bundle.entry[1]: Attachment.url names Binary/")
        .endsWith(", which does not exist");
    // and one that may not read Patients files nothing under one
    TestClient blind = patientToken("system/Binary.c patient/DocumentReference.cruds", Optional.of(patientA));
    HttpResponse<String> unread = blind.postJson("fhir/R4", binaryWithItsDocument("Patient/" + patientB, patientA));
    assertThat(unread.statusCode()).as(unread.body()).isEqualTo(403);
    assertThat(json(unread).at("/issue/0/diagnostics").asText()).startsWith("Bundle.entry[0]: Binary.securityContext"
        + " names a resource of type Patient, which the access token may not read");
  }

  @Test
  void aDeletedBinaryTellsNoMoreThanItDidBeforeItsDeletion() throws Exception {
    String deletedA = upload("Patient/" + patientA);
    String deletedB = upload("Patient/" + patientB);
    for (String gone : List.of(deletedA, deletedB)) {
      assertThat(seeder.delete("fhir/R4/Binary/" + gone).statusCode()).isEqualTo(200);
    }
    // Binary reads are not limited, but reads of the context's type (Patient) are
    TestClient mixed = patientToken("user/Binary.rs patient/Patient.rs", Optional.of(patientA));
    assertThat(mixed.rawBinaryStatus(deletedB)).isEqualTo(404);
    assertThat(mixed.rawBinaryStatus("never-was")).isEqualTo(404);
    HttpResponse<String> presigned = mixed.get("fhir/R4/Binary/" + deletedB + "/$presigned-url");
    assertThat(presigned.statusCode()).as(presigned.body()).isEqualTo(404);
    assertThat(json(presigned).at("/issue/0/diagnostics").asText()).isEqualTo("Binary/" + deletedB + " is not known");
    assertThat(mixed.send(mixed.request("fhir/R4/Binary/" + deletedB).header("Accept", "application/fhir+json")
        .GET()).statusCode()).isEqualTo(404);
    JsonNode batch = ok(mixed.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        + "{\"request\":{\"method\":\"GET\",\"url\":\"Binary/" + deletedB + "\"}}]}"));
    assertThat(batch.at("/entry/0/response/status").asText()).startsWith("404");
    // the patient's own deletion is told as usual
    assertThat(mixed.rawBinaryStatus(deletedA)).isEqualTo(410);
    assertThat(mixed.get("fhir/R4/Binary/" + deletedA + "/$presigned-url").statusCode()).isEqualTo(410);
    assertThat(seeder.rawBinaryStatus(deletedB)).as("a caller who may read it").isEqualTo(410);
  }

  /** {@code Type/id@version request.method} of each entry of a history Bundle. */
  private static List<String> versions(JsonNode history) {
    List<String> out = new ArrayList<>();
    for (JsonNode e : history.path("entry")) {
      String url = e.path("fullUrl").asText();
      out.add(url.substring(url.indexOf("/R4/") + 4) + "@" + e.at("/response/etag").asText() + " "
          + e.at("/request/method").asText());
    }
    return out;
  }

  @Test
  void historyListsTheDeletionOfAResourceThatWasInTheCompartmentAndNothingOfAnothersDeletion() throws Exception {
    String mine = create("Observation", observation(patientA, "deleted-mine", patientA));
    String theirs = create("Observation", observation(patientB, "deleted-theirs", patientB));
    TestClient observations = patientToken("patient/Observation.rs", Optional.of(patientA));
    String typeHistory = "fhir/R4/Observation/_history?_count=100";
    assertThat(versions(ok(observations.get(typeHistory)))).contains("Observation/" + mine + "@W/\"1\" POST")
        .noneMatch(v -> v.contains(theirs));
    for (String gone : List.of(mine, theirs)) {
      assertThat(seeder.delete("fhir/R4/Observation/" + gone).statusCode()).isEqualTo(200);
    }
    // a client that syncs with _since learns of the deletion; the other patient's tells it nothing
    for (HttpResponse<String> r : List.of(observations.get(typeHistory), asA.get("fhir/R4/_history?_count=100"))) {
      List<String> seen = versions(ok(r));
      assertThat(seen).as(r.uri().toString()).contains("Observation/" + mine + "@W/\"1\" POST",
          "Observation/" + mine + "@W/\"2\" DELETE").noneMatch(v -> v.contains(theirs));
    }
  }

  /**
   * A compartment search other than the Patient compartment is a type search with one more
   * criterion: a patient token still finds only what its patient's compartment holds.
   */
  @Test
  void aPatientTokensSearchInAnotherCompartmentStaysInItsPatientsCompartment() throws Exception {
    String visit = create("Encounter", "{\"resourceType\":\"Encounter\",\"status\":\"finished\",\"class\":"
        + "{\"code\":\"AMB\"},\"subject\":{\"reference\":\"Patient/" + patientA + "\"}}");
    String doctor = create("Practitioner", "{\"resourceType\":\"Practitioner\"}");
    String visitA = create("Observation", observation(patientA, "visit", patientA)
        .replaceFirst("\\{", "{\"encounter\":{\"reference\":\"Encounter/" + visit + "\"},"));
    String visitB = create("Observation", observation(patientB, "visit", patientB)
        .replaceFirst("\\{", "{\"encounter\":{\"reference\":\"Encounter/" + visit + "\"},"));
    String byDoctorA = create("Observation", observation(patientA, "doc", patientA).replace("\"Patient/" + patientA
        + "\"}]", "\"Practitioner/" + doctor + "\"}]"));
    String byDoctorB = create("Observation", observation(patientB, "doc", patientB).replace("\"Patient/" + patientB
        + "\"}]", "\"Practitioner/" + doctor + "\"}]"));
    TestClient wide = new ProjectClients(server).client(PROJECT, "system/Observation.rs");
    assertThat(wide.foundIds("Encounter/" + visit + "/Observation")).containsExactlyInAnyOrder(visitA, visitB);
    assertThat(wide.foundIds("Practitioner/" + doctor + "/Observation"))
        .containsExactlyInAnyOrder(byDoctorA, byDoctorB);

    JsonNode inVisit = ok(asA.get("fhir/R4/Encounter/" + visit + "/Observation"));
    assertThat(inVisit.get("total").asInt()).isEqualTo(1);
    assertThat(inVisit.at("/entry/0/resource/id").asText()).isEqualTo(visitA);
    JsonNode byDoctor = ok(asA.get("fhir/R4/Practitioner/" + doctor + "/Observation"));
    assertThat(byDoctor.get("total").asInt()).isEqualTo(1);
    assertThat(byDoctor.at("/entry/0/resource/id").asText()).isEqualTo(byDoctorA);
    // a type outside the token's compartment stays 403, as its type search is
    assertThat(asA.get("fhir/R4/Practitioner/" + doctor + "/Practitioner").statusCode()).isEqualTo(403);

    // every type: those the token may search, each held to its patient's compartment
    assertThat(wide.foundIds("Encounter/" + visit + "/*")).containsExactlyInAnyOrder(visitA, visitB);
    assertThat(asA.foundIds("Encounter/" + visit + "/*")).containsExactlyInAnyOrder(visit, visitA);
    assertThat(asA.foundIds("Practitioner/" + doctor + "/*")).containsExactly(byDoctorA);
  }
  /**
   * Medplum's upload URL for a Binary with no securityContext, asked for by a token whose Binary
   * writes are limited to its patient: the new version is filed under that patient, as a raw
   * {@code PUT} of the same token files it, so no other patient's reader reaches the bytes.
   */
  @Test
  void aPatientTokensUploadUrlFilesTheNewVersionUnderItsPatient() throws Exception {
    String scan = upload(null);
    create("DocumentReference", document(patientA, scan));
    HttpResponse<String> issued = asA.get("fhir/R4/Binary/" + scan + "/$presigned-url?upload=true");
    String url = ok(issued).at("/parameter/0/valueUri").asText();

    HttpResponse<String> put = asA.http().send(HttpRequest.newBuilder(URI.create(url))
        .header("Content-Type", "text/plain").PUT(HttpRequest.BodyPublishers.ofString("new scan of A")).build(),
        HttpResponse.BodyHandlers.ofString());

    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    JsonNode stored = ok(seeder.send(seeder.request("fhir/R4/Binary/" + scan)
        .header("Accept", "application/fhir+json")));
    assertThat(stored.at("/meta/versionId").asText()).isEqualTo("2");
    assertThat(stored.at("/securityContext/reference").asText()).isEqualTo("Patient/" + patientA);
  }
}
