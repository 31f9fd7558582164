package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JOSEObjectType;
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
import java.util.Optional;
import java.util.UUID;
import org.fhirbox.testing.FormBrowser;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.SmartApp;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Access tokens follow RFC 9068: every grant's token has the JOSE header {@code typ: at+jwt} and
 * {@code aud} naming this server's FHIR base, and a bearer token is accepted only with both, so
 * that an ID token or another JWT signed with the same key is never taken for an access token. Its
 * {@code sub} is the person who signed in, or for a client's own token the client (RFC 9068 §2.2),
 * and {@code client_id} names the client.
 */
class AccessTokenProfileTest {
  private static final String PROJECT = "profile";
  private static final String REDIRECT = "https://app.example.org/callback";
  private static final String SCOPE = "openid fhirUser offline_access user/*.rs";
  private static TestServer server;
  private static ProjectClients clients;
  private static User ada;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
    clients = new ProjectClients(server);
    ada = SmartApp.user(server, PROJECT, "ada@example.org", "Practitioner/ada", "user/*.rs");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static HttpResponse<String> fhirRead(String bearer) {
    return new TestClient(server.baseUrl()).withHeader("Authorization", "Bearer " + bearer).get("fhir/R4/Patient");
  }

  private static HttpResponse<String> userInfo(String bearer) {
    return new TestClient(server.baseUrl()).withHeader("Authorization", "Bearer " + bearer).get("oauth2/userinfo");
  }

  /** A sign-in's token response: access, refresh and ID token. */
  private static JsonNode signIn(SmartApp app) {
    HttpResponse<String> r = app.exchange(app.code(app.signIn(new FormBrowser(), SCOPE, "ada@example.org", Map.of())));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return SmartApp.read(r.body());
  }

  private static void assertAccessToken(String grant, String token) throws Exception {
    SignedJWT jwt = SignedJWT.parse(token);
    assertThat(jwt.getHeader().getType()).as(grant).isEqualTo(new JOSEObjectType("at+jwt"));
    assertThat(jwt.getJWTClaimsSet().getAudience()).as(grant).containsExactly(server.fhirBase());
    assertThat(fhirRead(token).statusCode()).as(grant).isEqualTo(200);
  }

  private static void assertRefusedAsNoAccessToken(HttpResponse<String> r, String why) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"fhirbox\", error=\"invalid_token\"");
    assertThat(r.body()).contains(why);
  }

  @Test
  void everyGrantIssuesAnAtJwtForThisServersFhirBase() throws Exception {
    ProjectClients.Credentials machine = clients.create(PROJECT, "system/*.rs", false);
    assertAccessToken("client_credentials", clients.token(machine));

    ECKey key = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
    HttpResponse<String> registered = server.client().send(server.client()
        .request("admin/clients/" + machine.clientId() + "/jwks").header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(new JWKSet(key.toPublicJWK()).toString())));
    assertThat(registered.statusCode()).as(registered.body()).isEqualTo(200);
    SignedJWT assertion = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("k1").build(),
        new JWTClaimsSet.Builder().issuer(machine.clientId()).subject(machine.clientId())
            .audience(server.baseUrl() + "oauth2/token").expirationTime(Date.from(Instant.now().plusSeconds(240)))
            .jwtID(UUID.randomUUID().toString()).build());
    assertion.sign(new ECDSASigner(key));
    TestClient anonymous = new TestClient(server.baseUrl());
    HttpResponse<String> byKey = anonymous.send(anonymous.request("oauth2/token")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(FormBrowser.encode(Map.of("grant_type", "client_credentials",
            "client_assertion_type", ClientAuthenticator.ASSERTION_TYPE, "client_assertion", assertion.serialize())))));
    assertThat(byKey.statusCode()).as(byKey.body()).isEqualTo(200);
    assertAccessToken("private_key_jwt", SmartApp.read(byKey.body()).get("access_token").asText());

    SmartApp app = SmartApp.register(server, PROJECT, SCOPE, true, true, REDIRECT);
    JsonNode signedIn = signIn(app);
    assertAccessToken("authorization_code", signedIn.get("access_token").asText());
    HttpResponse<String> refreshed = app.refresh(signedIn.get("refresh_token").asText(), Optional.empty());
    assertThat(refreshed.statusCode()).as(refreshed.body()).isEqualTo(200);
    assertAccessToken("refresh_token", SmartApp.read(refreshed.body()).get("access_token").asText());
  }

  /**
   * RFC 9068 §2.2: {@code sub} is the resource owner, the person who signed in, and the client's
   * id for a client's own token (client credentials); {@code client_id} names the client in both.
   * Whatever reads the token goes on as before: FHIR, UserInfo, introspection, the refresh, revocation.
   */
  @Test
  void subIsThePersonWhoSignedInOrTheClientOfItsOwnToken() throws Exception {
    ProjectClients.Credentials machine = clients.create(PROJECT, "system/*.rs", false);
    JWTClaimsSet own = SignedJWT.parse(clients.token(machine)).getJWTClaimsSet();
    assertThat(own.getSubject()).isEqualTo(machine.clientId());
    assertThat(own.getStringClaim("client_id")).isEqualTo(machine.clientId());
    assertThat(own.getClaim("user")).isNull();

    SmartApp app = SmartApp.register(server, PROJECT, SCOPE, false, true, REDIRECT);
    JsonNode signedIn = signIn(app);
    String access = signedIn.get("access_token").asText();
    JWTClaimsSet person = SignedJWT.parse(access).getJWTClaimsSet();
    assertThat(person.getSubject()).isEqualTo(ada.id());
    assertThat(person.getStringClaim("client_id")).isEqualTo(app.clientId());
    assertThat(person.getStringClaim("user")).isEqualTo(ada.id());

    assertThat(fhirRead(access).statusCode()).isEqualTo(200);
    HttpResponse<String> info = userInfo(access);
    assertThat(info.statusCode()).as(info.body()).isEqualTo(200);
    assertThat(SmartApp.read(info.body()).get("sub").asText()).isEqualTo(ada.id());
    HttpResponse<String> introspected = app.post("oauth2/introspect", Map.of("token", access));
    assertThat(introspected.statusCode()).as(introspected.body()).isEqualTo(200);
    JsonNode active = SmartApp.read(introspected.body());
    assertThat(active.get("active").asBoolean()).isTrue();
    assertThat(active.get("client_id").asText()).isEqualTo(app.clientId());
    assertThat(active.get("sub").asText()).isEqualTo(ada.id());

    HttpResponse<String> refreshed = app.refresh(signedIn.get("refresh_token").asText(), Optional.empty());
    assertThat(refreshed.statusCode()).as(refreshed.body()).isEqualTo(200);
    String again = SmartApp.read(refreshed.body()).get("access_token").asText();
    JWTClaimsSet afterRefresh = SignedJWT.parse(again).getJWTClaimsSet();
    assertThat(afterRefresh.getSubject()).isEqualTo(ada.id());
    assertThat(afterRefresh.getStringClaim("client_id")).isEqualTo(app.clientId());
    assertThat(fhirRead(again).statusCode()).isEqualTo(200);

    // revoking the sign-in (its refresh token) ends its access tokens, found by their client
    String refresh = SmartApp.read(refreshed.body()).get("refresh_token").asText();
    assertThat(app.post("oauth2/revoke", Map.of("token", refresh)).statusCode()).isEqualTo(200);
    assertThat(fhirRead(again).statusCode()).isEqualTo(401);
  }

  /**
   * A token whose {@code sub} is neither its client nor its user, or that lacks {@code client_id}, is
   * refused; a person's token with its client as {@code sub}, as they were issued before, holds.
   */
  @Test
  void aTokenWhoseSubIsNeitherItsClientNorItsUserIsRefused() throws Exception {
    JWTClaimsSet claims = SignedJWT.parse(signIn(SmartApp.register(server, PROJECT, SCOPE, true, true, REDIRECT))
        .get("access_token").asText()).getJWTClaimsSet();
    JOSEObjectType at = new JOSEObjectType("at+jwt");
    assertThat(fhirRead(signedByTheServer(at, claims)).statusCode()).as("as issued").isEqualTo(200);
    assertThat(fhirRead(signedByTheServer(at, new JWTClaimsSet.Builder(claims)
        .subject(claims.getStringClaim("client_id")).build())).statusCode())
        .as("a person's token issued when sub named the client").isEqualTo(200);
    assertRefusedAsNoAccessToken(fhirRead(signedByTheServer(at, new JWTClaimsSet.Builder(claims)
        .subject("someone-else").build())), "sub");
    assertRefusedAsNoAccessToken(fhirRead(signedByTheServer(at, new JWTClaimsSet.Builder(claims)
        .claim("client_id", null).build())), "client_id");
  }

  @Test
  void anIdTokenIsRefusedAsABearerToken() {
    SmartApp rs256 = SmartApp.register(server, PROJECT, SCOPE, true, true, REDIRECT);
    SmartApp es256 = SmartApp.register(server, PROJECT, SCOPE, true, true, REDIRECT,
        Map.of("idTokenSignedResponseAlg", "ES256"));
    for (SmartApp app : List.of(rs256, es256)) {
      JsonNode tokens = signIn(app);
      String idToken = tokens.get("id_token").asText();
      assertRefusedAsNoAccessToken(fhirRead(idToken), "at+jwt");
      HttpResponse<String> info = userInfo(idToken);
      assertThat(info.statusCode()).as(info.body()).isEqualTo(401);
      assertThat(SmartApp.read(info.body()).get("error_description").asText()).contains("at+jwt");
      // the refresh token is no access token either, and the access token still works
      assertThat(fhirRead(tokens.get("refresh_token").asText()).statusCode()).isEqualTo(401);
      assertThat(userInfo(tokens.get("access_token").asText()).statusCode()).isEqualTo(200);
    }
  }

  /** {@code claims} signed with the server's own access-token key, under {@code type}. */
  private static String signedByTheServer(JOSEObjectType type, JWTClaimsSet claims) throws Exception {
    ECKey key = server.server().auth().keys().ec();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).type(type).build(),
        claims);
    jwt.sign(new ECDSASigner(key));
    return jwt.serialize();
  }

  private static JWTClaimsSet claimsOfARealAccessToken() throws Exception {
    String token = clients.token(clients.create(PROJECT, "system/*.rs", false));
    return SignedJWT.parse(token).getJWTClaimsSet();
  }

  @Test
  void aJwtSignedWithTheServersKeyIsRefusedUnlessTypedAtJwt() throws Exception {
    JWTClaimsSet claims = claimsOfARealAccessToken();
    assertThat(fhirRead(signedByTheServer(new JOSEObjectType("at+jwt"), claims)).statusCode())
        .as("the same claims, typed as an access token").isEqualTo(200);
    assertThat(fhirRead(signedByTheServer(new JOSEObjectType("application/at+jwt"), claims)).statusCode())
        .as("the full media type, RFC 9068 section 4").isEqualTo(200);
    assertRefusedAsNoAccessToken(fhirRead(signedByTheServer(JOSEObjectType.JWT, claims)), "at+jwt");
    assertRefusedAsNoAccessToken(fhirRead(signedByTheServer(null, claims)), "at+jwt");
  }

  @Test
  void anAccessTokenForAnotherAudienceIsRefused() throws Exception {
    JWTClaimsSet claims = claimsOfARealAccessToken();
    JOSEObjectType at = new JOSEObjectType("at+jwt");
    String elsewhere = signedByTheServer(at, new JWTClaimsSet.Builder(claims)
        .audience("https://other.example.org/fhir/R4").build());
    assertRefusedAsNoAccessToken(fhirRead(elsewhere), "aud");
    String noAudience = signedByTheServer(at, new JWTClaimsSet.Builder(claims).audience((String) null).build());
    assertRefusedAsNoAccessToken(fhirRead(noAudience), "aud");
    String alsoElsewhere = signedByTheServer(at, new JWTClaimsSet.Builder(claims)
        .audience(List.of(server.fhirBase(), "https://other.example.org/fhir/R4")).build());
    assertThat(fhirRead(alsoElsewhere).statusCode()).as("an audience among others: RFC 7519 section 4.1.3")
        .isEqualTo(200);
  }

  @Test
  void introspectionShowsTheAudienceOfAnAccessToken() {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("token", clients.token(clients.create(PROJECT, "system/*.rs", false)));
    HttpResponse<String> r = server.client().send(server.client().request("oauth2/introspect")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(FormBrowser.encode(form))));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode body = SmartApp.read(r.body());
    assertThat(body.get("active").asBoolean()).isTrue();
    assertThat(body.get("aud").asText()).isEqualTo(server.fhirBase());
  }
}
