package org.fhirbox.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.factories.DefaultJWSVerifierFactory;
import com.nimbusds.jose.jwk.AsymmetricJWK;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.proc.JWSVerifierFactory;
import com.nimbusds.jwt.SignedJWT;
import java.security.Key;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Checks the signature of a {@code private_key_jwt} client assertion (RFC 7523 §3, item 9)
 * against the keys a client registered, and does the same work when there is nothing to check
 * against: for an id no client has, a disabled client, a client without keys, or a header whose
 * {@code kid} names none of the client's keys, the signature is checked against a decoy key of
 * the algorithm's type and size, which no signature matches. Otherwise the answer for those would
 * come back a signature check sooner than for a client with keys and a forged signature, and its
 * timing would tell which ids are clients with keys, which the words of the answer do not.
 */
final class AssertionSignatures {
  /**
   * SMART Backend Services: RS384 and ES384 are required (listed first, as discovery names them);
   * RS256 and ES256 are common.
   */
  static final List<JWSAlgorithm> ALGORITHMS = List.of(JWSAlgorithm.RS384, JWSAlgorithm.ES384,
      JWSAlgorithm.RS256, JWSAlgorithm.ES256, JWSAlgorithm.RS512, JWSAlgorithm.ES512, JWSAlgorithm.PS256,
      JWSAlgorithm.PS384);

  /**
   * One public key per accepted algorithm, of the size clients commonly register (RSA 2048 bits,
   * the algorithm's own curve for ECDSA). Made once per process, when the first
   * {@link AssertionSignatures} is made as the server starts, not on the first unknown client.
   */
  private static final Map<JWSAlgorithm, Key> DECOYS = decoys();

  private final JWSVerifierFactory verifiers;

  AssertionSignatures() {
    this(new DefaultJWSVerifierFactory());
  }

  /** @param verifiers makes the verifier of each signature check (a test counts them this way) */
  AssertionSignatures(JWSVerifierFactory verifiers) {
    this.verifiers = verifiers;
  }

  /**
   * Whether a key of {@code keys} (empty: the client has none, or is unknown or disabled)
   * verifies {@code jwt}. Unless the algorithm is one not accepted, which is refused before any
   * key is looked at whoever the client is, at least one signature is checked.
   */
  boolean verify(SignedJWT jwt, Optional<JWKSet> keys) {
    JWSHeader header = jwt.getHeader();
    if (!ALGORITHMS.contains(header.getAlgorithm())) {
      return false;
    }
    List<JWK> selected = keys.map(k -> new JWKSelector(JWKMatcher.forJWSHeader(header)).select(k)).orElse(List.of());
    if (selected.isEmpty()) {
      check(jwt, DECOYS.get(header.getAlgorithm()));
      return false;
    }
    for (JWK k : selected) {
      try {
        if (k instanceof AsymmetricJWK asym && check(jwt, asym.toPublicKey())) {
          return true;
        }
      } catch (JOSEException e) {
        // a key whose public part cannot be read matches nothing
      }
    }
    return false;
  }

  private boolean check(SignedJWT jwt, Key key) {
    try {
      JWSVerifier verifier = verifiers.createJWSVerifier(jwt.getHeader(), key);
      return jwt.verify(verifier);
    } catch (JOSEException e) {
      return false; // a key of the wrong type or size for this algorithm simply does not match
    }
  }

  private static Map<JWSAlgorithm, Key> decoys() {
    try {
      Key rsa = new RSAKeyGenerator(2048).generate().toPublicKey();
      Map<JWSAlgorithm, Key> keys = new HashMap<>();
      for (JWSAlgorithm alg : ALGORITHMS) {
        keys.put(alg, JWSAlgorithm.Family.EC.contains(alg)
            ? new ECKeyGenerator(Curve.forJWSAlgorithm(alg).iterator().next()).generate().toPublicKey() : rsa);
      }
      return Map.copyOf(keys);
    } catch (JOSEException e) {
      throw new IllegalStateException("could not make the decoy keys for client assertions", e);
    }
  }
}
