package org.fhirbox.metrics;

import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/**
 * A gauge whose source may fail or hang (a database that is down, a pool with no free
 * connection): a scrape waits at most {@code wait} for it and writes the other series either way.
 * The read runs on a thread of its own; one still running when a scrape gives up is not started
 * again, and its value answers the next scrape that finds it done.
 */
final class BoundedGauge {
  private final LongSupplier source;
  private final Duration wait;
  private CompletableFuture<Long> inFlight;

  BoundedGauge(LongSupplier source, Duration wait) {
    this.source = source;
    this.wait = wait;
  }

  /** The source's value, or empty when it failed or did not answer in time. */
  synchronized OptionalLong read() {
    if (inFlight == null) {
      inFlight = CompletableFuture.supplyAsync(source::getAsLong, BoundedGauge::onDaemon);
    }
    CompletableFuture<Long> read = inFlight;
    try {
      long value = read.get(wait.toMillis(), TimeUnit.MILLISECONDS);
      inFlight = null;
      return OptionalLong.of(value);
    } catch (TimeoutException e) {
      return OptionalLong.empty();
    } catch (ExecutionException e) {
      inFlight = null;
      return OptionalLong.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return OptionalLong.empty();
    }
  }

  private static void onDaemon(Runnable r) {
    Thread t = new Thread(r, "fhirbox-metrics-gauge");
    t.setDaemon(true);
    t.start();
  }
}
