package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.UUID;
import org.fhirbox.db.Database;
import org.fhirbox.testing.TestClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrivateKeyJwtTest {
  private static final String AUD = AuthDb.BASE + "oauth2/token";

  @TempDir
  Path dir;
  private Database db;
  private final TestClock clock = new TestClock();
  private ClientStore clients;
  private ClientAuthenticator auth;
  private String clientId;
  private ECKey key;

  @BeforeEach
  void setUp() throws Exception {
    db = AuthDb.open(dir);
    clients = new ClientStore(db, new PasswordHasher(), clock);
    auth = new ClientAuthenticator(clients, new ReplayGuard(db, clock), AuthThrottle.standard(clock),
        AuthDb.AUDIENCES, clock, AuthDb.CLAIMED);
    clientId = clients.create("p1", "system/*.rs", false).clientId();
    key = new ECKeyGenerator(Curve.P_384).keyID("backend-1").generate();
    clients.registerJwks(clientId, new JWKSet(key.toPublicJWK()));
  }

  @AfterEach
  void tearDown() {
    db.close();
  }

  private String assertion(JWSSigner signer, JWSAlgorithm alg, String kid, String iss, String aud, Instant exp,
      String jti) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(kid).build(),
        new JWTClaimsSet.Builder().issuer(iss).subject(iss).audience(aud).expirationTime(Date.from(exp))
            .jwtID(jti).build());
    jwt.sign(signer);
    return jwt.serialize();
  }

  private String valid() throws Exception {
    return assertion(new ECDSASigner(key), JWSAlgorithm.ES384, "backend-1", clientId, AUD,
        clock.instant().plusSeconds(240), UUID.randomUUID().toString());
  }

  @Test
  void aNodeWhoseClockRunsAheadKeepsTheJtiANodeBehindStillAccepts() throws Exception {
    TestClock ahead = new TestClock(clock.instant().plus(Duration.ofMinutes(2)));
    ClientAuthenticator nodeAhead = new ClientAuthenticator(clients, new ReplayGuard(db, ahead),
        AuthThrottle.standard(ahead), AuthDb.AUDIENCES, ahead, AuthDb.CLAIMED);
    // valid for another minute on this node, already expired by the other's clock
    String replayed = assertion(new ECDSASigner(key), JWSAlgorithm.ES384, "backend-1", clientId, AUD,
        clock.instant().plusSeconds(60), "j-skew");
    auth.byAssertion(replayed, null, "10.0.0.1");

    // the node ahead purges (on its first use of the guard) as another client authenticates there
    nodeAhead.byAssertion(assertion(new ECDSASigner(key), JWSAlgorithm.ES384, "backend-1", clientId, AUD,
        ahead.instant().plusSeconds(60), "j-other"), null, "10.0.0.2");

    assertThatThrownBy(() -> auth.byAssertion(replayed, null, "10.0.0.1")).isInstanceOf(ClientAuthException.class);
  }

  @Test
  void assertionSignedByARegisteredKeyAuthenticatesTheClient() throws Exception {
    assertThat(auth.byAssertion(valid(), null, "10.0.0.1").clientId()).isEqualTo(clientId);
    assertThat(auth.byAssertion(valid(), clientId, "10.0.0.1").clientId()).isEqualTo(clientId);
  }

  @Test
  void rsaKeysWork() throws Exception {
    RSAKey rsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
    clients.registerJwks(clientId, new JWKSet(rsa.toPublicJWK()));
    String a = assertion(new RSASSASigner(rsa), JWSAlgorithm.RS384, "rsa-1", clientId, AUD,
        clock.instant().plusSeconds(60), "j1");
    assertThat(auth.byAssertion(a, null, "10.0.0.1").clientId()).isEqualTo(clientId);
  }

  @Test
  void baseUrlIsAcceptedAsAudience() throws Exception {
    String a = assertion(new ECDSASigner(key), JWSAlgorithm.ES384, "backend-1", clientId, "http://localhost:8103",
        clock.instant().plusSeconds(60), "j2");
    assertThat(auth.byAssertion(a, null, "10.0.0.1").clientId()).isEqualTo(clientId);
  }

  @Test
  void wrongAudienceIsRejected() throws Exception {
    String a = assertion(new ECDSASigner(key), JWSAlgorithm.ES384, "backend-1", clientId,
        "https://elsewhere.example/token", clock.instant().plusSeconds(60), "j3");
    assertThatThrownBy(() -> auth.byAssertion(a, null, "10.0.0.1")).isInstanceOf(ClientAuthException.class)
        .hasMessageContaining("aud");
  }

  @Test
  void expiredAssertionIsRejected() throws Exception {
    String a = assertion(new ECDSASigner(key), JWSAlgorithm.ES384, "backend-1", clientId, AUD,
        clock.instant().plusSeconds(60), "j4");
    clock.advance(Duration.ofMinutes(2));
    assertThatThrownBy(() -> auth.byAssertion(a, null, "10.0.0.1")).hasMessageContaining("expired");
  }

  @Test
  void assertionValidForTooLongIsRejected() throws Exception {
    String a = assertion(new ECDSASigner(key), JWSAlgorithm.ES384, "backend-1", clientId, AUD,
        clock.instant().plus(Duration.ofHours(1)), "j5");
    assertThatThrownBy(() -> auth.byAssertion(a, null, "10.0.0.1")).hasMessageContaining("five minutes");
  }

  @Test
  void replayedJtiIsRejected() throws Exception {
    String a = valid();
    assertThat(auth.byAssertion(a, null, "10.0.0.1")).isNotNull();
    assertThatThrownBy(() -> auth.byAssertion(a, null, "10.0.0.1")).hasMessageContaining("already used");
  }

  @Test
  void assertionSignedByAnUnregisteredKeyIsRejected() throws Exception {
    ECKey other = new ECKeyGenerator(Curve.P_384).keyID("backend-1").generate();
    String a = assertion(new ECDSASigner(other), JWSAlgorithm.ES384, "backend-1", clientId, AUD,
        clock.instant().plusSeconds(60), "j6");
    // the caller reads what an unknown client reads; the audit trail gets the reason
    assertThatThrownBy(() -> auth.byAssertion(a, null, "10.0.0.1")).isInstanceOf(ClientAuthException.class)
        .hasMessage("client authentication failed")
        .satisfies(e -> assertThat(((ClientAuthException) e).reason()).contains("signature"));
  }

  @Test
  void issuerMustBeTheClientAndMatchClientIdParameter() throws Exception {
    String a = valid();
    assertThatThrownBy(() -> auth.byAssertion(a, "someone-else", "10.0.0.1"))
        .hasMessageContaining("client_id does not match");
    String unknown = assertion(new ECDSASigner(key), JWSAlgorithm.ES384, "backend-1", "unknown", AUD,
        clock.instant().plusSeconds(60), "j7");
    assertThatThrownBy(() -> auth.byAssertion(unknown, null, "10.0.0.1")).isInstanceOf(ClientAuthException.class);
  }

  @Test
  void disabledClientCannotUseItsKey() throws Exception {
    clients.disable(clientId);
    assertThatThrownBy(() -> auth.byAssertion(valid(), null, "10.0.0.1")).isInstanceOf(ClientAuthException.class);
  }
}
