package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An upstream that does not answer in time is a gateway's timeout (RFC 9110 §15.6.5): {@code $import}
 * answers 504 with a text naming the timeout that ran out, and a job retries it as any transient
 * failure. The upstreams are real servers on 127.0.0.1 that accept and then stall, or whose
 * accept queue is full, so that a connection is never accepted.
 */
class IngestionTimeoutTest {
  static Upstream upstream;
  /** Listens with a full accept queue: a further connection is never established. */
  static ServerSocket unaccepting;
  static final List<Socket> QUEUED = new ArrayList<>();
  static TestServer server;
  static TestClient http;
  static final CountDownLatch END = new CountDownLatch(1);

  @BeforeAll
  static void start() throws Exception {
    upstream = new Upstream();
    unaccepting = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    fillAcceptQueue();
    server = TestServer.start(upstream.ingestSettings(
        "FHIRBOX_INGEST_ALLOWED_URL_PREFIXES", upstream.origin() + "/files/,http://127.0.0.1:"
            + unaccepting.getLocalPort() + "/files/",
        "FHIRBOX_INGEST_CONNECT_TIMEOUT", "1",
        "FHIRBOX_INGEST_READ_TIMEOUT", "1",
        "FHIRBOX_INGEST_TIMEOUT", "120",
        "FHIRBOX_INGEST_MIN_BYTES_PER_SECOND", "0",
        "FHIRBOX_INGEST_MAX_ATTEMPTS", "2",
        "FHIRBOX_INGEST_BACKOFF_MILLIS", "50"));
    http = server.client();
  }

  /** Connects until a connection is no longer established: the listener's queue is full then. */
  private static void fillAcceptQueue() throws Exception {
    for (int i = 0; i < 16; i++) {
      Socket s = new Socket();
      try {
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), unaccepting.getLocalPort()), 250);
        QUEUED.add(s);
      } catch (SocketTimeoutException e) {
        s.close();
        return;
      }
    }
    throw new IllegalStateException("the accept queue did not fill up");
  }

  @AfterAll
  static void stop() throws Exception {
    END.countDown();
    server.close();
    upstream.close();
    for (Socket s : QUEUED) {
      s.close();
    }
    unaccepting.close();
  }

  private static HttpResponse<String> importUrl(String url) {
    return http.send(http.request("fhir/R4/Binary/$import?url=" + ProjectClients.enc(url))
        .POST(HttpRequest.BodyPublishers.noBody()));
  }

  private static OperationOutcome.OperationOutcomeIssueComponent issue(HttpResponse<String> r) {
    return http.parse(r, OperationOutcome.class).getIssueFirstRep();
  }

  /** Accepts the request and sends nothing until the test class ends. */
  private static void stall(com.sun.net.httpserver.HttpExchange ex) throws Exception {
    END.await();
  }

  /** Sends the head and {@code first} bytes of a longer body, then nothing. */
  private static Upstream.Handler stallAfter(int first) {
    return ex -> {
      ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
      ex.sendResponseHeaders(200, 1 << 20);
      OutputStream out = ex.getResponseBody();
      out.write(new byte[first]);
      out.flush();
      END.await();
    };
  }

  @Test
  void anUpstreamThatSendsNoResponseWithinTheReadTimeoutIs504() throws Exception {
    upstream.on("/files/silent.bin", IngestionTimeoutTest::stall);

    HttpResponse<String> r = importUrl(upstream.origin() + "/files/silent.bin?sig=secret");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(504);
    assertThat(issue(r).getCode()).isEqualTo(OperationOutcome.IssueType.TIMEOUT);
    assertThat(issue(r).getDiagnostics()).isEqualTo("fetching the URL failed: no response from the upstream"
        + " within 1 s (FHIRBOX_INGEST_READ_TIMEOUT)");
  }

  @Test
  void anUpstreamWhoseBodyStallsPastTheReadTimeoutIs504() throws Exception {
    upstream.on("/files/stalled-body.bin", stallAfter(1000));

    HttpResponse<String> r = importUrl(upstream.origin() + "/files/stalled-body.bin");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(504);
    assertThat(issue(r).getCode()).isEqualTo(OperationOutcome.IssueType.TIMEOUT);
    assertThat(issue(r).getDiagnostics()).isEqualTo("fetching the URL failed: the upstream sent no content"
        + " for 1 s (FHIRBOX_INGEST_READ_TIMEOUT)");
  }

  @Test
  void anUpstreamThatTricklesPastTheTotalTimeoutIs504() throws Exception {
    // a byte every 200 ms: well within the read timeout, with no minimum rate, until the total timeout
    upstream.on("/files/endless.bin", ex -> {
      ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
      ex.sendResponseHeaders(200, 1 << 20);
      OutputStream out = ex.getResponseBody();
      while (!END.await(200, TimeUnit.MILLISECONDS)) {
        out.write(1);
        out.flush();
      }
    });

    try (TestServer shortTotal = TestServer.start(upstream.ingestSettings(
        "FHIRBOX_INGEST_READ_TIMEOUT", "30",
        "FHIRBOX_INGEST_TIMEOUT", "3",
        "FHIRBOX_INGEST_MIN_BYTES_PER_SECOND", "0"))) {
      TestClient c = shortTotal.client();
      HttpResponse<String> r = c.send(c.request("fhir/R4/Binary/$import?url="
          + ProjectClients.enc(upstream.origin() + "/files/endless.bin")).POST(HttpRequest.BodyPublishers.noBody()));

      assertThat(r.statusCode()).as(r.body()).isEqualTo(504);
      assertThat(c.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
          .isEqualTo("fetching the URL failed: the fetch did not finish within 3 s (FHIRBOX_INGEST_TIMEOUT)");
    }
  }

  @Test
  void anUpstreamThatDoesNotAcceptTheConnectionWithinTheConnectTimeoutIs504() throws Exception {
    HttpResponse<String> r = importUrl("http://127.0.0.1:" + unaccepting.getLocalPort() + "/files/a.bin");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(504);
    assertThat(issue(r).getDiagnostics()).isEqualTo("fetching the URL failed: the upstream did not accept a"
        + " connection within 1 s (FHIRBOX_INGEST_CONNECT_TIMEOUT)");
  }

  @Test
  void anUpstreamThatFailsOtherwiseStays502() throws Exception {
    upstream.on("/files/broken.bin", ex -> Upstream.send(ex, 500, "text/plain", new byte[] {1}));

    HttpResponse<String> r = importUrl(upstream.origin() + "/files/broken.bin");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
    assertThat(issue(r).getDiagnostics()).isEqualTo("fetching the URL failed: upstream answered HTTP 500");
  }

  @Test
  void aJobRetriesAnUpstreamTimeoutAsItRetriesAnUpstreamFailure() throws Exception {
    upstream.on("/files/silent-job.bin", IngestionTimeoutTest::stall);
    String url = upstream.origin() + "/files/silent-job.bin";

    IngestionTest.createMedia(http, url, null);

    JsonNode job = IngestionTest.awaitJob(http, url, "failed");
    assertThat(job.get("attempts").asInt()).isEqualTo(2);
    assertThat(job.get("lastError").asText()).isEqualTo("gave up after 2 attempts: no response from the upstream"
        + " within 1 s (FHIRBOX_INGEST_READ_TIMEOUT)");
    assertThat(upstream.hits("/files/silent-job.bin")).isEqualTo(2);
  }
}
