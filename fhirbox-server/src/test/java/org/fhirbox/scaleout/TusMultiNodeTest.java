package org.fhirbox.scaleout;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.fhirbox.http.TusRaceTest;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.S3Server;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestBytes;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.Tus;
import org.fhirbox.testing.TwoNodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * tus uploads across two nodes sharing PostgreSQL and S3 behind no affinity: pieces arrive at
 * either node, each resumes where the other stopped, and of two racing pieces on different
 * nodes one is stored.
 */
@SlowTest
class TusMultiNodeTest {
  static final int MIB = 1 << 20;
  static TwoNodes nodes;
  static TestServer a;
  static TestServer b;
  static S3Client raw;
  static String bucket;

  @BeforeAll
  static void start() throws Exception {
    nodes = TwoNodes.start(Map.of());
    a = nodes.a();
    b = nodes.b();
    bucket = nodes.bucket();
    raw = nodes.s3().client();
  }

  @AfterAll
  static void stop() throws Exception {
    try (TwoNodes n = nodes) {
      raw.close();
    }
  }

  /** The same upload URL on another node. */
  static String on(TestServer node, String url) {
    return node.baseUrl() + url.substring(url.indexOf("fhir/R4/"));
  }

  @Test
  void piecesOnAlternatingNodesMakeOneBinaryWithItsDigests() throws Exception {
    byte[] content = TestBytes.random(11 * MIB + 17, 60);
    Tus onA = new Tus(a.client());
    Tus onB = new Tus(b.client());
    String url = onA.upload(content.length, Tus.metadata("filetype", "video/mp4"));
    assertThat(onA.patch(url, 0, Arrays.copyOf(content, 7 * MIB)).statusCode()).isEqualTo(204);

    assertThat(onB.offset(on(b, url))).isEqualTo(7 * MIB);
    assertThat(onB.patch(on(b, url), 7 * MIB, Arrays.copyOfRange(content, 7 * MIB, 10 * MIB)).statusCode())
        .isEqualTo(204);
    HttpResponse<String> last = onA.patch(url, 10 * MIB, Arrays.copyOfRange(content, 10 * MIB, content.length));

    assertThat(last.statusCode()).as(last.body()).isEqualTo(204);
    String id = Tus.binaryId(last);
    HttpResponse<byte[]> raw = b.client().sendBytes(b.client().request("fhir/R4/Binary/" + id)
        .header("Accept", "*/*").GET());
    assertThat(raw.body()).isEqualTo(content);
    TestBytes.assertBlobEtag(raw.headers());
    HttpResponse<String> media = b.client().postJson("fhir/R4/Media", "{\"resourceType\":\"Media\","
        + "\"status\":\"completed\",\"content\":{\"url\":\"Binary/" + id + "\"}}");
    assertThat(media.body()).contains("\"hash\":\"" + Base64.getEncoder().encodeToString(
        MessageDigest.getInstance("SHA-1").digest(content)) + "\"");
    assertThat(onB.head(on(b, url)).headers().firstValue("Content-Location")).isPresent();
  }

  @Test
  void ofTwoPiecesRacingOnTwoNodesOneIsStored() throws Exception {
    byte[] first = TestBytes.random(6 * MIB, 61);
    byte[] second = TestBytes.random(6 * MIB, 62);
    Tus onA = new Tus(a.client());
    Tus onB = new Tus(b.client());
    String url = onA.upload(first.length, null);
    CountDownLatch go = new CountDownLatch(1);
    CountDownLatch sent = new CountDownLatch(1);
    int pause = 5 * MIB + MIB / 2; // past the first part, with room for what the HTTP client buffers
    InputStream paused = new SequenceInputStream(new ByteArrayInputStream(first, 0, pause), new InputStream() {
      private InputStream rest;

      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] buf, int off, int len) throws IOException {
        if (rest == null) {
          sent.countDown();
          try {
            go.await();
          } catch (InterruptedException e) {
            throw new IOException(e);
          }
          rest = new ByteArrayInputStream(first, pause, first.length - pause);
        }
        return rest.read(buf, off, len);
      }
    });
    CompletableFuture<HttpResponse<String>> slow = CompletableFuture.supplyAsync(() -> a.client().send(
        onA.request(url).header("Content-Type", Tus.OCTETS).header("Upload-Offset", "0")
            .method("PATCH", HttpRequest.BodyPublishers.ofInputStream(() -> paused))));
    sent.await();
    // node A writes (it holds the upload) once its first part is in S3
    Poll.until("node A's multipart upload", () -> raw.listMultipartUploads(r -> r.bucket(bucket)).uploads().size(),
        n -> n > 0);

    HttpResponse<String> racing = onB.patch(on(b, url), 0, second);
    go.countDown();

    assertThat(racing.statusCode()).as(racing.body()).isEqualTo(423);
    HttpResponse<String> done = slow.get();
    assertThat(done.statusCode()).as(done.body()).isEqualTo(204);
    assertThat(b.client().sendBytes(b.client().request("fhir/R4/" + Tus.binaryVersion(done))
        .header("Accept", "*/*").GET()).body()).isEqualTo(first);
  }

  /**
   * A node whose clock runs 12 s ahead of node A's: while A's piece is still arriving (its lease,
   * 15 s, taken moments ago), that node's piece at the same offset waits for it and gets 423. The
   * lease is judged by the database's clock, not by each node's own, or that node would find A's
   * lease run out 3 s after A took it and write the same part numbers under it.
   */
  @Test
  void aNodeWhoseClockIsAheadDoesNotTakeAnUploadWhosePieceIsArriving() throws Exception {
    byte[] first = TestBytes.random(2 * MIB, 63);
    byte[] second = TestBytes.random(2 * MIB, 64);
    try (TestServer ahead = TestServer.start(nodes.shared(), Clock.offset(Clock.systemUTC(), Duration.ofSeconds(12)))) {
      Tus onA = new Tus(a.client());
      Tus onAhead = new Tus(ahead.client());
      String url = onA.upload(first.length, null);
      CountDownLatch go = new CountDownLatch(1);
      CompletableFuture<HttpResponse<String>> trickling = CompletableFuture.supplyAsync(() -> a.client().send(
          onA.request(url).header("Content-Type", Tus.OCTETS).header("Upload-Offset", "0")
              .method("PATCH", HttpRequest.BodyPublishers.ofInputStream(() -> TusRaceTest.pausing(first, MIB, go)))));
      try {
        // node A holds the upload once a PATCH on it there waits for its lease and is told 423
        Poll.until("node A's piece holding the upload", () -> onA.patch(url, 0, new byte[0]).statusCode(),
            status -> status == 423);

        HttpResponse<String> racing = onAhead.patch(on(ahead, url), 0, second);

        assertThat(racing.statusCode()).as(racing.body()).isEqualTo(423);
      } finally {
        go.countDown();
      }
      HttpResponse<String> done = trickling.get(60, TimeUnit.SECONDS);
      assertThat(done.statusCode()).as(done.body()).isEqualTo(204);
      assertThat(b.client().sendBytes(b.client().request("fhir/R4/" + Tus.binaryVersion(done))
          .header("Accept", "*/*").GET()).body()).isEqualTo(first);
    }
  }
}
