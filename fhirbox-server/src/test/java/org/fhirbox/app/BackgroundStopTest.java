package org.fhirbox.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
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
    TestServer server = TestServer.start();
    CountDownLatch started = new CountDownLatch(1);
    AtomicBoolean interrupted = new AtomicBoolean();
    AtomicReference<Long> read = new AtomicReference<>();
    server.server().background().execute(() -> {
      started.countDown();
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        interrupted.set(true);
        Thread.currentThread().interrupt();
      }
      read.set(server.server().store().read(tx -> tx.ingestJobs().pendingCount()));
    });
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

    server.close();

    assertThat(interrupted).isFalse();
    assertThat(read.get()).isEqualTo(0L);
  }
}
