package org.fhirbox.client;

import java.time.Duration;
import java.util.Objects;

/**
 * How often and how patiently idempotent requests (GET, HEAD, PUT, DELETE, token requests) are
 * retried after a connection failure or a 429, 502, 503 or 504 answer. The wait before retry
 * {@code n} (1-based) is a random duration in {@code [0, min(maxBackoff, initialBackoff * 2^(n-1))]}
 * ("full jitter"), or the wait the server's {@code Retry-After} asks for (delta-seconds, or an
 * HTTP-date in any of its three forms) capped at {@code maxRetryAfter}.
 * Downloads also resume a broken transfer, giving up after {@code maxRetries} breaks in a row that
 * brought no new byte.
 *
 * <pre>{@code
 * FhirboxClient patient = client.newBuilder()
 *     .retryPolicy(new RetryPolicy(5, Duration.ofMillis(200), Duration.ofSeconds(5), Duration.ofSeconds(30)))
 *     .build();
 * }</pre>
 *
 * @param maxRetries retries after the first attempt (0 disables retrying)
 * @param initialBackoff the upper bound of the first wait
 * @param maxBackoff the largest upper bound of any computed wait
 * @param maxRetryAfter the longest {@code Retry-After} honoured; longer values are capped to it
 */
public record RetryPolicy(int maxRetries, Duration initialBackoff, Duration maxBackoff, Duration maxRetryAfter) {
  /** Three retries, waits up to 250 ms, 500 ms, 1 s; {@code Retry-After} honoured up to 30 s. */
  public static final RetryPolicy DEFAULT =
      new RetryPolicy(3, Duration.ofMillis(250), Duration.ofSeconds(8), Duration.ofSeconds(30));

  /** Never retry. */
  public static final RetryPolicy NONE = new RetryPolicy(0, Duration.ZERO, Duration.ZERO, Duration.ZERO);

  /** Validates the values. */
  public RetryPolicy {
    if (maxRetries < 0) {
      throw new IllegalArgumentException("maxRetries must not be negative");
    }
    Objects.requireNonNull(initialBackoff, "initialBackoff");
    Objects.requireNonNull(maxBackoff, "maxBackoff");
    Objects.requireNonNull(maxRetryAfter, "maxRetryAfter");
    if (initialBackoff.isNegative() || maxBackoff.isNegative() || maxRetryAfter.isNegative()) {
      throw new IllegalArgumentException("durations must not be negative");
    }
  }
}
