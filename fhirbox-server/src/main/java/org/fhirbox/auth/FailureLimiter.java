package org.fhirbox.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.function.UnaryOperator;

/**
 * Counts failed client authentication per key (see {@link AuthThrottle} for the keys). After
 * {@code threshold} failures, each further failure blocks the key for an exponentially growing
 * delay (1 s, 2 s, 4 s ...) capped at {@code maxDelay}. A success resets the key, and a key with
 * no failure for {@code window} starts over.
 *
 * <p>An attempt is counted from the moment it is admitted ({@link #tryAcquire}), not only once it
 * has failed: checking a password costs a PBKDF2 hash (0.15-0.5 s), and a limit checked before
 * the hash and counted after it would let any number of parallel guesses through. So attempts in
 * flight count against the limit with the failures: below the threshold, at most
 * {@code threshold - failures} attempts may be under way at once; at or past it, one at a time
 * once the block has run out. Each admitted attempt ends with {@link #failed}, {@link #succeeded}
 * or {@link #released}.
 *
 * <p>Counters live in memory per node (not in the database): N nodes allow N times the attempts,
 * which is harmless against 256-bit random secrets; what matters is that the CPU cost of PBKDF2
 * (a configured bootstrap client's chosen secret) cannot be driven without bound.
 *
 * <p>Memory is bounded whatever callers send: a key is kept as its SHA-256 (a client id in a
 * request may be 64 KB), and at most {@value #MAX_KEYS} keys are kept, the one used longest ago
 * going when a new one comes (an access-ordered {@link LinkedHashMap}, so each call is O(1)
 * rather than a scan of every key). An evicted key starts over; pushing out a key that is being
 * guessed takes {@value #MAX_KEYS} other keys in between, and one address gets only 20 failures
 * before its own counter holds it back, so that takes very many addresses.
 */
final class FailureLimiter {
  static final int MAX_KEYS = 100_000;
  private static final State FRESH = new State(0, 0, 0, 0);

  private record State(int failures, int inFlight, long lastFailure, long blockedUntil) {
    boolean idle() {
      return failures == 0 && inFlight == 0;
    }
  }

  private final Clock clock;
  private final int threshold;
  private final long windowMillis;
  private final long maxDelayMillis;
  /** SHA-256 of the key to its state, least recently used first; guarded by itself. */
  private final LinkedHashMap<String, State> states = RecentKeys.lru(MAX_KEYS);

  FailureLimiter(Clock clock, int threshold, Duration window, Duration maxDelay) {
    this.clock = clock;
    this.threshold = threshold;
    this.windowMillis = window.toMillis();
    this.maxDelayMillis = maxDelay.toMillis();
  }

  /**
   * Seconds the caller must wait before trying {@code key} again, or 0 when it may try now. Only
   * a look: {@link #tryAcquire} is what admits an attempt.
   */
  long retryAfterSeconds(String key) {
    long now = clock.millis();
    State s;
    synchronized (states) {
      s = states.get(digest(key));
    }
    return s == null ? 0 : wait(current(s, now), now);
  }

  /**
   * Admits one attempt at {@code key} and counts it as in flight, or refuses it: 0 when admitted
   * (end it with {@link #failed}, {@link #succeeded} or {@link #released}), else the seconds to
   * wait, with nothing counted.
   */
  long tryAcquire(String key) {
    long now = clock.millis();
    String k = digest(key);
    synchronized (states) {
      State s = states.get(k);
      State cur = s == null ? FRESH : current(s, now);
      long wait = wait(cur, now);
      if (wait == 0) {
        states.put(k, new State(cur.failures, cur.inFlight + 1, cur.lastFailure, cur.blockedUntil));
      }
      return wait;
    }
  }

  /** An admitted attempt failed: it is a failure, no longer in flight. */
  void failed(String key) {
    record(key, true);
  }

  /** An admitted attempt succeeded: the key starts over. */
  void succeeded(String key) {
    updateIfPresent(key, s -> new State(0, Math.max(0, s.inFlight - 1), 0, 0));
  }

  /** An admitted attempt ended with neither a failure nor a success to count. */
  void released(String key) {
    long now = clock.millis();
    updateIfPresent(key, s -> {
      State cur = current(s, now);
      return new State(cur.failures, Math.max(0, cur.inFlight - 1), cur.lastFailure, cur.blockedUntil);
    });
  }

  /** A failure that was not admitted by {@link #tryAcquire} (nothing in flight to end). */
  void failure(String key) {
    record(key, false);
  }

  /** How many keys are kept (at most {@link #MAX_KEYS}). */
  int size() {
    synchronized (states) {
      return states.size();
    }
  }

  private void record(String key, boolean reserved) {
    long now = clock.millis();
    String k = digest(key);
    synchronized (states) {
      State s = states.get(k);
      State cur = s == null ? FRESH : current(s, now);
      int failures = cur.failures + 1;
      long blockedUntil = 0;
      if (failures >= threshold) {
        int doublings = Math.min(failures - threshold, 30);
        blockedUntil = now + Math.min(maxDelayMillis, 1000L << doublings);
      }
      int inFlight = reserved ? Math.max(0, cur.inFlight - 1) : cur.inFlight;
      states.put(k, new State(failures, inFlight, now, blockedUntil));
    }
  }

  private void updateIfPresent(String key, UnaryOperator<State> update) {
    String k = digest(key);
    synchronized (states) {
      State s = states.get(k);
      if (s != null) {
        State next = update.apply(s);
        if (next.idle()) {
          states.remove(k);
        } else {
          states.put(k, next);
        }
      }
    }
  }

  /** The key as kept: SHA-256, base64url, 43 characters whatever the key's length. */
  static String digest(String key) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(hash);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  /** {@code s} with its failures forgotten when the last one is older than the window. */
  private State current(State s, long now) {
    if (s.failures > 0 && now - s.lastFailure > windowMillis && s.blockedUntil <= now) {
      return new State(0, s.inFlight, 0, 0);
    }
    return s;
  }

  private long wait(State s, long now) {
    if (s.blockedUntil > now) {
      return Math.max(1, (s.blockedUntil - now + 999) / 1000);
    }
    // below the threshold, the attempts it leaves may be under way at once; past it, one
    if (s.inFlight >= Math.max(1, threshold - s.failures)) {
      return 1;
    }
    return 0;
  }
}
