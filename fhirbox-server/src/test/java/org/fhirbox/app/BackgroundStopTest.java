package org.fhirbox.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;

/**
 * A stop lets the background work under way (an orphan sweep, the re-indexing) finish its
 * database work: it is not interrupted, since an interrupt that meets an embedded H2 database
 * reading its file closes that file for every connection, and the requests still draining and
 * the audit events still queued would fail with it.
 */
class BackgroundStopTest {
  @Test
  void backgroundWorkUnderWayWhenTheServerStopsIsNotInterruptedAndFinishesItsDatabaseWork() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    AtomicBoolean interrupted = new AtomicBoolean();
    AtomicReference<Long> read = new AtomicReference<>();
    AtomicReference<Throwable> failed = new AtomicReference<>();
    // Given to the background thread before the server starts, so that it is the first work there:
    // the start's own (the FHIRPath warm-up, the re-indexing) queue behind it on that one thread,
    // and on a loaded machine they take longer than any wait a test could choose for them.
    TestServer server = TestServer.start(Map.of(), s -> {
      // Work for later, which a stop cancels (it starts nothing new): waiting for it is waiting,
      // interruptibly, for the stop itself, without guessing how long the stop takes to begin.
      ScheduledFuture<?> later = s.background().schedule(() -> { }, 1, TimeUnit.DAYS);
      s.background().execute(() -> {
        started.countDown();
        try {
          later.get();
        } catch (CancellationException e) {
          // the stop has begun
        } catch (InterruptedException e) {
          interrupted.set(true);
          Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
          failed.set(e);
        }
        try {
          read.set(s.store().read(tx -> tx.ingestJobs().pendingCount()));
        } catch (RuntimeException e) {
          failed.set(e);
        }
      });
    });
    // counted down on the background thread, which had nothing else to do first
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

    server.close();

    assertThat(interrupted).isFalse();
    assertThat(failed.get()).isNull();
    assertThat(read.get()).isEqualTo(0L);
  }
}
