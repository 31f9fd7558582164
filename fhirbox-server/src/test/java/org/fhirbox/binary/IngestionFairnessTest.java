package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;

/** Projects share a node's ingestion workers: one project's slow jobs do not hold them all. */
class IngestionFairnessTest {

  @Test
  void aProjectWithSlowJobsLeavesWorkersToOtherProjects() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger inFlight = new AtomicInteger();
    try (Upstream upstream = new Upstream();
        TestServer server = TestServer.start(upstream.ingestSettings("FHIRBOX_INGEST_CONCURRENCY", "2",
            "FHIRBOX_INGEST_MIN_BYTES_PER_SECOND", "0"))) {
      Upstream.Handler slow = ex -> {
        inFlight.incrementAndGet();
        release.await(90, TimeUnit.SECONDS);
        Upstream.send(ex, 200, "application/octet-stream", new byte[] {1, 2, 3});
      };
      upstream.on("/files/slow-1.bin", slow).on("/files/slow-2.bin", slow);
      upstream.serve("/files/clinic.bin", "application/octet-stream", Upstream.content(1000, 41));
      try {
        TestClient busy = server.client();
        IngestionTest.createMedia(busy, upstream.origin() + "/files/slow-1.bin", null);
        IngestionTest.createMedia(busy, upstream.origin() + "/files/slow-2.bin", null);
        Poll.until("a slow fetch", () -> inFlight.get() > 0);

        ProjectClients clients = new ProjectClients(server);
        TestClient clinic = clients.bearer(clients.create("clinic", "system/*.cruds", true));
        String url = upstream.origin() + "/files/clinic.bin";
        IngestionTest.createMedia(clinic, url, null);
        // the slow fetches hold their workers for the whole wait: only a free worker can take this one
        IngestionTest.awaitJob(clinic, url, "done");
        assertThat(inFlight.get()).isEqualTo(1);
      } finally {
        release.countDown();
      }
    }
  }

  /**
   * A project beyond its share takes the workers no other project's job needs, all but one: with
   * three workers, two of its slow jobs run and the third waits, and the free worker runs another
   * project's job as soon as it is due.
   */
  @Test
  void aProjectBeyondItsShareUsesIdleWorkersButOne() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger inFlight = new AtomicInteger();
    try (Upstream upstream = new Upstream();
        TestServer server = TestServer.start(upstream.ingestSettings("FHIRBOX_INGEST_CONCURRENCY", "3",
            "FHIRBOX_INGEST_MIN_BYTES_PER_SECOND", "0"))) {
      Upstream.Handler slow = ex -> {
        inFlight.incrementAndGet();
        release.await(90, TimeUnit.SECONDS);
        Upstream.send(ex, 200, "application/octet-stream", new byte[] {1, 2, 3});
      };
      upstream.on("/files/slow-1.bin", slow).on("/files/slow-2.bin", slow).on("/files/slow-3.bin", slow);
      upstream.serve("/files/clinic.bin", "application/octet-stream", Upstream.content(1000, 42));
      try {
        TestClient busy = server.client();
        for (int i = 1; i <= 3; i++) {
          IngestionTest.createMedia(busy, upstream.origin() + "/files/slow-" + i + ".bin", null);
        }
        Poll.until("two slow fetches", () -> inFlight.get() >= 2);

        ProjectClients clients = new ProjectClients(server);
        TestClient clinic = clients.bearer(clients.create("clinic", "system/*.cruds", true));
        String url = upstream.origin() + "/files/clinic.bin";
        IngestionTest.createMedia(clinic, url, null);
        IngestionTest.awaitJob(clinic, url, "done");
        assertThat(inFlight.get()).as("the third slow job still waits for a worker").isEqualTo(2);
      } finally {
        release.countDown();
      }
    }
  }
}
