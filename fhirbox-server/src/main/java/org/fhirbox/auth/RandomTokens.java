package org.fhirbox.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Opaque bearer values (authorization codes, refresh tokens, sign-in cookies, CSRF tokens): 256
 * random bits, base64url. The database keeps only their SHA-256: with that many random bits no
 * key stretching is needed (NIST SP 800-63B §5.1.2.2), and a copy of the database hands no one a
 * usable code, token or cookie.
 */
final class RandomTokens {
  private static final int BYTES = 32;
  /** The length of every generated value: 32 bytes in base64url without padding. */
  static final int LENGTH = (BYTES * 8 + 5) / 6;

  private RandomTokens() {}

  static String generate(SecureRandom random) {
    byte[] bytes = new byte[BYTES];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** The lower-case hex SHA-256 of the value's UTF-8 bytes (64 characters). */
  static String hash(String value) {
    return HexFormat.of().formatHex(sha256(value.getBytes(StandardCharsets.UTF_8)));
  }

  static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  /** Constant-time comparison of two strings (a CSRF token against the one issued). */
  static boolean same(String a, String b) {
    return a != null && b != null
        && MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
  }
}
