package org.fhirbox.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

/** Creates clients in projects through the admin API and gets them tokens, as an operator would. */
public final class ProjectClients {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final TestServer server;

  /** A client's credentials. */
  public record Credentials(String clientId, String clientSecret, String project) {}

  public ProjectClients(TestServer server) {
    this.server = server;
  }

  /** {@code POST /admin/clients} as the bootstrap admin. */
  public Credentials create(String project, String scope, boolean admin) {
    try {
      HttpResponse<String> r = server.client().send(server.client().request("admin/clients")
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
              JSON.writeValueAsString(Map.of("project", project, "scope", scope, "admin", admin)))));
      assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
      JsonNode n = JSON.readTree(r.body());
      return new Credentials(n.get("clientId").asText(), n.get("clientSecret").asText(), n.get("project").asText());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** {@code POST /oauth2/token} with client_secret_basic; the access token. */
  public String token(Credentials c) {
    HttpResponse<String> r = tokenResponse(c);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    try {
      return JSON.readTree(r.body()).get("access_token").asText();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  public HttpResponse<String> tokenResponse(Credentials c) {
    TestClient anonymous = new TestClient(server.baseUrl());
    return anonymous.send(anonymous.request("oauth2/token")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
            (c.clientId() + ":" + c.clientSecret()).getBytes(StandardCharsets.UTF_8)))
        .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")));
  }

  /** An HTTP client that sends {@code Authorization: Bearer} with a fresh token of {@code c}. */
  public TestClient bearer(Credentials c) {
    return new TestClient(server.baseUrl()).withHeader("Authorization", "Bearer " + token(c));
  }

  /** Creates the client and returns an HTTP client acting as it. */
  public TestClient client(String project, String scope) {
    return bearer(create(project, scope, false));
  }

  /**
   * In {@code project}: a clinician ({@code system/*.cruds}), a client that may write Binaries but
   * read no Patient ({@code system/Binary.cruds}), and a Binary the clinician uploaded raw to
   * {@code path} under a new Patient's securityContext.
   */
  public record ChartedBinary(TestClient clinician, TestClient binariesOnly, String patient, String binaryId) {}

  public ChartedBinary chartedBinary(String project, String path, String contentType, byte[] body) {
    TestClient clinician = client(project, "system/*.cruds");
    TestClient binariesOnly = client(project, "system/Binary.cruds");
    String patient = TestClient.createdId(clinician.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    return new ChartedBinary(clinician, binariesOnly, patient,
        clinician.createBinary(path, contentType, "Patient/" + patient, body));
  }

  public static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
