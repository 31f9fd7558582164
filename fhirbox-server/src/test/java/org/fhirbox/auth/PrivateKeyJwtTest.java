package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.crypto.factories.DefaultJWSVerifierFactory;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.file.Path;
import java.security.Key;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Set;
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

  /** Records the key of every signature check made with the verifiers it makes. */
  private static final class RecordingVerifiers extends DefaultJWSVerifierFactory {
    final List<Key> checked = new ArrayList<>();

    @Override
    public JWSVerifier createJWSVerifier(JWSHeader header, Key key) throws JOSEException {
      JWSVerifier verifier = super.createJWSVerifier(header, key);
      return new JWSVerifier() {
        @Override
        public boolean verify(JWSHeader h, byte[] signingInput, Base64URL signature) throws JOSEException {
          checked.add(key);
          return verifier.verify(h, signingInput, signature);
        }

        @Override
        public Set<JWSAlgorithm> supportedJWSAlgorithms() {
          return verifier.supportedJWSAlgorithms();
        }

        @Override
        public JCAContext getJCAContext() {
          return verifier.getJCAContext();
        }
      };
    }
  }

  /**
   * The keys {@code assertion} was checked against by an authenticator recording them, which
   * refuses it (with a throttle of its own, which no earlier failure holds back).
   */
  private List<Key> checksOfRefused(String assertion) {
    RecordingVerifiers verifiers = new RecordingVerifiers();
    ClientAuthenticator recorded = new ClientAuthenticator(clients, new ReplayGuard(db, clock),
        AuthThrottle.standard(clock), AuthDb.AUDIENCES, clock, AuthDb.CLAIMED, new AssertionSignatures(verifiers));
    assertThatThrownBy(() -> recorded.byAssertion(assertion, null, "10.0.0.1"))
        .isInstanceOf(ClientAuthException.class).hasMessage("client authentication failed");
    return verifiers.checked;
  }

  @Test
  void aRefusedAssertionCostsOneSignatureCheckWhetherOrNotItsClientHasKeys() throws Exception {
    ECKey stranger = new ECKeyGenerator(Curve.P_384).keyID("backend-1").generate();
    // a client with keys and a signature none of them verifies: checked against its key
    List<Key> forged = checksOfRefused(assertion(new ECDSASigner(stranger), JWSAlgorithm.ES384, "backend-1",
        clientId, AUD, clock.instant().plusSeconds(60), "f1"));
    assertThat(forged).containsExactly(key.toECPublicKey());

    // no key of its own to check against: checked all the same, against a key of the same kind
    String keyless = clients.create("p1", "system/*.rs", false).clientId();
    String disabled = clients.create("p1", "system/*.rs", false).clientId();
    clients.registerJwks(disabled, new JWKSet(key.toPublicJWK()));
    clients.disable(disabled);
    for (String[] c : new String[][] {{"no-such-client", "backend-1"}, {keyless, "backend-1"},
        {clientId, "no-such-kid"}, {disabled, "backend-1"}}) {
      List<Key> checked = checksOfRefused(assertion(new ECDSASigner(key), JWSAlgorithm.ES384, c[1], c[0], AUD,
          clock.instant().plusSeconds(60), UUID.randomUUID().toString()));
      assertThat(checked).as(c[0] + " " + c[1]).hasSize(1).first()
          .isNotEqualTo(key.toECPublicKey())
          .satisfies(k -> assertThat(Curve.forECParameterSpec(((ECPublicKey) k).getParams())).isEqualTo(Curve.P_384));
    }
  }

  @Test
  void anUnknownClientsAssertionIsCheckedAgainstAKeyOfItsAlgorithmForEveryAlgorithmAccepted() throws Exception {
    RSAKey rsa = new RSAKeyGenerator(2048).generate();
    for (JWSAlgorithm alg : AssertionSignatures.ALGORITHMS) {
      JWSSigner signer;
      if (JWSAlgorithm.Family.EC.contains(alg)) {
        Curve curve = Curve.forJWSAlgorithm(alg).iterator().next();
        signer = new ECDSASigner(new ECKeyGenerator(curve).generate());
      } else {
        signer = new RSASSASigner(rsa);
      }
      List<Key> checked = checksOfRefused(assertion(signer, alg, null, "no-such-client", AUD,
          clock.instant().plusSeconds(60), UUID.randomUUID().toString()));
      assertThat(checked).as(alg.getName()).hasSize(1);
      if (JWSAlgorithm.Family.EC.contains(alg)) {
        assertThat(Curve.forECParameterSpec(((ECPublicKey) checked.get(0)).getParams())).as(alg.getName())
            .isEqualTo(Curve.forJWSAlgorithm(alg).iterator().next());
      } else {
        assertThat(((RSAPublicKey) checked.get(0)).getModulus().bitLength()).as(alg.getName()).isEqualTo(2048);
      }
    }
  }
}
