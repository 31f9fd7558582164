package org.fhirbox.testing;

import java.time.Duration;
import java.util.function.Predicate;

/**
 * Waits, bounded, for something another thread or process does in its own time (the audit
 * writer, the ingestion worker, a server starting). Never for the passing of time itself: that is
 * what an injected {@link TestClock} is for.
 *
 * <pre>{@code
 * JsonNode job = Poll.until("job reaching done", () -> job(client, url), j -> j != null && j.path("state").asText().equals("done"));
 * Poll.until("temporary parts removed", () -> tmpParts() == 0);
 * }</pre>
 */
public final class Poll {
  /** Generous, so a loaded machine does not fail a correct test; a wrong one fails after it. */
  public static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final long INTERVAL_MILLIS = 20;

  /** A probe that may throw, as HTTP and JDBC calls do. */
  @FunctionalInterface
  public interface Probe<T> {
    T get() throws Exception;
  }

  private Poll() {}

  /** Calls {@code probe} until {@code done} accepts its value, and returns that value. */
  public static <T> T until(String what, Probe<T> probe, Predicate<? super T> done) throws Exception {
    return until(what, TIMEOUT, probe, done);
  }

  /** Calls {@code condition} until it is true. */
  public static void until(String what, Probe<Boolean> condition) throws Exception {
    until(what, TIMEOUT, condition, Boolean.TRUE::equals);
  }

  /** As {@link #until(String, Probe, Predicate)}, with its own bound. */
  public static <T> T until(String what, Duration timeout, Probe<T> probe, Predicate<? super T> done)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      T value = probe.get();
      if (done.test(value)) {
        return value;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("waited " + timeout.toSeconds() + " s for " + what + "; last seen: " + value);
      }
      Thread.sleep(INTERVAL_MILLIS);
    }
  }
}
