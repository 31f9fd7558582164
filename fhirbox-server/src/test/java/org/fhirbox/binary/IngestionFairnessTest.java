package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Projects share a node's ingestion workers: one project's slow jobs do not hold them all. */
class IngestionFairnessTest {

  /**
   * One project queues as many slow jobs as the node has workers. Within its share (one job) and
   * beyond it, it takes every worker but one: with two workers one of its jobs runs, with three
   * two do; the worker left free runs another project's job as soon as it is due, while the
   * first project's last job still waits.
   */
  @ParameterizedTest(name = "{0} workers: {1} slow jobs run")
  @CsvSource({"2, 1", "3, 2"})
  void aProjectWithSlowJobsLeavesAWorkerToOtherProjects(int workers, int running) throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger inFlight = new AtomicInteger();
    try (Upstream upstream = new Upstream();
        TestServer server = TestServer.start(upstream.ingestSettings("FHIRBOX_INGEST_CONCURRENCY",
            String.valueOf(workers), "FHIRBOX_INGEST_MIN_BYTES_PER_SECOND", "0"))) {
      Upstream.Handler slow = ex -> {
        inFlight.incrementAndGet();
        release.await(90, TimeUnit.SECONDS);
        Upstream.send(ex, 200, "application/octet-stream", new byte[] {1, 2, 3});
      };
      for (int i = 1; i <= workers; i++) {
        upstream.on("/files/slow-" + i + ".bin", slow);
      }
      upstream.serve("/files/clinic.bin", "application/octet-stream", Upstream.content(1000, 41));
      try {
        TestClient busy = server.client();
        for (int i = 1; i <= workers; i++) {
          IngestionTest.createMedia(busy, upstream.origin() + "/files/slow-" + i + ".bin", null);
        }
        Poll.until(running + " slow fetches", () -> inFlight.get() >= running);

        ProjectClients clients = new ProjectClients(server);
        TestClient clinic = clients.bearer(clients.create("clinic", "system/*.cruds", true));
        String url = upstream.origin() + "/files/clinic.bin";
        IngestionTest.createMedia(clinic, url, null);
        // the slow fetches hold their workers for the whole wait: only the free worker can take this one
        IngestionTest.awaitJob(clinic, url, "done");
        assertThat(inFlight.get()).as("the first project's last job still waits for a worker").isEqualTo(running);
      } finally {
        release.countDown();
      }
    }
  }
}
