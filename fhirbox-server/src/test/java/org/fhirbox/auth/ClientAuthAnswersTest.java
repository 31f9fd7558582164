package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirbox.testing.Answers.comparable;

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
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A refused client authentication answers the same whether the client id is unknown or a
 * client's credentials are wrong (RFC 6749 §5.2 {@code invalid_client}): status, body and
 * headers, so that the answer does not tell which ids are clients, or which have keys. Each test
 * uses ids of its own and stays under the per-address limit of failures (20).
 */
class ClientAuthAnswersTest {
  private static final String PROJECT = "answers";
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

  private static HttpResponse<String> token(String form, String authorization) {
    TestClient anonymous = new TestClient(server.baseUrl());
    HttpRequest.Builder b = anonymous.request("oauth2/token")
        .header("Content-Type", "application/x-www-form-urlencoded");
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return anonymous.send(b.POST(HttpRequest.BodyPublishers.ofString(form)));
  }

  private static String basic(String id, String secret) {
    return "Basic " + Base64.getEncoder().encodeToString((id + ":" + secret).getBytes(StandardCharsets.UTF_8));
  }

  private static String assertion(String clientId, ECKey signer) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES384).keyID(signer.getKeyID()).build(),
        new JWTClaimsSet.Builder().issuer(clientId).subject(clientId).audience(server.baseUrl() + "oauth2/token")
            .expirationTime(Date.from(Instant.now().plusSeconds(240))).jwtID(UUID.randomUUID().toString()).build());
    jwt.sign(new ECDSASigner(signer));
    return "grant_type=client_credentials&client_assertion_type="
        + ProjectClients.enc(ClientAuthenticator.ASSERTION_TYPE) + "&client_assertion=" + jwt.serialize();
  }

  private static void registerKey(String clientId, ECKey key) {
    HttpResponse<String> r = server.client().putJson("admin/clients/" + clientId + "/jwks",
        new JWKSet(key.toPublicJWK()).toString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  /** RFC 6749 §3.2: unrecognised parameters are ignored, repeated or not; a recognised one must not repeat. */
  @Test
  void aRepeatedUnrecognisedParameterIsIgnoredAndARepeatedRecognisedOneRefused() {
    ProjectClients.Credentials c = clients.create(PROJECT, "system/*.rs", false);
    String auth = basic(c.clientId(), c.clientSecret());
    HttpResponse<String> ok = token("grant_type=client_credentials&resource=https%3A%2F%2Fa.example&resource="
        + "https%3A%2F%2Fb.example&x=1&x=2", auth);
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    HttpResponse<String> twice = token("grant_type=client_credentials&scope=system%2F*.rs&scope=system%2F*.rs", auth);
    assertThat(twice.statusCode()).as(twice.body()).isEqualTo(400);
    assertThat(twice.body()).contains("invalid_request", "'scope' is repeated");
  }

  @Test
  void aWrongSecretIsAnsweredAsAnUnknownClientIs() {
    ProjectClients.Credentials known = clients.create(PROJECT, "system/*.rs", false);
    String wrongSecret = clients.create(PROJECT, "system/*.rs", false).clientSecret();
    String unknownId = UUID.randomUUID().toString(); // of the form the server gives its clients

    String grant = "grant_type=client_credentials";
    Map<String, Object> basicUnknown = comparable(token(grant, basic(unknownId, wrongSecret)));
    Map<String, Object> basicWrong = comparable(token(grant, basic(known.clientId(), wrongSecret)));
    assertThat(basicUnknown.get("status")).isEqualTo(401);
    assertThat(basicUnknown.get("www-authenticate")).isEqualTo(List.of("Basic realm=\"fhirbox\""));
    assertThat(basicWrong).isEqualTo(basicUnknown);

    Map<String, Object> postUnknown = comparable(token(grant + "&client_id=" + unknownId
        + "&client_secret=" + wrongSecret, null));
    Map<String, Object> postWrong = comparable(token(grant + "&client_id=" + known.clientId()
        + "&client_secret=" + wrongSecret, null));
    assertThat(postWrong).isEqualTo(postUnknown).isEqualTo(basicUnknown);

    // Basic on the FHIR API: an OperationOutcome, the same for both
    TestClient anonymous = new TestClient(server.baseUrl());
    Map<String, Object> fhirUnknown = comparable(anonymous.send(anonymous.request("fhir/R4/Patient")
        .header("Authorization", basic(unknownId, wrongSecret)).GET()));
    Map<String, Object> fhirWrong = comparable(anonymous.send(anonymous.request("fhir/R4/Patient")
        .header("Authorization", basic(known.clientId(), wrongSecret)).GET()));
    assertThat(fhirUnknown.get("status")).isEqualTo(401);
    assertThat(fhirWrong).isEqualTo(fhirUnknown);
    assertThat(clients.tokenResponse(known).statusCode()).isEqualTo(200);
  }

  @Test
  void anAssertionNoRegisteredKeyVerifiesIsAnsweredAsAnUnknownClientsIs() throws Exception {
    ECKey registered = new ECKeyGenerator(Curve.P_384).keyID("k1").generate();
    ECKey stranger = new ECKeyGenerator(Curve.P_384).keyID("k1").generate();
    ECKey otherKid = new ECKeyGenerator(Curve.P_384).keyID("k2").generate();
    String withKey = clients.create(PROJECT, "system/*.rs", false).clientId();
    registerKey(withKey, registered);
    String withoutKey = clients.create(PROJECT, "system/*.rs", false).clientId();
    String disabled = clients.create(PROJECT, "system/*.rs", false).clientId();
    registerKey(disabled, registered);
    HttpResponse<String> off = server.client().send(server.client().request("admin/clients/" + disabled + "/disable")
        .POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(off.statusCode()).as(off.body()).isEqualTo(200);

    Map<String, Object> unknown = comparable(token(assertion(UUID.randomUUID().toString(), stranger), null));
    assertThat(unknown.get("status")).isEqualTo(401);
    assertThat(unknown.get("www-authenticate")).isEqualTo(List.of("Basic realm=\"fhirbox\""));
    assertThat(comparable(token(assertion(withKey, stranger), null))).as("a key nobody registered").isEqualTo(unknown);
    assertThat(comparable(token(assertion(withKey, otherKid), null))).as("a kid the client has no key for")
        .isEqualTo(unknown);
    assertThat(comparable(token(assertion(withoutKey, stranger), null))).as("a client without keys").isEqualTo(unknown);
    assertThat(comparable(token(assertion(disabled, registered), null))).as("a disabled client").isEqualTo(unknown);
    assertThat(token(assertion(withKey, registered), null).statusCode()).isEqualTo(200);
  }
}
