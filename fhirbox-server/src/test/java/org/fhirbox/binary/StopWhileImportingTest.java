package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Binary;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A stop (SIGTERM) lets requests in flight finish within {@code FHIRBOX_SHUTDOWN_TIMEOUT}: a
 * synchronous {@code $import} whose fetch is under way is one of them, though the background
 * ingestion's fetches are cut at once (their jobs are handed back). One that outlasts the
 * timeout is cut, and the stop still succeeds: the bound is the documented outcome.
 */
class StopWhileImportingTest {
  private Upstream upstream;

  @BeforeEach
  void start() throws Exception {
    upstream = new Upstream();
  }

  @AfterEach
  void stop() {
    upstream.close();
  }

  @Test
  void anImportWhoseFetchIsUnderWayWhenTheServerStopsStillFinishes() throws Exception {
    byte[] body = Upstream.content(4000, 5);
    CountDownLatch fetching = new CountDownLatch(1);
    upstream.on("/files/slow.bin", ex -> {
      ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
      ex.sendResponseHeaders(200, body.length);
      OutputStream out = ex.getResponseBody();
      out.write(body, 0, 1000);
      out.flush();
      fetching.countDown();
      Thread.sleep(700);
      out.write(body, 1000, body.length - 1000);
      out.close();
    });
    TestServer server = TestServer.start(upstream.ingestSettings("FHIRBOX_SHUTDOWN_TIMEOUT", "30"));
    TestClient http = server.client();
    String url = URLEncoder.encode(upstream.origin() + "/files/slow.bin", StandardCharsets.UTF_8);
    CompletableFuture<HttpResponse<String>> imported = CompletableFuture.supplyAsync(() ->
        http.send(http.request("fhir/R4/Binary/$import?url=" + url).POST(HttpRequest.BodyPublishers.noBody())));
    assertThat(fetching.await(30, TimeUnit.SECONDS)).isTrue();

    server.close();

    HttpResponse<String> r = imported.get(30, TimeUnit.SECONDS);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(http.parse(r, Binary.class).getContentType()).isEqualTo("application/octet-stream");
  }

  @Test
  void aStopThatOutlastsTheShutdownTimeoutCutsWhatIsLeftAndSucceeds() throws Exception {
    CountDownLatch fetching = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    upstream.on("/files/stalled.bin", ex -> {
      ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
      ex.sendResponseHeaders(200, 4000);
      ex.getResponseBody().write(new byte[1000]);
      ex.getResponseBody().flush();
      fetching.countDown();
      release.await(30, TimeUnit.SECONDS);
    });
    TestServer server = TestServer.start(upstream.ingestSettings("FHIRBOX_SHUTDOWN_TIMEOUT", "1"));
    TestClient http = server.client();
    String url = URLEncoder.encode(upstream.origin() + "/files/stalled.bin", StandardCharsets.UTF_8);
    CompletableFuture.runAsync(() ->
        http.send(http.request("fhir/R4/Binary/$import?url=" + url).POST(HttpRequest.BodyPublishers.noBody())));
    try {
      assertThat(fetching.await(30, TimeUnit.SECONDS)).isTrue();
      long start = System.nanoTime();

      server.close();

      assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).isLessThan(10);
    } finally {
      release.countDown();
    }
  }
}
