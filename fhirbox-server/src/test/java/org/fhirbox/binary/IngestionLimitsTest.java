package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.OutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a slow upstream may hold: a fetch whose content arrives below the minimum rate stops once
 * a window of it has passed.
 */
class IngestionLimitsTest {
  static Upstream upstream;
  static TestServer server;
  static TestClient http;

  @BeforeAll
  static void start() throws Exception {
    upstream = new Upstream();
    server = TestServer.start(Map.of(
        "FHIRBOX_INGEST_ALLOWED_URL_PREFIXES", upstream.origin() + "/files/",
        "FHIRBOX_INGEST_POLL_MILLIS", "50",
        "FHIRBOX_INGEST_MAX_ATTEMPTS", "1",
        "FHIRBOX_INGEST_MIN_BYTES_PER_SECOND", "1000",
        "FHIRBOX_INGEST_MIN_RATE_SECONDS", "1"));
    http = server.client();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
    upstream.close();
  }

  /** {@code $import} of {@code url}; the client gives up after {@code timeout}. */
  private static HttpRequest importRequest(String url, Duration timeout) {
    return http.request("fhir/R4/Binary/$import?url=" + ProjectClients.enc(url))
        .timeout(timeout).POST(HttpRequest.BodyPublishers.noBody()).build();
  }

  private static HttpResponse<String> send(HttpRequest request) throws Exception {
    return http.http().send(request, HttpResponse.BodyHandlers.ofString());
  }

  /** Sends the head with a Content-Length of 1 MiB, then 10 bytes every 100 ms: 100 bytes/s. */
  private static void trickle(com.sun.net.httpserver.HttpExchange ex) throws Exception {
    ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
    ex.sendResponseHeaders(200, 1 << 20);
    OutputStream out = ex.getResponseBody();
    for (int i = 0; i < 600; i++) {
      out.write(new byte[10]);
      out.flush();
      Thread.sleep(100);
    }
  }

  @Test
  void anImportWhoseContentTricklesBelowTheMinimumRateFailsOnceTheWindowHasPassed() throws Exception {
    upstream.on("/files/trickle.bin", IngestionLimitsTest::trickle);

    long start = System.nanoTime();
    HttpResponse<String> r = send(importRequest(upstream.origin() + "/files/trickle.bin", Duration.ofSeconds(15)));

    assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
    assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("too slow").contains("FHIRBOX_INGEST_MIN_BYTES_PER_SECOND");
    // the window is 1 s; the rest is room for a loaded machine
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void aJobWhoseContentTricklesBelowTheMinimumRateFailsWithThatAsItsError() throws Exception {
    upstream.on("/files/trickle-job.bin", IngestionLimitsTest::trickle);
    String url = upstream.origin() + "/files/trickle-job.bin";

    IngestionTest.createMedia(http, url, null);

    JsonNode job = IngestionTest.awaitJob(http, url, "failed");
    assertThat(job.get("lastError").asText()).contains("too slow");
  }
}
