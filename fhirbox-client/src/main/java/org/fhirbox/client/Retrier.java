package org.fhirbox.client;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/** Decides whether to try again and how long to wait, from a {@link RetryPolicy}. */
final class Retrier {
  private final RetryPolicy policy;
  private final Clock clock;

  Retrier(RetryPolicy policy, Clock clock) {
    this.policy = policy;
    this.clock = clock;
  }

  RetryPolicy policy() {
    return policy;
  }

  boolean mayRetry(int retriesSoFar) {
    return retriesSoFar < policy.maxRetries();
  }

  /**
   * 429 Too Many Requests, 502 Bad Gateway, 503 Service Unavailable: the request was not processed;
   * 504 Gateway Timeout: a proxy gave up waiting, and the request may or may not have been processed,
   * which only an idempotent request (the only kind retried) may ignore (RFC 9110 §9.2.2).
   */
  static boolean retryableStatus(int status) {
    return status == 429 || status == 502 || status == 503 || status == 504;
  }

  /**
   * The wait before retry number {@code retry} (1-based): the server's {@code Retry-After}
   * (RFC 9110 §10.2.3: seconds or an HTTP-date in any of its three forms, {@link HttpDate}) capped
   * by the policy, else full-jitter backoff.
   */
  Duration delay(int retry, Optional<String> retryAfter) {
    Optional<Duration> asked = retryAfter.flatMap(this::parseRetryAfter);
    if (asked.isPresent()) {
      Duration d = asked.get();
      return d.compareTo(policy.maxRetryAfter()) > 0 ? policy.maxRetryAfter() : d;
    }
    long initial = policy.initialBackoff().toMillis();
    long cap = policy.maxBackoff().toMillis();
    long bound = Math.min(cap, initial << Math.min(retry - 1, 20));
    return Duration.ofMillis(bound <= 0 ? 0 : ThreadLocalRandom.current().nextLong(bound + 1));
  }

  private Optional<Duration> parseRetryAfter(String value) {
    String v = value.trim();
    // delay-seconds = 1*DIGIT (RFC 9110 §10.2.3): ASCII digits only, no sign
    if (!v.isEmpty() && v.chars().allMatch(c -> c >= '0' && c <= '9')) {
      try {
        return Optional.of(Duration.ofSeconds(Long.parseLong(v)));
      } catch (NumberFormatException beyondLong) {
        return Optional.of(policy.maxRetryAfter());
      }
    }
    Instant now = clock.instant();
    return HttpDate.parse(v, now).map(at -> {
      Duration d = Duration.between(now, at);
      return d.isNegative() ? Duration.ZERO : d;
    });
  }

  void sleep(Duration d, String method, String path) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw FhirboxException.client(method + " " + path + " was interrupted", e);
    }
  }
}
