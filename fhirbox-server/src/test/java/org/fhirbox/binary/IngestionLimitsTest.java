package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a slow upstream may hold: a fetch whose content arrives below the minimum rate stops once
 * a window of it has passed, and {@code $import}, which fetches on a request thread, runs only so
 * many at once, so that the server keeps answering everything else.
 */
class IngestionLimitsTest {
  static Upstream upstream;
  /** Sends a chunk of more than the limit, then closes the connection without the last chunk. */
  static ServerSocket cutting;
  /** Answers as {@link #hold} says, then keeps the connection open until fhirbox closes it. */
  static ServerSocket holding;
  /** What {@link #holding} sends after the head: nothing, or a chunk of more than the limit without its end. */
  static volatile boolean holdChunked;
  /** Opens when fhirbox closes a connection to {@link #holding}. */
  static volatile CountDownLatch held;
  static TestServer server;
  static TestClient http;
  /** The Binary size limit: above every other test's content. */
  private static final long MAX_BINARY = 4 << 20;

  @BeforeAll
  static void start() throws Exception {
    upstream = new Upstream();
    cutting = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
    holding = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
    serveEach(cutting, IngestionLimitsTest::cutAfterTheLimit);
    serveEach(holding, IngestionLimitsTest::hold);
    server = TestServer.start(upstream.ingestSettings(
        "FHIRBOX_INGEST_ALLOWED_URL_PREFIXES", upstream.origin() + "/files/," + cuttingOrigin() + "/files/,"
            + origin(holding) + "/files/",
        "FHIRBOX_INGEST_MAX_ATTEMPTS", "1",
        "FHIRBOX_INGEST_MIN_BYTES_PER_SECOND", "1000",
        // 3 s, not 1: a window also holds the wait for the response head, which a cold client on a
        // loaded machine can spend a second on before a byte of content could arrive
        "FHIRBOX_INGEST_MIN_RATE_SECONDS", "3",
        "FHIRBOX_INGEST_IMPORT_CONCURRENCY", "1",
        "FHIRBOX_MAX_BINARY_BYTES", Long.toString(MAX_BINARY)));
    http = server.client();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
    upstream.close();
    cutting.close();
    holding.close();
  }

  private static String cuttingOrigin() {
    return origin(cutting);
  }

  private static String origin(ServerSocket s) {
    return "http://127.0.0.1:" + s.getLocalPort();
  }

  /** Reads a request's head, up to its empty line. */
  private static void readHead(InputStream in) throws IOException {
    for (int state = 0, b; state < 4 && (b = in.read()) >= 0; ) {
      state = b == (state % 2 == 0 ? '\r' : '\n') ? state + 1 : b == '\r' ? 1 : 0;
    }
  }

  /** What a raw upstream sends on a connection whose request head it has read. */
  private interface RawAnswer {
    void answer(InputStream in, OutputStream out) throws IOException;
  }

  /** Answers each connection to {@code socket} on a thread of its own, one after another, until it closes. */
  private static void serveEach(ServerSocket socket, RawAnswer answer) {
    Thread t = new Thread(() -> {
      while (!socket.isClosed()) {
        try (Socket s = socket.accept()) {
          InputStream in = s.getInputStream();
          readHead(in);
          answer.answer(in, s.getOutputStream());
        } catch (IOException e) {
          // the server under test went away, or the test closed this one
        }
      }
    }, "raw-upstream");
    t.setDaemon(true);
    t.start();
  }

  /**
   * A 200 over the limit that neither ends its content nor closes: reads until fhirbox closes the
   * connection, then opens {@link #held}. Without {@link #holdChunked} the head declares a
   * Content-Length of the limit and a byte more and no content follows; with it, one chunk of that
   * size arrives, without the CRLF and last chunk after it.
   */
  private static void hold(InputStream in, OutputStream out) throws IOException {
    byte[] body = Upstream.content((int) MAX_BINARY + 1, 44);
    String head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n";
    if (holdChunked) {
      out.write((head + "Transfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(body.length) + "\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.write(body);
    } else {
      out.write((head + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    }
    out.flush();
    while (in.read() >= 0) {
      // nothing more is sent; a read ends when fhirbox closes the connection
    }
    held.countDown();
  }

  /**
   * A chunked 200 whose one chunk holds the limit and a byte more, the connection closed before
   * the last chunk (RFC 9112 §7.1): content that did not end as HTTP requires, of which more than
   * the limit has arrived all the same.
   */
  private static void cutAfterTheLimit(InputStream in, OutputStream out) throws IOException {
    byte[] body = Upstream.content((int) MAX_BINARY + 1, 43);
    out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
        + Integer.toHexString(body.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
    out.write(body);
    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
    out.flush();
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

    // the upstream did not send its content in time: a gateway's timeout
    assertThat(r.statusCode()).as(r.body()).isEqualTo(504);
    assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getCode())
        .isEqualTo(OperationOutcome.IssueType.TIMEOUT);
    assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("too slow").contains("FHIRBOX_INGEST_MIN_BYTES_PER_SECOND");
    // the window is 3 s; the rest is room for a loaded machine
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
  }

  @Test
  void anImportOverTheSizeLimitGets413WhetherItsLengthIsDeclaredOrItArrivesChunked() throws Exception {
    upstream.on("/files/declared-too-large.bin", ex -> {
      ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
      ex.sendResponseHeaders(200, MAX_BINARY + 1);
      ex.close();
    });
    byte[] body = Upstream.content((int) MAX_BINARY + 1, 42);
    upstream.on("/files/chunked-too-large.bin", ex -> {
      ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
      ex.sendResponseHeaders(200, 0);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    });

    for (String path : new String[] {"/files/declared-too-large.bin", "/files/chunked-too-large.bin"}) {
      HttpResponse<String> r = send(importRequest(upstream.origin() + path, Duration.ofSeconds(30)));
      assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(413);
      assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).as(path)
          .contains("exceeds the limit of " + MAX_BINARY + " bytes");
    }
  }

  /**
   * More than the limit arrived: 413, however the content then ends. The size must be judged as
   * the bytes arrive, not once the read that reached past the limit could also see the end.
   */
  @Test
  void anImportOverTheSizeLimitGets413EvenWhenTheUpstreamCutsTheConnectionBeforeTheLastChunk() throws Exception {
    HttpResponse<String> r = send(importRequest(cuttingOrigin() + "/files/cut-too-large.bin", Duration.ofSeconds(30)));

    assertThat(r.statusCode()).as(r.body()).isEqualTo(413);
    assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("exceeds the limit of " + MAX_BINARY + " bytes");
  }

  /**
   * A response fhirbox gives up on (a declared length over the limit; more content than the limit)
   * ends its exchange at once: the connection closes, rather than staying open, its content
   * unread, until the upstream ends it or the read timeout (60 s here) runs out.
   */
  @Test
  void aResponseGivenUpOnClosesItsConnectionAtOnce() throws Exception {
    for (boolean chunked : new boolean[] {false, true}) {
      holdChunked = chunked;
      held = new CountDownLatch(1);
      HttpResponse<String> r = send(importRequest(origin(holding) + "/files/held-too-large.bin",
          Duration.ofSeconds(30)));

      assertThat(r.statusCode()).as(r.body()).isEqualTo(413);
      assertThat(held.await(20, TimeUnit.SECONDS)).as("chunked: " + chunked + ", connection closed").isTrue();
    }
  }

  @Test
  void aJobWhoseContentTricklesBelowTheMinimumRateFailsWithThatAsItsError() throws Exception {
    upstream.on("/files/trickle-job.bin", IngestionLimitsTest::trickle);
    String url = upstream.origin() + "/files/trickle-job.bin";

    IngestionTest.createMedia(http, url, null);

    JsonNode job = IngestionTest.awaitJob(http, url, "failed");
    assertThat(job.get("lastError").asText()).contains("too slow");
  }

  @Test
  void aSecondImportWhileTheOnlySlotIsHeldGets503WithRetryAfterAndOtherRequestsAreServed() throws Exception {
    byte[] body = Upstream.content(2 << 20, 41);
    CountDownLatch streaming = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    upstream.on("/files/held.bin", ex -> {
      ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
      ex.sendResponseHeaders(200, body.length);
      OutputStream out = ex.getResponseBody();
      int sent = 0;
      streaming.countDown();
      // 2 KiB every 50 ms, above the minimum rate, until released; then the rest at once
      while (!release.await(50, TimeUnit.MILLISECONDS) && sent + 2048 < body.length) {
        out.write(body, sent, 2048);
        out.flush();
        sent += 2048;
      }
      out.write(body, sent, body.length - sent);
      out.close();
    });
    upstream.serve("/files/small.txt", "text/plain", "small".getBytes(StandardCharsets.UTF_8));
    String small = upstream.origin() + "/files/small.txt";

    CompletableFuture<HttpResponse<String>> first = http.http().sendAsync(
        importRequest(upstream.origin() + "/files/held.bin", Duration.ofSeconds(30)),
        HttpResponse.BodyHandlers.ofString());
    try {
      assertThat(streaming.await(30, TimeUnit.SECONDS)).isTrue();

      HttpResponse<String> second = send(importRequest(small, Duration.ofSeconds(10)));
      assertThat(second.statusCode()).as(second.body()).isEqualTo(503);
      assertThat(second.headers().firstValue("Retry-After")).hasValue("10");
      assertThat(http.parse(second, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
          .contains("FHIRBOX_INGEST_IMPORT_CONCURRENCY");
      assertThat(http.get("fhir/R4/metadata").statusCode()).isEqualTo(200);
    } finally {
      release.countDown();
    }

    HttpResponse<String> held = first.get(30, TimeUnit.SECONDS);
    assertThat(held.statusCode()).as(held.body()).isEqualTo(201);
    HttpResponse<byte[]> raw = http.sendBytes(http.request("fhir/R4/Binary/"
        + http.parse(held, Binary.class).getIdElement().getIdPart()).GET());
    assertThat(raw.body()).isEqualTo(body);
    // the slot was given back
    HttpResponse<String> after = send(importRequest(small, Duration.ofSeconds(10)));
    assertThat(after.statusCode()).as(after.body()).isEqualTo(201);
  }
}
