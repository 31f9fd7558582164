package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.SignedJWT;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.fhirbox.testing.FormBrowser;
import org.fhirbox.testing.SmartApp;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.h2.tools.Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two servers on one database (H2 over TCP, as nodes share PostgreSQL) publish the same keys:
 * an ID token signed by one verifies with the JWKS of the other, and an access token issued by
 * one is accepted by the other, its audience being the FHIR base under the shared issuer.
 */
class SharedTokenKeysTest {
  private static final String SCOPE = "openid fhirUser user/*.rs";

  @Test
  void serversOnOneDatabaseShareTheIdTokenKeyAndTheAccessTokenKey(@TempDir Path dir) throws Exception {
    Server h2 = Server.createTcpServer("-tcpPort", "0", "-baseDir", dir.toString(), "-ifNotExists").start();
    Map<String, String> shared = Map.of(
        "FHIRBOX_DATABASE_URL", "jdbc:h2:tcp://127.0.0.1:" + h2.getPort() + "/fhirbox",
        "FHIRBOX_TOKEN_ISSUER", "https://fhirbox.example.org/");
    try (TestServer a = TestServer.start(shared); TestServer b = TestServer.start(shared)) {
      // B is asked first, so B makes the RSA key and stores it; A must then sign with B's key
      JWKSet fromB = jwks(b);
      assertThat(fromB.getKeys()).hasSize(2);

      SmartApp app = SmartApp.register(a, "clinic", SCOPE, true, true, "https://app.example.org/callback");
      SmartApp.user(a, "clinic", "node@example.org", "Practitioner/node", "user/*.rs");
      String code = app.code(app.signIn(new FormBrowser(), SCOPE, "node@example.org", Map.of()));
      HttpResponse<String> exchanged = app.exchange(code);
      assertThat(exchanged.statusCode()).as(exchanged.body()).isEqualTo(200);
      JsonNode tokens = SmartApp.read(exchanged.body());

      SignedJWT idToken = SignedJWT.parse(tokens.get("id_token").asText());
      assertThat(idToken.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.RS256);
      JWK key = fromB.getKeyByKeyId(idToken.getHeader().getKeyID());
      assertThat(key).as("A's ID token names a key that B publishes").isInstanceOf(RSAKey.class);
      assertThat(idToken.verify(new RSASSAVerifier((RSAKey) key))).isTrue();
      assertThat(jwks(a).toPublicJWKSet().toString()).isEqualTo(fromB.toPublicJWKSet().toString());

      // the audience follows the shared issuer, not the host name each node is reached at
      assertThat(SignedJWT.parse(tokens.get("access_token").asText()).getJWTClaimsSet().getAudience())
          .containsExactly("https://fhirbox.example.org/fhir/R4");
      TestClient onB = new TestClient(b.baseUrl()).withHeader("Authorization",
          "Bearer " + tokens.get("access_token").asText());
      assertThat(onB.get("fhir/R4/Patient").statusCode()).isEqualTo(200);
    } finally {
      h2.stop();
    }
  }

  private static JWKSet jwks(TestServer server) throws Exception {
    HttpResponse<String> r = new TestClient(server.baseUrl()).get(".well-known/jwks.json");
    assertThat(r.statusCode()).isEqualTo(200);
    return JWKSet.parse(r.body());
  }
}
