package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.Collections;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.fhirbox.app.FhirboxServer;
import org.fhirbox.config.FhirboxConfig;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuthHttpTest {
  private static final String ADMIN_ID = "ops";
  private static final String ADMIN_SECRET = "bootstrap-secret-0123456789abcdef";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @TempDir
  static Path dir;
  private static FhirboxServer server;
  private static String base;

  @BeforeAll
  static void start() throws Exception {
    server = new FhirboxServer(FhirboxConfig.of(Map.of("FHIRBOX_PORT", "0", "FHIRBOX_BIND", "127.0.0.1",
        "FHIRBOX_DATA_DIR", dir.toString(), "FHIRBOX_BOOTSTRAP_CLIENT_ID", ADMIN_ID,
        "FHIRBOX_BOOTSTRAP_CLIENT_SECRET", ADMIN_SECRET))).start();
    base = server.baseUrl();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpRequest.Builder req(String path) {
    return HttpRequest.newBuilder(URI.create(base + path));
  }

  private static String basic(String id, String secret) {
    return "Basic " + Base64.getEncoder().encodeToString((id + ":" + secret).getBytes(StandardCharsets.UTF_8));
  }

  private static HttpResponse<String> tokenRequest(String form, String authorization) throws Exception {
    HttpRequest.Builder b = req("oauth2/token").header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(form));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return send(b);
  }

  private static String token(String id, String secret, String scope) throws Exception {
    String form = "grant_type=client_credentials" + (scope == null ? "" : "&scope=" + enc(scope));
    HttpResponse<String> r = tokenRequest(form, basic(id, secret));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body()).get("access_token").asText();
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static JsonNode createClient(String project, String scope, boolean admin) throws Exception {
    HttpResponse<String> r = send(req("admin/clients").header("Authorization", "Bearer " + token(ADMIN_ID,
        ADMIN_SECRET, null)).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
            JSON.writeValueAsString(Map.of("project", project, "scope", scope, "admin", admin)))));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return JSON.readTree(r.body());
  }

  @Test
  void fhirRequestWithoutCredentialsIs401WithChallengeAndOperationOutcome() throws Exception {
    HttpResponse<String> r = send(req("fhir/R4/Patient").GET());
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"fhirbox\"");
    assertThat(r.body()).contains("OperationOutcome");
    assertThat(send(req("fhir/R4/metadata").GET()).statusCode()).isEqualTo(200);
  }

  @Test
  void clientSecretBasicTokenGrantsAccess() throws Exception {
    HttpResponse<String> r = tokenRequest("grant_type=client_credentials&scope=" + enc("system/*.rs"),
        basic(ADMIN_ID, ADMIN_SECRET));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Cache-Control")).hasValue("no-store");
    JsonNode body = JSON.readTree(r.body());
    assertThat(body.get("token_type").asText()).isEqualTo("Bearer");
    assertThat(body.get("expires_in").asLong()).isEqualTo(3600);
    assertThat(body.get("scope").asText()).isEqualTo("system/*.rs");
    HttpResponse<String> search = send(req("fhir/R4/Patient")
        .header("Authorization", "Bearer " + body.get("access_token").asText()).GET());
    assertThat(search.statusCode()).isEqualTo(200);
    assertThat(search.body()).contains("\"Bundle\"");
  }

  @Test
  void clientSecretPostAndBasicOnTheFhirApiWork() throws Exception {
    HttpResponse<String> r = tokenRequest("grant_type=client_credentials&client_id=" + ADMIN_ID + "&client_secret="
        + enc(ADMIN_SECRET), null);
    assertThat(r.statusCode()).isEqualTo(200);
    HttpResponse<String> search = send(req("fhir/R4/Patient").header("Authorization", basic(ADMIN_ID, ADMIN_SECRET))
        .GET());
    assertThat(search.statusCode()).isEqualTo(200);
  }

  @Test
  void invalidTokenIs401WithInvalidTokenError() throws Exception {
    String forged = token(ADMIN_ID, ADMIN_SECRET, null) + "x";
    HttpResponse<String> r = send(req("fhir/R4/Patient").header("Authorization", "Bearer " + forged).GET());
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"fhirbox\", error=\"invalid_token\"");
    assertThat(r.body()).doesNotContain(forged);
  }

  @Test
  void tokenEndpointErrorsAreOAuth2NotOperationOutcomes() throws Exception {
    HttpResponse<String> bad = tokenRequest("grant_type=client_credentials", basic(ADMIN_ID, "wrong"));
    assertThat(bad.statusCode()).isEqualTo(401);
    assertThat(bad.headers().firstValue("WWW-Authenticate")).isPresent();
    assertThat(JSON.readTree(bad.body()).get("error").asText()).isEqualTo("invalid_client");
    assertThat(bad.body()).doesNotContain("OperationOutcome");

    HttpResponse<String> grant = tokenRequest("grant_type=password", basic(ADMIN_ID, ADMIN_SECRET));
    assertThat(grant.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(grant.body()).get("error").asText()).isEqualTo("unsupported_grant_type");

    HttpResponse<String> scope = tokenRequest("grant_type=client_credentials&scope=user%2F*.read",
        basic(ADMIN_ID, ADMIN_SECRET));
    assertThat(JSON.readTree(scope.body()).get("error").asText()).isEqualTo("invalid_scope");

    HttpResponse<String> none = tokenRequest("grant_type=client_credentials", null);
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(JSON.readTree(none.body()).get("error").asText()).isEqualTo("invalid_client");
  }

  @Test
  void requestOutsideTheTokensScopesIs403AndScopesAreNarrowed() throws Exception {
    JsonNode reader = createClient("clinic-a", "system/Patient.rs", false);
    HttpResponse<String> asked = tokenRequest("grant_type=client_credentials&scope=" + enc("system/*.cruds"),
        basic(reader.get("clientId").asText(), reader.get("clientSecret").asText()));
    assertThat(JSON.readTree(asked.body()).get("scope").asText()).isEqualTo("system/Patient.rs");
    String t = JSON.readTree(asked.body()).get("access_token").asText();
    assertThat(send(req("fhir/R4/Patient").header("Authorization", "Bearer " + t).GET()).statusCode()).isEqualTo(200);
    HttpResponse<String> write = send(req("fhir/R4/Patient").header("Authorization", "Bearer " + t)
        .header("Content-Type", "application/fhir+json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\"}")));
    assertThat(write.statusCode()).isEqualTo(403);
    // RFC 6750 §3: a token lacking the scope gets the insufficient_scope challenge
    assertThat(write.headers().firstValue("WWW-Authenticate")).hasValue(
        "Bearer realm=\"fhirbox\", error=\"insufficient_scope\"");
    assertThat(send(req("admin/clients").header("Authorization", "Bearer " + t).GET()).statusCode()).isEqualTo(403);
  }

  @Test
  void aTokenRequestBodyOverTheLimitIs413() throws Exception {
    HttpResponse<String> large = tokenRequest("grant_type=client_credentials&x=" + "a".repeat(70_000),
        basic(ADMIN_ID, ADMIN_SECRET));
    assertThat(large.statusCode()).as(large.body()).isEqualTo(413);
    assertThat(JSON.readTree(large.body()).get("error").asText()).isEqualTo("invalid_request");
  }

  @Test
  void aTokenRequestWithAContentCodingIs415SayingThatOnlyIdentityIsTaken() throws Exception {
    HttpResponse<String> gzip = send(req("oauth2/token").header("Content-Type", "application/x-www-form-urlencoded")
        .header("Content-Encoding", "gzip").header("Authorization", basic(ADMIN_ID, ADMIN_SECRET))
        .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")));
    assertThat(gzip.statusCode()).as(gzip.body()).isEqualTo(415);
    assertThat(gzip.headers().firstValue("Accept-Encoding")).hasValue("identity");
    assertThat(JSON.readTree(gzip.body()).get("error").asText()).isEqualTo("invalid_request");
  }

  @Test
  void includedResourcesAreOnlyThoseTheCallerMayRead() throws Exception {
    JsonNode writer = createClient("clinic-i", "system/Patient.c system/Observation.crs", false);
    String t = token(writer.get("clientId").asText(), writer.get("clientSecret").asText(), null);
    HttpResponse<String> patient = send(req("fhir/R4/Patient").header("Authorization", "Bearer " + t)
        .header("Content-Type", "application/fhir+json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\"}")));
    String patientId = JSON.readTree(patient.body()).get("id").asText();
    HttpResponse<String> obs = send(req("fhir/R4/Observation").header("Authorization", "Bearer " + t)
        .header("Content-Type", "application/fhir+json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Observation\",\"status\":\"final\","
            + "\"code\":{\"text\":\"pulse\"},\"subject\":{\"reference\":\"Patient/" + patientId + "\"}}")));
    assertThat(obs.statusCode()).as(obs.body()).isEqualTo(201);

    HttpResponse<String> r = send(req("fhir/R4/Observation?subject=Patient/" + patientId
        + "&_include=Observation:subject").header("Authorization", "Bearer " + t).GET());

    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode entries = JSON.readTree(r.body()).get("entry");
    assertThat(entries).hasSize(1); // the Patient is referenced, but this client may not read Patients
    assertThat(entries.get(0).at("/resource/resourceType").asText()).isEqualTo("Observation");
  }

  @Test
  void adminApiManagesClientsWithoutRevealingSecrets() throws Exception {
    JsonNode created = createClient("clinic-b", "system/*.rs", false);
    String id = created.get("clientId").asText();
    assertThat(created.get("project").asText()).isEqualTo("clinic-b");
    String adminToken = token(ADMIN_ID, ADMIN_SECRET, null);
    HttpResponse<String> list = send(req("admin/clients?project=clinic-b").header("Authorization",
        "Bearer " + adminToken).GET());
    assertThat(list.statusCode()).isEqualTo(200);
    assertThat(list.body()).contains(id).doesNotContain(created.get("clientSecret").asText()).doesNotContain("pbkdf2");

    HttpResponse<String> rotated = send(req("admin/clients/" + id + "/rotate-secret")
        .header("Authorization", "Bearer " + adminToken).POST(HttpRequest.BodyPublishers.noBody()));
    String newSecret = JSON.readTree(rotated.body()).get("clientSecret").asText();
    assertThat(tokenRequest("grant_type=client_credentials", basic(id, created.get("clientSecret").asText()))
        .statusCode()).isEqualTo(401);
    assertThat(tokenRequest("grant_type=client_credentials", basic(id, newSecret)).statusCode()).isEqualTo(200);

    HttpResponse<String> disabled = send(req("admin/clients/" + id + "/disable")
        .header("Authorization", "Bearer " + adminToken).POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(JSON.readTree(disabled.body()).get("disabled").asBoolean()).isTrue();
    assertThat(tokenRequest("grant_type=client_credentials", basic(id, newSecret)).statusCode()).isEqualTo(401);
  }

  @Test
  void aScopeIsStoredNormalisedOnCreateAndSetAndOneStillTooLongIs400() throws Exception {
    String adminToken = token(ADMIN_ID, ADMIN_SECRET, null);
    String repeated = String.join(" ", Collections.nCopies(250, "system/Patient.r"));
    String id = JSON.readTree(adminPost("admin/clients", adminToken,
        "{\"project\":\"clinic-scope\",\"scope\":\"" + repeated + "\"}").body()).get("clientId").asText();
    HttpResponse<String> set = send(req("admin/clients/" + id + "/scope").header("Authorization", "Bearer " + adminToken)
        .header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString("{\"scope\":\"" + repeated + "\"}")));
    assertThat(set.statusCode()).as(set.body()).isEqualTo(200);
    assertThat(JSON.readTree(set.body()).get("scope").asText()).isEqualTo("system/Patient.r");
    StringBuilder distinct = new StringBuilder();
    for (String type : FhirContext.forR4Cached().getResourceTypes()) {
      distinct.append(" system/").append(type).append(".r user/").append(type).append(".s");
    }
    String tooLong = distinct.toString().trim();
    HttpResponse<String> created = adminPost("admin/clients", adminToken,
        "{\"project\":\"clinic-scope\",\"scope\":\"" + tooLong + "\"}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(400);
    assertThat(created.body()).contains("4000");
    HttpResponse<String> setLong = send(req("admin/clients/" + id + "/scope").header("Authorization", "Bearer " + adminToken)
        .header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString("{\"scope\":\"" + tooLong + "\"}")));
    assertThat(setLong.statusCode()).as(setLong.body()).isEqualTo(400);
    assertThat(setLong.body()).contains("4000");
  }

  @Test
  void aClientRegisteredForSignInsGetsNoUserScopesWithItsSecretAlone() throws Exception {
    JsonNode app = createClient("clinic-app", "openid fhirUser user/*.rs", false);
    String id = app.get("clientId").asText();
    String secret = app.get("clientSecret").asText();
    HttpResponse<String> token = tokenRequest("grant_type=client_credentials", basic(id, secret));
    assertThat(token.statusCode()).as(token.body()).isEqualTo(400);
    assertThat(JSON.readTree(token.body()).get("error").asText()).isEqualTo("invalid_scope");
    assertThat(JSON.readTree(token.body()).get("error_description").asText()).contains("no system/ scopes");
    HttpResponse<String> asked = tokenRequest("grant_type=client_credentials&scope=" + enc("user/Patient.rs"),
        basic(id, secret));
    assertThat(asked.statusCode()).as(asked.body()).isEqualTo(400);
    HttpResponse<String> direct = send(req("fhir/R4/Patient").header("Authorization", basic(id, secret)).GET());
    assertThat(direct.statusCode()).as(direct.body()).isEqualTo(403);
    assertThat(direct.body()).contains("OperationOutcome", "no system/ scopes");
  }

  @Test
  void clientCredentialsAndBasicGrantOnlyTheSystemScopesOfAClientRegisteredWithMore() throws Exception {
    JsonNode both = createClient("clinic-both", "system/Patient.rs user/*.rs patient/*.rs openid fhirUser", false);
    String id = both.get("clientId").asText();
    String secret = both.get("clientSecret").asText();
    HttpResponse<String> token = tokenRequest("grant_type=client_credentials", basic(id, secret));
    assertThat(token.statusCode()).as(token.body()).isEqualTo(200);
    assertThat(JSON.readTree(token.body()).get("scope").asText()).isEqualTo("system/Patient.rs");
    String bearer = "Bearer " + JSON.readTree(token.body()).get("access_token").asText();
    assertThat(send(req("fhir/R4/Observation").header("Authorization", bearer).GET()).statusCode()).isEqualTo(403);
    assertThat(send(req("fhir/R4/Patient").header("Authorization", bearer).GET()).statusCode()).isEqualTo(200);
    for (String p : new String[] {"user/Observation.rs", "patient/Patient.rs", "patient/*.rs launch/patient"}) {
      HttpResponse<String> r = tokenRequest("grant_type=client_credentials&scope=" + enc(p), basic(id, secret));
      assertThat(r.statusCode() + " " + JSON.readTree(r.body()).path("error").asText()).as(p).isEqualTo("400 invalid_scope");
    }
    assertThat(send(req("fhir/R4/Observation").header("Authorization", basic(id, secret)).GET()).statusCode())
        .isEqualTo(403);
    assertThat(send(req("fhir/R4/Patient").header("Authorization", basic(id, secret)).GET()).statusCode())
        .isEqualTo(200);
  }

  @Test
  void clientCredentialsLeavesOutScopesTheServerDoesNotServeAndGrantsTheRest() throws Exception {
    JsonNode backend = createClient("clinic-granular", "system/*.rs", false);
    String id = backend.get("clientId").asText();
    String secret = backend.get("clientSecret").asText();
    // a SMART v2 granular scope goes whole: never read as system/Observation.rs
    HttpResponse<String> some = tokenRequest("grant_type=client_credentials&scope="
        + enc("system/Patient.rs system/Observation.rs?code=http://loinc.org|1234-5 email"), basic(id, secret));
    assertThat(some.statusCode()).as(some.body()).isEqualTo(200);
    assertThat(JSON.readTree(some.body()).get("scope").asText()).isEqualTo("system/Patient.rs");
    HttpResponse<String> none = tokenRequest("grant_type=client_credentials&scope=" + enc("email launch/encounter"),
        basic(id, secret));
    assertThat(none.statusCode()).as(none.body()).isEqualTo(400);
    assertThat(JSON.readTree(none.body()).get("error").asText()).isEqualTo("invalid_scope");
  }

  /**
   * RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), joined by single spaces. A scope
   * holding anything else is refused, never read as no scope, which would grant the whole registration.
   */
  @Test
  void aScopeWithCharactersOutsideTheScopeGrammarIsRefusedNotReadAsNoScope() throws Exception {
    for (String scope : new String[] {"%00%01", "%0B", "%1F", "%7F", "system%2F*.rs%09admin", "system%2F*.rs%0A",
        "system%2FPatient.rs%C2%A0system%2F*.rs", "%20", "%20%20%20"}) {
      HttpResponse<String> r = tokenRequest("grant_type=client_credentials&scope=" + scope,
          basic(ADMIN_ID, ADMIN_SECRET));
      assertThat(r.statusCode()).as(scope + ": " + r.body()).isEqualTo(400);
      assertThat(JSON.readTree(r.body()).get("error").asText()).isEqualTo("invalid_scope");
      assertThat(r.body()).doesNotContain("access_token");
    }
  }

  @Test
  void adminApiCreatesPublicClientsWithExactRedirectUris() throws Exception {
    String adminToken = token(ADMIN_ID, ADMIN_SECRET, null);
    HttpResponse<String> created = adminPost("admin/clients", adminToken, "{\"project\":\"clinic-pub\","
        + "\"scope\":\"patient/*.rs openid fhirUser launch/patient\",\"public\":true,"
        + "\"redirectUris\":[\"https://app.example.org/cb\",\"http://localhost:3000/cb\"]}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    JsonNode c = JSON.readTree(created.body());
    String id = c.get("clientId").asText();
    assertThat(c.has("clientSecret")).isFalse();
    assertThat(c.get("public").asBoolean()).isTrue();
    assertThat(c.get("firstParty").asBoolean()).isFalse();
    assertThat(c.get("redirectUris").toString()).isEqualTo("[\"https://app.example.org/cb\",\"http://localhost:3000/cb\"]");
    // a public client has no credentials to use on its own
    assertThat(tokenRequest("grant_type=client_credentials&client_id=" + id, null).statusCode()).isEqualTo(401);
    assertThat(send(req("admin/clients/" + id + "/rotate-secret").header("Authorization", "Bearer " + adminToken)
        .POST(HttpRequest.BodyPublishers.noBody())).statusCode()).isEqualTo(400);
    HttpResponse<String> replaced = putRedirectUris(id, adminToken, "[\"org.example.app:/cb\"]");
    assertThat(replaced.statusCode()).as(replaced.body()).isEqualTo(200);
    assertThat(JSON.readTree(replaced.body()).get("redirectUris").toString()).isEqualTo("[\"org.example.app:/cb\"]");
    String edges = "[\"http://127.0.0.1:65535/cb\",\"https://app.example.org:1/a..b/.cb/..c\",\"org.example.app:/cb\"]";
    HttpResponse<String> edge = putRedirectUris(id, adminToken, edges);
    assertThat(JSON.readTree(edge.body()).get("redirectUris").toString()).as(edge.body()).isEqualTo(edges);

    for (String bad : new String[] {
        "{\"project\":\"clinic-pub\",\"public\":true,\"redirectUris\":[\"http://app.example.org/cb\"]}",
        "{\"project\":\"clinic-pub\",\"public\":true,\"redirectUris\":\"https://app.example.org/cb\"}",
        "{\"project\":\"clinic-pub\",\"public\":\"yes\",\"redirectUris\":[\"https://app.example.org/cb\"]}",
        "{\"project\":\"clinic-pub\",\"redirectUris\":[\"https://app.example.org/cb#x\"]}"}) {
      HttpResponse<String> refused = adminPost("admin/clients", adminToken, bad);
      assertThat(refused.statusCode()).as(bad).isEqualTo(400);
      assertThat(refused.body()).contains("OperationOutcome");
    }
    HttpResponse<String> noUri = adminPost("admin/clients", adminToken, "{\"project\":\"clinic-pub\",\"public\":true}");
    assertThat(JSON.readTree(noUri.body()).at("/issue/0/expression/0").asText()).as(noUri.body()).isEqualTo("redirectUris");
    // RFC 6749 §3.1.2, §3.1 (no response parameter twice), RFC 3986 §3.2.3, §5.2.4; the outcome names the field
    for (String bad : new String[] {"https://app.example.org:0/cb", "http://localhost:65536/cb",
        "https://app.example.org/a/../cb", "https://app.example.org/./cb", "https://app.example.org/cb/%2E%2e",
        "https://ann@app.example.org/cb", "org.example.app://ann@cb/x", "org.example.app:/a/../cb",
        "org.example.app:/cb#", "/cb", "ftp://app.example.org/cb", "https://app.example.org/cb?x=1&state=a",
        "https://app.example.org/cb?code", "http://127.0.0.1/cb?%69ss=x", "org.example.app:/cb?error=y"}) {
      String uris = "[\"" + bad + "\"]";
      for (HttpResponse<String> refused : List.of(putRedirectUris(id, adminToken, uris), adminPost("admin/clients",
          adminToken, "{\"project\":\"clinic-pub\",\"public\":true,\"redirectUris\":" + uris + "}"))) {
        assertThat(refused.statusCode()).as(bad).isEqualTo(400);
        assertThat(JSON.readTree(refused.body()).at("/issue/0/expression/0").asText()).as(bad)
            .isEqualTo("redirectUris");
      }
    }
    HttpResponse<String> firstParty = adminPost("admin/clients", adminToken, "{\"project\":\"clinic-pub\","
        + "\"scope\":\"user/*.rs\",\"firstParty\":true,\"redirectUris\":[\"https://app.example.org/cb\"]}");
    JsonNode fp = JSON.readTree(firstParty.body());
    assertThat(fp.get("firstParty").asBoolean()).isTrue();
    assertThat(fp.get("public").asBoolean()).isFalse();
    assertThat(fp.get("clientSecret").asText()).isNotEmpty();
    HttpResponse<String> list = send(req("admin/clients?project=clinic-pub").header("Authorization",
        "Bearer " + adminToken).GET());
    assertThat(JSON.readTree(list.body()).get("clients")).hasSize(2)
        .anySatisfy(x -> assertThat(x.get("public").asBoolean()).isTrue())
        .anySatisfy(x -> assertThat(x.get("firstParty").asBoolean()).isTrue());
  }

  private static HttpResponse<String> putRedirectUris(String id, String token, String uris) throws Exception {
    return send(req("admin/clients/" + id + "/redirect-uris").header("Authorization", "Bearer " + token)
        .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(
            "{\"redirectUris\":" + uris + "}")));
  }

  private static HttpResponse<String> adminPost(String path, String token, String json) throws Exception {
    return send(req(path).header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  @Test
  void projectAdminSeesOnlyItsOwnProject() throws Exception {
    JsonNode projectAdmin = createClient("clinic-c", "system/*.cruds", true);
    createClient("clinic-d", "system/*.rs", false);
    String t = token(projectAdmin.get("clientId").asText(), projectAdmin.get("clientSecret").asText(), null);
    HttpResponse<String> list = send(req("admin/clients").header("Authorization", "Bearer " + t).GET());
    assertThat(list.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(list.body()).get("clients")).allSatisfy(c ->
        assertThat(c.get("project").asText()).isEqualTo("clinic-c"));
    HttpResponse<String> elsewhere = send(req("admin/clients").header("Authorization", "Bearer " + t)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"project\":\"clinic-d\",\"scope\":\"system/*.rs\"}")));
    assertThat(elsewhere.statusCode()).isEqualTo(403);
  }

  @Test
  void privateKeyJwtOverHttp() throws Exception {
    JsonNode backend = createClient("clinic-e", "system/*.rs", false);
    String id = backend.get("clientId").asText();
    ECKey key = new ECKeyGenerator(Curve.P_384).keyID("k1").generate();
    HttpResponse<String> reg = send(req("admin/clients/" + id + "/jwks")
        .header("Authorization", "Bearer " + token(ADMIN_ID, ADMIN_SECRET, null))
        .header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(new JWKSet(key.toPublicJWK()).toString())));
    assertThat(reg.statusCode()).as(reg.body()).isEqualTo(200);
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES384).keyID("k1").build(),
        new JWTClaimsSet.Builder().issuer(id).subject(id).audience(base + "oauth2/token")
            .expirationTime(Date.from(Instant.now().plusSeconds(240))).jwtID(UUID.randomUUID().toString()).build());
    jwt.sign(new ECDSASigner(key));
    String form = "grant_type=client_credentials&scope=" + enc("system/Patient.rs")
        + "&client_assertion_type=" + enc(ClientAuthenticator.ASSERTION_TYPE)
        + "&client_assertion=" + jwt.serialize();
    HttpResponse<String> ok = tokenRequest(form, null);
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(JSON.readTree(ok.body()).get("scope").asText()).isEqualTo("system/Patient.rs");
    HttpResponse<String> replay = tokenRequest(form, null);
    assertThat(replay.statusCode()).isEqualTo(401);
    assertThat(replay.body()).contains("already used");
    // signed with a key nobody registered: the answer for this client is the one for an id no client has,
    // so that it does not tell which ids are clients with registered keys
    ECKey stranger = new ECKeyGenerator(Curve.P_384).keyID("k1").generate();
    HttpResponse<String> forged = tokenRequest(assertionForm(id, stranger), null);
    HttpResponse<String> unknown = tokenRequest(assertionForm("no-such-client", stranger), null);
    assertThat(forged.statusCode()).as(forged.body()).isEqualTo(401);
    assertThat(unknown.statusCode()).as(unknown.body()).isEqualTo(401);
    assertThat(forged.body()).isEqualTo(unknown.body());
  }

  private String assertionForm(String id, ECKey key) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES384).keyID(key.getKeyID()).build(),
        new JWTClaimsSet.Builder().issuer(id).subject(id).audience(base + "oauth2/token")
            .expirationTime(Date.from(Instant.now().plusSeconds(240))).jwtID(UUID.randomUUID().toString()).build());
    jwt.sign(new ECDSASigner(key));
    return "grant_type=client_credentials&client_assertion_type=" + enc(ClientAuthenticator.ASSERTION_TYPE)
        + "&client_assertion=" + jwt.serialize();
  }

  @Test
  void repeatedFailuresGive429WithRetryAfter() throws Exception {
    JsonNode victim = createClient("clinic-f", "system/*.rs", false);
    String id = victim.get("clientId").asText();
    for (int i = 0; i < 5; i++) {
      assertThat(tokenRequest("grant_type=client_credentials", basic(id, "guess-" + i)).statusCode()).isEqualTo(401);
    }
    HttpResponse<String> throttled = tokenRequest("grant_type=client_credentials", basic(id, "guess"));
    assertThat(throttled.statusCode()).isEqualTo(429);
    assertThat(throttled.headers().firstValue("Retry-After")).hasValue("1");
    HttpResponse<String> fhir = send(req("fhir/R4/Patient").header("Authorization", basic(id, "guess")).GET());
    assertThat(fhir.statusCode()).isEqualTo(429);
    assertThat(fhir.headers().firstValue("Retry-After")).isPresent();
  }

  @Test
  void basicCredentialsAreFormUrlDecodedAsRfc6749Section231Asks() throws Exception {
    String id = "chosen";
    String secret = "correct horse+battery/staple 100%:caf\u00e9";
    try (TestServer chosen = TestServer.start(Map.of("FHIRBOX_BOOTSTRAP_CLIENT_ID", id,
        "FHIRBOX_BOOTSTRAP_CLIENT_SECRET", secret))) {
      String encoded = basic(enc(id), enc(secret)); // chosen:correct+horse%2Bbattery%2Fstaple+100%25%3Acaf%C3%A9
      assertThat(clientCredentials(chosen, encoded).statusCode()).isEqualTo(200);
      assertThat(send(HttpRequest.newBuilder(URI.create(chosen.fhirBase() + "/Patient"))
          .header("Authorization", encoded).GET()).statusCode()).isEqualTo(200);
      // the secret as it is, which many clients send, still works although decoding would change it
      assertThat(clientCredentials(chosen, basic(id, secret)).statusCode()).isEqualTo(200);
      // wrong whether taken as it is or decoded: one refusal, not two
      HttpResponse<String> wrong = clientCredentials(chosen, basic(id, "wrong+guess%21"));
      assertThat(wrong.statusCode()).isEqualTo(401);
      assertThat(wrong.body()).doesNotContain("guess");
      HttpResponse<String> marker = clientCredentials(chosen, encoded);
      assertThat(marker.statusCode()).isEqualTo(200);
      String bearer = "Bearer " + JSON.readTree(marker.body()).get("access_token").asText();
      // the marker token was issued last: once its AuditEvent is written, so are those before it
      JsonNode bundle = Poll.until("the client authentication AuditEvents", () -> JSON.readTree(send(
          HttpRequest.newBuilder(URI.create(chosen.fhirBase() + "/AuditEvent?type=110114&_count=100"))
              .header("Authorization", bearer).GET()).body()),
          b -> b.findValues("resource").stream().filter(e -> e.path("outcome").asText().equals("0")).count() >= 3);
      assertThat(bundle.findValues("resource").stream().filter(e -> e.path("outcome").asText().equals("4")))
          .as("refused client authentications").hasSize(1);
      for (String path : List.of("oauth2/introspect", "oauth2/revoke")) { // Basic is decoded there alike
        assertThat(send(HttpRequest.newBuilder(URI.create(chosen.baseUrl() + path)).header("Content-Type",
            "application/x-www-form-urlencoded").header("Authorization", encoded).POST(HttpRequest.BodyPublishers
            .ofString("token=no-such-token"))).statusCode()).as(path).isEqualTo(200);
      }
      // a malformed percent-encoding can only be the text as sent: not the secret, so 401, never 500
      for (String malformed : new String[] {basic(id, "100%zz"), basic(id + "%", enc(secret))}) {
        assertThat(clientCredentials(chosen, malformed).body()).contains("\"invalid_client\"");
      }
      assertThat(send(HttpRequest.newBuilder(URI.create(chosen.fhirBase() + "/Patient"))
          .header("Authorization", basic(id, "%E0%A4%A")).GET()).statusCode()).isEqualTo(401);
    }
  }

  private static HttpResponse<String> clientCredentials(TestServer server, String authorization) throws Exception {
    return send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "oauth2/token"))
        .header("Content-Type", "application/x-www-form-urlencoded").header("Authorization", authorization)
        .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")));
  }

  @Test
  void behindATrustedProxyFailuresAreCountedPerAddressTheProxySawWhateverTheCallerForges() throws Exception {
    try (TestServer proxied = TestServer.start(Map.of("FHIRBOX_TRUST_PROXY", "true"))) {
      // distinct client ids, so that only the per-address limit (20 failures) counts; each guess
      // names another address of its own choosing in front of the one the proxy appends
      for (int i = 0; i < 20; i++) {
        assertThat(basicThroughProxy(proxied, "guesser-" + i, "203.0.113." + i, "198.51.100.1").statusCode())
            .isEqualTo(401);
      }
      assertThat(basicThroughProxy(proxied, "guesser-20", "203.0.113.99", "198.51.100.1").statusCode())
          .isEqualTo(429);
      // another caller behind the same proxy (same peer address, 127.0.0.1) is not affected,
      // even when it names the throttled address itself
      assertThat(basicThroughProxy(proxied, "guesser-21", "198.51.100.1", "198.51.100.2").statusCode())
          .isEqualTo(401);
    }
  }

  @Test
  void trustProxyTakesOnlyTrueOrFalse() {
    // a typo must not silently leave the proxy untrusted (or trusted)
    assertThatThrownBy(() -> TestServer.start(Map.of("FHIRBOX_TRUST_PROXY", "yes")))
        .hasStackTraceContaining("FHIRBOX_TRUST_PROXY must be true or false");
  }

  /**
   * A request as nginx passes it on with {@code $proxy_add_x_forwarded_for}: the caller's own
   * {@code X-Forwarded-For} and {@code Forwarded} (naming {@code forged}), then the address the
   * proxy saw appended.
   */
  private static HttpResponse<String> basicThroughProxy(TestServer server, String clientId, String forged,
      String seenByProxy) throws Exception {
    return send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "fhir/R4/Patient"))
        .header("Authorization", basic(clientId, "wrong")).header("X-Forwarded-For", forged + ", " + seenByProxy)
        .header("Forwarded", "for=" + forged).GET());
  }

  @Test
  void discoveryDocumentsNameTheEndpointsAndPublicKeys() throws Exception {
    for (String path : new String[] {".well-known/smart-configuration", "fhir/R4/.well-known/smart-configuration"}) {
      HttpResponse<String> r = send(req(path).GET());
      assertThat(r.statusCode()).isEqualTo(200);
      JsonNode c = JSON.readTree(r.body());
      assertThat(c.get("token_endpoint").asText()).isEqualTo(base + "oauth2/token");
      assertThat(c.get("jwks_uri").asText()).isEqualTo(base + ".well-known/jwks.json");
      assertThat(c.get("token_endpoint_auth_methods_supported").toString()).contains("private_key_jwt");
      assertThat(c.get("capabilities").toString()).contains("client-confidential-asymmetric");
    }
    // public clients sign in with none: both documents name what the token endpoint takes
    JsonNode openid = JSON.readTree(send(req(".well-known/openid-configuration").GET()).body());
    JsonNode smart = JSON.readTree(send(req(".well-known/smart-configuration").GET()).body());
    assertThat(smart.get("token_endpoint_auth_methods_supported")).contains(JSON.valueToTree("none"))
        .isEqualTo(openid.get("token_endpoint_auth_methods_supported"));
    JsonNode jwks = JSON.readTree(send(req(".well-known/jwks.json").GET()).body());
    assertThat(jwks.get("keys")).hasSize(2); // ES256 for access tokens, RS256 for ID tokens
    assertThat(jwks.get("keys")).allSatisfy(k -> assertThat(k.has("d")).isFalse());
    String kid = SignedJWT.parse(token(ADMIN_ID, ADMIN_SECRET, null)).getHeader().getKeyID();
    assertThat(jwks.get("keys").findValuesAsText("kid")).contains(kid);
  }
}
