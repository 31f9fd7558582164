package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestBytes;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.Tus;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A request body sent slower than the minimum rate is cut with a 408 OperationOutcome while the
 * server goes on answering others; bodies sent at speed, or with a pause the bytes before it paid
 * for, are not. The server here asks for 1,000 bytes/s judged over 1 s of waiting, so a trickle is
 * found within about a second.
 */
class SlowClientTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass(Map.of("FHIRBOX_MIN_REQUEST_BYTES_PER_SECOND", "1000",
      "FHIRBOX_MIN_REQUEST_RATE_SECONDS", "1", "FHIRBOX_IDLE_TIMEOUT", "10"));

  static TestClient http() {
    return fhirbox.http();
  }

  /** The bootstrap admin's Authorization header, for requests written by hand. */
  static String auth() {
    return http().request("x").build().headers().firstValue("Authorization").orElseThrow();
  }

  @Test
  void aTrickledBodyIs408WithinTheWindowWhileOthersAreAnswered() throws Exception {
    String upload = URI.create(new Tus(http()).upload(5000, Tus.metadata("filename", "slow.bin"))).getPath();
    for (String head : new String[] {
        "POST /fhir/R4/Patient HTTP/1.1\r\nContent-Type: application/fhir+json\r\nAuthorization: " + auth(),
        "POST /oauth2/token HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded",
        "POST /fhir/R4/Binary HTTP/1.1\r\nContent-Type: application/octet-stream\r\nAuthorization: " + auth(),
        "PATCH " + upload + " HTTP/1.1\r\nContent-Type: application/offset+octet-stream\r\nTus-Resumable: 1.0.0"
            + "\r\nUpload-Offset: 0\r\nAuthorization: " + auth()}) {
      long start = System.nanoTime();
      String answer = trickle(head + "\r\nContent-Length: 5000\r\n", 10, 100);
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertThat(millis).as("cut after about a second of 100 bytes/s").isLessThan(5_000);
      assertThat(answer).as(answer).startsWith("HTTP/1.1 408");
      String body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
      if (head.contains("/oauth2/")) {
        // the token endpoint speaks OAuth (RFC 6749 section 5.2), also when the body never came
        JsonNode error = new ObjectMapper().readTree(body);
        assertThat(error.path("error").asText()).isEqualTo("invalid_request");
        assertThat(error.path("error_description").asText()).contains("FHIRBOX_MIN_REQUEST_BYTES_PER_SECOND");
        continue;
      }
      OperationOutcome oo = TestServer.FHIR.newJsonParser().parseResource(OperationOutcome.class, body);
      assertThat(oo.getIssueFirstRep().getDiagnostics()).as(head).contains("FHIRBOX_MIN_REQUEST_BYTES_PER_SECOND");
    }
  }

  @Test
  void aBodySentAtSpeedOrWithAShortPauseIsTaken() throws Exception {
    HttpResponse<String> binary = http().postBytes("fhir/R4/Binary", "application/octet-stream",
        TestBytes.random(2 << 20, 7));
    assertThat(binary.statusCode()).as(binary.body()).isEqualTo(201);

    String json = "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + "P".repeat(6000) + "\"}]}";
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    URI base = URI.create(fhirbox.server().baseUrl());
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(("POST /fhir/R4/Patient HTTP/1.1\r\nHost: x\r\nAuthorization: " + auth()
          + "\r\nContent-Type: application/fhir+json\r\nContent-Length: " + body.length + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.write(body, 0, 5000);
      out.flush();
      Thread.sleep(1_500); // five seconds' worth of the minimum rate was sent before it
      out.write(body, 5000, body.length - 5000);
      out.flush();
      String status = new String(s.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
      assertThat(status).isEqualTo("HTTP/1.1 201");
    }
  }

  @Test
  void aBodyThatStopsArrivingIs408AtTheIdleTimeout() throws Exception {
    try (TestServer idle = TestServer.start(Map.of("FHIRBOX_IDLE_TIMEOUT", "1"))) {
      String bearer = idle.client().request("x").build().headers().firstValue("Authorization").orElseThrow();
      URI base = URI.create(idle.baseUrl());
      for (String request : new String[] {
          "POST /fhir/R4/Patient HTTP/1.1\r\nContent-Type: application/fhir+json\r\n",
          "POST /fhir/R4/Binary HTTP/1.1\r\nContent-Type: application/octet-stream\r\n"}) {
        try (Socket s = new Socket(base.getHost(), base.getPort())) {
          s.setSoTimeout(10_000);
          s.getOutputStream().write((request + "Host: x\r\nAuthorization: " + bearer
              + "\r\nContent-Length: 5000\r\n\r\n{\"resourceType\"").getBytes(StandardCharsets.US_ASCII));
          ByteArrayOutputStream answer = new ByteArrayOutputStream();
          try {
            s.getInputStream().transferTo(answer);
          } catch (IOException reset) {
            // what arrived before a reset is the answer
          }
          String text = answer.toString(StandardCharsets.UTF_8);
          assertThat(text).as(request + text).startsWith("HTTP/1.1 408");
          assertThat(text).contains("FHIRBOX_IDLE_TIMEOUT");
        }
      }
    }
  }

  @Test
  void aClientThatStopsReadingALargeResponseLosesItsConnectionWhileOthersAreServed() throws Exception {
    // 100 KB/s judged over 1 s of waiting on the client; it reads 10 KB/s once the buffers are full
    try (TestServer server = TestServer.start(Map.of("FHIRBOX_MIN_RESPONSE_BYTES_PER_SECOND", "100000",
        "FHIRBOX_MIN_RESPONSE_RATE_SECONDS", "1"))) {
      TestClient client = server.client();
      byte[] content = TestBytes.random(16 << 20, 11);
      String id = TestClient.createdId(client.postBytes("fhir/R4/Binary", "application/octet-stream", content));
      long start = System.nanoTime();
      long read = 0;
      try (Socket s = rawBinaryGet(server, id, "")) {
        OutputStream out = s.getOutputStream();
        InputStream in = s.getInputStream();
        byte[] piece = new byte[1024];
        try {
          // 1 KiB every 100 ms, and an empty line (which a server may skip before a request, RFC 9112
          // section 2.2) that meets a reset once the server has closed
          while (System.nanoTime() - start < 30_000_000_000L) {
            int n = in.available() > 0 ? in.read(piece) : 0;
            if (n < 0) {
              break;
            }
            read += n;
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            Thread.sleep(100);
          }
        } catch (IOException closed) {
          // the server let go of the connection
        }
      }
      long millis = (System.nanoTime() - start) / 1_000_000;

      assertThat(read).as("the response was not read to its end").isLessThan(content.length);
      // the buffers filled at once pay for a few windows (MinimumWriteRate.CREDIT_WINDOWS), then it is cut
      assertThat(millis).as("the connection was closed within a few windows").isLessThan(15_000);
      assertThat(client.get("healthz").statusCode()).isEqualTo(200);
      HttpResponse<byte[]> whole = client.sendBytes(client.request("fhir/R4/Binary/" + id)
          .header("Accept", "application/octet-stream").GET());
      assertThat(whole.body()).as("a client that reads at speed gets it all").hasSize(content.length);
    }
  }

  /**
   * The other side of the minimum response rate: a client that reads steadily at twice the rate,
   * in small reads with pauses between them (a slow mobile link), is never cut and gets every
   * byte, however many windows the download spans.
   */
  @Test
  @SlowTest
  void aClientReadingSteadilyAboveTheMinimumRateGetsTheWholeResponse() throws Exception {
    // 1 MB/s judged over 1 s of waiting on the client; it reads 20 KiB every 10 ms (about 2 MB/s), 16 MiB:
    // several times what the kernel's socket buffers take at once, so the server waits on it for seconds
    try (TestServer server = TestServer.start(Map.of("FHIRBOX_MIN_RESPONSE_BYTES_PER_SECOND", "1000000",
        "FHIRBOX_MIN_RESPONSE_RATE_SECONDS", "1"))) {
      TestClient client = server.client();
      byte[] content = TestBytes.random(16 << 20, 12);
      String id = TestClient.createdId(client.postBytes("fhir/R4/Binary", "application/octet-stream", content));
      ByteArrayOutputStream received = new ByteArrayOutputStream();
      long start = System.nanoTime();
      try (Socket s = rawBinaryGet(server, id, "Connection: close\r\n")) {
        InputStream in = s.getInputStream();
        byte[] piece = new byte[20 * 1024];
        for (int n; (n = in.readNBytes(piece, 0, piece.length)) > 0; ) {
          received.write(piece, 0, n);
          Thread.sleep(10);
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      byte[] all = received.toByteArray();
      String head = new String(all, 0, Math.min(all.length, 8192), StandardCharsets.US_ASCII);
      int bodyAt = head.indexOf("\r\n\r\n") + 4;

      assertThat(head).startsWith("HTTP/1.1 200");
      assertThat(java.util.Arrays.copyOfRange(all, bodyAt, all.length)).as("every byte, in order").isEqualTo(content);
      assertThat(seconds).as("the download spanned many windows of the rate").isGreaterThan(3);
    }
  }

  /**
   * A socket with a small receive buffer (so the server soon waits on it) that has sent
   * {@code GET Binary/{id}} for its raw content with the server's credentials and {@code headers}.
   */
  private static Socket rawBinaryGet(TestServer server, String id, String headers) throws IOException {
    String bearer = server.client().request("x").build().headers().firstValue("Authorization").orElseThrow();
    URI base = URI.create(server.baseUrl());
    Socket s = new Socket();
    s.setReceiveBufferSize(4096);
    s.connect(new java.net.InetSocketAddress(base.getHost(), base.getPort()));
    s.setSoTimeout(10_000);
    OutputStream out = s.getOutputStream();
    out.write(("GET /fhir/R4/Binary/" + id + " HTTP/1.1\r\nHost: x\r\nAccept: application/octet-stream\r\n"
        + "Authorization: " + bearer + "\r\n" + headers + "\r\n").getBytes(StandardCharsets.US_ASCII));
    out.flush();
    return s;
  }

  @Test
  void pastTheConnectionCapANewConnectionWaitsUntilOneCloses() throws Exception {
    try (TestServer server = TestServer.start(Map.of("FHIRBOX_MAX_CONNECTIONS", "2"))) {
      URI base = URI.create(server.baseUrl());
      Socket first = new Socket(base.getHost(), base.getPort());
      try (first; Socket second = new Socket(base.getHost(), base.getPort());
          Socket third = new Socket(base.getHost(), base.getPort())) {
        for (Socket s : new Socket[] {first, second}) {
          s.setSoTimeout(10_000);
          assertThat(healthz(s)).startsWith("HTTP/1.1 200");
        }
        // the kernel completes the third connection, but the server does not take it yet
        third.setSoTimeout(1_000);
        assertThatThrownBy(() -> healthz(third)).isInstanceOf(java.net.SocketTimeoutException.class);

        first.close();
        third.setSoTimeout(10_000);
        assertThat(readUntil(third.getInputStream(), "\r\n\r\nok")).startsWith("HTTP/1.1 200");
      }
    }
  }

  /** Sends {@code GET /healthz} on a kept-alive connection and reads its answer, "ok". */
  private static String healthz(Socket s) throws IOException {
    s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    while (!got.toString(StandardCharsets.UTF_8).contains("\r\n\r\nok")) {
      int n = s.getInputStream().read(buf);
      if (n < 0) {
        break;
      }
      got.write(buf, 0, n);
    }
    return got.toString(StandardCharsets.UTF_8);
  }

  /**
   * Sends {@code head}, then {@code piece} bytes of body every {@code everyMillis} ms, checking
   * {@code /healthz} meanwhile, until the server answers or closes; the answer as text.
   */
  @Test
  void anErrorBeforeTheBodyWaitsForItAndKeepsTheConnectionOrClosesItSaying() throws Exception {
    URI base = URI.create(fhirbox.server().baseUrl());
    String head = "POST /fhir/R4/NotAType HTTP/1.1\r\nHost: x\r\nAuthorization: " + auth()
        + "\r\nContent-Type: application/fhir+json\r\nContent-Length: 20\r\n\r\n";
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      // the body comes after the route has refused the request: it is read, then the refusal answered,
      // and the connection takes the next request
      out.write(head.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      Thread.sleep(300);
      out.write("{\"resourceType\":\"X\"}".substring(0, 20).getBytes(StandardCharsets.US_ASCII));
      out.write(("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String answers = readUntil(s.getInputStream(), "\r\n\r\nok");
      assertThat(answers).startsWith("HTTP/1.1 4").doesNotContain("Connection: close")
          .contains("HTTP/1.1 200");
    }
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(10_000);
      // a body that never comes: the answer says the connection closes
      s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
      String answer = readUntil(s.getInputStream(), null);
      assertThat(answer).startsWith("HTTP/1.1 4").containsIgnoringCase("Connection: close");
    }
  }

  /** What {@code in} sends until {@code end} appears in it, or until it closes when {@code end} is null. */
  private static String readUntil(InputStream in, String end) throws IOException {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    int n;
    try {
      while ((n = in.read(buf)) >= 0) {
        got.write(buf, 0, n);
        if (end != null && got.toString(StandardCharsets.UTF_8).contains(end)) {
          break;
        }
      }
    } catch (IOException reset) {
      // what arrived before a reset is the answer
    }
    return got.toString(StandardCharsets.UTF_8);
  }

  private static String trickle(String head, int piece, long everyMillis) throws Exception {
    URI base = URI.create(fhirbox.server().baseUrl());
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      out.write((head + "Host: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      long deadline = System.nanoTime() + 8_000_000_000L;
      try {
        while (in.available() == 0 && System.nanoTime() < deadline) {
          out.write("x".repeat(piece).getBytes(StandardCharsets.US_ASCII));
          out.flush();
          Thread.sleep(everyMillis);
          assertThat(http().get("healthz").statusCode()).isEqualTo(200);
        }
      } catch (IOException closed) {
        // the server may close before every piece is written; its answer is still to be read
      }
      ByteArrayOutputStream answer = new ByteArrayOutputStream();
      try {
        in.transferTo(answer);
      } catch (IOException reset) {
        // what arrived before a reset is the answer
      }
      return answer.toString(StandardCharsets.UTF_8);
    }
  }
}
