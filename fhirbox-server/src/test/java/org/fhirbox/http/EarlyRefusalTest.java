package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.Tus;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Uploads refused on their declared size before a byte of the body is read, sent the way plain
 * clients send them (curl --data-binary, a JDK HttpClient POST): the whole body follows the
 * headers at once, without waiting for {@code 100 Continue}. The client must read the complete
 * answer while it is still writing, not a reset connection.
 */
class EarlyRefusalTest {
  static final long LIMIT = 64 << 10;
  /** Declared, far above the limit; the client goes on to send {@link #SENT} of it. */
  static final long DECLARED = 10L << 20;
  static final int SENT = 1 << 20;
  /** What is sent before the answer. */
  static final int SLICE = 16 << 10;
  static TestServer server;
  static TestClient http;
  static String auth;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(Map.of("FHIRBOX_MAX_BINARY_BYTES", Long.toString(LIMIT)));
    http = server.client();
    auth = http.request("x").build().headers().firstValue("Authorization").orElseThrow();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void rawBinaryPostOverTheLimitIsAnsweredWhileTheClientSends() throws Exception {
    Answer a = sendWhileRefused("POST /fhir/R4/Binary HTTP/1.1\r\nContent-Type: application/octet-stream\r\n"
        + "Authorization: " + auth + "\r\n");

    assertRefusal(a, 413, "the limit is " + LIMIT);
  }

  @Test
  void jdkHttpClientPostOverTheLimitReadsTheAnswer() {
    HttpResponse<String> r = http.postBytes("fhir/R4/Binary", "application/octet-stream", new byte[SENT]);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(413);
    assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("the limit is " + LIMIT);
  }

  @Test
  void tusPatchOverTheLimitIsAnsweredWhileTheClientSends() throws Exception {
    String location = deferredUpload();
    String path = URI.create(location).getRawPath();

    Answer a = sendWhileRefused("PATCH " + path + " HTTP/1.1\r\nContent-Type: " + Tus.OCTETS + "\r\n"
        + "Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nAuthorization: " + auth + "\r\n");

    assertRefusal(a, 413, "the limit of " + LIMIT + " bytes");
    assertThat(a.header("tus-resumable")).isEqualTo("1.0.0");
    assertThat(new Tus(http).offset(location)).isZero();
  }

  @Test
  void tusCreationWithUploadOverTheLimitIsAnsweredWhileTheClientSends() throws Exception {
    Answer a = sendWhileRefused("POST /fhir/R4/Binary/$upload HTTP/1.1\r\nContent-Type: " + Tus.OCTETS + "\r\n"
        + "Tus-Resumable: 1.0.0\r\nUpload-Length: " + DECLARED + "\r\nAuthorization: " + auth + "\r\n");

    assertRefusal(a, 413, "exceeds the limit of " + LIMIT + " bytes");
  }

  @Test
  void signedPutOfAnotherLengthIsAnsweredWhileTheClientSends() throws Exception {
    URI url = signedUploadUrl(100);

    // no Authorization: the signed URL is the credential
    Answer a = sendWhileRefused("PUT " + url.getRawPath() + "?" + url.getRawQuery() + " HTTP/1.1\r\n"
        + "Content-Type: application/octet-stream\r\n");

    assertRefusal(a, 400, "exactly 100 bytes");
  }

  @Test
  void streamedBodyOverTheLimitWithMoreThanTheDrainLeftIsAnsweredThenClosed() throws Exception {
    URI base = URI.create(server.baseUrl());
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(("POST /fhir/R4/Binary HTTP/1.1\r\nHost: localhost\r\nAuthorization: " + auth
          + "\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      // no declared length: the limit is found while streaming, and far more than the server
      // drains before its answer (Exchange.DRAIN_LIMIT) is still to come
      long total = 3 * Exchange.DRAIN_LIMIT;
      CompletableFuture<Long> writer = CompletableFuture.supplyAsync(() -> {
        byte[] chunk = new byte[SLICE];
        byte[] size = (Integer.toHexString(SLICE) + "\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] crlf = "\r\n".getBytes(StandardCharsets.US_ASCII);
        long written = 0;
        try {
          for (; written < total; written += SLICE) {
            out.write(size);
            out.write(chunk);
            out.write(crlf);
          }
        } catch (IOException e) {
          // the server closed once it had answered and drained what it drains after the answer
        }
        return written;
      });

      // the whole answer, read while the client still sends (the close that ends the drain after
      // it may then reset the connection: the answer was read before)
      Answer a = readHead(s.getInputStream()).withBodyOnly(s.getInputStream());

      assertRefusal(a, 413, "exceeds the limit of " + LIMIT + " bytes");
      assertThat(writer.get(20, TimeUnit.SECONDS)).as("the client was still sending when answered")
          .isGreaterThan(Exchange.DRAIN_LIMIT);
    }
  }

  @Test
  void aRefusedBodyIsReadForTheDrainTimeAtMost() throws Exception {
    try (Socket s = refusedPost()) {
      OutputStream out = s.getOutputStream();
      long start = System.nanoTime();
      long millis = 0;
      try {
        // a byte now and then, as a slow client sends, until the server lets go of the connection
        for (; millis < 10_000; millis = (System.nanoTime() - start) / 1_000_000) {
          out.write(0);
          out.flush();
          Thread.sleep(20);
        }
      } catch (IOException e) {
        // closed
      }

      long drainMillis = Exchange.REFUSED_DRAIN_TIME.toMillis();
      assertThat(millis).as("the body is still read after the answer").isGreaterThan(drainMillis / 2)
          .as("but not for longer than the drain time").isLessThan(drainMillis + 3_000);
    }
  }

  @Test
  void aClientThatStopsSendingIsLetGoAfterTheDrainTime() throws Exception {
    try (Socket s = refusedPost()) {
      OutputStream out = s.getOutputStream();

      // silent past the drain time: the server has closed, so the second write meets its reset
      Thread.sleep(Exchange.REFUSED_DRAIN_TIME.toMillis() + 2_000);
      assertThat(writeTwice(out)).as("the connection is closed").isFalse();
    }
  }

  /** A raw POST Binary declaring {@link #DECLARED} bytes, a first slice of them sent and the 413 read. */
  private static Socket refusedPost() throws IOException {
    URI base = URI.create(server.baseUrl());
    Socket s = new Socket(base.getHost(), base.getPort());
    s.setSoTimeout(10_000);
    OutputStream out = s.getOutputStream();
    out.write(("POST /fhir/R4/Binary HTTP/1.1\r\nHost: localhost\r\nAuthorization: " + auth
        + "\r\nContent-Type: application/octet-stream\r\nContent-Length: " + DECLARED + "\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    out.write(new byte[SLICE]);
    out.flush();
    assertRefusal(read(s.getInputStream()), 413, "the limit is " + LIMIT);
    return s;
  }

  private static boolean writeTwice(OutputStream out) throws InterruptedException {
    try {
      out.write(0);
      out.flush();
      Thread.sleep(200);
      out.write(0);
      out.flush();
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void clientWaitingForContinueIsAnsweredWithoutIt() throws Exception {
    URI base = URI.create(server.baseUrl());
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(("POST /fhir/R4/Binary HTTP/1.1\r\nHost: localhost\r\nAuthorization: " + auth
          + "\r\nContent-Type: application/octet-stream\r\nExpect: 100-continue\r\nContent-Length: " + DECLARED
          + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      long start = System.nanoTime();
      Head h = readHead(s.getInputStream());
      long answeredMillis = (System.nanoTime() - start) / 1_000_000;
      Answer a = h.withBody(s.getInputStream());
      long closedMillis = (System.nanoTime() - start) / 1_000_000;

      assertRefusal(a, 413, "the limit is " + LIMIT);
      assertThat(answeredMillis).as("answered at once, without 100 Continue").isLessThan(1_500);
      // a body the client sends once it stops waiting would be drained: that wait is bounded too
      assertThat(a.closed()).as("closed after the answer").isTrue();
      assertThat(closedMillis).isLessThan(Exchange.REFUSED_DRAIN_TIME.toMillis() + 1_500);
    }
  }

  @Test
  void tusPatchRefusedOnItsHeadersDoesNotInviteTheBody() throws Exception {
    String location = deferredUpload();
    String path = URI.create(location).getRawPath();

    // the offset is 0: a PATCH at 5 is refused on its headers, before its body would be read
    Answer a = askToContinue("PATCH " + path + " HTTP/1.1\r\nContent-Type: " + Tus.OCTETS + "\r\n"
        + "Tus-Resumable: 1.0.0\r\nUpload-Offset: 5\r\nAuthorization: " + auth + "\r\nContent-Length: 1000\r\n");

    assertRefusal(a, 409, "is not the upload's offset");
  }

  @Test
  void tusPatchWhoseLengthWouldOverflowPastTheOffsetIsRefusedOnItsHeaders() throws Exception {
    String location = deferredUpload();
    HttpResponse<String> first = new Tus(http).patch(location, 0, new byte[5]);
    assertThat(first.statusCode()).as(first.body()).isEqualTo(204);

    // 5 + Long.MAX_VALUE wraps below zero: the check must not be fooled into inviting the body
    Answer a = askToContinue("PATCH " + URI.create(location).getRawPath() + " HTTP/1.1\r\nContent-Type: "
        + Tus.OCTETS + "\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 5\r\nAuthorization: " + auth
        + "\r\nContent-Length: " + Long.MAX_VALUE + "\r\n");

    assertRefusal(a, 413, "more than the limit of " + LIMIT);
  }

  @Test
  void signedPutOfAnotherLengthDoesNotInviteTheBody() throws Exception {
    URI url = signedUploadUrl(100);

    Answer a = askToContinue("PUT " + url.getRawPath() + "?" + url.getRawQuery() + " HTTP/1.1\r\n"
        + "Content-Type: application/octet-stream\r\nContent-Length: 5000\r\n");

    assertRefusal(a, 400, "exactly 100 bytes");
  }

  @Test
  void anyRefusalOnTheHeadersDoesNotInviteTheBody() throws Exception {
    String fhirBody = "Content-Type: application/fhir+json\r\nContent-Length: 5000000\r\n";

    assertRefusal(askToContinue("POST /fhir/R4/Patient HTTP/1.1\r\nAuthorization: Bearer nope\r\n" + fhirBody),
        401, "");
    assertRefusal(askToContinue("POST /fhir/R4/NotAType HTTP/1.1\r\nAuthorization: " + auth + "\r\n" + fhirBody),
        404, "unknown resource type 'NotAType'");
    assertRefusal(askToContinue("PUT /fhir/R4/Patient/p1 HTTP/1.1\r\nAuthorization: " + auth
        + "\r\nContent-Type: text/plain\r\nContent-Length: 5000000\r\n"), 415, "Content-Type must be");
  }

  /** A raw Binary PUT whose preconditions fail is 412 before its body is invited, not after storing it. */
  @Test
  void rawBinaryPutWhosePreconditionFailsDoesNotInviteTheBody() throws Exception {
    String id = TestClient.createdId(http.postBytes("fhir/R4/Binary", "text/plain", "kept".getBytes()));
    String put = "PUT /fhir/R4/Binary/" + id + " HTTP/1.1\r\nAuthorization: " + auth
        + "\r\nContent-Type: text/plain\r\nContent-Length: 60000\r\n";

    assertRefusal(askToContinue(put + "If-None-Match: *\r\n"), 412, "If-None-Match * does not hold");
    assertRefusal(askToContinue(put + "If-Match: W/\"7\"\r\n"), 412, "does not match the current version W/\"1\"");
    assertThat(http.get("fhir/R4/Binary/" + id).body()).contains("\"versionId\":\"1\"");
  }

  @Test
  void aLargeBodySentAtSpeedToARouteThatRefusesItUnreadGetsTheWholeAnswerEveryTime() throws Exception {
    // more than the server discards before its answer (Exchange.DRAIN_LIMIT), sent as fast as it goes
    for (int attempt = 0; attempt < 20; attempt++) {
      Answer a = sendAtSpeed("POST /fhir/R4/NotAType HTTP/1.1\r\nAuthorization: " + auth
          + "\r\nContent-Type: application/fhir+json\r\n", 50L << 20);

      assertThat(a.status()).as("attempt " + attempt).isEqualTo(404);
      assertRefusal(a, 404, "unknown resource type 'NotAType'");
    }
  }

  @Test
  void aClientThatStopsWaitingForContinueAndSendsGetsTheWholeRefusalEveryTime() throws Exception {
    // .NET's HttpClient waits 350 ms for 100 Continue, curl 1 s; then they send the body anyway.
    // The body is within the drain's bound (Exchange.REFUSED_DRAIN_BYTES): beyond it the server
    // stops reading, and a client still sending may meet a reset, as the bound means it to.
    int length = 3_000_000;
    assertThat((long) length).isLessThan(Exchange.REFUSED_DRAIN_BYTES);
    for (int attempt = 0; attempt < 5; attempt++) {
      URI base = URI.create(server.baseUrl());
      try (Socket s = new Socket(base.getHost(), base.getPort())) {
        s.setSoTimeout(10_000);
        OutputStream out = s.getOutputStream();
        out.write(("PUT /fhir/R4/Patient/x HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer nope\r\n"
            + "Content-Type: application/fhir+json\r\nExpect: 100-continue\r\nContent-Length: " + length
            + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        Thread.sleep(300); // the client's wait for 100 Continue, which does not come
        // curl and the JDK's HttpClient give up on the exchange when a write fails, answer or not
        IOException sendFailed = null;
        try {
          out.write(new byte[length]);
          out.flush();
        } catch (IOException e) {
          sendFailed = e;
        }
        Answer a = readHead(s.getInputStream()).withBodyOnly(s.getInputStream());

        assertThat(sendFailed).as("attempt " + attempt + ": the body is taken, not reset").isNull();
        assertThat(a.status()).as("attempt " + attempt).isEqualTo(401);
        assertRefusal(a, 401, "");
      }
    }
  }

  @Test
  void aBodyStillComingWhenARouteRefusedItUnreadIsReadAfterTheAnswerToo() throws Exception {
    URI base = URI.create(server.baseUrl());
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      out.write(("POST /fhir/R4/NotAType HTTP/1.1\r\nHost: localhost\r\nAuthorization: " + auth
          + "\r\nContent-Type: application/fhir+json\r\nContent-Length: " + DECLARED + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      // 5 KB/s: the server discards what comes for its drain time, finds the body goes on, and
      // answers; the client is still sending then, and must not have the connection reset under it
      Answer a = null;
      long answered = 0;
      long start = System.nanoTime();
      try {
        while (System.nanoTime() - start < 10_000_000_000L) {
          if (a == null && in.available() > 0) {
            a = readHead(in).withBodyOnly(in);
            answered = System.nanoTime();
          }
          out.write(new byte[1024]);
          out.flush();
          Thread.sleep(200);
        }
      } catch (IOException e) {
        // closed
      }
      long after = (System.nanoTime() - answered) / 1_000_000;

      assertThat(a).as("answered before the close").isNotNull();
      assertRefusal(a, 404, "unknown resource type 'NotAType'");
      long drainMillis = Exchange.REFUSED_DRAIN_TIME.toMillis();
      assertThat(after).as("the body is still read after the answer").isGreaterThan(drainMillis / 2)
          .as("but not for longer than the drain time").isLessThan(drainMillis + 3_000);
    }
  }

  /**
   * Sends {@code head} declaring {@code length} bytes, then the body as fast as the connection
   * takes it, looking for an answer between slices as curl does, and stopping at the first; the
   * answer. A reset that loses the answer before it is read fails the test.
   */
  private static Answer sendAtSpeed(String head, long length) throws IOException {
    URI base = URI.create(server.baseUrl());
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      out.write((head + "Host: localhost\r\nContent-Length: " + length + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      byte[] slice = new byte[64 << 10];
      try {
        for (long written = 0; written < length && in.available() == 0; written += slice.length) {
          out.write(slice);
        }
      } catch (IOException e) {
        // the server closed: an answer that came before is still to be read
      }
      return readHead(in).withBodyOnly(in);
    }
  }

  /**
   * Sends {@code head} with {@code Expect: 100-continue} and no body, and reads the first answer:
   * a request refused on its headers must get its refusal, not {@code 100 Continue} (which would
   * invite the body the server is about to refuse).
   */
  private static Answer askToContinue(String head) throws IOException {
    URI base = URI.create(server.baseUrl());
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write((head + "Host: localhost\r\nExpect: 100-continue\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      Answer a = read(s.getInputStream());
      assertThat(a.closed()).as("closed after the answer: no body was invited, none is waited for").isTrue();
      return a;
    }
  }

  /** A tus upload of deferred length, just created; its URL. */
  private static String deferredUpload() {
    HttpResponse<String> created = new Tus(http).createDeferred(null);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    return created.headers().firstValue("Location").orElseThrow();
  }

  /** A server-mode signed upload URL for {@code size} bytes of application/octet-stream. */
  private static URI signedUploadUrl(int size) {
    Parameters in = new Parameters();
    in.addParameter("contentType", "application/octet-stream");
    in.addParameter().setName("size").setValue(new IntegerType(size));
    HttpResponse<String> issued = http.postJson("fhir/R4/Binary/$upload-url", http.json(in));
    assertThat(issued.statusCode()).as(issued.body()).isEqualTo(200);
    return URI.create(http.parse(issued, Parameters.class).getParameter("url").getValue().primitiveValue());
  }

  static void assertRefusal(Answer a, int status, String diagnostic) {
    assertThat(a.status()).as(a.body()).isEqualTo(status);
    assertThat(a.header("connection")).isEqualToIgnoringCase("close");
    assertThat(a.header("content-type")).startsWith("application/fhir+json");
    OperationOutcome oo = TestServer.FHIR.newJsonParser().parseResource(OperationOutcome.class, a.body());
    assertThat(oo.getIssueFirstRep().getSeverity()).isEqualTo(OperationOutcome.IssueSeverity.ERROR);
    assertThat(oo.getIssueFirstRep().getDiagnostics()).contains(diagnostic);
  }

  record Answer(int status, Map<String, String> headers, String body, boolean closed) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /**
   * Sends {@code head} with {@code Content-Length: DECLARED} and a first slice of the body, then,
   * once this thread has read the answer's head, the rest of {@link #SENT} bytes from another
   * thread, and reads the whole answer and whether the server closes after it: the client is still
   * sending after the answer, as a client that does not wait for one is. A failed read or write (a
   * reset) fails the test: curl and the JDK's HttpClient give up on the exchange when a write fails.
   */
  static Answer sendWhileRefused(String head) throws Exception {
    return sendOnceAnswered(server, head, DECLARED, true);
  }

  /**
   * {@code head} with {@code Content-Length: declared} and a first slice of the body to
   * {@code to}, then, once the answer's head is read, the rest of {@link #SENT} bytes from another
   * thread. With {@code untilClosed} the answer's body is read once every byte was written, and
   * whether the server then closes; without, while they are written.
   */
  static Answer sendOnceAnswered(TestServer to, String head, long declared, boolean untilClosed) throws Exception {
    URI base = URI.create(to.baseUrl());
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write((head + "Host: localhost\r\nContent-Length: " + declared + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      byte[] slice = new byte[SLICE];
      out.write(slice);
      out.flush();
      CountDownLatch answered = new CountDownLatch(1);
      CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
        try {
          answered.await();
          for (int written = SLICE; written < SENT; written += SLICE) {
            out.write(slice);
          }
          out.flush();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      InputStream in = s.getInputStream();
      Head h = readHead(in);
      answered.countDown();
      if (untilClosed) {
        writer.get(10, TimeUnit.SECONDS);
        return h.withBody(in);
      }
      Answer a = h.withBodyOnly(in);
      writer.get(10, TimeUnit.SECONDS);
      return a;
    }
  }

  static Answer read(InputStream in) throws IOException {
    return readHead(in).withBody(in);
  }

  record Head(String statusLine, Map<String, String> headers) {
    /** Reads the body the head announces, then whether the server closes the connection after it. */
    Answer withBody(InputStream in) throws IOException {
      String body = body(in);
      return new Answer(status(), headers, body, in.read() < 0);
    }

    /** Reads the body the head announces, and no further (closed is left false). */
    Answer withBodyOnly(InputStream in) throws IOException {
      return new Answer(status(), headers, body(in), false);
    }

    private int status() {
      return Integer.parseInt(statusLine.split(" ")[1]);
    }

    private String body(InputStream in) throws IOException {
      int length = Integer.parseInt(headers.getOrDefault("content-length", "-1"));
      assertThat(length).as("a Content-Length on " + statusLine).isPositive();
      byte[] body = in.readNBytes(length);
      assertThat(body).as("the whole body of " + statusLine).hasSize(length);
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  static Head readHead(InputStream in) throws IOException {
    String statusLine = line(in);
    Map<String, String> headers = new LinkedHashMap<>();
    for (String h = line(in); !h.isEmpty(); h = line(in)) {
      int colon = h.indexOf(':');
      headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
    }
    return new Head(statusLine, headers);
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0 && c != '\n') {
      if (c != '\r') {
        b.write(c);
      }
    }
    return b.toString(StandardCharsets.US_ASCII);
  }
}
