package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Predicate;
import org.fhirbox.auth.ClientAuthenticator;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Clients' authentication becomes AuditEvents (DICOM 110114 User Authentication): each
 * client_credentials token issued and each refused client authentication, in the claimed
 * client's project (else the server's own), searchable by the project's admins.
 */
class ClientAuthAuditTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static TestServer server;
  private static ProjectClients clients;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
    clients = new ProjectClients(server);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static String basic(String id, String secret) {
    return "Basic " + Base64.getEncoder().encodeToString((id + ":" + secret).getBytes(StandardCharsets.UTF_8));
  }

  private static HttpResponse<String> token(String form, String authorization) {
    TestClient anonymous = new TestClient(server.baseUrl());
    HttpRequest.Builder b = anonymous.request("oauth2/token")
        .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return anonymous.send(b);
  }

  private static HttpResponse<String> fhirBasic(String id, String secret) {
    TestClient anonymous = new TestClient(server.baseUrl());
    // a read of a Patient that is not there: 404 once authenticated, and cheap
    return anonymous.send(anonymous.request("fhir/R4/Patient/none").header("Authorization", basic(id, secret))
        .GET());
  }

  private static List<JsonNode> events(TestClient admin, String query) throws Exception {
    HttpResponse<String> r = admin.get("fhir/R4/AuditEvent?_count=100&type=110114&" + query);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    List<JsonNode> out = new ArrayList<>();
    JSON.readTree(r.body()).path("entry").forEach(e -> out.add(e.get("resource")));
    return out;
  }

  private static List<JsonNode> await(TestClient admin, String query, Predicate<List<JsonNode>> done)
      throws Exception {
    return Poll.until("audit events for " + query, () -> events(admin, query), done);
  }

  private static long count(List<JsonNode> events, String outcome, String descContains) {
    return events.stream().filter(e -> e.path("outcome").asText().equals(outcome)
        && e.path("outcomeDesc").asText().contains(descContains)).count();
  }

  /**
   * How the trail keeps a claimed client id that is no client's and no issued id's form: the
   * server's keyed fingerprint, which is no plain SHA-256 of the value (a weak secret could be
   * confirmed against that).
   */
  private static String fingerprint(String value) throws Exception {
    String kept = server.server().claimedText().fingerprint(value);
    byte[] hash = java.security.MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
    assertThat(kept).startsWith(value.substring(0, Math.min(4, value.length() / 4)) + "…").hasSize(
        Math.min(4, value.length() / 4) + 9).doesNotEndWith(java.util.HexFormat.of().formatHex(hash).substring(0, 8));
    return kept;
  }

  @Test
  void swappedCredentialsDoNotPutTheSecretInTheAuditTrail() throws Exception {
    ProjectClients.Credentials swapped = clients.create("cli-swap", "system/*.rs", false);
    String secret = swapped.clientSecret();
    assertThat(fhirBasic(secret, swapped.clientId()).statusCode()).isEqualTo(401);
    assertThat(token("grant_type=client_credentials", basic(secret, swapped.clientId())).statusCode()).isEqualTo(401);
    assertThat(token("grant_type=client_credentials&client_id=" + secret + "&client_secret=" + swapped.clientId(),
        null).statusCode()).isEqualTo(401);
    // an unknown id of the form the server issues is kept as sent; written after the others
    String mistyped = java.util.UUID.randomUUID().toString();
    assertThat(token("grant_type=client_credentials", basic(mistyped, "x")).statusCode()).isEqualTo(401);
    TestClient serverAdmin = server.client();
    await(serverAdmin, "outcome=4&altid=" + mistyped, e -> !e.isEmpty());

    assertThat(events(serverAdmin, "altid=" + secret)).isEmpty();
    List<JsonNode> refused = events(serverAdmin, "outcome=4&altid=" + ProjectClients.enc(fingerprint(secret)));
    assertThat(refused).hasSize(3).allSatisfy(e -> assertThat(e.path("outcomeDesc").asText()).contains("unknown client"));
    assertThat(JSON.writeValueAsString(refused)).doesNotContain(secret);
  }

  private static JsonNode detail(JsonNode event, String type) {
    for (JsonNode d : event.at("/entity/0/detail")) {
      if (d.path("type").asText().equals(type)) {
        return d.path("valueString");
      }
    }
    return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
  }

  @Test
  void tokensIssuedAndRefusedClientAuthenticationAreAuditedInTheClaimedClientsProject() throws Exception {
    ProjectClients.Credentials backend = clients.create("cli-audit", "system/*.rs", false);
    ProjectClients.Credentials gone = clients.create("cli-audit", "system/*.rs", false);
    TestClient admin = clients.bearer(clients.create("cli-audit", "system/*.cruds", true));
    assertThat(server.client().postJson("admin/clients/" + gone.clientId() + "/disable", "{}").statusCode())
        .isEqualTo(200);
    String id = backend.clientId();

    HttpResponse<String> issued = token("grant_type=client_credentials&scope=system/Patient.rs",
        basic(id, backend.clientSecret()));
    assertThat(issued.statusCode()).as(issued.body()).isEqualTo(200);
    // a successful Basic request on the FHIR API is not recorded: it comes with every request
    assertThat(fhirBasic(id, backend.clientSecret()).statusCode()).isEqualTo(404);
    assertThat(token("grant_type=client_credentials&client_id=" + id + "&client_secret=wrong-post", null)
        .statusCode()).isEqualTo(401);
    assertThat(fhirBasic(id, "wrong-basic").statusCode()).isEqualTo(401);
    assertThat(token("grant_type=client_credentials&client_id=" + id + "&client_assertion_type="
        + ProjectClients.enc(ClientAuthenticator.ASSERTION_TYPE) + "&client_assertion=not-a-jwt", null)
        .statusCode()).isEqualTo(401);
    assertThat(token("grant_type=client_credentials", basic(gone.clientId(), gone.clientSecret())).statusCode())
        .isEqualTo(401);
    String unknown = "nobody-" + "x".repeat(400);
    assertThat(token("grant_type=client_credentials", basic(unknown, "whatever")).statusCode()).isEqualTo(401);

    List<JsonNode> mine = await(admin, "altid=" + id, e -> e.size() >= 4);
    assertThat(mine).hasSize(4);
    JsonNode ok = mine.stream().filter(e -> e.path("outcome").asText().equals("0")).findFirst().orElseThrow();
    assertThat(ok.at("/subtype/0/code").asText()).isEqualTo("110122");
    assertThat(ok.at("/action").asText()).isEqualTo("E");
    assertThat(ok.at("/agent/0/requestor").asBoolean()).isTrue();
    assertThat(ok.at("/agent/0/type/coding/0/code").asText()).isEqualTo("110150");
    assertThat(ok.at("/agent/0/who/identifier/value").asText()).isEqualTo(id);
    assertThat(ok.at("/agent/0/network/address").asText()).isEqualTo("127.0.0.1");
    assertThat(detail(ok, "scope").asText()).isEqualTo("system/Patient.rs");
    assertThat(detail(ok, "method").asText()).isEqualTo("client_secret_basic");
    assertThat(count(mine, "4", "wrong client secret")).isEqualTo(2);
    assertThat(mine.stream().map(e -> detail(e, "method").asText()).toList())
        .contains("client_secret_post", "basic", "private_key_jwt");
    assertThat(count(mine, "4", "not a signed JWT")).isEqualTo(1);

    List<JsonNode> disabled = await(admin, "altid=" + gone.clientId(), e -> !e.isEmpty());
    assertThat(disabled).hasSize(1);
    assertThat(disabled.get(0).path("outcomeDesc").asText()).contains("client is disabled");

    // an unknown client's refusal joins the server's project; a claimed id that is not of the form
    // the server issues may be a secret sent in the wrong place, so only its fingerprint is kept
    List<JsonNode> elsewhere = await(server.client(), "outcome=4&altid=" + ProjectClients.enc(fingerprint(unknown)),
        e -> !e.isEmpty());
    assertThat(elsewhere.get(0).path("outcomeDesc").asText()).contains("unknown client");
    assertThat(events(admin, "altid=" + ProjectClients.enc(fingerprint(unknown)))).isEmpty();

    String all = JSON.writeValueAsString(mine) + JSON.writeValueAsString(disabled) + JSON.writeValueAsString(elsewhere);
    assertThat(all).doesNotContain(backend.clientSecret(), gone.clientSecret(), "wrong-post", "wrong-basic",
        "whatever", issued.body().substring(issued.body().indexOf("access_token") + 15, 60));
  }

  @Test
  void aThrottledBurstIsRecordedOnceNotOncePerRequest() throws Exception {
    ProjectClients.Credentials victim = clients.create("cli-burst", "system/*.rs", false);
    TestClient admin = clients.bearer(clients.create("cli-burst", "system/*.cruds", true));
    String id = victim.clientId();
    for (int i = 0; i < 5; i++) {
      assertThat(token("grant_type=client_credentials", basic(id, "guess-" + i)).statusCode()).isEqualTo(401);
    }
    int throttled = 0;
    for (int i = 0; i < 8; i++) {
      int status = i % 2 == 0 ? token("grant_type=client_credentials", basic(id, "guess")).statusCode()
          : fhirBasic(id, "guess").statusCode();
      throttled += status == 429 ? 1 : 0;
    }
    assertThat(throttled).isGreaterThan(1);
    // a later event of the same project: once it is written, so is every refusal before it
    ProjectClients.Credentials marker = clients.create("cli-burst", "system/*.rs", false);
    clients.token(marker);
    await(admin, "altid=" + marker.clientId(), e -> !e.isEmpty());

    List<JsonNode> refusals = events(admin, "outcome=4&altid=" + id);
    assertThat(count(refusals, "4", "throttled")).isEqualTo(1);
    assertThat(count(refusals, "4", "wrong client secret")).isGreaterThanOrEqualTo(5);
  }
}
