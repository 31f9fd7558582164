package org.fhirbox.testing;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;

/** Content for upload tests: random bytes repeatable from a seed, and their SHA-256. */
public final class TestBytes {
  private TestBytes() {}

  /** {@code n} random bytes, the same for the same seed. */
  public static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** The SHA-256 of {@code b} as 64 lowercase hex digits (a Binary's ETag, a declared {@code sha256}). */
  public static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
