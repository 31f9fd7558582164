package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.TestInstance;

/**
 * A server with one project, a seeder that may do anything in it, and the ways the patient-scope
 * tests make resources, Binaries and SMART launch tokens there.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class PatientScopeFixture {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String PROJECT = "clinic";

  TestServer server;
  TestClient seeder;

  void startServer(Map<String, String> settings) throws Exception {
    server = TestServer.start(settings);
    seeder = new ProjectClients(server).client(PROJECT, "system/*.cruds");
  }

  @AfterAll
  void stop() throws Exception {
    server.close();
  }

  String create(String type, String json) {
    return TestClient.createdId(seeder.postJson("fhir/R4/" + type, json));
  }

  static String withId(String json, String id) {
    return json.replaceFirst("\\{", "{\"id\":\"" + id + "\",");
  }

  /** A text Binary the seeder uploads, with {@code securityContext} (or none). */
  String upload(String securityContext) {
    return upload(seeder, securityContext, "scan of " + securityContext);
  }

  static String upload(TestClient c, String securityContext, String text) {
    return TestClient.createdId(uploadResponse(c, securityContext, text));
  }

  static HttpResponse<String> uploadResponse(TestClient c, String securityContext, String text) {
    HttpRequest.Builder b = c.request("fhir/R4/Binary").header("Content-Type", "text/plain");
    if (securityContext != null) {
      b.header("X-Security-Context", securityContext);
    }
    return c.send(b.POST(HttpRequest.BodyPublishers.ofString(text, StandardCharsets.UTF_8)));
  }

  /** A token as a SMART launch issues it: the client's scopes, and the launch patient (or none). */
  TestClient patientToken(String scope, Optional<String> patient) {
    AuthModule auth = server.server().auth();
    OAuthClient client = auth.clients().find(auth.clients().create(PROJECT, scope, false).clientId()).orElseThrow();
    String token = auth.tokens().issue(client, Scopes.parse(scope), Optional.empty(), patient).accessToken();
    return new TestClient(server.baseUrl()).withHeader("Authorization", "Bearer " + token);
  }

  static JsonNode json(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body());
  }

  static JsonNode ok(HttpResponse<String> r) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return json(r);
  }
}
