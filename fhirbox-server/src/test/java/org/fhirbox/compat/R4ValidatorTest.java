package org.fhirbox.compat;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.FormBrowser;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.SmartApp;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What fhirbox writes is valid FHIR R4: HAPI's own {@link FhirInstanceValidator}, offline with the
 * R4 core definitions, over the responses of the main interactions. No error is allowed, save
 * the top-level {@code url} of Binary JSON, the one documented deviation (README, Binary), which
 * {@code FHIRBOX_BINARY_URL_FIELD=false} removes. Slow tier: the validator loads and snapshots the
 * core definitions on first use, which takes tens of seconds.
 */
@SlowTest
class R4ValidatorTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long MAX_BINARY = 100_000;
  private static FhirValidator validator;
  private static TestServer server;
  private static TestClient http;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(Map.of("FHIRBOX_MAX_BINARY_BYTES", Long.toString(MAX_BINARY)));
    http = server.client();
    ValidationSupportChain support = new ValidationSupportChain(
        new DefaultProfileValidationSupport(TestServer.FHIR),
        new SnapshotGeneratingValidationSupport(TestServer.FHIR),
        new InMemoryTerminologyServerValidationSupport(TestServer.FHIR),
        new CommonCodeSystemsTerminologyService(TestServer.FHIR));
    validator = TestServer.FHIR.newValidator().registerValidatorModule(new FhirInstanceValidator(support));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  /** The errors the validator finds in one response body; Binary JSON's top-level url only when allowed. */
  private static List<String> errors(String body, boolean binaryUrlAllowed) {
    boolean history = body.contains("\"type\":\"history\"");
    List<String> out = new ArrayList<>();
    for (SingleValidationMessage m : validator.validateWithResult(body).getMessages()) {
      if (m.getSeverity().ordinal() < ResultSeverityEnum.ERROR.ordinal()) {
        continue;
      }
      if (binaryUrlAllowed && isBinaryUrl(m)) {
        continue;
      }
      // FHIR R4 bdl-7 lets a history Bundle hold several versions under one fullUrl; the
      // validator's reference check does not make that exception, and finds "multiple matches"
      // for a reference to a resource with two versions in the page.
      if (history && m.getMessage().startsWith("Multiple matches in bundle for reference")) {
        continue;
      }
      out.add(m.getLocationString() + ": " + m.getMessage());
    }
    return out;
  }

  private static String shown(String body) {
    return body.length() <= 1500 ? body : body.substring(0, 1500) + "...";
  }

  private static boolean isBinaryUrl(SingleValidationMessage m) {
    return "Binary".equals(m.getLocationString()) && m.getMessage().contains("'url'");
  }

  private static void assertValid(String what, HttpResponse<String> r, int status) {
    assertThat(r.statusCode()).as(what + ": " + shown(r.body())).isEqualTo(status);
    assertThat(r.headers().firstValue("Content-Type").orElse("")).as(what).startsWith("application/fhir+");
    assertThat(errors(r.body(), true)).as(what + " validates against R4: " + shown(r.body())).isEmpty();
  }

  private static String id(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body()).get("id").asText();
  }

  private static HttpResponse<String> create(String json) {
    String type = json.replaceFirst("(?s).*?\"resourceType\"\\s*:\\s*\"(\\w+)\".*", "$1");
    return http.postJson("fhir/R4/" + type, json);
  }

  private static String uploadBinary() throws Exception {
    HttpResponse<String> r = http.postBytes("fhir/R4/Binary", "text/plain", "validated".getBytes(StandardCharsets.UTF_8));
    assertValid("Binary create", r, 201);
    return id(r);
  }

  @Test
  void capabilityStatementIsValid() {
    assertValid("metadata", http.get("fhir/R4/metadata"), 200);
  }

  @Test
  void binaryCreateReadAndPresignedUrlAreValidSaveTheDocumentedUrl() throws Exception {
    String id = uploadBinary();
    HttpResponse<String> read = http.get("fhir/R4/Binary/" + id);
    assertValid("Binary read", read, 200);
    assertThat(JSON.readTree(read.body()).path("url").asText()).as("the documented deviation is there")
        .startsWith(server.baseUrl() + "storage/");
    assertThat(errors(read.body(), false)).as("the validator reports exactly that url").hasSize(1);
    assertValid("Binary vread", http.get("fhir/R4/Binary/" + id + "/_history/1"), 200);
    assertValid("$presigned-url", http.get("fhir/R4/Binary/" + id + "/$presigned-url"), 200);
    assertValid("$presigned-url?download", http.get("fhir/R4/Binary/" + id + "/$presigned-url?download=a.txt"), 200);
  }

  @Test
  void everyResourceTypeTheTestsCreateIsValidOnCreateReadAndUpdate() throws Exception {
    String binary = uploadBinary();
    String patient = id(create("""
        {"resourceType":"Patient","identifier":[{"system":"urn:fhirbox:validation","value":"p1"}],
         "name":[{"family":"Valid","given":["Ann"]}],"birthDate":"1980-02-03",
         "photo":[{"contentType":"text/plain","url":"Binary/%s"}]}""".formatted(binary)));
    List<String> bodies = List.of(
        """
        {"resourceType":"Organization","name":"Clinic"}""",
        """
        {"resourceType":"Practitioner","name":[{"family":"Doc"}]}""",
        """
        {"resourceType":"Encounter","status":"finished",
         "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
         "subject":{"reference":"Patient/%s"}}""".formatted(patient),
        """
        {"resourceType":"Observation","status":"final",
         "code":{"coding":[{"system":"http://loinc.org","code":"29463-7","display":"Body weight"}]},
         "subject":{"reference":"Patient/%s"},
         "valueQuantity":{"value":72.5,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}}"""
            .formatted(patient),
        """
        {"resourceType":"DocumentReference","status":"current","subject":{"reference":"Patient/%s"},
         "content":[{"attachment":{"contentType":"text/plain","url":"Binary/%s","title":"note"}}]}"""
            .formatted(patient, binary),
        """
        {"resourceType":"Media","status":"completed","subject":{"reference":"Patient/%s"},
         "content":{"contentType":"text/plain","url":"Binary/%s"}}""".formatted(patient, binary),
        """
        {"resourceType":"Group","type":"person","actual":true,"member":[{"entity":{"reference":"Patient/%s"}}]}"""
            .formatted(patient),
        """
        {"resourceType":"RiskAssessment","status":"final","subject":{"reference":"Patient/%s"}}"""
            .formatted(patient),
        """
        {"resourceType":"ValueSet","url":"http://example.org/ValueSet/v","status":"active"}""");
    for (String body : bodies) {
      HttpResponse<String> created = create(body);
      String type = JSON.readTree(body).get("resourceType").asText();
      assertValid(type + " create", created, 201);
      String id = id(created);
      assertValid(type + " read", http.get("fhir/R4/" + type + "/" + id), 200);
      HttpResponse<String> updated = http.putJson("fhir/R4/" + type + "/" + id,
          ((com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(body)).put("id", id).toString());
      assertValid(type + " update", updated, 200);
    }
    assertValid("Patient read", http.get("fhir/R4/Patient/" + patient), 200);
  }

  @Test
  void searchWithIncludeAndRevincludeAndTheThreeHistoriesAreValid() throws Exception {
    String patient = id(create("""
        {"resourceType":"Patient","name":[{"family":"Searched"}]}"""));
    String observation = id(create("""
        {"resourceType":"Observation","status":"final","code":{"text":"weight"},
         "subject":{"reference":"Patient/%s"}}""".formatted(patient)));
    http.putJson("fhir/R4/Patient/" + patient, """
        {"resourceType":"Patient","id":"%s","name":[{"family":"Searched","given":["Again"]}]}""".formatted(patient));
    assertValid("search with _include", http.get("fhir/R4/Observation?_id=" + observation
        + "&_include=Observation:subject"), 200);
    assertValid("search with _revinclude", http.get("fhir/R4/Patient?_id=" + patient
        + "&_revinclude=Observation:subject"), 200);
    assertValid("search, a page of two with links", http.get("fhir/R4/Patient?_count=2"), 200);
    assertValid("instance history", http.get("fhir/R4/Patient/" + patient + "/_history"), 200);
    assertValid("type history", http.get("fhir/R4/Patient/_history?_count=20"), 200);
    assertValid("system history", http.get("fhir/R4/_history?_count=20"), 200);
    assertThat(http.delete("fhir/R4/Observation/" + observation).statusCode()).isBetween(200, 204);
    assertValid("history with a deletion", http.get("fhir/R4/Observation/" + observation + "/_history"), 200);
  }

  @Test
  void transactionAndBatchResponsesAreValidWithAbsoluteFullUrls() throws Exception {
    String data = Base64.getEncoder().encodeToString("in a bundle".getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> tx = http.postJson("fhir/R4", """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"fullUrl":"urn:uuid:3f1c1c2e-7a53-4a6a-9d1e-000000000001",
           "resource":{"resourceType":"Binary","contentType":"text/plain","data":"%s"},
           "request":{"method":"POST","url":"Binary"}},
          {"fullUrl":"urn:uuid:3f1c1c2e-7a53-4a6a-9d1e-000000000002",
           "resource":{"resourceType":"Patient","name":[{"family":"Bundled"}]},
           "request":{"method":"POST","url":"Patient"}},
          {"resource":{"resourceType":"DocumentReference","status":"current",
             "subject":{"reference":"urn:uuid:3f1c1c2e-7a53-4a6a-9d1e-000000000002"},
             "content":[{"attachment":{"contentType":"text/plain",
               "url":"urn:uuid:3f1c1c2e-7a53-4a6a-9d1e-000000000001"}}]},
           "request":{"method":"POST","url":"DocumentReference"}}]}""".formatted(data));
    assertValid("transaction-response", tx, 200);
    String patient = null;
    for (JsonNode e : JSON.readTree(tx.body()).get("entry")) {
      assertThat(e.get("fullUrl").asText()).startsWith(server.fhirBase() + "/");
      if (e.path("resource").path("resourceType").asText().equals("Patient")) {
        patient = e.get("resource").get("id").asText();
      }
    }
    HttpResponse<String> batch = http.postJson("fhir/R4", """
        {"resourceType":"Bundle","type":"batch","entry":[
          {"request":{"method":"GET","url":"Patient/%s"}},
          {"resource":{"resourceType":"Patient","name":[{"family":"Batched"}]},
           "request":{"method":"POST","url":"Patient"}},
          {"request":{"method":"GET","url":"Patient/not-there"}},
          {"request":{"method":"DELETE","url":"Patient/%s"}}]}""".formatted(patient, patient));
    assertValid("batch-response with a failed entry", batch, 200);
    JsonNode entries = JSON.readTree(batch.body()).get("entry");
    assertThat(entries.get(0).get("fullUrl").asText()).isEqualTo(server.fhirBase() + "/Patient/" + patient);
    assertThat(entries.get(2).path("response").path("status").asText()).startsWith("404");
  }

  @Test
  void everyErrorOperationOutcomeIsValid() throws Exception {
    String patient = id(create("""
        {"resourceType":"Patient"}"""));
    TestClient anonymous = new TestClient(server.baseUrl());
    TestClient patientsOnly = new ProjectClients(server).client("validation-scopes", "system/Patient.rs");
    HttpResponse<String> upload = http.postBytes("fhir/R4/Binary", "application/octet-stream", new byte[(int) MAX_BINARY + 1]);
    HttpResponse<String> stale = http.send(http.request("fhir/R4/Patient/" + patient)
        .header("Content-Type", "application/fhir+json").header("If-Match", "W/\"9\"")
        .PUT(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"id\":\"" + patient + "\"}")));
    Map<String, Object[]> cases = new java.util.LinkedHashMap<>();
    cases.put("400 unparseable JSON", new Object[] {http.postJson("fhir/R4/Patient", "{\"resourceType\":"), 400});
    cases.put("400 Bundle neither batch nor transaction", new Object[] {http.postJson("fhir/R4",
        "{\"resourceType\":\"Bundle\",\"type\":\"collection\"}"), 400});
    cases.put("401 no credentials", new Object[] {anonymous.get("fhir/R4/Patient"), 401});
    cases.put("403 outside the scopes", new Object[] {patientsOnly.get("fhir/R4/Observation"), 403});
    cases.put("404 unknown resource", new Object[] {http.get("fhir/R4/Patient/not-there"), 404});
    cases.put("404 unknown route", new Object[] {http.get("fhir/R4/Patient/a/b/c/d"), 404});
    cases.put("405 method", new Object[] {http.send(http.request("fhir/R4/Patient")
        .method("PROPFIND", HttpRequest.BodyPublishers.noBody())), 405});
    cases.put("412 stale If-Match", new Object[] {stale, 412});
    cases.put("413 Binary too large", new Object[] {upload, 413});
    http.delete("fhir/R4/Patient/" + patient);
    cases.put("410 deleted", new Object[] {http.get("fhir/R4/Patient/" + patient), 410});
    for (Map.Entry<String, Object[]> c : cases.entrySet()) {
      @SuppressWarnings("unchecked")
      HttpResponse<String> r = (HttpResponse<String>) c.getValue()[0];
      assertValid(c.getKey(), r, (Integer) c.getValue()[1]);
      assertThat(JSON.readTree(r.body()).get("resourceType").asText()).as(c.getKey()).isEqualTo("OperationOutcome");
    }
  }

  @Test
  void auditEventsAreValid() throws Exception {
    String binary = uploadBinary();
    http.get("fhir/R4/Binary/" + binary + "/$presigned-url");
    // the audit writer runs in the background
    HttpResponse<String> events = Poll.until("AuditEvents for Binary/" + binary,
        () -> http.get("fhir/R4/AuditEvent?entity=Binary/" + binary),
        r -> r.statusCode() == 200 && r.body().contains("\"entry\""));
    assertValid("AuditEvent search", events, 200);
    String eventId = JSON.readTree(events.body()).get("entry").get(0).get("resource").get("id").asText();
    assertValid("AuditEvent read", http.get("fhir/R4/AuditEvent/" + eventId), 200);
  }

  @Test
  void signInAuditEventsAreValid() throws Exception {
    SmartApp app = SmartApp.register(server, "default", "user/*.rs", true, true, "https://app.example.org/cb");
    SmartApp.user(server, "default", "validated@example.org", "Practitioner/validated", "user/*.rs");
    FormBrowser browser = new FormBrowser();
    FormBrowser.Page refused = browser.submit(browser.get(app.authorizeUrl("user/*.rs", Map.of())), "oauth2/signin",
        Map.of("email", "validated@example.org", "password", "not the password"));
    app.code(browser.submit(refused, "oauth2/signin",
        Map.of("email", "validated@example.org", "password", SmartApp.PASSWORD)));
    HttpResponse<String> events = Poll.until("sign-in AuditEvents",
        () -> http.get("fhir/R4/AuditEvent?type=110114"),
        r -> r.statusCode() == 200 && SmartApp.read(r.body()).path("total").asInt() >= 2);
    assertValid("sign-in AuditEvent search", events, 200);
  }

  @Test
  void clientAuthenticationAndAdminChangeAuditEventsAreValid() throws Exception {
    ProjectClients clients = new ProjectClients(server);
    ProjectClients.Credentials c = clients.create("default", "system/*.rs", false);
    clients.token(c);
    ProjectClients.Credentials wrong = new ProjectClients.Credentials(c.clientId(), "not-the-secret", c.project());
    assertThat(clients.tokenResponse(wrong).statusCode()).isEqualTo(401);
    HttpResponse<String> auth = Poll.until("client AuditEvents",
        () -> http.get("fhir/R4/AuditEvent?type=110114&altid=" + c.clientId()),
        r -> r.statusCode() == 200 && SmartApp.read(r.body()).path("total").asInt() >= 2);
    assertValid("client authentication AuditEvent search", auth, 200);
    HttpResponse<String> admin = Poll.until("admin AuditEvents",
        () -> http.get("fhir/R4/AuditEvent?type=110137&entity-name=" + c.clientId()),
        r -> r.statusCode() == 200 && SmartApp.read(r.body()).path("total").asInt() >= 1);
    assertValid("admin change AuditEvent search", admin, 200);
  }

  @Test
  void withoutTheBinaryUrlFieldBinaryJsonIsStrictR4AndXmlNeverHasIt() throws Exception {
    try (TestServer strict = TestServer.start(Map.of("FHIRBOX_BINARY_URL_FIELD", "false"))) {
      TestClient c = strict.client();
      HttpResponse<String> created = c.postBytes("fhir/R4/Binary", "text/plain", "strict".getBytes(StandardCharsets.UTF_8));
      assertThat(created.statusCode()).isEqualTo(201);
      assertThat(JSON.readTree(created.body()).has("url")).as(created.body()).isFalse();
      assertThat(errors(created.body(), false)).as(created.body()).isEmpty();
      String id = id(created);
      HttpResponse<String> read = c.get("fhir/R4/Binary/" + id);
      assertThat(JSON.readTree(read.body()).has("url")).as(read.body()).isFalse();
      assertThat(errors(read.body(), false)).as(read.body()).isEmpty();
      HttpResponse<String> presigned = c.get("fhir/R4/Binary/" + id + "/$presigned-url");
      assertThat(presigned.body()).as("the signed URL is still one call away").contains(strict.baseUrl() + "storage/");
    }
    String id = uploadBinary();
    HttpResponse<String> xml = http.send(http.request("fhir/R4/Binary/" + id).header("Accept", "application/fhir+xml"));
    assertThat(xml.statusCode()).isEqualTo(200);
    assertThat(xml.body()).startsWith("<Binary").doesNotContain("<url");
    assertThat(errors(xml.body(), false)).as(xml.body()).isEmpty();
  }
}
