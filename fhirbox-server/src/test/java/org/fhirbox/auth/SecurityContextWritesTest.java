package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The writes that could reach a Binary's bytes around its securityContext: an update that keeps
 * the bytes under a new securityContext, and a delete, single or in a Bundle, answer as a read of
 * the Binary would.
 */
class SecurityContextWritesTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PROJECT = "context-writes";
  private static TestServer server;
  private static ProjectClients clients;
  private static TestClient admin;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
    clients = new ProjectClients(server);
    admin = clients.client(PROJECT, "system/*.cruds");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static String create(String type) {
    return TestClient.createdId(admin.postJson("fhir/R4/" + type, type.equals("Observation")
        ? "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"}}"
        : "{\"resourceType\":\"" + type + "\"}"));
  }

  private static String upload(String securityContext, String body) {
    HttpRequest.Builder b = admin.request("fhir/R4/Binary").header("Content-Type", "text/plain");
    if (securityContext != null) {
      b.header("X-Security-Context", securityContext);
    }
    return TestClient.createdId(admin.send(b.POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))));
  }

  private static HttpResponse<String> raw(TestClient c, String id) {
    return c.send(c.request("fhir/R4/Binary/" + id).header("Accept", "*/*").GET());
  }

  private static String bundle(String type, String entry) {
    return "{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":[" + entry + "]}";
  }

  /** A Binary filed under a Patient the admin then deleted, and its bytes. */
  private static String filedUnderADeletedPatient(String secret) {
    String patient = create("Patient");
    String binary = upload("Patient/" + patient, secret);
    assertThat(admin.delete("fhir/R4/Patient/" + patient).statusCode()).isEqualTo(200);
    return binary;
  }

  private static String keptUnder(String binary, String context) {
    return "{\"resourceType\":\"Binary\",\"id\":\"" + binary + "\",\"contentType\":\"text/plain\","
        + "\"securityContext\":{\"reference\":\"" + context + "\"}}";
  }

  @Test
  void keptBytesMoveOffADeletedContextOnlyForACallerWhoMayReadItsType() throws Exception {
    TestClient noPatient = clients.client(PROJECT, "system/Binary.rus system/Observation.rs");
    String observation = create("Observation");
    String binary = filedUnderADeletedPatient("secret");
    String body = keptUnder(binary, "Observation/" + observation);

    HttpResponse<String> put = noPatient.putJson("fhir/R4/Binary/" + binary, body);
    assertThat(put.statusCode()).as(put.body()).isEqualTo(403);
    assertThat(put.body()).doesNotContain("/storage/");
    String entry = "{\"resource\":" + body + ",\"request\":{\"method\":\"PUT\",\"url\":\"Binary/" + binary + "\"}}";
    HttpResponse<String> transaction = noPatient.postJson("fhir/R4", bundle("transaction", entry));
    assertThat(transaction.statusCode()).as(transaction.body()).isEqualTo(403);
    HttpResponse<String> batch = noPatient.postJson("fhir/R4", bundle("batch", entry));
    assertThat(batch.statusCode()).as(batch.body()).isEqualTo(200);
    assertThat(JSON.readTree(batch.body()).at("/entry/0/response/status").asText()).startsWith("403");
    assertThat(batch.body()).doesNotContain("/storage/");
    assertThat(raw(noPatient, binary).statusCode()).isEqualTo(403);

    // new bytes move it: the bytes under the deleted record stay out of reach
    HttpResponse<String> replaced = noPatient.putJson("fhir/R4/Binary/" + binary, body.replace("}}",
        "},\"data\":\"bmV3\"}"));
    assertThat(replaced.statusCode()).as(replaced.body()).isEqualTo(200);
    assertThat(replaced.body()).contains("\"versionId\":\"2\"");
    assertThat(raw(noPatient, binary).body()).isEqualTo("new");
  }

  @Test
  void aCallerWhoReadsTheDeletedContextsTypeMayKeepTheBytes() throws Exception {
    TestClient reader = clients.client(PROJECT, "system/Binary.rus system/Observation.rs system/Patient.rs");
    String observation = create("Observation");
    String binary = filedUnderADeletedPatient("kept");
    HttpResponse<String> put = reader.putJson("fhir/R4/Binary/" + binary, keptUnder(binary, "Observation/" + observation));
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    assertThat(raw(reader, binary).body()).isEqualTo("kept");

    String other = filedUnderADeletedPatient("kept in a bundle");
    String entry = "{\"resource\":" + keptUnder(other, "Observation/" + observation) + ",\"request\":{\"method\":"
        + "\"PUT\",\"url\":\"Binary/" + other + "\"}}";
    HttpResponse<String> batch = reader.postJson("fhir/R4", bundle("batch", entry));
    assertThat(JSON.readTree(batch.body()).at("/entry/0/response/status").asText()).as(batch.body()).startsWith("200");
    assertThat(raw(reader, other).body()).isEqualTo("kept in a bundle");
  }

  /**
   * A deleted Patient is in no compartment, so whether a token limited to one could read the bytes
   * filed under it cannot be told, not even when it was the token's own: moving needs new bytes.
   */
  @Test
  void aCallerWhoReadsTheDeletedContextsTypeOnlyForAPatientMustSendNewBytes() throws Exception {
    String observation = create("Observation");
    String launched = create("Patient");
    String patient = create("Patient");
    String binary = upload("Patient/" + patient, "filed");
    assertThat(admin.delete("fhir/R4/Patient/" + patient).statusCode()).isEqualTo(200);
    for (String launch : new String[] {launched, patient}) {
      TestClient limited = patientToken("system/Binary.rus patient/Patient.rs system/Observation.rs", launch);
      HttpResponse<String> put = limited.putJson("fhir/R4/Binary/" + binary, keptUnder(binary,
          "Observation/" + observation));
      // as a read answers: the deleted Patient is outside the compartment
      assertThat(put.statusCode()).as(put.body()).isEqualTo(raw(limited, binary).statusCode()).isEqualTo(404);
      assertThat(put.body()).doesNotContain("/storage/");
    }
  }

  private static TestClient patientToken(String scope, String patient) {
    AuthModule auth = server.server().auth();
    OAuthClient client = auth.clients().find(auth.clients().create(PROJECT, scope, false).clientId()).orElseThrow();
    String token = auth.tokens().issue(client, Scopes.parse(scope), Optional.empty(), Optional.of(patient))
        .accessToken();
    return new TestClient(server.baseUrl()).withHeader("Authorization", "Bearer " + token);
  }

  @Test
  void aCallerWhoMayNotReadABinaryMayNotDeleteIt() throws Exception {
    TestClient deleter = clients.client(PROJECT, "system/Binary.cruds system/DocumentReference.rs");
    String binary = upload("Patient/" + create("Patient"), "guarded");
    assertThat(raw(deleter, binary).statusCode()).isEqualTo(403);

    HttpResponse<String> single = deleter.delete("fhir/R4/Binary/" + binary);
    assertThat(single.statusCode()).as(single.body()).isEqualTo(403);
    String entry = "{\"request\":{\"method\":\"DELETE\",\"url\":\"Binary/" + binary + "\"}}";
    HttpResponse<String> transaction = deleter.postJson("fhir/R4", bundle("transaction", entry));
    assertThat(transaction.statusCode()).as(transaction.body()).isEqualTo(403);
    HttpResponse<String> batch = deleter.postJson("fhir/R4", bundle("batch", entry));
    assertThat(JSON.readTree(batch.body()).at("/entry/0/response/status").asText()).as(batch.body()).startsWith("403");
    // a search does not find what the caller may not read, so a conditional delete matches nothing
    HttpResponse<String> conditional = deleter.delete("fhir/R4/Binary?_id=" + binary);
    assertThat(conditional.statusCode()).as(conditional.body()).isEqualTo(200);
    assertThat(conditional.body()).contains("nothing was deleted");
    String conditionalEntry = "{\"request\":{\"method\":\"DELETE\",\"url\":\"Binary?_id=" + binary + "\"}}";
    HttpResponse<String> inBundle = deleter.postJson("fhir/R4", bundle("transaction", conditionalEntry));
    assertThat(inBundle.statusCode()).as(inBundle.body()).isEqualTo(200);
    assertThat(raw(admin, binary).body()).isEqualTo("guarded");

    // one it may read it deletes
    String open = upload(null, "open");
    assertThat(deleter.delete("fhir/R4/Binary/" + open).statusCode()).isEqualTo(200);
    assertThat(raw(admin, open).statusCode()).isEqualTo(410);
  }

  @Test
  void aDeleteTellsNoMoreThanAReadOfWhetherABinaryExists() throws Exception {
    TestClient deleter = clients.client(PROJECT, "system/Binary.cruds system/DocumentReference.rs");
    String gone = upload("Patient/" + create("Patient"), "deleted");
    assertThat(admin.delete("fhir/R4/Binary/" + gone).statusCode()).isEqualTo(200);
    String never = "never-" + gone;
    // a read answers both alike; so does a delete, with or without If-Match, single or in a Bundle
    assertThat(raw(deleter, gone).statusCode()).isEqualTo(404);
    assertThat(raw(deleter, never).statusCode()).isEqualTo(404);
    HttpResponse<String> deletedAgain = deleter.delete("fhir/R4/Binary/" + gone);
    HttpResponse<String> neverMade = deleter.delete("fhir/R4/Binary/" + never);
    assertThat(deletedAgain.statusCode()).isEqualTo(neverMade.statusCode()).isEqualTo(200);
    assertThat(deletedAgain.body().replace(gone, "ID")).isEqualTo(neverMade.body().replace(never, "ID"));
    assertThat(deletedAgain.headers().firstValue("ETag")).isEqualTo(neverMade.headers().firstValue("ETag"));
    for (String ifMatch : new String[] {"W/\"2\"", "*"}) {
      HttpResponse<String> a = deleter.send(deleter.request("fhir/R4/Binary/" + gone).header("If-Match", ifMatch)
          .DELETE());
      HttpResponse<String> b = deleter.send(deleter.request("fhir/R4/Binary/" + never).header("If-Match", ifMatch)
          .DELETE());
      assertThat(a.statusCode()).as(ifMatch).isEqualTo(b.statusCode());
      assertThat(a.body().replace(gone, "ID")).as(ifMatch).isEqualTo(b.body().replace(never, "ID"));
    }
    JsonNode batch = JSON.readTree(deleter.postJson("fhir/R4", bundle("batch",
        "{\"request\":{\"method\":\"DELETE\",\"url\":\"Binary/" + gone + "\"}},"
            + "{\"request\":{\"method\":\"DELETE\",\"url\":\"Binary/" + never + "\"}}")).body());
    assertThat(batch.at("/entry/0/response").toString().replace(gone, "ID"))
        .isEqualTo(batch.at("/entry/1/response").toString().replace(never, "ID"));

    // without Binary read, every delete of a Binary is refused before it is looked up
    TestClient blind = clients.client(PROJECT, "system/Binary.cuds system/Patient.rs");
    String live = upload(null, "live");
    for (String path : new String[] {"fhir/R4/Binary/", "fhir/R4/Binary?_id="}) {
      HttpResponse<String> existing = blind.delete(path + live);
      HttpResponse<String> missing = blind.delete(path + never);
      assertThat(existing.statusCode()).as(path).isEqualTo(missing.statusCode()).isEqualTo(403);
      assertThat(existing.body().replace(live, "ID")).isEqualTo(missing.body().replace(never, "ID"));
    }
    assertThat(raw(admin, live).body()).isEqualTo("live");
  }

  /**
   * A caller that may delete its patient's Binaries but read none is refused before anything is
   * looked up, so another patient's Binary and an id never used answer alike.
   */
  @Test
  void aPatientDeleterWithoutBinaryReadLearnsNothingOfOtherPatientsBinaries() throws Exception {
    String launched = create("Patient");
    String other = upload("Patient/" + create("Patient"), "theirs");
    String never = "never-" + other;
    TestClient deleter = patientToken("patient/Binary.d", launched);
    for (String path : new String[] {"fhir/R4/Binary/", "fhir/R4/Binary?_id="}) {
      HttpResponse<String> existing = deleter.delete(path + other);
      HttpResponse<String> missing = deleter.delete(path + never);
      assertThat(existing.statusCode()).as(path + existing.body()).isEqualTo(missing.statusCode()).isEqualTo(403);
      assertThat(existing.body().replace(other, "ID")).as(path).isEqualTo(missing.body().replace(never, "ID"));
    }
    JsonNode batch = JSON.readTree(deleter.postJson("fhir/R4", bundle("batch",
        "{\"request\":{\"method\":\"DELETE\",\"url\":\"Binary/" + other + "\"}},"
            + "{\"request\":{\"method\":\"DELETE\",\"url\":\"Binary/" + never + "\"}}")).body());
    assertThat(batch.at("/entry/0/response/status").asText()).as(batch.toString()).startsWith("403");
    assertThat(batch.at("/entry/0/response").toString().replace(other, "ID"))
        .isEqualTo(batch.at("/entry/1/response").toString().replace(never, "ID").replace("entry[1]", "entry[0]"));
    assertThat(raw(admin, other).body()).isEqualTo("theirs");
  }
}
