package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** SMART v2 system scopes decide what a client may do in its project: outside them, 403. */
class ScopeMatrixTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PROJECT = "scopes";
  private static TestServer server;
  private static ProjectClients clients;
  private static String patient;
  private static String observation;
  private static String binary;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
    clients = new ProjectClients(server);
    TestClient seeder = clients.client(PROJECT, "system/*.cruds");
    patient = TestClient.createdId(seeder.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    observation = TestClient.createdId(seeder.postJson("fhir/R4/Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\","
        + "\"code\":{\"text\":\"x\"}}"));
    binary = TestClient.createdId(seeder.postBytes("fhir/R4/Binary", "text/plain", "seeded".getBytes(StandardCharsets.UTF_8)));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static int upload(TestClient c) {
    return c.postBytes("fhir/R4/Binary", "text/plain", "new".getBytes(StandardCharsets.UTF_8)).statusCode();
  }

  @Test
  void patientReadSearchScopeReadsPatientsOnly() {
    TestClient c = clients.client(PROJECT, "system/Patient.rs");
    assertThat(c.get("fhir/R4/Patient/" + patient).statusCode()).isEqualTo(200);
    assertThat(c.get("fhir/R4/Patient").statusCode()).isEqualTo(200);
    assertThat(c.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}").statusCode()).isEqualTo(403);
    assertThat(c.putJson("fhir/R4/Patient/" + patient, "{\"resourceType\":\"Patient\",\"id\":\"" + patient + "\"}")
        .statusCode()).isEqualTo(403);
    assertThat(c.delete("fhir/R4/Patient/" + patient).statusCode()).isEqualTo(403);
    assertThat(c.delete("fhir/R4/Patient/never-was").statusCode()).isEqualTo(403);
    assertThat(c.get("fhir/R4/Observation/" + observation).statusCode()).isEqualTo(403);
    assertThat(c.get("fhir/R4/Observation").statusCode()).isEqualTo(403);
    assertThat(upload(c)).isEqualTo(403);
    assertThat(c.rawBinaryStatus(binary)).isEqualTo(403);
  }

  @Test
  void chainsAndHasReachOnlyTypesTheClientMaySearch() {
    TestClient c = clients.client(PROJECT, "system/Observation.rs");
    assertThat(c.get("fhir/R4/Observation?subject=Patient/" + patient).statusCode()).isEqualTo(200);
    HttpResponse<String> chained = c.get("fhir/R4/Observation?subject:Patient.name=x");
    assertThat(chained.statusCode()).isEqualTo(403);
    assertThat(chained.body()).contains("does not permit search");
    TestClient both = clients.client(PROJECT, "system/Observation.rs system/Patient.s");
    assertThat(both.get("fhir/R4/Observation?subject:Patient.name=x").statusCode()).isEqualTo(200);
    TestClient patients = clients.client(PROJECT, "system/Patient.rs");
    assertThat(patients.get("fhir/R4/Patient?_has:Observation:patient:code=x").statusCode()).isEqualTo(403);
    assertThat(both.get("fhir/R4/Patient?_has:Observation:patient:code=x").statusCode()).isEqualTo(200);
  }

  @Test
  void revincludeNeedsSearchOnTheSourceType() {
    TestClient seeder = clients.client(PROJECT, "system/*.cruds");
    String provenance = TestClient.createdId(seeder.postJson("fhir/R4/Provenance", "{\"resourceType\":\"Provenance\","
        + "\"target\":[{\"reference\":\"Observation/" + observation + "\"}],\"recorded\":\"2024-01-01T00:00:00Z\","
        + "\"agent\":[{\"who\":{\"display\":\"lab\"}}]}"));
    String query = "fhir/R4/Observation?_id=" + observation + "&_revinclude=Provenance:target";

    TestClient readOnly = clients.client(PROJECT, "system/Observation.rs system/Provenance.r");
    assertThat(readOnly.get("fhir/R4/Provenance?target=Observation/" + observation).statusCode()).isEqualTo(403);
    HttpResponse<String> withoutSearch = readOnly.get(query);
    assertThat(withoutSearch.statusCode()).isEqualTo(200);
    assertThat(withoutSearch.body()).contains(observation).doesNotContain(provenance);

    TestClient searching = clients.client(PROJECT, "system/Observation.rs system/Provenance.s");
    assertThat(searching.get(query).body()).contains(provenance);
  }

  @Test
  void readWithoutSearchCannotSearch() {
    TestClient c = clients.client(PROJECT, "system/Patient.r");
    assertThat(c.get("fhir/R4/Patient/" + patient).statusCode()).isEqualTo(200);
    assertThat(c.get("fhir/R4/Patient").statusCode()).isEqualTo(403);
  }

  @Test
  void binaryCreateScopeUploadsButCannotRead() throws Exception {
    TestClient c = clients.client(PROJECT, "system/Binary.c");
    HttpResponse<String> up = c.postBytes("fhir/R4/Binary", "text/plain", "drop box".getBytes(StandardCharsets.UTF_8));
    assertThat(up.statusCode()).as(up.body()).isEqualTo(201);
    // no signed url for a writer that may not read
    assertThat(JSON.readTree(up.body()).has("url")).isFalse();
    String own = JSON.readTree(up.body()).get("id").asText();
    assertThat(c.rawBinaryStatus(own)).isEqualTo(403);
    assertThat(c.get("fhir/R4/Binary/" + own).statusCode()).isEqualTo(403);
    assertThat(c.get("fhir/R4/Binary/" + own + "/$presigned-url").statusCode()).isEqualTo(403);
    assertThat(c.get("fhir/R4/Binary").statusCode()).isEqualTo(403);
    assertThat(c.get("fhir/R4/Patient/" + patient).statusCode()).isEqualTo(403);
  }

  @Test
  void wildcardCrudsDoesEverything() throws Exception {
    TestClient c = clients.client(PROJECT, "system/*.cruds");
    String p = TestClient.createdId(c.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    assertThat(c.get("fhir/R4/Patient/" + p).statusCode()).isEqualTo(200);
    assertThat(c.get("fhir/R4/Patient").statusCode()).isEqualTo(200);
    assertThat(c.putJson("fhir/R4/Patient/" + p, "{\"resourceType\":\"Patient\",\"id\":\"" + p + "\"}").statusCode())
        .isEqualTo(200);
    assertThat(c.get("fhir/R4/Observation/" + observation).statusCode()).isEqualTo(200);
    assertThat(upload(c)).isEqualTo(201);
    assertThat(c.rawBinaryStatus(binary)).isEqualTo(200);
    assertThat(c.get("fhir/R4/Binary/" + binary + "/$presigned-url").statusCode()).isEqualTo(200);
    assertThat(c.delete("fhir/R4/Patient/" + p).statusCode()).isEqualTo(200);
  }

  @Test
  void nonAdminCannotReadAuditEventsEvenWithWildcardRead() {
    TestClient c = clients.client(PROJECT, "system/*.rs");
    assertThat(c.get("fhir/R4/AuditEvent").statusCode()).isEqualTo(403);
    assertThat(c.get("fhir/R4/AuditEvent/_history").statusCode()).isEqualTo(403);
    assertThat(c.get("fhir/R4/AuditEvent/anything").statusCode()).isEqualTo(403);
  }
}
