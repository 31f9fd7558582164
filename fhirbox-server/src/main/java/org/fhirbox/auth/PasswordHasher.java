package org.fhirbox.auth;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * Hashes client secrets with PBKDF2-HMAC-SHA256 (JDK), a random 16-byte salt per secret and
 * {@value #DEFAULT_ITERATIONS} iterations (OWASP Password Storage Cheat Sheet, 2023). Encoded as
 * {@code pbkdf2-sha256$iterations$salt$hash} (salt and hash base64 without padding), so the
 * iteration count can be raised later without invalidating stored hashes.
 */
public final class PasswordHasher {
  public static final int DEFAULT_ITERATIONS = 210_000;
  private static final String PREFIX = "pbkdf2-sha256";
  private static final int SALT_BYTES = 16;
  private static final int HASH_BITS = 256;
  private static final int SECRET_BYTES = 32;

  private final SecureRandom random;
  private final int iterations;
  private final java.util.concurrent.atomic.AtomicReference<Ahead> ahead = new java.util.concurrent.atomic.AtomicReference<>();

  /** A hash being computed before it is asked for. */
  private record Ahead(String secret, java.util.concurrent.CompletableFuture<String> hash) {}

  public PasswordHasher() {
    this(new SecureRandom(), DEFAULT_ITERATIONS);
  }

  public PasswordHasher(SecureRandom random, int iterations) {
    if (iterations < 1) {
      throw new IllegalArgumentException("iterations must be positive");
    }
    this.random = random;
    this.iterations = iterations;
  }

  /** A fresh client secret: 32 random bytes, base64url without padding (43 characters). */
  public String newSecret() {
    byte[] b = new byte[SECRET_BYTES];
    random.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  /**
   * Starts hashing {@code secret} on a thread of its own; the next {@link #hash} of that secret
   * takes the result. For a start-up that will store a secret: the hash (about half a second of
   * CPU this early in a JVM's life) overlaps the database migrations instead of following them.
   */
  public void hashAhead(String secret) {
    ahead.set(new Ahead(secret, java.util.concurrent.CompletableFuture.supplyAsync(() -> hashNow(secret), task -> {
      Thread t = new Thread(task, "fhirbox-hash-ahead");
      t.setDaemon(true);
      t.start();
    })));
  }

  public String hash(String secret) {
    Ahead a = ahead.get();
    if (a != null && a.secret().equals(secret) && ahead.compareAndSet(a, null)) {
      return a.hash().join();
    }
    return hashNow(secret);
  }

  private String hashNow(String secret) {
    byte[] salt = new byte[SALT_BYTES];
    random.nextBytes(salt);
    Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
    return PREFIX + "$" + iterations + "$" + b64.encodeToString(salt) + "$"
        + b64.encodeToString(derive(secret, salt, iterations));
  }

  /** True when {@code secret} matches {@code encoded}; false for a wrong secret or a malformed hash. */
  public boolean verify(String secret, String encoded) {
    if (secret == null || encoded == null) {
      return false;
    }
    String[] parts = encoded.split("\\$");
    if (parts.length != 4 || !parts[0].equals(PREFIX)) {
      return false;
    }
    try {
      int iter = Integer.parseInt(parts[1]);
      byte[] salt = Base64.getDecoder().decode(parts[2]);
      byte[] expected = Base64.getDecoder().decode(parts[3]);
      // constant-time: the comparison does not reveal how many leading bytes matched
      return iter > 0 && MessageDigest.isEqual(expected, derive(secret, salt, iter));
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static byte[] derive(String secret, byte[] salt, int iterations) {
    PBEKeySpec spec = new PBEKeySpec(secret.toCharArray(), salt, iterations, HASH_BITS);
    try {
      return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("PBKDF2WithHmacSHA256 is not available", e);
    } finally {
      spec.clearPassword();
    }
  }
}
