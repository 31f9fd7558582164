package org.fhirbox.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Remembers, for a short time, that a client id and secret matched a stored hash, so Basic
 * authentication on every request with a chosen (stretched) secret does not pay a full PBKDF2
 * each time (150 ms or more; see {@link PasswordHasher} and {@code PasswordHasherTest}). Entries
 * are keyed by an HMAC, under a random per-process key, of client id, secret and stored hash:
 * the secret itself is never kept, and rotating the secret changes the stored hash, so an old
 * secret stops matching at once.
 */
final class VerifiedSecrets {
  private static final int MAX_ENTRIES = 10_000;

  private final Clock clock;
  private final long ttlMillis;
  private final SecretKeySpec key;
  private final ConcurrentHashMap<String, Long> expiries = new ConcurrentHashMap<>();

  VerifiedSecrets(Clock clock, Duration ttl) {
    this.clock = clock;
    this.ttlMillis = ttl.toMillis();
    byte[] k = new byte[32];
    new SecureRandom().nextBytes(k);
    this.key = new SecretKeySpec(k, "HmacSHA256");
  }

  boolean contains(String clientId, String secret, String storedHash) {
    Long until = expiries.get(mac(clientId, secret, storedHash));
    return until != null && until > clock.millis();
  }

  void remember(String clientId, String secret, String storedHash) {
    long now = clock.millis();
    if (expiries.size() >= MAX_ENTRIES) {
      expiries.values().removeIf(until -> until <= now);
      if (expiries.size() >= MAX_ENTRIES) {
        expiries.clear();
      }
    }
    expiries.put(mac(clientId, secret, storedHash), now + ttlMillis);
  }

  private String mac(String clientId, String secret, String storedHash) {
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(key);
      byte[] sep = {0};
      m.update(clientId.getBytes(StandardCharsets.UTF_8));
      m.update(sep);
      m.update(secret.getBytes(StandardCharsets.UTF_8));
      m.update(sep);
      return Base64.getEncoder().encodeToString(m.doFinal(storedHash.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }
}
