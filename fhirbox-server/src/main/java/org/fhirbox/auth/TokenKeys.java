package org.fhirbox.auth;

import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The keys that sign the server's tokens, shared by every node through {@link SigningKeyStore}:
 * the ES256 key of access tokens, read (or made) when the server is built, and the RS256 key of
 * ID tokens, read (or made) when it is first needed. Generating an RSA key costs up to half a
 * second of CPU in a new JVM, which a start need not pay: the first ID token or JWKS request pays
 * it once in the life of a database, and {@link #prepareRsa} lets a sign-in page pay it while the
 * person types their password. {@code /.well-known/jwks.json} publishes both public keys.
 */
public final class TokenKeys {
  private static final Logger LOG = LoggerFactory.getLogger(TokenKeys.class);

  private final SigningKeyStore store;
  private final ECKey ec;
  private final Object rsaLock = new Object();
  private final AtomicBoolean preparing = new AtomicBoolean();
  private volatile RSAKey rsa;

  public TokenKeys(SigningKeyStore store) {
    this.store = store;
    this.ec = store.loadOrCreate();
  }

  /** The ES256 key of access tokens. */
  public ECKey ec() {
    return ec;
  }

  /** The RS256 key of ID tokens; the first call reads or makes it (waiting for a {@link #prepareRsa} under way). */
  public RSAKey rsa() {
    RSAKey k = rsa;
    if (k != null) {
      return k;
    }
    synchronized (rsaLock) {
      if (rsa == null) {
        rsa = store.loadOrCreateRsa();
      }
      return rsa;
    }
  }

  /** Reads or makes the RS256 key on a thread of its own, unless it is known or already being made. */
  public void prepareRsa() {
    if (rsa != null || !preparing.compareAndSet(false, true)) {
      return;
    }
    Thread t = new Thread(() -> {
      try {
        rsa();
      } catch (RuntimeException e) {
        preparing.set(false); // the next ID token tries again, on its own thread
        LOG.warn("could not read or make the ID token key ahead of time: {}", e.getMessage());
      }
    }, "fhirbox-id-token-key");
    t.setDaemon(true);
    t.start();
  }

  /** The public keys, as served at {@code /.well-known/jwks.json} (RFC 7517 §5), each with its {@code kid}, {@code use} and {@code alg}. */
  public Map<String, Object> jwks() {
    return new JWKSet(List.of(ec.toPublicJWK(), rsa().toPublicJWK())).toJSONObject(true);
  }
}
