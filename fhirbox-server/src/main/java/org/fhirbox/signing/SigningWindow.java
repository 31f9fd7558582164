package org.fhirbox.signing;

import java.time.Duration;

/**
 * The stability window shared by the URL signers: a tenth of the TTL, in whole seconds. Every
 * URL made within one window is identical, so browsers and CDNs can cache it.
 */
record SigningWindow(long ttlSeconds, long windowSeconds) {

  static SigningWindow of(Duration ttl) {
    if (ttl.compareTo(Duration.ofSeconds(10)) < 0) {
      throw new IllegalArgumentException("signed URL lifetime must be at least 10 seconds");
    }
    return new SigningWindow(ttl.toSeconds(), ttl.toSeconds() / 10);
  }

  /** Start of the window holding {@code epochSecond}. */
  long start(long epochSecond) {
    return Math.floorDiv(epochSecond, windowSeconds) * windowSeconds;
  }

  /**
   * Expiry of a URL made at {@code epochSecond}: {@code now + ttl} rounded up to a window
   * boundary, so the URL lives between {@code ttl} and {@code ttl + window} (at most 1.1 × ttl).
   */
  long roundedExpiry(long epochSecond) {
    long earliest = epochSecond + ttlSeconds;
    return Math.floorDiv(earliest + windowSeconds - 1, windowSeconds) * windowSeconds;
  }
}
