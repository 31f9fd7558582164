package org.fhirbox.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpHeaders;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;
import java.util.regex.Pattern;

/** Content for upload tests: random bytes repeatable from a seed, their SHA-256, and what a content ETag looks like. */
public final class TestBytes {
  private TestBytes() {}

  /** {@code n} random bytes, the same for the same seed. */
  public static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /**
   * A Binary's content ETag: strong, the blob's key (32 lowercase hex digits). It names the stored
   * bytes, not their digest, so a test learns from it only that they are the bytes of one blob;
   * it compares the bytes themselves, or the {@code hash}.
   */
  public static final Pattern BLOB_ETAG = Pattern.compile("\"[0-9a-f]{32}-[0-9a-f]{8}\"");

  /** Asserts that {@code headers} carry a Binary's content ETag ({@link #BLOB_ETAG}). */
  public static void assertBlobEtag(HttpHeaders headers) {
    assertThat(headers.firstValue("ETag")).hasValueSatisfying(e -> assertThat(e).matches(BLOB_ETAG));
  }

  /** The SHA-256 of {@code b} as 64 lowercase hex digits (a declared {@code sha256}). */
  public static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
