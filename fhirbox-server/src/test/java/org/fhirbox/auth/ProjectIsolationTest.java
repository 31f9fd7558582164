package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Two projects on one server: nothing of A is visible to, or usable by, B's client. */
class ProjectIsolationTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static TestServer server;
  private static TestClient a;
  private static TestClient b;
  private static String patientA;
  private static String binaryA;
  private static String patientB;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
    ProjectClients clients = new ProjectClients(server);
    a = clients.client("iso-a", "system/*.cruds");
    b = clients.client("iso-b", "system/*.cruds");
    HttpResponse<String> up = a.postBytes("fhir/R4/Binary", "text/plain", "A's secret".getBytes(StandardCharsets.UTF_8));
    assertThat(up.statusCode()).as(up.body()).isEqualTo(201);
    binaryA = JSON.readTree(up.body()).get("id").asText();
    patientA = TestClient.createdId(a.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Alpha\"}],"
        + "\"photo\":[{\"contentType\":\"text/plain\",\"url\":\"Binary/" + binaryA + "\"}]}"));
    HttpResponse<String> upd = a.putJson("fhir/R4/Patient/" + patientA, "{\"resourceType\":\"Patient\",\"id\":\""
        + patientA + "\",\"name\":[{\"family\":\"Alpha2\"}],\"photo\":[{\"url\":\"Binary/" + binaryA + "\"}]}");
    assertThat(upd.statusCode()).as(upd.body()).isEqualTo(200);
    patientB = TestClient.createdId(b.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Beta\"}]}"));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static List<String> entryIds(HttpResponse<String> r) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    List<String> ids = new ArrayList<>();
    JsonNode entries = JSON.readTree(r.body()).path("entry");
    for (JsonNode e : entries) {
      ids.add(e.path("fullUrl").asText());
    }
    return ids;
  }

  @Test
  void anotherProjectsIdsAre404OnReadVreadAndInstanceHistory() {
    assertThat(b.get("fhir/R4/Patient/" + patientA).statusCode()).isEqualTo(404);
    assertThat(b.get("fhir/R4/Patient/" + patientA + "/_history/1").statusCode()).isEqualTo(404);
    assertThat(b.get("fhir/R4/Patient/" + patientA + "/_history").statusCode()).isEqualTo(404);
    assertThat(b.get("fhir/R4/Binary/" + binaryA).statusCode()).isEqualTo(404);
    assertThat(a.get("fhir/R4/Patient/" + patientA + "/_history/1").statusCode()).isEqualTo(200);
  }

  @Test
  void typeAndSystemHistoryAndSearchShowOnlyOwnProject() throws Exception {
    for (String path : List.of("fhir/R4/Patient", "fhir/R4/Patient/_history", "fhir/R4/_history",
        "fhir/R4/Binary", "fhir/R4/Patient?name=Alpha")) {
      List<String> seen = entryIds(b.get(path));
      assertThat(seen).as(path).noneMatch(u -> u.endsWith("/" + patientA) || u.endsWith("/" + binaryA));
    }
    assertThat(entryIds(b.get("fhir/R4/Patient"))).anyMatch(u -> u.endsWith("/Patient/" + patientB));
    assertThat(entryIds(a.get("fhir/R4/Patient"))).anyMatch(u -> u.endsWith("/Patient/" + patientA))
        .noneMatch(u -> u.endsWith("/" + patientB));
  }

  @Test
  void batchReadingAnotherProjectsIdsGives404Entries() throws Exception {
    HttpResponse<String> r = b.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        + "{\"request\":{\"method\":\"GET\",\"url\":\"Patient/" + patientA + "\"}},"
        + "{\"request\":{\"method\":\"GET\",\"url\":\"Binary/" + binaryA + "\"}},"
        + "{\"request\":{\"method\":\"GET\",\"url\":\"Patient/" + patientB + "\"}}]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode entries = JSON.readTree(r.body()).get("entry");
    assertThat(entries.get(0).at("/response/status").asText()).startsWith("404");
    assertThat(entries.get(1).at("/response/status").asText()).startsWith("404");
    assertThat(entries.get(2).at("/response/status").asText()).startsWith("200");
    assertThat(r.body()).doesNotContain("Alpha");
  }

  @Test
  void binaryContentAndPresignedUrlOfAnotherProjectAre404() {
    HttpResponse<byte[]> raw = b.sendBytes(b.request("fhir/R4/Binary/" + binaryA).GET());
    assertThat(raw.statusCode()).isEqualTo(404);
    assertThat(new String(raw.body(), StandardCharsets.UTF_8)).doesNotContain("A's secret");
    assertThat(b.get("fhir/R4/Binary/" + binaryA + "/$presigned-url").statusCode()).isEqualTo(404);
    assertThat(b.sendBytes(b.request("fhir/R4/Binary/" + binaryA + "/_history/1").GET()).statusCode())
        .isEqualTo(404);
    HttpResponse<byte[]> own = a.sendBytes(a.request("fhir/R4/Binary/" + binaryA).GET());
    assertThat(new String(own.body(), StandardCharsets.UTF_8)).isEqualTo("A's secret");
  }

  @Test
  void attachmentToAnotherProjectsBinaryIsRejectedAtWrite() {
    HttpResponse<String> r = b.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\","
        + "\"photo\":[{\"url\":\"Binary/" + binaryA + "\"}]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(r.body()).contains("Binary/" + binaryA);
  }

  @Test
  void ownAttachmentIsSignedForTheOwnerOnly() throws Exception {
    JsonNode read = JSON.readTree(a.get("fhir/R4/Patient/" + patientA).body());
    String url = read.at("/photo/0/url").asText();
    assertThat(url).startsWith(server.baseUrl() + "storage/" + binaryA + "/1?");
    HttpResponse<byte[]> download = new TestClient(server.baseUrl()).sendBytes(
        new TestClient(server.baseUrl()).request(url).GET());
    assertThat(download.statusCode()).isEqualTo(200);
    assertThat(new String(download.body(), StandardCharsets.UTF_8)).isEqualTo("A's secret");
    assertThat(entryIds(b.get("fhir/R4/_history"))).noneMatch(u -> u.contains(patientA) || u.contains(binaryA));
  }
}
