package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.stream.Collectors;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Error texts and log lines name a fetched URL as scheme, host, port and path only: user info
 * (RFC 3986 §3.2.1) and the query, where presigned URLs carry their signature, stay out of the
 * {@code $import} answer, a job's last error and the log.
 */
class IngestionErrorTextTest {
  static Upstream upstream;
  static TestServer server;
  static TestClient http;
  private final ListAppender<ILoggingEvent> log = new ListAppender<>();

  @BeforeAll
  static void start() throws Exception {
    upstream = new Upstream();
    server = TestServer.start(upstream.ingestSettings());
    http = server.client();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
    upstream.close();
  }

  @BeforeEach
  void captureLog() {
    log.start();
    ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).addAppender(log);
  }

  @AfterEach
  void releaseLog() {
    ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).detachAppender(log);
  }

  /** Every captured line with the messages of its exceptions. */
  private String logged() {
    return log.list.stream().map(e -> {
      StringBuilder s = new StringBuilder(e.getFormattedMessage());
      for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
        s.append(" | ").append(t.getMessage());
      }
      return s.toString();
    }).collect(Collectors.joining("\n"));
  }

  /**
   * With the default policy (https, public addresses), hosts that resolve to loopback, private or
   * link-local addresses all get one and the same 400 from {@code $import}: the answer does not
   * say what a name resolved to, which would let a caller map the server's internal network. The
   * log keeps the detail.
   */
  @Test
  void importOfAHostThatIsNotPublicTellsNothingOfWhatItResolvedTo() throws Exception {
    try (TestServer plain = TestServer.start()) {
      TestClient c = plain.client();
      java.util.Set<String> diagnostics = new java.util.HashSet<>();
      for (String host : List.of("localhost", "10.1.2.3", "169.254.169.254", "[::1]")) {
        HttpResponse<String> r = c.send(c.request("fhir/R4/Binary/$import?url="
            + java.net.URLEncoder.encode("https://" + host + "/file.pdf", "UTF-8"))
            .POST(java.net.http.HttpRequest.BodyPublishers.noBody()));
        assertThat(r.statusCode()).as(host).isEqualTo(400);
        String text = c.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics();
        assertThat(text).as(host).doesNotContainIgnoringCase("loopback").doesNotContainIgnoringCase("private")
            .doesNotContainIgnoringCase("link-local");
        diagnostics.add(text);
      }
      assertThat(diagnostics).as("one text for every such host").hasSize(1);
      assertThat(logged()).contains("loopback", "link-local");
    }
  }

  /**
   * IPv6 blocks the IANA special-purpose registry marks as not globally reachable, which a
   * network may route to its own hosts: benchmarking 2001:2::/48, ORCHID 2001:10::/28, the
   * discard-only dummy prefix 100:0:0:1::/64 and SRv6 segment identifiers 5f00::/16. Refused
   * before any connection, with the one text of every other address that is not fetched.
   */
  @Test
  void importOfAnIpv6AddressOnlyANetworkRoutesIsRefusedLikeAPrivateOne() throws Exception {
    refusedWithOneText("[::1]", "[2001:2::1]", "[2001:10::1]", "[100:0:0:1::1]", "[5f00::1]");
  }

  /**
   * 192.88.99.0/24, the 6to4 relay anycast block that RFC 7526 deprecated (not globally reachable
   * in the IANA IPv4 special-purpose registry): a network may still route it to a relay of its own. Refused before any connection, also inside a 6to4
   * address, with the one text of every other address that is not fetched.
   */
  @Test
  void importOfTheDeprecated6to4RelayBlockIsRefusedLikeAPrivateAddress() throws Exception {
    refusedWithOneText("[::1]", "192.88.99.1", "192.88.99.2", "[2002:c058:6301::1]");
  }

  /**
   * A closed port and a port where something other than an HTTP server listens get one and the
   * same 502 from {@code $import}: telling "connection refused" from a reply that is not HTTP
   * would make the server a port scanner and banner grabber. The log keeps the detail.
   */
  @Test
  void importFromAClosedPortAndFromANonHttpServiceFailAlike() throws Exception {
    int closed;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    try (java.net.ServerSocket banner = new java.net.ServerSocket(0, 4, java.net.InetAddress.getLoopbackAddress())) {
      Thread t = new Thread(() -> {
        while (!banner.isClosed()) {
          try (java.net.Socket s = banner.accept()) {
            s.getOutputStream().write("SSH-2.0-OpenSSH_9.6 internal-build\r\n".getBytes(
                java.nio.charset.StandardCharsets.US_ASCII));
            s.getInputStream().read();
          } catch (java.io.IOException e) {
            // the client closed the connection, or the test closed the server
          }
        }
      }, "banner");
      t.setDaemon(true);
      t.start();
      String closedUrl = "http://127.0.0.1:" + closed + "/files/a.pdf";
      String bannerUrl = "http://127.0.0.1:" + banner.getLocalPort() + "/files/a.pdf";
      try (TestServer s = TestServer.start(java.util.Map.of("FHIRBOX_INGEST_ALLOWED_URL_PREFIXES",
          "http://127.0.0.1:" + closed + "/files/," + "http://127.0.0.1:" + banner.getLocalPort() + "/files/"))) {
        TestClient c = s.client();
        java.util.Set<String> diagnostics = new java.util.HashSet<>();
        for (String url : List.of(closedUrl, bannerUrl)) {
          HttpResponse<String> r = c.send(c.request("fhir/R4/Binary/$import?url="
              + java.net.URLEncoder.encode(url, java.nio.charset.StandardCharsets.UTF_8))
              .POST(java.net.http.HttpRequest.BodyPublishers.noBody()));
          assertThat(r.statusCode()).as(url + ": " + r.body()).isEqualTo(502);
          assertThat(r.body()).as(url).doesNotContainIgnoringCase("refused").doesNotContain("SSH")
              .doesNotContain("Exception");
          diagnostics.add(c.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics());
        }
        assertThat(diagnostics).as("one text for both").hasSize(1);
        assertThat(logged()).contains("127.0.0.1:" + closed, "127.0.0.1:" + banner.getLocalPort());
      }
    }
  }

  @Test
  void aRefusedRedirectIsNamedWithoutItsCredentialsOrQuery() throws Exception {
    String port = upstream.origin().substring(upstream.origin().lastIndexOf(':') + 1);
    upstream.on("/files/signed", ex -> {
      ex.getResponseHeaders().set("Location", "http://svc:hunter2@127.0.0.1:" + port + "/x?sig=secret#frag");
      ex.sendResponseHeaders(302, -1);
    });
    String url = upstream.origin() + "/files/signed";
    String named = "redirect to http://127.0.0.1:" + port + "/x refused";

    HttpResponse<String> r = http.send(http.request("fhir/R4/Binary/$import?url="
        + java.net.URLEncoder.encode(url, java.nio.charset.StandardCharsets.UTF_8))
        .POST(java.net.http.HttpRequest.BodyPublishers.noBody()));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains(named);
    assertThat(r.body()).doesNotContain("hunter2").doesNotContain("secret").doesNotContain("frag");

    IngestionTest.createMedia(http, url, null);
    JsonNode job = IngestionTest.awaitJob(http, url, "failed");
    assertThat(job.get("lastError").asText()).contains(named)
        .doesNotContain("hunter2").doesNotContain("secret").doesNotContain("frag");

    Poll.until("the failed job logged", () -> logged().contains(named));
    assertThat(logged()).doesNotContain("hunter2").doesNotContain("secret").doesNotContain("frag");
    assertThat(upstream.hits("/x")).isZero();
  }

  /**
   * Content that stops short of its declared Content-Length (RFC 9112 §6.3: an incomplete
   * message) fails the fetch as an upstream failure with a text of its own; the HTTP client's
   * description of its connection (this server's local address and port, its internal state)
   * goes to the log only, not into the {@code $import} answer or a job's last error.
   */
  @Test
  void contentCutShortIsToldWithoutTheHttpClientsConnectionState() throws Exception {
    upstream.on("/files/cut.bin", ex -> {
      ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
      ex.sendResponseHeaders(200, 100);
      ex.getResponseBody().write(new byte[50]);
      ex.getResponseBody().flush(); // the exchange is closed with 50 of 100 bytes sent: the connection drops
    });
    String url = upstream.origin() + "/files/cut.bin";
    HttpResponse<String> r = http.send(http.request("fhir/R4/Binary/$import?url="
        + java.net.URLEncoder.encode(url, java.nio.charset.StandardCharsets.UTF_8))
        .POST(java.net.http.HttpRequest.BodyPublishers.noBody()));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
    String text = http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics();
    assertThat(text).contains("the upstream content stopped before its end");
    assertThat(text).doesNotContain("127.0.0.1").doesNotContain("Http").doesNotContain("@");

    IngestionTest.createMedia(http, url, null);
    // transient: the job is queued again after its first attempt, with that attempt's error
    JsonNode job = Poll.until("the job's first attempt failed", () -> IngestionTest.job(http, url),
        j -> j != null && j.hasNonNull("lastError"));
    assertThat(job.get("lastError").asText()).contains("the upstream content stopped before its end")
        .doesNotContain("127.0.0.1").doesNotContain("Http").doesNotContain("@");
    assertThat(logged()).contains("content of " + url + " stopped before its end");
  }

  /**
   * A fetch sends no Range, so only a 200 (or a transforming proxy's 203) carries the whole
   * representation (RFC 9110 §15.3): a 206 Partial Content is a part of it (§15.3.7), a 202
   * Accepted a note that it is not ready (§15.3.3). Neither becomes a Binary, nor is repointed to.
   */
  @Test
  void aPartialOrAcceptedAnswerIsNotStoredAsTheContent() throws Exception {
    for (int status : new int[] {202, 206}) {
      String path = "/files/part-" + status + ".bin";
      upstream.on(path, ex -> {
        ex.getResponseHeaders().set("Content-Range", "bytes 0-9/1000");
        Upstream.send(ex, status, "application/octet-stream", new byte[10]);
      });
      String url = upstream.origin() + path;
      HttpResponse<String> r = http.send(http.request("fhir/R4/Binary/$import?url="
          + java.net.URLEncoder.encode(url, java.nio.charset.StandardCharsets.UTF_8))
          .POST(java.net.http.HttpRequest.BodyPublishers.noBody()));
      assertThat(r.statusCode()).as(status + ": " + r.body()).isEqualTo(502);
      assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
          .contains("upstream answered HTTP " + status);

      IngestionTest.createMedia(http, url, null);
      JsonNode job = IngestionTest.awaitJob(http, url, "failed");
      assertThat(job.get("lastError").asText()).contains("upstream answered HTTP " + status);
      assertThat(job.get("binary").isNull()).as(job.toString()).isTrue();
    }
  }

  /**
   * Location is a singleton field (RFC 9110 §5.3, §10.2.2): a redirect with two that disagree has
   * no one target, so neither is followed (a proxy or another client could take the other).
   */
  @Test
  void aRedirectWithTwoLocationsThatDisagreeIsNotFollowed() throws Exception {
    upstream.serve("/files/first.txt", "text/plain", new byte[] {1});
    upstream.serve("/files/second.txt", "text/plain", new byte[] {2});
    upstream.on("/files/two-locations", ex -> {
      ex.getResponseHeaders().add("Location", upstream.origin() + "/files/first.txt");
      ex.getResponseHeaders().add("Location", upstream.origin() + "/files/second.txt");
      ex.sendResponseHeaders(302, -1);
    });
    HttpResponse<String> r = http.send(http.request("fhir/R4/Binary/$import?url="
        + java.net.URLEncoder.encode(upstream.origin() + "/files/two-locations", java.nio.charset.StandardCharsets.UTF_8))
        .POST(java.net.http.HttpRequest.BodyPublishers.noBody()));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
    assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("upstream answered 302 with Location on more than one line with different values");
    assertThat(upstream.hits("/files/first.txt") + upstream.hits("/files/second.txt")).isZero();
  }

  @Test
  void aBlobStoreFailureDuringImportIsNotBlamedOnTheUpstreamAndNamesNoFile() throws Exception {
    upstream.serve("/files/unstorable.bin", "application/octet-stream", Upstream.content((1 << 20) + 4096, 61));
    // a body over the store's first buffer is written under blobs/tmp/: a file there instead of the directory
    java.nio.file.Path tmp = server.dataDir().resolve("blobs").resolve("tmp");
    TestServer.deleteTree(tmp);
    java.nio.file.Files.createFile(tmp);
    HttpResponse<String> r;
    try {
      r = http.send(http.request("fhir/R4/Binary/$import?url=" + java.net.URLEncoder.encode(
          upstream.origin() + "/files/unstorable.bin", java.nio.charset.StandardCharsets.UTF_8))
          .POST(java.net.http.HttpRequest.BodyPublishers.noBody()));
    } finally {
      java.nio.file.Files.delete(tmp);
      java.nio.file.Files.createDirectory(tmp);
    }
    assertThat(r.statusCode()).as(r.body()).isEqualTo(500);
    assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).startsWith("internal error");
    assertThat(r.body()).doesNotContain("upstream").doesNotContain(server.dataDir().toString()).doesNotContain(".part");
    assertThat(upstream.hits("/files/unstorable.bin")).isEqualTo(1);
  }

  /** Each host's {@code $import} is 400 before any connection, all with one and the same text. */
  private static void refusedWithOneText(String... hosts) throws Exception {
    try (TestServer plain = TestServer.start(java.util.Map.of("FHIRBOX_INGEST_CONNECT_TIMEOUT", "1"))) {
      TestClient c = plain.client();
      java.util.Set<String> diagnostics = new java.util.HashSet<>();
      for (String host : hosts) {
        HttpResponse<String> r = c.send(c.request("fhir/R4/Binary/$import?url="
            + java.net.URLEncoder.encode("https://" + host + "/file.pdf", "UTF-8"))
            .POST(java.net.http.HttpRequest.BodyPublishers.noBody()));
        assertThat(r.statusCode()).as(host + ": " + r.body()).isEqualTo(400);
        diagnostics.add(c.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics());
      }
      assertThat(diagnostics).as("one text for every such host").hasSize(1);
    }
  }
}
