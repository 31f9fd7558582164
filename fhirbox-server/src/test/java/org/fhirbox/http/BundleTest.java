package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Batch and transaction Bundles at the base (FHIR R4 http().html#transaction). */
class BundleTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  static TestClient http() {
    return fhirbox.http();
  }

  static int patientCount() {
    return http().parse(http().get("fhir/R4/Patient?_summary=count"), Bundle.class).getTotal();
  }

  private static String reads(String type, String url, int entries) {
    String entry = "{\"request\":{\"method\":\"GET\",\"url\":\"" + url + "\"}}";
    return "{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":["
        + String.join(",", Collections.nCopies(entries, entry)) + "]}";
  }

  @Test
  void aBatchOrTransactionOfMoreThanAThousandEntriesIs413BeforeAnyEntryRuns() {
    int before = patientCount();
    String id = TestClient.createdId(http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    for (String type : List.of("batch", "transaction")) {
      HttpResponse<String> r = http().postJson("fhir/R4", reads(type, "Patient/" + id, 1001));
      assertThat(r.statusCode()).as(r.body()).isEqualTo(413);
      assertThat(http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
          .contains("1001 entries").contains("FHIRBOX_BUNDLE_MAX_ENTRIES").contains("at most 1000");
    }
    // a transaction whose first entry would create a Patient created none
    String create = "{\"request\":{\"method\":\"POST\",\"url\":\"Patient\"},"
        + "\"resource\":{\"resourceType\":\"Patient\"}}";
    String tx = reads("transaction", "Patient/" + id, 1000).replace("\"entry\":[", "\"entry\":[" + create + ",");
    assertThat(http().postJson("fhir/R4", tx).statusCode()).isEqualTo(413);
    assertThat(patientCount()).isEqualTo(before + 1);

    HttpResponse<String> thousand = http().postJson("fhir/R4", reads("batch", "Patient/" + id, 1000));
    assertThat(thousand.statusCode()).as(thousand.body()).isEqualTo(200);
    assertThat(http().parse(thousand, Bundle.class).getEntry()).hasSize(1000)
        .allMatch(e -> e.getResponse().getStatus().startsWith("200"));
  }

  @Test
  void transactionResolvesConditionalReferencesToTheirOneMatchOrFails412() {
    String patient = TestClient.createdId(http().postJson("fhir/R4/Patient",
        "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:cref\",\"value\":\"4711\"}]}"));
    for (int i = 0; i < 2; i++) {
      http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:cref\","
          + "\"value\":\"twin\"}]}");
    }
    String tx = """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Observation","status":"final","code":{"text":"cref"},
             "subject":{"reference":"Patient?identifier=urn:cref|%s"}},
           "request":{"method":"POST","url":"Observation"}}]}""";
    HttpResponse<String> r = http().postJson("fhir/R4", tx.formatted("4711"));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    String obsId = http().parse(r, Bundle.class).getEntryFirstRep().getResponse().getLocation().split("/")[1];
    assertThat(http().parse(http().get("fhir/R4/Observation/" + obsId), Observation.class).getSubject().getReference())
        .isEqualTo("Patient/" + patient);
    assertThat(http().parse(http().get("fhir/R4/Observation?subject=Patient/" + patient), Bundle.class).getEntry())
        .extracting(e -> e.getResource().getIdElement().getIdPart()).containsExactly(obsId);
    int observations = http().parse(http().get("fhir/R4/Observation?_summary=count"), Bundle.class).getTotal();
    for (String value : List.of("nobody", "twin")) {
      HttpResponse<String> failed = http().postJson("fhir/R4", tx.formatted(value));
      assertThat(failed.statusCode()).as(failed.body()).isEqualTo(412);
      assertThat(http().parse(failed, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
          .contains("Patient?identifier=urn:cref|" + value);
    }
    assertThat(http().parse(http().get("fhir/R4/Observation?_summary=count"), Bundle.class).getTotal())
        .isEqualTo(observations);
  }

  /**
   * FHIR R4 http.html#trules: a transaction replaces a fullUrl wherever the Bundle names it, in
   * references and also in elements of type uri and url and in the narrative's links.
   */
  @Test
  void transactionResolvesUrnUuidsInUrisAndNarrativeLinks() {
    String tx = """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"fullUrl":"urn:uuid:71111111-1111-1111-1111-111111111111","resource":{"resourceType":"Patient"},
           "request":{"method":"POST","url":"Patient"}},
          {"resource":{"resourceType":"Observation","status":"final","code":{"text":"uris"},
             "text":{"status":"generated","div":"<div xmlns=\\"http://www.w3.org/1999/xhtml\\"><a href=\\"urn:uuid:71111111-1111-1111-1111-111111111111\\">the patient</a></div>"},
             "extension":[{"url":"http://example.org/about","valueUri":"urn:uuid:71111111-1111-1111-1111-111111111111"}],
             "subject":{"reference":"urn:uuid:71111111-1111-1111-1111-111111111111"}},
           "request":{"method":"POST","url":"Observation"}}]}""";
    HttpResponse<String> r = http().postJson("fhir/R4", tx);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Bundle out = http().parse(r, Bundle.class);
    String patient = out.getEntry().get(0).getResponse().getLocation().split("/_history")[0];
    String obs = out.getEntry().get(1).getResponse().getLocation().split("/_history")[0];
    Observation stored = http().parse(http().get("fhir/R4/" + obs), Observation.class);
    assertThat(stored.getSubject().getReference()).isEqualTo(patient);
    assertThat(stored.getExtensionByUrl("http://example.org/about").getValue().primitiveValue()).isEqualTo(patient);
    assertThat(stored.getText().getDivAsString()).contains("href=\"" + patient + "\"").doesNotContain("urn:uuid");
  }

  @Test
  void transactionResolvesUrnUuidReferencesIncludingAttachmentUrls() {
    String data = Base64.getEncoder().encodeToString("a photo".getBytes());
    String tx = """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"fullUrl":"urn:uuid:11111111-1111-1111-1111-111111111111",
           "resource":{"resourceType":"Binary","contentType":"image/jpeg","data":"%s"},
           "request":{"method":"POST","url":"Binary"}},
          {"fullUrl":"urn:uuid:22222222-2222-2222-2222-222222222222",
           "resource":{"resourceType":"Patient","photo":[{"url":"urn:uuid:11111111-1111-1111-1111-111111111111"}]},
           "request":{"method":"POST","url":"Patient"}},
          {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
             "subject":{"reference":"urn:uuid:22222222-2222-2222-2222-222222222222"}},
           "request":{"method":"POST","url":"Observation"}}
        ]}""".formatted(data);
    HttpResponse<String> r = http().postJson("fhir/R4", tx);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Bundle out = http().parse(r, Bundle.class);
    assertThat(out.getType()).isEqualTo(Bundle.BundleType.TRANSACTIONRESPONSE);
    assertThat(out.getEntry()).hasSize(3).allMatch(e -> e.getResponse().getStatus().startsWith("201"));
    String binaryId = out.getEntry().get(0).getResponse().getLocation().split("/")[1];
    String patientLoc = out.getEntry().get(1).getResponse().getLocation();
    String patientId = patientLoc.split("/")[1];

    Patient p = http().parse(http().get("fhir/R4/Patient/" + patientId), Patient.class);
    assertThat(p.getPhotoFirstRep().getUrl()).contains("/storage/" + binaryId + "/1?");
    assertThat(p.getPhotoFirstRep().getSize()).isEqualTo(7);
    String obsId = out.getEntry().get(2).getResponse().getLocation().split("/")[1];
    Observation o = http().parse(http().get("fhir/R4/Observation/" + obsId), Observation.class);
    assertThat(o.getSubject().getReference()).isEqualTo("Patient/" + patientId);
  }

  @Test
  void attachmentMayNameABinaryListedAfterItOrOneTheTransactionPuts() {
    String binary = """
        {"fullUrl":"urn:uuid:44444444-4444-4444-4444-44444444444%1$s",
         "resource":{"resourceType":"Binary","contentType":"image/png","data":"%2$s"},
         "request":{"method":"POST","url":"Binary"}}""";
    String patient = """
        {"resource":{"resourceType":"Patient","photo":[{"url":"%s"}]},"request":{"method":"POST","url":"Patient"}}""";
    String data = Base64.getEncoder().encodeToString("png".getBytes());
    String putBinary = """
        {"resource":{"resourceType":"Binary","id":"put-photo-1","contentType":"image/png","data":"%s"},
         "request":{"method":"PUT","url":"Binary/put-photo-1"}}""".formatted(data);
    String urn = "urn:uuid:44444444-4444-4444-4444-44444444444";
    for (String entries : List.of(binary.formatted("1", data) + "," + patient.formatted(urn + "1"),
        patient.formatted(urn + "2") + "," + binary.formatted("2", data),
        patient.formatted("Binary/put-photo-1") + "," + putBinary)) {
      HttpResponse<String> r = http().postJson("fhir/R4",
          "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" + entries + "]}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      Bundle out = http().parse(r, Bundle.class);
      int p = entries.startsWith("{\"resource\":{\"resourceType\":\"Patient\"") ? 0 : 1;
      String binaryId = out.getEntry().get(1 - p).getResponse().getLocation().split("/")[1];
      String patientId = out.getEntry().get(p).getResponse().getLocation().split("/")[1];
      assertThat(http().parse(http().get("fhir/R4/Patient/" + patientId), Patient.class).getPhotoFirstRep().getUrl())
          .contains("/storage/" + binaryId + "/1?");
    }
  }

  @Test
  void aWriterWithoutBinaryReadMayAttachABinaryTheTransactionCreatesByPut() {
    ProjectClients clients = new ProjectClients(fhirbox.server());
    TestClient writer = clients.client("put-created", "system/Binary.cus system/Patient.cu");
    TestClient reader = clients.client("put-created", "system/*.rs");
    String data = Base64.getEncoder().encodeToString("png".getBytes());
    String urn = "urn:uuid:55555555-5555-4555-8555-555555555555";
    String patient = """
        {"resource":{"resourceType":"Patient","photo":[{"url":"%s"}]},"request":{"method":"POST","url":"Patient"}}""";
    String put = """
        {"fullUrl":"%s","resource":{"resourceType":"Binary",%s"contentType":"image/png","data":"%s"},
         "request":{"method":"PUT","url":"%s"}}""";
    String byId = put.formatted(urn, "\"id\":\"put-created-1\",", data, "Binary/put-created-1");
    String conditional = put.formatted(urn, "", data, "Binary?_id=put-created-2");
    for (String binary : List.of(byId, conditional)) {
      HttpResponse<String> r = writer.postJson("fhir/R4", transaction(binary, patient.formatted(urn)));
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      Bundle out = http().parse(r, Bundle.class);
      assertThat(out.getEntry().get(0).getResponse().getStatus()).startsWith("201");
      String patientId = out.getEntry().get(1).getResponse().getLocation().split("/")[1];
      assertThat(reader.parse(reader.get("fhir/R4/Patient/" + patientId), Patient.class).getPhotoFirstRep().getUrl())
          .contains("/storage/" + out.getEntry().get(0).getResponse().getLocation().split("/")[1] + "/1?");
    }
  }

  private static String transaction(String... entries) {
    return "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" + String.join(",", entries) + "]}";
  }

  @Test
  void aBundleAnEntryStoresKeepsItsOwnReferences() throws Exception {
    String p = "urn:uuid:66666666-6666-4666-8666-666666666666";
    String document = """
        {"resourceType":"Bundle","type":"collection","entry":[
          {"fullUrl":"%1$s","resource":{"resourceType":"Patient","name":[{"family":"Inner"}]}},
          {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
            "subject":{"reference":"%1$s"},"performer":[{"reference":"Patient?identifier=urn:none|nobody"}]}}]}"""
        .formatted(p);
    HttpResponse<String> r = http().postJson("fhir/R4", transaction(
        "{\"fullUrl\":\"" + p + "\",\"resource\":{\"resourceType\":\"Patient\"},"
            + "\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}",
        "{\"resource\":" + document + ",\"request\":{\"method\":\"POST\",\"url\":\"Bundle\"}}"));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    String location = http().parse(r, Bundle.class).getEntry().get(1).getResponse().getLocation();
    Bundle stored = http().parse(http().get("fhir/R4/" + location.substring(0, location.indexOf("/_history"))),
        Bundle.class);
    assertThat(stored.getEntry().get(0).getFullUrl()).isEqualTo(p);
    Observation inner = (Observation) stored.getEntry().get(1).getResource();
    assertThat(inner.getSubject().getReference()).isEqualTo(p);
    assertThat(inner.getPerformerFirstRep().getReference()).isEqualTo("Patient?identifier=urn:none|nobody");
  }

  @Test
  void fullUrlOfAPutEntryNamesItsResourceAndAUrnUuidNoEntryHasIs400() {
    String urn = "urn:uuid:55555555-5555-5555-5555-555555555555";
    String observation = """
        {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"%s"}},
         "request":{"method":"POST","url":"Observation"}}""";
    String tx = """
        {"resourceType":"Bundle","type":"transaction","entry":[%s,
          {"fullUrl":"%s","resource":{"resourceType":"Patient","id":"put-urn-1"},
           "request":{"method":"PUT","url":"Patient/put-urn-1"}}]}""";
    HttpResponse<String> r = http().postJson("fhir/R4", tx.formatted(observation.formatted(urn), urn));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    String obsId = http().parse(r, Bundle.class).getEntry().get(0).getResponse().getLocation().split("/")[1];
    assertThat(http().parse(http().get("fhir/R4/Observation/" + obsId), Observation.class).getSubject().getReference())
        .isEqualTo("Patient/put-urn-1");

    int before = patientCount();
    String nowhere = "urn:uuid:66666666-6666-6666-6666-666666666666";
    String photo = """
        {"resource":{"resourceType":"Patient","photo":[{"url":"%s"}]},"request":{"method":"POST","url":"Patient"}}""";
    for (String entry : List.of(observation.formatted(nowhere), photo.formatted(nowhere))) {
      HttpResponse<String> bad = http().postJson("fhir/R4", tx.formatted(entry, "urn:uuid:" + UUID.randomUUID()));
      assertThat(bad.statusCode()).as(bad.body()).isEqualTo(400);
      assertThat(http().parse(bad, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains(nowhere);
    }
    assertThat(patientCount()).isEqualTo(before);
  }

  @Test
  void failingTransactionStoresNothing() {
    int before = patientCount();
    String tx = """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Patient","active":true},"request":{"method":"POST","url":"Patient"}},
          {"resource":{"resourceType":"Patient","id":"x1","active":true},
           "request":{"method":"PUT","url":"Patient/x1","ifMatch":"W/\\"9\\""}}
        ]}""";
    HttpResponse<String> r = http().postJson("fhir/R4", tx);
    assertThat(r.statusCode()).isEqualTo(412);
    assertThat(http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .startsWith("Bundle.entry[1]");
    assertThat(patientCount()).isEqualTo(before);
  }

  @Test
  void transactionThatNamesAResourceTwiceIs400AndWritesNothing() {
    String id = TestClient.createdId(http().postJson("fhir/R4/Patient",
        "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:twice\",\"value\":\"1\"}]}"));
    int before = patientCount();
    String put = """
        {"resource":{"resourceType":"Patient","id":"%1$s","active":true},"request":{"method":"PUT","url":"Patient/%1$s"}}""";
    String delete = """
        {"request":{"method":"DELETE","url":"Patient/%s"}}""".formatted(id);
    String conditional = """
        {"resource":{"resourceType":"Patient"},
         "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:twice|1"}}""";
    String create = """
        {"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}""";
    for (String twice : List.of(put.formatted("twice-new") + "," + put.formatted("twice-new"),
        put.formatted(id) + "," + delete, conditional + "," + delete)) {
      HttpResponse<String> r = http().postJson("fhir/R4",
          "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" + create + "," + twice + "]}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
      assertThat(http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains("both name");
    }
    assertThat(patientCount()).isEqualTo(before);
    assertThat(http().get("fhir/R4/Patient/twice-new").statusCode()).isEqualTo(404);
    assertThat(http().parse(http().get("fhir/R4/Patient/" + id), Patient.class).getMeta().getVersionId()).isEqualTo("1");
  }

  @Test
  void transactionWithTwoEntriesCreatingUnderOneConditionIs400AndCreatesNothing() {
    int before = patientCount();
    String post = """
        {"resource":{"resourceType":"Patient","identifier":[{"system":"urn:dup","value":"9"}]},
         "request":{"method":"POST","url":"Patient","ifNoneExist":"%s"}}""";
    String put = """
        {"resource":{"resourceType":"Patient","identifier":[{"system":"urn:dup","value":"9"}]},
         "request":{"method":"PUT","url":"Patient?%s"}}""";
    for (String twice : List.of(post.formatted("identifier=urn:dup|9") + "," + post.formatted("identifier=urn:dup|9"),
        post.formatted("identifier=urn:dup|9&active=true") + "," + post.formatted("Patient?active=true&identifier=urn:dup|9"),
        post.formatted("identifier=urn:dup|9") + "," + put.formatted("identifier=urn:dup%7C9"))) {
      HttpResponse<String> r = http().postJson("fhir/R4",
          "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" + twice + "]}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
      assertThat(http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
          .contains("Bundle.entry[0] and Bundle.entry[1]", "identifier=urn:dup");
    }
    assertThat(patientCount()).isEqualTo(before);
  }

  @Test
  void transactionDeletingAResourceThatNeverExistedSucceeds() {
    int before = patientCount();
    String tx = """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Patient","active":true},"request":{"method":"POST","url":"Patient"}},
          {"request":{"method":"DELETE","url":"Patient/never-existed-2"}}
        ]}""";
    HttpResponse<String> r = http().postJson("fhir/R4", tx);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(http().parse(r, Bundle.class).getEntry()).extracting(e -> e.getResponse().getStatus().substring(0, 3))
        .containsExactly("201", "200");
    assertThat(patientCount()).isEqualTo(before + 1);
  }

  @Test
  void attachmentToMissingBinaryFailsTheTransaction() {
    int before = patientCount();
    String tx = """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Patient","active":true},"request":{"method":"POST","url":"Patient"}},
          {"resource":{"resourceType":"Patient","photo":[{"url":"Binary/does-not-exist"}]},
           "request":{"method":"POST","url":"Patient"}}
        ]}""";
    HttpResponse<String> r = http().postJson("fhir/R4", tx);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(patientCount()).isEqualTo(before);
  }

  @Test
  void batchReportsEachEntryOnItsOwn() {
    Patient existing = http().parse(http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"), Patient.class);
    String batch = """
        {"resourceType":"Bundle","type":"batch","entry":[
          {"resource":{"resourceType":"Patient","active":true},"request":{"method":"POST","url":"Patient"}},
          {"request":{"method":"GET","url":"Patient/%s"}},
          {"request":{"method":"GET","url":"Patient/nobody-here"}},
          {"request":{"method":"DELETE","url":"Patient/%s"}}
        ]}""".formatted(existing.getIdElement().getIdPart(), existing.getIdElement().getIdPart());
    HttpResponse<String> r = http().postJson("fhir/R4", batch);
    assertThat(r.statusCode()).isEqualTo(200);
    Bundle out = http().parse(r, Bundle.class);
    assertThat(out.getType()).isEqualTo(Bundle.BundleType.BATCHRESPONSE);
    assertThat(out.getEntry()).extracting(e -> e.getResponse().getStatus().substring(0, 3))
        .containsExactly("201", "200", "404", "200");
    assertThat(out.getEntry().get(2).getResponse().getOutcome()).isInstanceOf(OperationOutcome.class);
    assertThat(out.getEntry().get(1).getResource()).isInstanceOf(Patient.class);
  }

  @Test
  void aBatchEntryNamingAUrnUuidIs400ForItselfAlone() {
    String batch = """
        {"resourceType":"Bundle","type":"batch","entry":[
          {"fullUrl":"urn:uuid:44444444-4444-4444-4444-444444444444",
           "resource":{"resourceType":"Patient","name":[{"family":"BatchUrn"}]},"request":{"method":"POST","url":"Patient"}},
          {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
             "subject":{"reference":"urn:uuid:44444444-4444-4444-4444-444444444444"}},
           "request":{"method":"POST","url":"Observation"}}
        ]}""";
    Bundle out = http().parse(http().postJson("fhir/R4", batch), Bundle.class);
    assertThat(out.getEntry()).extracting(e -> e.getResponse().getStatus().substring(0, 3))
        .containsExactly("201", "400");
    assertThat(((OperationOutcome) out.getEntry().get(1).getResponse().getOutcome()).getIssueFirstRep()
        .getDiagnostics()).contains("urn:uuid:44444444-4444-4444-4444-444444444444", "a batch does not resolve");
    assertThat(http().parse(http().get("fhir/R4/Observation?subject=urn:uuid:44444444-4444-4444-4444-444444444444"
        + "&_summary=count"), Bundle.class).getTotal()).isZero();
  }

  @Test
  void transactionConditionalCreateResolvesItsFullUrlToTheMatchAndCreatesOnlyWhatMatchesNothing() {
    HttpResponse<String> made = http().postJson("fhir/R4/Patient",
        "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:bcc\",\"value\":\"1\"}]}");
    String existing = TestClient.createdId(made);
    String tx = """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"fullUrl":"urn:uuid:33333333-3333-3333-3333-333333333333",
           "resource":{"resourceType":"Patient","identifier":[{"system":"urn:bcc","value":"1"}]},
           "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:bcc|1"}},
          {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
             "subject":{"reference":"urn:uuid:33333333-3333-3333-3333-333333333333"}},
           "request":{"method":"POST","url":"Observation"}},
          {"resource":{"resourceType":"Patient","identifier":[{"system":"urn:bcc","value":"2"}]},
           "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:bcc|2"}}
        ]}""";
    HttpResponse<String> r = http().postJson("fhir/R4", tx);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Bundle out = http().parse(r, Bundle.class);
    assertThat(out.getEntry()).extracting(e -> e.getResponse().getStatus().substring(0, 3))
        .containsExactly("200", "201", "201");
    assertThat(out.getEntry().get(0).getResponse().getLocation()).isEqualTo("Patient/" + existing + "/_history/1");
    String obsId = out.getEntry().get(1).getResponse().getLocation().split("/")[1];
    assertThat(http().parse(http().get("fhir/R4/Observation/" + obsId), Observation.class).getSubject().getReference())
        .isEqualTo("Patient/" + existing);
    assertThat(http().parse(http().get("fhir/R4/Patient?identifier=urn:bcc%7C1&_summary=count"), Bundle.class)
        .getTotal()).isEqualTo(1);

    // again as a batch: both now match, and a condition that matches two is 412 for its entry alone
    http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:bcc\","
        + "\"value\":\"2\"}]}");
    String batch = """
        {"resourceType":"Bundle","type":"batch","entry":[
          {"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:bcc|1"}},
          {"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:bcc|2"}}
        ]}""";
    assertThat(http().parse(http().postJson("fhir/R4", batch), Bundle.class).getEntry())
        .extracting(e -> e.getResponse().getStatus().substring(0, 3)).containsExactly("200", "412");
  }

  @Test
  void bundleOfTheWrongTypeIsRejected() {
    HttpResponse<String> r = http().postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"collection\"}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains("batch or transaction");
  }

  @Test
  void ifMatchStarUpdatesOrDeletesAnExistingResourceAnd412sOneThatDoesNotExist() {
    String put = "{\"resourceType\":\"Patient\",\"id\":\"%s\"}";
    HttpResponse<String> absent = http().send(http().request("fhir/R4/Patient/star-none")
        .header("Content-Type", "application/fhir+json").header("If-Match", "*")
        .PUT(java.net.http.HttpRequest.BodyPublishers.ofString(put.formatted("star-none"))));
    assertThat(absent.statusCode()).as(absent.body()).isEqualTo(412);
    assertThat(http().get("fhir/R4/Patient/star-none").statusCode()).isEqualTo(404);
    assertThat(http().send(http().request("fhir/R4/Patient/star-none").header("If-Match", "*").DELETE()).statusCode())
        .isEqualTo(412);

    assertThat(http().putJson("fhir/R4/Patient/star-1", put.formatted("star-1")).statusCode()).isEqualTo(201);
    HttpResponse<String> update = http().send(http().request("fhir/R4/Patient/star-1")
        .header("Content-Type", "application/fhir+json").header("If-Match", "*")
        .PUT(java.net.http.HttpRequest.BodyPublishers.ofString(put.formatted("star-1"))));
    assertThat(update.statusCode()).as(update.body()).isEqualTo(200);
    String batch = """
        {"resourceType":"Bundle","type":"batch","entry":[
          {"request":{"method":"DELETE","url":"Patient/star-1","ifMatch":"*"}},
          {"request":{"method":"DELETE","url":"Patient/star-none","ifMatch":"*"}}]}""";
    Bundle answer = http().parse(http().postJson("fhir/R4", batch), Bundle.class);
    assertThat(answer.getEntry()).extracting(e -> e.getResponse().getStatus().substring(0, 3))
        .containsExactly("200", "412");
    assertThat(http().get("fhir/R4/Patient/star-1").statusCode()).isEqualTo(410);
  }

  @Test
  void ifNoneMatchOnAnEntryIsAPreconditionAsTheHeaderIsOnASingleWrite() {
    String patient = "{\"resourceType\":\"Patient\",\"id\":\"%s\",\"gender\":\"%s\"}";
    assertThat(http().putJson("fhir/R4/Patient/inm-1", patient.formatted("inm-1", "female")).statusCode())
        .isEqualTo(201);
    String batch = """
        {"resourceType":"Bundle","type":"batch","entry":[
          {"resource":%s,"request":{"method":"PUT","url":"Patient/inm-1","ifNoneMatch":"*"}},
          {"resource":%s,"request":{"method":"PUT","url":"Patient/inm-new","ifNoneMatch":"*"}},
          {"resource":%s,"request":{"method":"PUT","url":"Patient/inm-1","ifNoneMatch":"W/\\"1\\""}},
          {"request":{"method":"DELETE","url":"Patient/inm-1","ifNoneMatch":"W/\\"1\\", W/\\"7\\""}}]}"""
        .formatted(patient.formatted("inm-1", "male"), patient.formatted("inm-new", "male"),
            patient.formatted("inm-1", "other"));
    HttpResponse<String> r = http().postJson("fhir/R4", batch);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Bundle answer = http().parse(r, Bundle.class);
    assertThat(answer.getEntry()).extracting(e -> e.getResponse().getStatus().substring(0, 3))
        .containsExactly("412", "201", "412", "412");
    assertThat(answer.getEntry().get(0).getResponse().getOutcome()).isInstanceOf(OperationOutcome.class);
    assertThat(((OperationOutcome) answer.getEntry().get(0).getResponse().getOutcome()).getIssueFirstRep()
        .getDiagnostics()).contains("If-None-Match * does not hold").contains("Patient/inm-1");
    Patient kept = http().parse(http().get("fhir/R4/Patient/inm-1"), Patient.class);
    assertThat(kept.getGender().toCode()).isEqualTo("female");
    assertThat(kept.getMeta().getVersionId()).isEqualTo("1");

    // in a transaction a failed precondition fails the whole Bundle
    String tx = """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":%s,"request":{"method":"PUT","url":"Patient/inm-2","ifNoneMatch":"*"}},
          {"resource":%s,"request":{"method":"PUT","url":"Patient/inm-1","ifNoneMatch":"*"}}]}"""
        .formatted(patient.formatted("inm-2", "male"), patient.formatted("inm-1", "male"));
    HttpResponse<String> failed = http().postJson("fhir/R4", tx);
    assertThat(failed.statusCode()).as(failed.body()).isEqualTo(412);
    assertThat(http().get("fhir/R4/Patient/inm-2").statusCode()).isEqualTo(404);

    // a version list that does not name the current one lets the write through
    String ok = """
        {"resourceType":"Bundle","type":"batch","entry":[
          {"resource":%s,"request":{"method":"PUT","url":"Patient/inm-1","ifNoneMatch":"W/\\"5\\""}}]}"""
        .formatted(patient.formatted("inm-1", "other"));
    assertThat(http().parse(http().postJson("fhir/R4", ok), Bundle.class).getEntryFirstRep().getResponse()
        .getStatus()).startsWith("200");
  }

  @Test
  void ifNoneMatchThatIsNoListOfVersionsOrOnACreateIs400() {
    String patient = "{\"resourceType\":\"Patient\"}";
    for (String request : List.of(
        "{\"method\":\"PUT\",\"url\":\"Patient/inm-bad\",\"ifNoneMatch\":\"version 3\"}",
        "{\"method\":\"POST\",\"url\":\"Patient\",\"ifNoneMatch\":\"*\"}")) {
      String batch = "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"resource\":"
          + patient.replace("}", ",\"id\":\"inm-bad\"}") + ",\"request\":" + request + "}]}";
      Bundle answer = http().parse(http().postJson("fhir/R4", batch), Bundle.class);
      assertThat(answer.getEntryFirstRep().getResponse().getStatus()).as(request).startsWith("400");
      assertThat(((OperationOutcome) answer.getEntryFirstRep().getResponse().getOutcome()).getIssueFirstRep()
          .getDiagnostics()).as(request).contains("ifNoneMatch");
    }
    assertThat(http().get("fhir/R4/Patient/inm-bad").statusCode()).isEqualTo(404);
  }

  /** A Patient of {@code depth} nested extensions: shallow enough as XML, deeper than 1,000 levels as JSON. */
  private static String deepPatientXml(int depth) {
    return "<Patient xmlns=\"http://hl7.org/fhir\">"
        + "<extension url=\"urn:x\">".repeat(depth) + "<valueString value=\"deep\"/>"
        + "</extension>".repeat(depth) + "</Patient>";
  }

  @Test
  void aBatchWithAnEntryTooDeepToStoreIs400BeforeAnyEntryIsStored() {
    // 550 nested extensions are some 1,100 levels of the JSON a resource is stored as, past what
    // Jackson writes: the XML body is refused as a JSON one of that depth is, whole, before any
    // entry runs, rather than an entry failing after the ones before it committed
    int binaries = http().parse(http().get("fhir/R4/Binary?_summary=count"), Bundle.class).getTotal();
    String xml = "<Bundle xmlns=\"http://hl7.org/fhir\"><type value=\"batch\"/>"
        + "<entry><resource><Binary><contentType value=\"text/plain\"/><data value=\"YWJj\"/></Binary></resource>"
        + "<request><method value=\"POST\"/><url value=\"Binary\"/></request></entry>"
        + "<entry><resource>" + deepPatientXml(550) + "</resource>"
        + "<request><method value=\"POST\"/><url value=\"Patient\"/></request></entry></Bundle>";
    HttpResponse<String> r = http().postBytes("fhir/R4", "application/fhir+xml", xml.getBytes());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(r.body()).contains("nesting depth exceeds 1000");
    assertThat(http().parse(http().get("fhir/R4/Binary?_summary=count"), Bundle.class).getTotal())
        .isEqualTo(binaries);
  }


  @Test
  void aBatchEntryWhoseResourceDoesNotParseFailsAloneAndATransactionNamesTheEntry() {
    int before = patientCount();
    String entries = """
        {"request":{"method":"POST","url":"Patient"},"resource":{"resourceType":"Patient","active":true}},
        {"request":{"method":"POST","url":"Patient"},"resource":{"resourceType":"Patient","birthDate":"1980-13-45"}},
        {"request":{"method":"POST","url":"Patient"},"resource":{"resourceType":"Patient","bogus":1}},
        {"request":{"method":"POST","url":"Patient"},"resource":{"resourceType":"Patient","active":"yes"}},
        {"request":{"method":"POST","url":"Patient"},"resource":{"resourceType":"Patient"}}""";
    HttpResponse<String> batch = http().postJson("fhir/R4",
        "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[" + entries + "]}");
    assertThat(batch.statusCode()).as(batch.body()).isEqualTo(200);
    Bundle out = http().parse(batch, Bundle.class);
    assertThat(out.getEntry()).extracting(e -> e.getResponse().getStatus().substring(0, 3))
        .containsExactly("201", "400", "400", "400", "201");
    assertThat(patientCount()).isEqualTo(before + 2);
    for (int i = 1; i <= 3; i++) {
      OperationOutcome.OperationOutcomeIssueComponent issue = ((OperationOutcome) out.getEntry().get(i).getResponse()
          .getOutcome()).getIssueFirstRep();
      assertThat(issue.getDiagnostics()).startsWith("Bundle.entry[" + i + "].resource");
      assertThat(issue.getExpression().get(0).getValue()).startsWith("Bundle.entry[" + i + "].resource");
    }
    assertThat(((OperationOutcome) out.getEntry().get(1).getResponse().getOutcome()).getIssueFirstRep()
        .getDiagnostics()).contains("1980-13-45");
    assertThat(((OperationOutcome) out.getEntry().get(2).getResponse().getOutcome()).getIssueFirstRep()
        .getDiagnostics()).contains("bogus");
    assertThat(((OperationOutcome) out.getEntry().get(3).getResponse().getOutcome()).getIssueFirstRep()
        .getExpression().get(0).getValue()).isEqualTo("Bundle.entry[3].resource.active");

    HttpResponse<String> tx = http().postJson("fhir/R4",
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" + entries + "]}");
    assertThat(tx.statusCode()).as(tx.body()).isEqualTo(400);
    OperationOutcome oo = http().parse(tx, OperationOutcome.class);
    assertThat(oo.getIssue()).extracting(OperationOutcome.OperationOutcomeIssueComponent::getDiagnostics)
        .anyMatch(d -> d.startsWith("Bundle.entry[1].resource") && d.contains("1980-13-45"))
        .anyMatch(d -> d.startsWith("Bundle.entry[2].resource") && d.contains("bogus"));
    assertThat(oo.getIssue()).extracting(i -> i.getExpression().get(0).getValue())
        .allMatch(x -> x.startsWith("Bundle.entry["));
    assertThat(patientCount()).isEqualTo(before + 2);
  }
}
