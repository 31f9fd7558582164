package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jwt.SignedJWT;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.testing.FormBrowser;
import org.fhirbox.testing.FormBrowser.Page;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.SmartApp;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The refusals of a patient's token over plain HTTP, with the token an app really gets: a person
 * whose {@code fhirUser} is patient A signs in through the server's form with
 * {@code launch/patient patient/*.rs}, allows the app, and the app trades the code at
 * {@code /oauth2/token}. That token is refused patient B's Observation, B's Binaries (raw, as JSON,
 * by {@code $presigned-url}) and any signed URL for them in the resources it may read, and a
 * refresh keeps it to patient A.
 */
class PatientLaunchRefusalTest {
  private static final String PROJECT = "clinic";
  private static final String REDIRECT = "https://app.example.org/callback";
  private static final String SCOPE = "launch/patient patient/*.rs openid fhirUser offline_access";
  private static final String EMAIL = "alpha@example.org";

  private static TestServer server;
  private static TestClient seeder;
  private static SmartApp app;
  private static String patientA;
  private static String patientB;
  private static String obsA;
  private static String obsB;
  /** Binaries whose securityContext is each patient. */
  private static String contextA;
  private static String contextB;
  /** B's scan, without a securityContext: B's because only B's DocumentReference names it. */
  private static String scanB;
  /** B's DocumentReference, naming B's scan and B's securityContext Binary. */
  private static String docB;
  /**
   * A's DocumentReference that a clinician made name B's securityContext Binary beside A's: it
   * stays B's (a securityContext decides, not who names the Binary).
   */
  private static String docAMixed;
  /** The token response of A's launch. */
  private static JsonNode launched;
  private static TestClient asA;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
    seeder = new ProjectClients(server).client(PROJECT, "system/*.cruds");
    patientA = create("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Alpha\",\"given\":[\"Ann\"]}]}");
    patientB = create("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Bravo\",\"given\":[\"Bob\"]}]}");
    obsA = create("Observation", observation(patientA));
    obsB = create("Observation", observation(patientB));
    contextA = upload("Patient/" + patientA);
    contextB = upload("Patient/" + patientB);
    scanB = upload(null);
    docB = create("DocumentReference", document(patientB, scanB, contextB));
    docAMixed = create("DocumentReference", document(patientA, contextA, contextB));

    app = SmartApp.register(server, PROJECT, SCOPE, true, false, REDIRECT);
    SmartApp.user(server, PROJECT, EMAIL, "Patient/" + patientA, "patient/*.rs");
    launched = launch();
    asA = bearer(launched);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  /** Sign-in through the form, consent, and the code traded at the token endpoint. */
  private static JsonNode launch() {
    FormBrowser browser = new FormBrowser();
    Page consent = app.signIn(browser, SCOPE, EMAIL, Map.of());
    assertThat(consent.body()).as(consent.body()).contains("Allow access?", "Ann Alpha");
    String code = app.code(browser.submit(consent, "oauth2/consent", Map.of("decision", "allow")));
    HttpResponse<String> r = app.exchange(code);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return SmartApp.read(r.body());
  }

  private static TestClient bearer(JsonNode tokenResponse) {
    return new TestClient(server.baseUrl()).withHeader("Authorization",
        "Bearer " + tokenResponse.get("access_token").asText());
  }

  private static String create(String type, String json) {
    return TestClient.createdId(seeder.postJson("fhir/R4/" + type, json));
  }

  private static String observation(String subject) {
    return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"weight\"},"
        + "\"subject\":{\"reference\":\"Patient/" + subject + "\"}}";
  }

  private static String document(String subject, String... binaries) {
    List<String> content = new ArrayList<>();
    for (String b : binaries) {
      content.add("{\"attachment\":{\"contentType\":\"text/plain\",\"url\":\"Binary/" + b + "\"}}");
    }
    return "{\"resourceType\":\"DocumentReference\",\"status\":\"current\",\"subject\":{\"reference\":\"Patient/"
        + subject + "\"},\"content\":[" + String.join(",", content) + "]}";
  }

  private static String upload(String securityContext) {
    HttpRequest.Builder b = seeder.request("fhir/R4/Binary").header("Content-Type", "text/plain");
    if (securityContext != null) {
      b.header("X-Security-Context", securityContext);
    }
    return TestClient.createdId(seeder.send(b.POST(HttpRequest.BodyPublishers.ofString("scan of " + securityContext,
        StandardCharsets.UTF_8))));
  }

  private static String storage(String binary) {
    return server.baseUrl() + "storage/" + binary + "/";
  }

  private static HttpResponse<String> binaryAsJson(TestClient c, String id) {
    return c.send(c.request("fhir/R4/Binary/" + id).header("Accept", "application/fhir+json").GET());
  }

  private static HttpResponse<byte[]> binaryRaw(TestClient c, String id) {
    return c.sendBytes(c.request("fhir/R4/Binary/" + id).header("Accept", "*/*").GET());
  }

  @Test
  void theTokenOfTheLaunchIsHeldToThePatientWhoSignedIn() throws Exception {
    assertThat(launched.get("patient").asText()).isEqualTo(patientA);
    assertThat(launched.get("scope").asText().split(" ")).contains("launch/patient", "patient/*.rs");
    assertThat(SignedJWT.parse(launched.get("access_token").asText()).getJWTClaimsSet().getStringClaim("patient"))
        .isEqualTo(patientA);
    assertThat(asA.get("fhir/R4/Patient/" + patientA).statusCode()).isEqualTo(200);
    assertThat(asA.get("fhir/R4/Observation/" + obsA).statusCode()).isEqualTo(200);
  }

  @Test
  void anotherPatientsObservationIsNotFound() {
    HttpResponse<String> other = asA.get("fhir/R4/Observation/" + obsB);

    assertThat(other.statusCode()).isEqualTo(404);
    // the words of a resource that never existed: nothing tells that B's exists
    assertThat(SmartApp.read(other.body()).at("/issue/0/diagnostics").asText())
        .isEqualTo("Observation/" + obsB + " is not known");
    assertThat(SmartApp.read(asA.get("fhir/R4/Observation?subject=Patient/" + patientB).body()).get("total").asInt())
        .isZero();
    assertThat(asA.get("fhir/R4/Observation/" + obsB + "/_history/1").statusCode()).isEqualTo(404);
  }

  @Test
  void anotherPatientsBinaryIsRefusedRawAndAsJson() {
    HttpResponse<byte[]> mine = binaryRaw(asA, contextA);
    assertThat(mine.statusCode()).isEqualTo(200);
    assertThat(new String(mine.body(), StandardCharsets.UTF_8)).isEqualTo("scan of Patient/" + patientA);
    assertThat(SmartApp.read(binaryAsJson(asA, contextA).body()).get("url").asText()).startsWith(storage(contextA));

    for (String theirs : List.of(contextB, scanB)) {
      HttpResponse<byte[]> raw = binaryRaw(asA, theirs);
      assertThat(raw.statusCode()).as(theirs).isEqualTo(404);
      assertThat(new String(raw.body(), StandardCharsets.UTF_8)).as(theirs).doesNotContain("scan of");
      HttpResponse<String> json = binaryAsJson(asA, theirs);
      assertThat(json.statusCode()).as(theirs).isEqualTo(404);
      assertThat(json.body()).as(theirs).doesNotContain("/storage/").doesNotContain("\"data\"");
    }
  }

  @Test
  void anotherPatientsBinaryIsNeverASignedUrl() {
    for (String theirs : List.of(contextB, scanB)) {
      HttpResponse<String> presigned = asA.get("fhir/R4/Binary/" + theirs + "/$presigned-url");
      assertThat(presigned.statusCode()).as(theirs).isEqualTo(404);
      assertThat(presigned.body()).as(theirs).doesNotContain("/storage/");
    }
    assertThat(asA.get("fhir/R4/Binary/" + contextA + "/$presigned-url").body()).contains(storage(contextA));

    // A's record names B's Binaries beside A's own: a search returns it with only A's signed
    HttpResponse<String> search = asA.get("fhir/R4/DocumentReference?patient=Patient/" + patientA);
    assertThat(search.statusCode()).as(search.body()).isEqualTo(200);
    JsonNode doc = SmartApp.read(search.body()).at("/entry/0/resource");
    assertThat(doc.get("id").asText()).isEqualTo(docAMixed);
    assertThat(doc.at("/content/0/attachment/url").asText()).startsWith(storage(contextA));
    assertThat(doc.at("/content/1/attachment/url").asText()).isEqualTo("Binary/" + contextB);
    assertThat(SmartApp.read(search.body()).get("entry")).hasSize(1);
    assertThat(search.body()).doesNotContain(storage(contextB)).doesNotContain(storage(scanB));
    // a search that would reach B's record finds nothing; a read of A's record signs no more
    assertThat(asA.get("fhir/R4/DocumentReference?_id=" + docB).body()).doesNotContain(storage(scanB))
        .doesNotContain(storage(contextB)).contains("\"total\":0");
    assertThat(asA.get("fhir/R4/DocumentReference/" + docAMixed).body()).contains(storage(contextA))
        .doesNotContain(storage(contextB));
    // the same records read with a wider grant: the difference is the compartment
    assertThat(seeder.get("fhir/R4/DocumentReference/" + docAMixed).body()).contains(storage(contextB));
    assertThat(seeder.get("fhir/R4/DocumentReference/" + docB).body()).contains(storage(scanB));
  }

  @Test
  void aRefreshKeepsThePatientContext() throws Exception {
    JsonNode first = launch();

    HttpResponse<String> r = app.refresh(first.get("refresh_token").asText(), Optional.empty());

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode refreshed = SmartApp.read(r.body());
    assertThat(refreshed.get("patient").asText()).isEqualTo(patientA);
    assertThat(refreshed.get("scope").asText()).isEqualTo(first.get("scope").asText());
    assertThat(SignedJWT.parse(refreshed.get("access_token").asText()).getJWTClaimsSet().getStringClaim("patient"))
        .isEqualTo(patientA);
    TestClient again = bearer(refreshed);
    assertThat(again.get("fhir/R4/Observation/" + obsA).statusCode()).isEqualTo(200);
    assertThat(again.get("fhir/R4/Observation/" + obsB).statusCode()).isEqualTo(404);
    assertThat(binaryRaw(again, contextB).statusCode()).isEqualTo(404);
    assertThat(again.get("fhir/R4/Binary/" + contextB + "/$presigned-url").statusCode()).isEqualTo(404);
    assertThat(again.get("fhir/R4/DocumentReference/" + docAMixed).body()).contains(storage(contextA))
        .doesNotContain(storage(contextB));

    // a narrower refresh keeps the patient too
    HttpResponse<String> narrower = app.refresh(refreshed.get("refresh_token").asText(),
        Optional.of("launch/patient patient/Observation.rs"));
    assertThat(narrower.statusCode()).as(narrower.body()).isEqualTo(200);
    JsonNode narrowed = SmartApp.read(narrower.body());
    assertThat(narrowed.get("patient").asText()).isEqualTo(patientA);
    assertThat(bearer(narrowed).get("fhir/R4/Observation/" + obsB).statusCode()).isEqualTo(404);
    assertThat(bearer(narrowed).get("fhir/R4/Observation/" + obsA).statusCode()).isEqualTo(200);
  }
}
