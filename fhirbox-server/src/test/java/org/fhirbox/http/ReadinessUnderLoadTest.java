package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.fhirbox.testing.S3Server;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;

/**
 * {@code /readyz} tells whether the database answers, not whether this node's pool has a free
 * connection, and answers within a probe's timeout however slow a dependency is.
 */
class ReadinessUnderLoadTest {
  @Test
  void aBusyPoolStillReadsAsUpWithinTwoSeconds() throws Exception {
    try (TestServer server = TestServer.start(Map.of("FHIRBOX_DATABASE_POOL_SIZE", "2",
        "FHIRBOX_DATABASE_CONNECT_TIMEOUT", "3000"))) {
      // a first probe, as an orchestrator's, while the pool is free: classes loaded, the check's connection open
      assertThat(server.client().get("readyz").statusCode()).isEqualTo(200);
      CountDownLatch holding = new CountDownLatch(2);
      CountDownLatch release = new CountDownLatch(1);
      ExecutorService threads = Executors.newFixedThreadPool(2);
      List<CompletableFuture<Void>> holders = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        holders.add(CompletableFuture.runAsync(() -> server.server().store().read(tx -> {
          holding.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return null;
        }), threads));
      }
      try {
        assertThat(holding.await(10, TimeUnit.SECONDS)).as("both pooled connections held").isTrue();
        HttpResponse<String> ready = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(URI.create(server.baseUrl() + "readyz")).timeout(Duration.ofSeconds(2)).build(),
            HttpResponse.BodyHandlers.ofString());

        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
        assertThat(ready.body()).contains("\"database\":\"up\"");
      } finally {
        release.countDown();
        CompletableFuture.allOf(holders.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
        threads.shutdown();
      }
    }
  }

  @Test
  void anObjectStoreThatDoesNotAnswerReadsAsDownWithinAProbesTimeout() throws Exception {
    // the kernel completes the connections (the backlog), and nothing ever answers on them
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      S3Server.exportCredentials();
      try (TestServer server = TestServer.start(Map.of("FHIRBOX_BLOB_STORE", "s3", "FHIRBOX_S3_BUCKET", "silent",
          "FHIRBOX_S3_PATH_STYLE", "true", "FHIRBOX_S3_ENDPOINT", "http://127.0.0.1:" + silent.getLocalPort()))) {
        HttpResponse<String> ready = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(URI.create(server.baseUrl() + "readyz")).timeout(Duration.ofSeconds(8)).build(),
            HttpResponse.BodyHandlers.ofString());

        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(503);
        assertThat(ready.body()).contains("\"blobStore\":\"down\"").contains("\"database\":\"up\"");
      } finally {
        S3Server.clearCredentials();
      }
    }
  }
}
