package org.fhirbox.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * Hashes client secrets, in one of two encodings chosen by where the secret comes from:
 *
 * <ul>
 *   <li>A secret chosen by a person ({@link #hash}, e.g. {@code FHIRBOX_BOOTSTRAP_CLIENT_SECRET})
 *       may be guessable, so it is stretched: PBKDF2-HMAC-SHA256 (JDK), a random 16-byte salt,
 *       {@value #DEFAULT_ITERATIONS} iterations (OWASP Password Storage Cheat Sheet, 2023, for
 *       PBKDF2-HMAC-SHA256). Encoded {@code pbkdf2-sha256$iterations$salt$hash}, so the count can
 *       be raised later without invalidating stored hashes.
 *   <li>A secret from {@link #newSecret} has 256 random bits, which no stretching makes harder to
 *       find; NIST SP 800-63B (5.1.2.2) asks only for an approved one-way function for look-up
 *       secrets of at least 112 bits. {@link #hashGenerated} stores SHA-256 of a random 16-byte
 *       salt and the secret, encoded {@code sha256$salt$hash}: a check costs microseconds, not a
 *       tenth of a second of CPU, on the token endpoint and on every node's first start.
 * </ul>
 *
 * Salt and hash are base64 without padding; {@link #verify} reads either encoding.
 */
public final class PasswordHasher {
  public static final int DEFAULT_ITERATIONS = 600_000;
  private static final String PREFIX = "pbkdf2-sha256";
  private static final String GENERATED_PREFIX = "sha256";
  private static final int SALT_BYTES = 16;
  private static final int HASH_BITS = 256;
  private static final int SECRET_BYTES = 32;

  private final SecureRandom random;
  private final int iterations;

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

  /** The stretched hash of a secret a person chose (see the class comment). */
  public String hash(String secret) {
    byte[] salt = salt();
    Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
    return PREFIX + "$" + iterations + "$" + b64.encodeToString(salt) + "$"
        + b64.encodeToString(derive(secret, salt, iterations));
  }

  /**
   * A stretched hash that no secret matches (a random salt and a random digest): verifying
   * against it costs what verifying against a real one does, without stretching anything first.
   * For look-ups of an account that does not exist, so that their answer takes as long.
   */
  public String decoy() {
    byte[] digest = new byte[HASH_BITS / 8];
    random.nextBytes(digest);
    Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
    return PREFIX + "$" + iterations + "$" + b64.encodeToString(salt()) + "$" + b64.encodeToString(digest);
  }

  /** The hash of a secret from {@link #newSecret} (see the class comment); never for a chosen one. */
  public String hashGenerated(String secret) {
    byte[] salt = salt();
    Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
    return GENERATED_PREFIX + "$" + b64.encodeToString(salt) + "$" + b64.encodeToString(sha256(salt, secret));
  }

  private byte[] salt() {
    byte[] salt = new byte[SALT_BYTES];
    random.nextBytes(salt);
    return salt;
  }

  /** True when {@code secret} matches {@code encoded}; false for a wrong secret or a malformed hash. */
  public boolean verify(String secret, String encoded) {
    if (secret == null || encoded == null) {
      return false;
    }
    String[] parts = encoded.split("\\$");
    try {
      if (parts.length == 3 && parts[0].equals(GENERATED_PREFIX)) {
        return matches(parts[2], sha256(Base64.getDecoder().decode(parts[1]), secret));
      }
      if (parts.length == 4 && parts[0].equals(PREFIX)) {
        int iter = Integer.parseInt(parts[1]);
        return iter > 0 && matches(parts[3], derive(secret, Base64.getDecoder().decode(parts[2]), iter));
      }
      return false;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** Constant-time: the comparison does not reveal how many leading bytes matched. */
  private static boolean matches(String expectedBase64, byte[] actual) {
    return MessageDigest.isEqual(Base64.getDecoder().decode(expectedBase64), actual);
  }

  private static byte[] sha256(byte[] salt, String secret) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(salt);
      return sha.digest(secret.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
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
