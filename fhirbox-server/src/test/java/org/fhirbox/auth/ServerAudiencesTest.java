package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.fhirbox.testing.FormBrowser;
import org.fhirbox.testing.FormBrowser.Page;
import org.fhirbox.testing.SmartApp;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A server known by more than its base URL (an issuer for the whole deployment, and aliases)
 * takes each of them as the audience a client names: the FHIR base a SMART app sends as
 * {@code aud} to the authorize endpoint, and the token endpoint a {@code private_key_jwt}
 * assertion names (RFC 7523 §3), as the discovery documents advertise it.
 */
class ServerAudiencesTest {
  private static final String ISSUER = "https://fhirbox.example.org/";
  private static final String ALIAS = "https://alias.example.org/";
  private static final String REDIRECT = "https://app.example.org/cb";
  private static final String SCOPE = "user/*.rs openid fhirUser";
  private static TestServer server;
  private static SmartApp app;
  private static String backendId;
  private static ECKey backendKey;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(Map.of("FHIRBOX_TOKEN_ISSUER", ISSUER, "FHIRBOX_BASE_URL_ALIASES", ALIAS));
    app = SmartApp.register(server, "audiences", SCOPE, true, true, REDIRECT);
    HttpResponse<String> created = server.client().send(server.client().request("admin/clients")
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
            "{\"project\":\"audiences\",\"scope\":\"system/*.rs\"}")));
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    backendId = SmartApp.read(created.body()).get("clientId").asText();
    backendKey = new ECKeyGenerator(Curve.P_384).keyID("k1").generate();
    HttpResponse<String> keys = server.client().send(server.client().request("admin/clients/" + backendId + "/jwks")
        .header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(new JWKSet(backendKey.toPublicJWK()).toString())));
    assertThat(keys.statusCode()).as(keys.body()).isEqualTo(200);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  /** Only ASCII letters have case in a URI: U+212A KELVIN SIGN is no {@code k} (RFC 3986 §6.2.2.1). */
  @Test
  void onlyAsciiLettersAreCaseFolded() {
    assertThat(Audiences.caseNormalised("HTTPS://\u212Aiosk.Example/Fhir/R4"))
        .isEqualTo("https://\u212Aiosk.example/Fhir/R4");
  }

  /** A client assertion's aud (the token endpoint, or the base) is taken with its scheme and host in any case, as aud is at /oauth2/authorize. */
  @Test
  void theTokenEndpointIsItselfWhateverTheCaseOfItsSchemeAndHost() {
    Audiences audiences = new Audiences(() -> ISSUER, List.of(ALIAS), () -> ISSUER);
    assertThat(audiences.isTokenEndpoint("HTTPS://FhirBox.Example.org/oauth2/token")).isTrue();
    assertThat(audiences.isTokenEndpoint("https://ALIAS.example.org")).isTrue();
    assertThat(audiences.isTokenEndpoint(ISSUER + "OAuth2/Token")).isFalse();
    assertThat(audiences.isTokenEndpoint("https://other.example.org/oauth2/token")).isFalse();
  }

  @Test
  void theAuthorizeEndpointTakesAsAudEveryFhirBaseTheServerAnswersAs() {
    // RFC 3986 §6.2.2.1: the scheme and the host are case-insensitive, so their case is not told apart
    String base = server.fhirBase();
    for (String aud : List.of(ISSUER + "fhir/R4", ISSUER + "fhir/R4/", ALIAS + "fhir/R4", base, base + "/",
        "HTTPS://FhirBox.Example.ORG/fhir/R4", "https://ALIAS.example.org/fhir/R4/", "HTTP" + base.substring(4))) {
      Page page = new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of("aud", aud)));
      assertThat(page.status()).as(aud + " -> " + page.header("Location").orElse("")).isEqualTo(200);
    }
    // but nothing else is: not the path's case, a default port, an empty segment, a dot segment, an
    // encoded character or user info
    for (String aud : List.of("https://other.example.org/fhir/R4", ISSUER, ALIAS + "fhir/R4/Patient",
        ISSUER + "FHIR/R4", ISSUER + "fhir/r4", "https://fhirbox.example.org:443/fhir/R4", ISSUER + "fhir/R4//",
        ISSUER + "fhir/./R4", ISSUER + "fhir/%52%34", "https://ops@fhirbox.example.org/fhir/R4")) {
      Page page = new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of("aud", aud)));
      assertThat(page.status()).as(aud).isEqualTo(303);
      Map<String, String> params = page.redirectParams();
      assertThat(params.get("error")).as(aud).isEqualTo("invalid_request");
      // the refusal names the FHIR base a token's aud holds, the one to send
      assertThat(params.get("error_description")).contains(ISSUER + "fhir/R4");
    }
  }

  @Test
  void aPrivateKeyJwtAssertionMayNameTheTokenEndpointUnderTheIssuerAnAliasOrTheBaseUrl() throws Exception {
    List<String> accepted = List.of(ISSUER + "oauth2/token", ALIAS + "oauth2/token", server.baseUrl() + "oauth2/token",
        advertisedTokenEndpoint(".well-known/smart-configuration"),
        advertisedTokenEndpoint("fhir/R4/.well-known/smart-configuration"),
        advertisedTokenEndpoint(".well-known/openid-configuration"));
    for (String aud : accepted) {
      HttpResponse<String> r = token(aud);
      assertThat(r.statusCode()).as(aud + ": " + r.body()).isEqualTo(200);
    }
    HttpResponse<String> elsewhere = token("https://other.example.org/oauth2/token");
    assertThat(elsewhere.statusCode()).as(elsewhere.body()).isEqualTo(401);
    assertThat(elsewhere.body()).contains("aud");
  }

  @Test
  void theDiscoveryDocumentsNameTheIssuerAndEveryEndpointUnderIt() {
    for (String path : List.of(".well-known/smart-configuration", "fhir/R4/.well-known/smart-configuration",
        ".well-known/openid-configuration")) {
      HttpResponse<String> r = new TestClient(server.baseUrl()).get(path);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      var doc = SmartApp.read(r.body());
      // RFC 8414 §3.3, OpenID Connect Discovery §4.3: issuer is the URL the document is published under
      assertThat(doc.get("issuer").asText()).as(path).isEqualTo(ISSUER);
      for (String endpoint : List.of("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint",
          "revocation_endpoint", "introspection_endpoint")) {
        assertThat(doc.get(endpoint).asText()).as(path + " " + endpoint).startsWith(ISSUER);
      }
    }
    HttpResponse<String> metadata = new TestClient(server.baseUrl()).get("fhir/R4/metadata");
    assertThat(metadata.body()).contains(ISSUER + "oauth2/authorize", ISSUER + "oauth2/token")
        .doesNotContain(server.baseUrl() + "oauth2/authorize");
  }

  @Test
  void fhirUserIsUnderTheFhirBaseTheTokensAreFor() throws Exception {
    SmartApp.user(server, "audiences", "ida@example.org", "Practitioner/ida", "user/*.rs");
    FormBrowser browser = new FormBrowser();
    String code = app.code(app.signIn(browser, SCOPE, "ida@example.org", Map.of()));
    HttpResponse<String> tokens = app.exchange(code);
    assertThat(tokens.statusCode()).as(tokens.body()).isEqualTo(200);
    var body = SmartApp.read(tokens.body());
    // SMART App Launch: fhirUser is the user's resource at the FHIR server the app holds a token for,
    // the aud of the access token, not this node's own address
    String expected = ISSUER + "fhir/R4/Practitioner/ida";
    assertThat(SignedJWT.parse(body.get("id_token").asText()).getJWTClaimsSet().getStringClaim("fhirUser"))
        .isEqualTo(expected);
    assertThat(SignedJWT.parse(body.get("access_token").asText()).getJWTClaimsSet().getAudience())
        .containsExactly(ISSUER + "fhir/R4");
    HttpResponse<String> info = new TestClient(server.baseUrl())
        .withHeader("Authorization", "Bearer " + body.get("access_token").asText()).get("oauth2/userinfo");
    assertThat(info.statusCode()).as(info.body()).isEqualTo(200);
    assertThat(SmartApp.read(info.body()).get("fhirUser").asText()).isEqualTo(expected);
  }

  private static String advertisedTokenEndpoint(String path) {
    HttpResponse<String> r = new TestClient(server.baseUrl()).get(path);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return SmartApp.read(r.body()).get("token_endpoint").asText();
  }

  private static HttpResponse<String> token(String aud) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES384).keyID("k1").build(),
        new JWTClaimsSet.Builder().issuer(backendId).subject(backendId).audience(aud)
            .expirationTime(Date.from(Instant.now().plusSeconds(240))).jwtID(UUID.randomUUID().toString()).build());
    jwt.sign(new ECDSASigner(backendKey));
    Map<String, String> form = new LinkedHashMap<>();
    form.put("grant_type", "client_credentials");
    form.put("client_assertion_type", ClientAuthenticator.ASSERTION_TYPE);
    form.put("client_assertion", jwt.serialize());
    TestClient anonymous = new TestClient(server.baseUrl());
    return anonymous.send(anonymous.request("oauth2/token")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(FormBrowser.encode(form))));
  }
}
