package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.fhirbox.testing.PageWalk;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A Binary with a securityContext is only as readable as that resource, on every read path:
 * raw, JSON, {@code $presigned-url} and attachment signing.
 */
class SecurityContextTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PROJECT = "guarded";
  private static TestServer server;
  private static ProjectClients clients;
  private static String guarded;
  private static String guardedPatient;
  private static String document;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
    clients = new ProjectClients(server);
    TestClient seeder = clients.client(PROJECT, "system/*.cruds");
    String patient = TestClient.createdId(seeder.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    guardedPatient = patient;
    guarded = upload(seeder, "Patient/" + patient);
    document = TestClient.createdId(seeder.postJson("fhir/R4/DocumentReference", "{\"resourceType\":\"DocumentReference\","
        + "\"status\":\"current\",\"content\":[{\"attachment\":{\"contentType\":\"text/plain\",\"url\":\"Binary/"
        + guarded + "\"}}]}"));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static String upload(TestClient c, String securityContext) throws Exception {
    HttpRequest.Builder b = c.request("fhir/R4/Binary").header("Content-Type", "text/plain");
    if (securityContext != null) {
      b.header("X-Security-Context", securityContext);
    }
    return TestClient.createdId(c.send(b.POST(HttpRequest.BodyPublishers.ofString("lab result", StandardCharsets.UTF_8))));
  }

  private static String attachmentUrl(TestClient c) throws Exception {
    HttpResponse<String> r = c.get("fhir/R4/DocumentReference/" + document);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body()).at("/content/0/attachment/url").asText();
  }

  @Test
  void withoutReadOnTheSecurityContextEveryPathDenies() throws Exception {
    TestClient c = clients.client(PROJECT, "system/Binary.rs system/DocumentReference.rs");
    assertThat(c.rawBinaryStatus(guarded)).isEqualTo(403);
    assertThat(c.sendBytes(c.request("fhir/R4/Binary/" + guarded + "/_history/1").GET()).statusCode()).isEqualTo(403);
    assertThat(c.get("fhir/R4/Binary/" + guarded + "/$presigned-url").statusCode()).isEqualTo(403);
    HttpResponse<String> json = c.get("fhir/R4/Binary/" + guarded);
    assertThat(json.statusCode()).isEqualTo(403);
    assertThat(json.body()).doesNotContain("/storage/");
    assertThat(attachmentUrl(c)).isEqualTo("Binary/" + guarded);
    HttpResponse<String> search = c.get("fhir/R4/DocumentReference?_id=" + document);
    assertThat(search.body()).contains("\"url\":\"Binary/" + guarded + "\"").doesNotContain("/storage/");
  }

  @Test
  void aSecurityContextNamingABinaryNeedsThatBinarysOwnReadAccess() throws Exception {
    TestClient seeder = clients.client(PROJECT, "system/*.cruds");
    String chained = upload(seeder, "Binary/" + guarded);
    TestClient binariesOnly = clients.client(PROJECT, "system/Binary.rs");
    // guarded needs its Patient read: a Binary filed under guarded needs no less
    assertThat(binariesOnly.rawBinaryStatus(guarded)).isEqualTo(403);
    assertThat(binariesOnly.rawBinaryStatus(chained)).isEqualTo(403);
    HttpResponse<String> json = binariesOnly.get("fhir/R4/Binary/" + chained);
    assertThat(json.statusCode()).as(json.body()).isEqualTo(403);
    assertThat(json.body()).doesNotContain("/storage/");
    assertThat(binariesOnly.get("fhir/R4/Binary/" + chained + "/$presigned-url").statusCode()).isEqualTo(403);
    assertThat(binariesOnly.get("fhir/R4/Binary/" + chained + "/$presigned-url?expiresIn=600").statusCode())
        .isEqualTo(403);
    assertThat(binariesOnly.foundIds("Binary?_id=" + chained)).isEmpty();
    assertThat(ids(binariesOnly.get("fhir/R4/Binary/_history"))).doesNotContain(chained);
    TestClient reader = clients.client(PROJECT, "system/Binary.rs system/Patient.rs");
    assertThat(reader.rawBinaryStatus(chained)).isEqualTo(200);
    assertThat(reader.foundIds("Binary?_id=" + chained)).containsExactly(chained);
    // nor is a Binary filed under one its writer may not read: it could not read it back
    TestClient binaryWriter = clients.client(PROJECT, "system/Binary.crus");
    HttpResponse<String> raw = binaryWriter.send(binaryWriter.request("fhir/R4/Binary")
        .header("Content-Type", "text/plain").header("X-Security-Context", "Binary/" + guarded)
        .POST(HttpRequest.BodyPublishers.ofString("filed under guarded")));
    assertThat(raw.statusCode()).as(raw.body()).isEqualTo(403);
    HttpResponse<String> asJson = binaryWriter.postJson("fhir/R4/Binary", "{\"resourceType\":\"Binary\","
        + "\"contentType\":\"text/plain\",\"securityContext\":{\"reference\":\"Binary/" + guarded + "\"},"
        + "\"data\":\"aGVsbG8=\"}");
    assertThat(asJson.statusCode()).as(asJson.body()).isEqualTo(403);
    String open = upload(seeder, null);
    assertThat(binaryWriter.createBinary("fhir/R4/Binary", "text/plain", "Binary/" + open,
        "filed under open".getBytes(StandardCharsets.UTF_8))).isNotBlank();
    // a Binary filed under itself, or a cycle of them, asks for nothing but Binary read
    String self = upload(seeder, null);
    HttpResponse<String> filed = seeder.send(seeder.request("fhir/R4/Binary/" + self)
        .header("Content-Type", "text/plain").header("X-Security-Context", "Binary/" + self)
        .PUT(HttpRequest.BodyPublishers.ofString("v2")));
    assertThat(filed.statusCode()).as(filed.body()).isEqualTo(200);
    assertThat(binariesOnly.rawBinaryStatus(self)).isEqualTo(200);
  }

  @Test
  void aShareLinkOfABinaryFiledUnderABinaryEndsWithTheResourceThatBinaryIsFiledUnder() throws Exception {
    TestClient seeder = clients.client(PROJECT, "system/*.cruds");
    String patient = TestClient.createdId(seeder.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    String chart = upload(seeder, "Patient/" + patient);
    String filed = upload(seeder, "Binary/" + chart);
    String link = JSON.readTree(seeder.get("fhir/R4/Binary/" + filed + "/$presigned-url?expiresIn=86400").body())
        .at("/parameter/0/valueUrl").asText();
    TestClient anonymous = new TestClient(server.baseUrl());
    assertThat(anonymous.get(link).statusCode()).isEqualTo(200);
    assertThat(seeder.delete("fhir/R4/Patient/" + patient).statusCode()).isEqualTo(200);
    assertThat(seeder.rawBinaryStatus(filed)).isEqualTo(403);
    HttpResponse<String> refused = anonymous.get(link);
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(403);
    assertThat(refused.body()).contains("no longer exists").doesNotContain("lab result");
  }

  @Test
  void withReadOnTheSecurityContextEveryPathWorks() throws Exception {
    TestClient c = clients.client(PROJECT, "system/Binary.rs system/DocumentReference.rs system/Patient.rs");
    assertThat(c.rawBinaryStatus(guarded)).isEqualTo(200);
    HttpResponse<String> presigned = c.get("fhir/R4/Binary/" + guarded + "/$presigned-url");
    assertThat(presigned.statusCode()).isEqualTo(200);
    assertThat(presigned.body()).contains(server.baseUrl() + "storage/" + guarded + "/1?");
    JsonNode json = JSON.readTree(c.get("fhir/R4/Binary/" + guarded).body());
    assertThat(json.get("url").asText()).startsWith(server.baseUrl() + "storage/" + guarded + "/1?");
    assertThat(attachmentUrl(c)).startsWith(server.baseUrl() + "storage/" + guarded + "/1?");
  }

  @Test
  void aSignedUrlOneCallerMayHaveIsNeverServedToAnotherWhoMayNot() throws Exception {
    TestClient allowed = clients.client(PROJECT, "system/Binary.rs system/DocumentReference.rs system/Patient.rs");
    TestClient denied = clients.client(PROJECT, "system/Binary.rs system/DocumentReference.rs");
    for (int round = 0; round < 2; round++) {
      assertThat(attachmentUrl(allowed)).startsWith(server.baseUrl() + "storage/" + guarded + "/1?");
      assertThat(attachmentUrl(denied)).isEqualTo("Binary/" + guarded);
    }
  }

  @Test
  void theResponseToAWriteSignsOnlyWhatTheWriterMayRead() throws Exception {
    TestClient seeder = clients.client(PROJECT, "system/*.cruds");
    String open = upload(seeder, null);
    String body = "{\"resourceType\":\"DocumentReference\",\"status\":\"current\",\"content\":["
        + "{\"attachment\":{\"url\":\"Binary/" + guarded + "\"}},{\"attachment\":{\"url\":\"Binary/" + open + "\"}}]}";
    TestClient allowed = clients.client(PROJECT, "system/Binary.rs system/DocumentReference.cruds system/Patient.rs");
    TestClient noContext = clients.client(PROJECT, "system/Binary.rs system/DocumentReference.cruds");
    TestClient noBinary = clients.client(PROJECT, "system/DocumentReference.cruds system/Patient.rs");
    JsonNode a = JSON.readTree(allowed.postJson("fhir/R4/DocumentReference", body).body());
    assertThat(a.at("/content/0/attachment/url").asText()).startsWith(server.baseUrl() + "storage/" + guarded + "/1?");
    assertThat(a.at("/content/1/attachment/url").asText()).startsWith(server.baseUrl() + "storage/" + open + "/1?");
    // a writer may attach only what it may read: else it would learn the Binary's size and hash
    for (TestClient writer : List.of(noContext, noBinary)) {
      HttpResponse<String> refused = writer.postJson("fhir/R4/DocumentReference", body);
      assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
      assertThat(refused.body()).contains("Attachment.url names Binary/", ", which does not exist")
          .doesNotContain("/storage/", "\"hash\"");
    }
    JsonNode b = JSON.readTree(noContext.postJson("fhir/R4/DocumentReference", body.replace(
        "{\"attachment\":{\"url\":\"Binary/" + guarded + "\"}},", "")).body());
    assertThat(b.at("/content/0/attachment/url").asText()).startsWith(server.baseUrl() + "storage/" + open + "/1?");
    // the stored resource names what it named: a reader who may not read it gets no signed URL
    JsonNode stored = JSON.readTree(noContext.get("fhir/R4/DocumentReference/" + a.get("id").asText()).body());
    assertThat(stored.at("/content/0/attachment/url").asText()).isEqualTo("Binary/" + guarded);
    assertThat(stored.at("/content/1/attachment/url").asText()).startsWith(server.baseUrl() + "storage/" + open + "/1?");
  }

  @Test
  void aWriterMayAttachABinaryItCreatesInTheSameTransactionWithoutReadingIt() throws Exception {
    TestClient writeOnly = clients.client(PROJECT, "system/Binary.c system/DocumentReference.c");
    String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        + "{\"fullUrl\":\"urn:uuid:0c3c5a4e-0000-4000-8000-000000000001\",\"resource\":{\"resourceType\":\"Binary\","
        + "\"contentType\":\"text/plain\",\"data\":\"aGVsbG8=\"},\"request\":{\"method\":\"POST\",\"url\":\"Binary\"}},"
        + "{\"resource\":{\"resourceType\":\"DocumentReference\",\"status\":\"current\",\"content\":[{\"attachment\":"
        + "{\"url\":\"urn:uuid:0c3c5a4e-0000-4000-8000-000000000001\"}}]},\"request\":{\"method\":\"POST\","
        + "\"url\":\"DocumentReference\"}}]}";
    HttpResponse<String> r = writeOnly.postJson("fhir/R4", bundle);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    String doc = JSON.readTree(r.body()).at("/entry/1/response/location").asText().split("/")[1];
    JsonNode stored = JSON.readTree(clients.client(PROJECT, "system/*.cruds").get("fhir/R4/DocumentReference/" + doc)
        .body());
    assertThat(stored.at("/content/0/attachment/size").asInt()).isEqualTo(5);
    // the same Binary in a later request is one it may not read
    String binary = JSON.readTree(r.body()).at("/entry/0/response/location").asText().split("/")[1];
    HttpResponse<String> later = writeOnly.postJson("fhir/R4/DocumentReference", "{\"resourceType\":"
        + "\"DocumentReference\",\"status\":\"current\",\"content\":[{\"attachment\":{\"url\":\"Binary/" + binary + "\"}}]}");
    assertThat(later.statusCode()).as(later.body()).isEqualTo(400);
  }

  @Test
  void aBinaryUpdatedWithoutDataKeepsItsBytesOnlyForACallerWhoMayReadThem() throws Exception {
    TestClient seeder = clients.client(PROJECT, "system/*.cruds");
    String binary = upload(seeder, "Patient/" + guardedPatient);
    String noContext = "{\"resourceType\":\"Binary\",\"id\":\"" + binary + "\",\"contentType\":\"text/plain\"}";
    TestClient writer = clients.client(PROJECT, "system/Binary.cruds");

    // dropping the securityContext would hand the writer bytes it may not read
    HttpResponse<String> put = writer.putJson("fhir/R4/Binary/" + binary, noContext);
    assertThat(put.statusCode()).as(put.body()).isEqualTo(403);
    assertThat(put.body()).doesNotContain("/storage/");
    HttpResponse<String> inBundle = writer.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
        + "\"entry\":[{\"resource\":" + noContext + ",\"request\":{\"method\":\"PUT\",\"url\":\"Binary/" + binary
        + "\"}}]}");
    assertThat(inBundle.statusCode()).as(inBundle.body()).isEqualTo(403);
    assertThat(writer.rawBinaryStatus(binary)).isEqualTo(403);
    assertThat(seeder.get("fhir/R4/Binary/" + binary).body()).contains("\"versionId\":\"1\"");

    // one who may read them may change the context, and the bytes stay
    TestClient reader = clients.client(PROJECT, "system/Binary.cruds system/Patient.rs");
    HttpResponse<String> kept = reader.putJson("fhir/R4/Binary/" + binary, noContext);
    assertThat(kept.statusCode()).as(kept.body()).isEqualTo(200);
    HttpResponse<String> raw = writer.send(writer.request("fhir/R4/Binary/" + binary).header("Accept", "*/*").GET());
    assertThat(raw.statusCode()).isEqualTo(200);
    assertThat(raw.body()).isEqualTo("lab result");

    // the kept bytes' new content type passes the same policy as bytes sent with it
    HttpResponse<String> denied = reader.putJson("fhir/R4/Binary/" + binary,
        noContext.replace("text/plain", "application/x-msdownload"));
    assertThat(denied.statusCode()).as(denied.body()).isEqualTo(400);
    assertThat(denied.body()).contains("not accepted");
  }

  @Test
  void aBinaryUpdatedWithoutDataInABundleKeepsItsBytes() throws Exception {
    TestClient admin = clients.client(PROJECT, "system/*.cruds");
    String binary = upload(admin, null);
    String entry = "{\"resource\":{\"resourceType\":\"Binary\",\"id\":\"" + binary + "\",\"contentType\":"
        + "\"text/markdown\"},\"request\":{\"method\":\"PUT\",\"url\":\"Binary/" + binary + "\"}}";
    for (String type : new String[] {"transaction", "batch"}) {
      HttpResponse<String> r = admin.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"" + type
          + "\",\"entry\":[" + entry + "]}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(r.body()).contains("200 OK");
      HttpResponse<String> raw = admin.send(admin.request("fhir/R4/Binary/" + binary).header("Accept", "*/*").GET());
      assertThat(raw.body()).as(type).isEqualTo("lab result");
      assertThat(raw.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/markdown"));
    }
  }

  @Test
  void securityContextPointingAtADeletedResourceDenies() throws Exception {
    TestClient admin = clients.client(PROJECT, "system/*.cruds");
    String patient = TestClient.createdId(admin.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    String binary = upload(admin, "Patient/" + patient);
    assertThat(admin.rawBinaryStatus(binary)).isEqualTo(200);
    assertThat(admin.delete("fhir/R4/Patient/" + patient).statusCode()).isEqualTo(200);
    assertThat(admin.rawBinaryStatus(binary)).isEqualTo(403);
    assertThat(admin.get("fhir/R4/Binary/" + binary + "/$presigned-url").statusCode()).isEqualTo(403);
    assertThat(admin.get("fhir/R4/Binary/" + binary).statusCode()).isEqualTo(403);
  }

  /** The status of each write path given {@code securityContext}, with its OperationOutcome diagnostics. */
  private static Map<String, String> writeOutcomes(TestClient c, String securityContext) throws Exception {
    Map<String, String> out = new LinkedHashMap<>();
    String existing = upload(c, null);
    String json = "{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\",\"securityContext\":{\"reference\":\""
        + securityContext + "\"},\"data\":\"aGk=\"}";
    String xml = "<Binary xmlns=\"http://hl7.org/fhir\"><contentType value=\"text/plain\"/><securityContext>"
        + "<reference value=\"" + securityContext + "\"/></securityContext><data value=\"aGk=\"/></Binary>";
    String entry = "{\"fullUrl\":\"urn:uuid:7d1c3f42-0c57-4a55-9a7e-4f4c1e3c2a11\",\"resource\":" + json
        + ",\"request\":{\"method\":\"POST\",\"url\":\"Binary\"}}";
    record Call(String name, HttpRequest.Builder request) {}
    for (Call call : List.of(
        new Call("raw POST", c.request("fhir/R4/Binary").header("Content-Type", "text/plain")
            .header("X-Security-Context", securityContext).POST(HttpRequest.BodyPublishers.ofString("hi"))),
        new Call("raw PUT", c.request("fhir/R4/Binary/" + existing).header("Content-Type", "text/plain")
            .header("X-Security-Context", securityContext).PUT(HttpRequest.BodyPublishers.ofString("hi"))),
        new Call("JSON POST", c.request("fhir/R4/Binary").header("Content-Type", "application/fhir+json")
            .POST(HttpRequest.BodyPublishers.ofString(json))),
        new Call("JSON PUT", c.request("fhir/R4/Binary/" + existing).header("Content-Type", "application/fhir+json")
            .PUT(HttpRequest.BodyPublishers.ofString(json.replace("{\"resourceType\":\"Binary\",",
                "{\"resourceType\":\"Binary\",\"id\":\"" + existing + "\",")))),
        new Call("XML POST", c.request("fhir/R4/Binary").header("Content-Type", "application/fhir+xml")
            .header("Accept", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(xml))),
        new Call("transaction", c.request("fhir/R4").header("Content-Type", "application/fhir+json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
                + "\"entry\":[" + entry + "]}"))))) {
      HttpResponse<String> r = c.send(call.request());
      JsonNode body = JSON.readTree(r.body());
      out.put(call.name(), r.statusCode() + " " + body.at("/issue/0/diagnostics").asText());
    }
    HttpResponse<String> batch = c.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        + entry + "]}");
    JsonNode e = JSON.readTree(batch.body()).at("/entry/0/response");
    out.put("batch entry", batch.statusCode() != 200 ? batch.statusCode() + " " + batch.body()
        : e.get("status").asText().substring(0, 3) + " " + e.at("/outcome/issue/0/diagnostics").asText());
    return out;
  }

  @ParameterizedTest
  @ValueSource(strings = {"Patient/never-created", "../../x", "Nope/1",
      "Patient/1/_history/1", "http://elsewhere.example/fhir/Patient/1", "#contained", "Patient/", "patient/1"})
  void aSecurityContextNamingNoResourceOfTheProjectIsRefusedOnEveryWritePath(String securityContext)
      throws Exception {
    TestClient admin = clients.client(PROJECT, "system/*.cruds");
    assertThat(writeOutcomes(admin, securityContext)).allSatisfy((path, outcome) -> assertThat(outcome).as(path)
        .startsWith("400 ").containsAnyOf("securityContext", "Security-Context", "'" + securityContext + "'"));
  }

  @Test
  void aSecurityContextInAnotherProjectOrDeletedIsRefused() throws Exception {
    TestClient admin = clients.client(PROJECT, "system/*.cruds");
    TestClient other = clients.client("guarded-elsewhere", "system/*.cruds");
    String foreign = TestClient.createdId(other.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    String gone = TestClient.createdId(admin.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    assertThat(admin.delete("fhir/R4/Patient/" + gone).statusCode()).isEqualTo(200);
    for (String ctx : List.of("Patient/" + foreign, "Patient/" + gone)) {
      assertThat(writeOutcomes(admin, ctx)).allSatisfy((path, outcome) -> assertThat(outcome).as(path + " " + ctx)
          .startsWith("400 ").contains("does not exist"));
    }
    String live = TestClient.createdId(admin.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    assertThat(writeOutcomes(admin, "Patient/" + live)).allSatisfy((path, outcome) -> assertThat(outcome).as(path)
        .matches("20[01] .*"));
  }

  @Test
  void aWriterThatMayNotReadTheNamedTypeIsRefusedAlikeWhetherTheResourceExists() throws Exception {
    // a scanner that files content: may write Binaries, may read nothing
    TestClient writer = clients.client(PROJECT, "system/Binary.cruds");
    Map<String, String> present = writeOutcomes(writer, "Patient/" + guardedPatient);
    assertThat(present).allSatisfy((path, outcome) -> assertThat(outcome).as(path)
        .startsWith("403 ").contains("Patient").doesNotContain(guardedPatient));
    // the answer tells nothing of which ids exist
    assertThat(writeOutcomes(writer, "Patient/never-created")).isEqualTo(present);
    TestClient auditReader = clients.client(PROJECT, "system/Binary.cruds system/Patient.rs");
    assertThat(writeOutcomes(auditReader, "AuditEvent/never-created")).allSatisfy((path, outcome) ->
        assertThat(outcome).as(path).startsWith("403 ").contains("AuditEvent"));
    // one that may read the type files its content there as before
    assertThat(writeOutcomes(auditReader, "Patient/" + guardedPatient)).allSatisfy((path, outcome) ->
        assertThat(outcome).as(path).matches("20[01] .*"));
  }

  @Test
  void aTransactionMayNameAResourceItCreatesAfterTheBinary() throws Exception {
    TestClient admin = clients.client("guarded-transaction", "system/*.cruds");
    String binary = "urn:uuid:0e0c9b8e-5d8f-4f57-9a4e-2a0f9f6c0b01";
    String doc = "urn:uuid:0e0c9b8e-5d8f-4f57-9a4e-2a0f9f6c0b02";
    String tx = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        + "{\"fullUrl\":\"" + binary + "\",\"resource\":{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\","
        + "\"securityContext\":{\"reference\":\"" + doc + "\"},\"data\":\"aGk=\"},"
        + "\"request\":{\"method\":\"POST\",\"url\":\"Binary\"}},"
        + "{\"fullUrl\":\"" + doc + "\",\"resource\":{\"resourceType\":\"DocumentReference\",\"status\":\"current\","
        + "\"content\":[{\"attachment\":{\"url\":\"" + binary + "\"}}]},"
        + "\"request\":{\"method\":\"POST\",\"url\":\"DocumentReference\"}}]}";
    HttpResponse<String> r = admin.postJson("fhir/R4", tx);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode entries = JSON.readTree(r.body()).get("entry");
    String binaryId = entries.get(0).at("/resource/id").asText();
    String docId = entries.get(1).at("/resource/id").asText();
    assertThat(entries.get(0).at("/resource/securityContext/reference").asText()).isEqualTo("DocumentReference/" + docId);
    assertThat(admin.rawBinaryStatus(binaryId)).isEqualTo(200);
    TestClient noDocs = clients.client("guarded-transaction", "system/Binary.rs");
    assertThat(noDocs.rawBinaryStatus(binaryId)).isEqualTo(403);
  }
  private static String getBundle(String type, String... urls) {
    StringBuilder b = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":[");
    for (int i = 0; i < urls.length; i++) {
      b.append(i == 0 ? "" : ",").append("{\"request\":{\"method\":\"GET\",\"url\":\"").append(urls[i]).append("\"}}");
    }
    return b.append("]}").toString();
  }

  private static List<String> ids(HttpResponse<String> bundle) throws Exception {
    assertThat(bundle.statusCode()).as(bundle.body()).isEqualTo(200);
    return JSON.readTree(bundle.body()).path("entry").findValues("fullUrl").stream()
        .map(n -> n.asText().substring(n.asText().lastIndexOf('/') + 1)).toList();
  }

  @Test
  void batchGetOfABinaryWithoutReadOnItsSecurityContextIsA403Entry() throws Exception {
    TestClient denied = clients.client(PROJECT, "system/Binary.rs system/DocumentReference.rs");
    TestClient allowed = clients.client(PROJECT, "system/Binary.rs system/DocumentReference.rs system/Patient.rs");
    String batch = getBundle("batch", "Binary/" + guarded, "Binary/" + guarded + "/_history/1",
        "DocumentReference/" + document);

    HttpResponse<String> d = denied.postJson("fhir/R4", batch);
    assertThat(d.statusCode()).as(d.body()).isEqualTo(200);
    JsonNode entries = JSON.readTree(d.body()).get("entry");
    for (int i = 0; i < 2; i++) {
      assertThat(entries.get(i).at("/response/status").asText()).startsWith("403");
      assertThat(entries.get(i).at("/response/outcome/resourceType").asText()).isEqualTo("OperationOutcome");
      assertThat(entries.get(i).at("/response/outcome/issue/0/diagnostics").asText()).contains("securityContext");
      assertThat(entries.get(i).has("resource")).isFalse();
    }
    assertThat(entries.get(2).at("/response/status").asText()).startsWith("200");
    assertThat(d.body()).doesNotContain("Patient/" + guardedPatient);

    JsonNode a = JSON.readTree(allowed.postJson("fhir/R4", batch).body()).get("entry");
    assertThat(a.get(0).at("/resource/id").asText()).isEqualTo(guarded);
    assertThat(a.get(0).at("/resource/securityContext/reference").asText()).isEqualTo("Patient/" + guardedPatient);
    assertThat(a.get(1).at("/response/status").asText()).startsWith("200");
  }

  @Test
  void transactionGetOfABinaryWithoutReadOnItsSecurityContextFailsTheTransaction() throws Exception {
    TestClient denied = clients.client(PROJECT, "system/Binary.rs system/DocumentReference.rs");
    TestClient allowed = clients.client(PROJECT, "system/Binary.rs system/DocumentReference.rs system/Patient.rs");
    String tx = getBundle("transaction", "DocumentReference/" + document, "Binary/" + guarded);
    HttpResponse<String> d = denied.postJson("fhir/R4", tx);
    assertThat(d.statusCode()).isEqualTo(403);
    assertThat(JSON.readTree(d.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    assertThat(d.body()).doesNotContain("Patient/" + guardedPatient);
    assertThat(ids(allowed.postJson("fhir/R4", tx))).containsExactly(document, guarded);
  }

  @Test
  void historyOfABinaryWithoutReadOnItsSecurityContextIsRefusedOrLeftOut() throws Exception {
    TestClient seeder = clients.client(PROJECT, "system/*.cruds");
    String open = upload(seeder, null);
    TestClient denied = clients.client(PROJECT, "system/Binary.rs system/DocumentReference.rs");
    TestClient allowed = clients.client(PROJECT, "system/Binary.rs system/DocumentReference.rs system/Patient.rs");

    HttpResponse<String> instance = denied.get("fhir/R4/Binary/" + guarded + "/_history");
    assertThat(instance.statusCode()).isEqualTo(403);
    assertThat(instance.body()).contains("OperationOutcome").doesNotContain("Patient/" + guardedPatient);
    assertThat(ids(allowed.get("fhir/R4/Binary/" + guarded + "/_history"))).containsExactly(guarded);
    assertThat(ids(denied.get("fhir/R4/Binary/" + open + "/_history"))).containsExactly(open);

    assertThat(ids(denied.get("fhir/R4/Binary/_history?_count=1000"))).contains(open).doesNotContain(guarded);
    assertThat(ids(allowed.get("fhir/R4/Binary/_history?_count=1000"))).contains(open, guarded);
  }

  @Test
  void searchLeavesOutBinariesWithoutReadOnTheirSecurityContext() throws Exception {
    TestClient seeder = clients.client(PROJECT, "system/*.cruds");
    String open = upload(seeder, null);
    TestClient denied = clients.client(PROJECT, "system/Binary.rs system/DocumentReference.rs");
    TestClient allowed = clients.client(PROJECT, "system/Binary.rs system/DocumentReference.rs system/Patient.rs");
    String query = "fhir/R4/Binary?_id=" + guarded + "," + open;
    assertThat(ids(denied.get(query))).containsExactly(open);
    assertThat(ids(allowed.get(query))).containsExactlyInAnyOrder(open, guarded);
  }

  @Test
  void pagingLinksNameOnlyBinariesThePagesList() throws Exception {
    TestClient seeder = clients.client(PROJECT, "system/*.cruds");
    String labelled = TestClient.createdId(seeder.postJson("fhir/R4/Binary", "{\"resourceType\":\"Binary\","
        + "\"meta\":{\"security\":[{\"system\":\"urn:test\",\"code\":\"withheld-label\"}]},"
        + "\"contentType\":\"text/plain\",\"securityContext\":{\"reference\":\"Patient/" + guardedPatient + "\"},"
        + "\"data\":\"c2VjcmV0\"}"));
    upload(seeder, null);
    TestClient denied = clients.client(PROJECT, "system/Binary.rs system/DocumentReference.rs");
    // a page of one: one ending on a Binary left out would otherwise name it, and its sort values
    for (String path : List.of("fhir/R4/Binary/_history?", "fhir/R4/Binary?", "fhir/R4/Binary?_sort=_security&")) {
      PageWalk paged = PageWalk.of(denied, path + "_count=1");
      assertThat(paged.entries()).as(path).isNotEmpty().noneMatch(e -> e.contains(guarded) || e.contains(labelled));
      assertThat(paged.links()).as(path).noneMatch(l -> l.contains(guarded) || l.contains(labelled));
      for (String link : paged.links()) {
        for (String part : link.replaceAll(".*[?&]_after=([^&]*).*|.*", "$1").split("~")) {
          if (part.startsWith("s")) {
            String value = new String(Base64.getUrlDecoder().decode(part.substring(1)), StandardCharsets.UTF_8);
            assertThat(value).as(link).doesNotContain("withheld-label");
          }
        }
      }
    }
  }

  @Test
  void aSearchByACallerThatReadsEveryTypeLeavesOutBinariesItMayNotRead() throws Exception {
    TestClient admin = clients.bearer(clients.create("guarded-search", "system/*.cruds", true));
    String event = TestClient.createdId(admin.postJson("fhir/R4/AuditEvent", "{\"resourceType\":\"AuditEvent\","
        + "\"type\":{\"code\":\"110100\"},\"recorded\":\"2026-01-01T00:00:00Z\",\"agent\":[{\"requestor\":true}],"
        + "\"source\":{\"observer\":{\"display\":\"app\"}}}"));
    String audited = upload(admin, "AuditEvent/" + event);
    String patient = TestClient.createdId(admin.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    String orphaned = upload(admin, "Patient/" + patient);
    assertThat(admin.delete("fhir/R4/Patient/" + patient).statusCode()).isEqualTo(200);
    TestClient everyType = clients.client("guarded-search", "system/*.rs");
    assertThat(everyType.rawBinaryStatus(audited)).isEqualTo(403);
    assertThat(everyType.rawBinaryStatus(orphaned)).isEqualTo(403);
    HttpResponse<String> found = everyType.get("fhir/R4/Binary?_id=" + audited + "," + orphaned);
    assertThat(found.statusCode()).as(found.body()).isEqualTo(200);
    assertThat(ids(found)).isEmpty();
    assertThat(found.body()).doesNotContain("AuditEvent/" + event, "Patient/" + patient);
    assertThat(ids(admin.get("fhir/R4/Binary?_id=" + audited))).containsExactly(audited);
  }

  @Test
  void systemHistoryLeavesOutBinariesNobodyMayRead() throws Exception {
    TestClient admin = clients.client("guarded-history", "system/*.cruds");
    String patient = TestClient.createdId(admin.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    String live = upload(admin, "Patient/" + patient);
    String orphaned = upload(admin, "Patient/" + patient);
    HttpResponse<String> after = admin.send(admin.request("fhir/R4/Binary/" + orphaned)
        .header("Content-Type", "text/plain").header("X-Security-Context", "Patient/" + patient)
        .PUT(HttpRequest.BodyPublishers.ofString("v2")));
    assertThat(after.statusCode()).as(after.body()).isEqualTo(200);
    assertThat(ids(admin.get("fhir/R4/_history"))).contains(live, orphaned);
    assertThat(admin.delete("fhir/R4/Patient/" + patient).statusCode()).isEqualTo(200);
    assertThat(admin.rawBinaryStatus(live)).isEqualTo(403);
    assertThat(ids(admin.get("fhir/R4/_history"))).contains(patient).doesNotContain(live, orphaned);
    assertThat(ids(admin.get("fhir/R4/Binary/_history"))).doesNotContain(live, orphaned);
  }
}
