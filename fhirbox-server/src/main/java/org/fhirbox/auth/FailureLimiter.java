package org.fhirbox.auth;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts failed client authentication per key (see {@link AuthThrottle} for the keys). After
 * {@code threshold} failures, each further failure blocks the key for an exponentially growing
 * delay (1 s, 2 s, 4 s ...) capped at {@code maxDelay}. A success resets the key, and a key with
 * no failure for {@code window} starts over.
 *
 * <p>Counters live in memory per node (not in the database): N nodes allow N times the attempts,
 * which is harmless against 256-bit random secrets; what matters is that the CPU cost of PBKDF2
 * (a configured bootstrap client's chosen secret) cannot be driven without bound. Memory is
 * bounded by pruning idle keys.
 */
final class FailureLimiter {
  private static final int MAX_KEYS = 100_000;

  private record State(int failures, long lastFailure, long blockedUntil) {}

  private final Clock clock;
  private final int threshold;
  private final long windowMillis;
  private final long maxDelayMillis;
  private final ConcurrentHashMap<String, State> states = new ConcurrentHashMap<>();

  FailureLimiter(Clock clock, int threshold, Duration window, Duration maxDelay) {
    this.clock = clock;
    this.threshold = threshold;
    this.windowMillis = window.toMillis();
    this.maxDelayMillis = maxDelay.toMillis();
  }

  /** Seconds the caller must wait before trying {@code key} again, or 0 when it may try now. */
  long retryAfterSeconds(String key) {
    State s = states.get(key);
    long now = clock.millis();
    if (s == null || s.blockedUntil <= now) {
      return 0;
    }
    return Math.max(1, (s.blockedUntil - now + 999) / 1000);
  }

  void failure(String key) {
    long now = clock.millis();
    if (states.size() >= MAX_KEYS) {
      states.values().removeIf(s -> now - s.lastFailure > windowMillis && s.blockedUntil <= now);
    }
    states.compute(key, (k, s) -> {
      int failures = s == null || now - s.lastFailure > windowMillis ? 1 : s.failures + 1;
      long blockedUntil = 0;
      if (failures >= threshold) {
        int doublings = Math.min(failures - threshold, 30);
        blockedUntil = now + Math.min(maxDelayMillis, 1000L << doublings);
      }
      return new State(failures, now, blockedUntil);
    });
  }

  void success(String key) {
    states.remove(key);
  }
}
