package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.extension.RegisterExtension;

class TransferRecoveryTest {
  private static final String SIGNED = "storage/abc-123/1?Expires=1700000000&KeyId=k1&Signature=c2lnbmF0dXJl";

  @TempDir
  Path work;
  @RegisterExtension
  final PeerServer peer = PeerServer.started();
  private final byte[] data = BinaryTransferTest.randomBytes(500_000);

  private FhirboxClient client() {
    return FhirboxClient.builder().baseUrl(peer.root()).basicAuth("test-admin", "s3cret")
        .retryPolicy(new RetryPolicy(3, Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofSeconds(1)))
        .build();
  }

  /** Serves {@link #data} with a strong ETag and single ranges; cuts the first answer after {@code cutAt} bytes. */
  private void serveFile(int cutAt, boolean honourRange) {
    AtomicInteger requests = new AtomicInteger();
    peer.on("/storage/", ex -> {
      boolean first = requests.getAndIncrement() == 0;
      String range = ex.getRequestHeaders().getFirst("Range");
      String ifRange = ex.getRequestHeaders().getFirst("If-Range");
      ex.getResponseHeaders().set("ETag", "\"v1\"");
      ex.getResponseHeaders().set("Accept-Ranges", "bytes");
      ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
      int start = 0;
      if (honourRange && range != null && "\"v1\"".equals(ifRange)) {
        start = Integer.parseInt(range.replaceAll("bytes=(\\d+)-", "$1"));
        ex.getResponseHeaders().set("Content-Range", "bytes " + start + "-" + (data.length - 1) + "/" + data.length);
        ex.sendResponseHeaders(206, data.length - start);
      } else {
        ex.sendResponseHeaders(200, data.length);
      }
      OutputStream out = ex.getResponseBody();
      if (first) {
        out.write(data, 0, cutAt);
        out.flush();
        throw cut();
      }
      out.write(data, start, data.length - start);
      out.close();
    });
  }

  /** A handler that fails mid-body makes the JDK server close the connection short of Content-Length. */
  private static IOException cut() {
    return new IOException("cutting the connection on purpose");
  }

  @Test
  void brokenDownloadResumesWithRangeAndIfRange() throws Exception {
    serveFile(123_456, true);
    BinaryTransferTest.Recorder progress = new BinaryTransferTest.Recorder();
    Path target = work.resolve("file.bin");

    long n = client().download(peer.root() + SIGNED, target, progress);

    assertThat(n).isEqualTo(data.length);
    assertThat(BinaryTransferTest.sha256(Files.readAllBytes(target))).isEqualTo(BinaryTransferTest.sha256(data));
    progress.assertMonotonicEndingAt(data.length);
    var requests = peer.seen("/storage/abc-123/1");
    assertThat(requests).hasSize(2);
    assertThat(requests.get(0).range()).isNull();
    // the JDK client may drop the last buffers it had read when the connection breaks
    assertThat(requests.get(1).range()).matches("bytes=\\d+-");
    assertThat(Long.parseLong(requests.get(1).range().replaceAll("\\D", ""))).isPositive().isLessThanOrEqualTo(123_456);
    assertThat(requests.get(1).ifRange()).isEqualTo("\"v1\"");
    assertThat(requests).allSatisfy(r -> assertThat(r.authorization()).isNull());
  }

  /**
   * Serves {@link #data} under a strong ETag, honouring single ranges, but cuts every answer after
   * {@code perConnection} bytes: a flaky link that still makes progress on each connection.
   */
  private void serveInBursts(int perConnection) {
    peer.on("/storage/", ex -> {
      int start = PeerServer.sendRangeHead(ex, data);
      OutputStream out = ex.getResponseBody();
      int n = Math.min(perConnection, data.length - start);
      out.write(data, start, n);
      out.flush();
      if (start + n < data.length) {
        throw cut();
      }
      out.close();
    });
  }

  @Test
  void aDownloadThatMakesProgressBetweenManyBreaksIsNotGivenUp() throws Exception {
    serveInBursts(60_000);
    Path target = work.resolve("file.bin");

    long n = client().download(peer.root() + SIGNED, target);

    assertThat(n).isEqualTo(data.length);
    assertThat(Files.readAllBytes(target)).isEqualTo(data);
    assertThat(peer.seen("/storage/abc-123/1").size()).as("more breaks than maxRetries").isGreaterThan(4);
  }

  @Test
  void aDownloadGivesUpAfterMaxRetriesBreaksInARowWithoutProgress() throws Exception {
    serveInBursts(0);
    Path target = work.resolve("file.bin");

    assertThatThrownBy(() -> client().download(peer.root() + SIGNED, target)).isInstanceOf(FhirboxException.class);

    // the first attempt and 3 resumes; a connection that breaks before its headers are read is
    // retried by the request itself, up to 3 times each
    assertThat(peer.seen("/storage/abc-123/1")).hasSizeBetween(4, 16);
  }

  /**
   * Serves {@code content[0]} under the ETag in {@code etag[0]}, honouring a Range only when
   * If-Range matches; the first answer is cut after {@code cutAt} bytes, after which the server
   * answers 503 until {@code down} is cleared, so the first run fails with a partial file.
   */
  private void serveOnceThenGoDown(int cutAt, AtomicBoolean down, String[] etag, byte[][] content) {
    AtomicInteger requests = new AtomicInteger();
    peer.on("/storage/", ex -> {
      if (down.get()) {
        ex.getResponseHeaders().set("Retry-After", "0");
        PeerServer.send(ex, 503, "text/plain", "down");
        return;
      }
      boolean first = requests.getAndIncrement() == 0;
      byte[] body = content[0];
      String range = ex.getRequestHeaders().getFirst("Range");
      String ifRange = ex.getRequestHeaders().getFirst("If-Range");
      ex.getResponseHeaders().set("ETag", etag[0]);
      ex.getResponseHeaders().set("Accept-Ranges", "bytes");
      int start = 0;
      if (range != null && etag[0].equals(ifRange)) {
        start = Integer.parseInt(range.replaceAll("bytes=(\\d+)-", "$1"));
        ex.getResponseHeaders().set("Content-Range", "bytes " + start + "-" + (body.length - 1) + "/" + body.length);
        ex.sendResponseHeaders(206, body.length - start);
      } else {
        ex.sendResponseHeaders(200, body.length);
      }
      OutputStream out = ex.getResponseBody();
      if (first) {
        out.write(body, 0, cutAt);
        out.flush();
        down.set(true);
        throw cut();
      }
      out.write(body, start, body.length - start);
      out.close();
    });
  }

  @Test
  void aFailedRunLeavesThePartAndASidecarAndTheNextRunResumesFromIt() throws Exception {
    AtomicBoolean down = new AtomicBoolean();
    serveOnceThenGoDown(123_456, down, new String[] {"\"v1\""}, new byte[][] {data});
    Path target = work.resolve("file.bin");
    Path part = work.resolve("file.bin.part");
    Path sidecar = work.resolve("file.bin.part.validator");

    assertThatThrownBy(() -> client().download(peer.root() + SIGNED, target)).isInstanceOf(FhirboxException.class);

    assertThat(target).doesNotExist();
    // the JDK client may drop the last buffers it had read when the connection breaks
    long partSize = Files.size(part);
    assertThat(partSize).isPositive().isLessThanOrEqualTo(123_456);
    assertThat(Files.readString(sidecar)).contains("\"v1\"").contains(String.valueOf(data.length));
    int before = peer.seen("/storage/abc-123/1").size();

    down.set(false);
    BinaryTransferTest.Recorder progress = new BinaryTransferTest.Recorder();
    String freshSignature = "storage/abc-123/1?Expires=1700009999&KeyId=k1&Signature=b3RoZXI";
    long n = client().download(peer.root() + freshSignature, target, progress);

    assertThat(n).isEqualTo(data.length);
    assertThat(Files.readAllBytes(target)).isEqualTo(data);
    assertThat(part).doesNotExist();
    assertThat(sidecar).doesNotExist();
    var resumed = peer.seen("/storage/abc-123/1").subList(before, peer.seen("/storage/abc-123/1").size());
    assertThat(resumed).hasSize(1);
    assertThat(resumed.get(0).range()).isEqualTo("bytes=" + partSize + "-");
    assertThat(resumed.get(0).ifRange()).isEqualTo("\"v1\"");
    progress.assertMonotonicEndingAt(data.length);
    assertThat(progress.calls.get(0)[0]).isEqualTo(partSize);
    assertThat(progress.calls).allSatisfy(c -> assertThat(c[1]).isEqualTo(data.length));
  }

  @Test
  void aChangedEtagRestartsTheResumedFileFromZero() throws Exception {
    AtomicBoolean down = new AtomicBoolean();
    String[] etag = {"\"v1\""};
    byte[][] content = {data};
    serveOnceThenGoDown(200_000, down, etag, content);
    Path target = work.resolve("file.bin");
    assertThatThrownBy(() -> client().download(peer.root() + SIGNED, target)).isInstanceOf(FhirboxException.class);
    long partSize = Files.size(work.resolve("file.bin.part"));
    assertThat(partSize).isPositive().isLessThanOrEqualTo(200_000);
    int before = peer.seen("/storage/abc-123/1").size();

    byte[] changed = BinaryTransferTest.randomBytes(300_001);
    etag[0] = "\"v2\"";
    content[0] = changed;
    down.set(false);
    long n = client().download(peer.root() + SIGNED, target);

    assertThat(n).isEqualTo(changed.length);
    assertThat(Files.readAllBytes(target)).isEqualTo(changed);
    assertThat(work.resolve("file.bin.part")).doesNotExist();
    assertThat(work.resolve("file.bin.part.validator")).doesNotExist();
    var second = peer.seen("/storage/abc-123/1").get(before);
    assertThat(second.range()).isEqualTo("bytes=" + partSize + "-");
    assertThat(second.ifRange()).isEqualTo("\"v1\"");
  }

  @Test
  void aPartWithAnUnreadableSidecarStartsOver() throws Exception {
    serveFile(0, true);
    Path target = work.resolve("file.bin");
    Files.write(work.resolve("file.bin.part"), new byte[] {1, 2, 3});
    Files.writeString(work.resolve("file.bin.part.validator"), "validator \"v1\"\nlength 500000\n");
    peer.seen.clear();
    // the first answer is cut at once, the retry fetches it whole: no Range was ever asked for
    assertThat(client().download(peer.root() + SIGNED, target)).isEqualTo(data.length);
    assertThat(Files.readAllBytes(target)).isEqualTo(data);
    assertThat(peer.seen("/storage/abc-123/1")).allSatisfy(r -> assertThat(r.range()).isNull());
    assertThat(work.resolve("file.bin.part.validator")).doesNotExist();
  }

  @Test
  void fullAnswerToAResumeRestartsTheFileFromZero() throws Exception {
    serveFile(200_000, false);
    Path target = work.resolve("file.bin");
    assertThat(client().download(peer.root() + SIGNED, target)).isEqualTo(data.length);
    assertThat(BinaryTransferTest.sha256(Files.readAllBytes(target))).isEqualTo(BinaryTransferTest.sha256(data));
  }

  @Test
  void fullAnswerToAResumeFailsAnOutputStreamDownload() {
    serveFile(200_000, false);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThatThrownBy(() -> client().download(peer.root() + SIGNED, out))
        .isInstanceOf(FhirboxException.class)
        .hasMessageNotContaining("Signature");
  }

  @Test
  void failedDownloadLeavesNoPartialFile() throws Exception {
    peer.on("/storage/", ex -> PeerServer.send(ex, 403, "text/plain", "expired"));
    Path target = work.resolve("file.bin");
    assertThatThrownBy(() -> client().download(peer.root() + SIGNED, target))
        .isInstanceOfSatisfying(FhirboxException.class, e -> {
          assertThat(e.status()).isEqualTo(403);
          assertThat(e.getMessage()).doesNotContain("Signature").doesNotContain("c2lnbmF0dXJl");
        });
    assertThat(Files.list(work)).isEmpty();
  }

  @Test
  void readRetriesAfter503And504ThenSucceeds() {
    AtomicInteger calls = new AtomicInteger();
    peer.on("/fhir/R4/Patient/1", ex -> {
      int call = calls.incrementAndGet();
      if (call <= 2) {
        ex.getResponseHeaders().set("Retry-After", "0");
        // RFC 9110 §15.6.5: a gateway that timed out; a GET may be sent again as it is idempotent
        PeerServer.send(ex, call == 1 ? 503 : 504, "text/plain", "busy");
      } else {
        PeerServer.send(ex, 200, "application/fhir+json", "{\"resourceType\":\"Patient\",\"id\":\"1\",\"active\":true}");
      }
    });
    Patient p = client().readResource(Patient.class, "1");
    assertThat(p.getActive()).isTrue();
    assertThat(calls).hasValue(3);
    assertThat(peer.seen("/fhir/R4/Patient/1")).allSatisfy(r -> assertThat(r.authorization()).startsWith("Basic "));
  }

  @Test
  void retriesStopAtTheBound() {
    peer.on("/fhir/R4/Patient/1", ex -> PeerServer.send(ex, 502, "text/plain", "bad gateway"));
    assertThatThrownBy(() -> client().readResource(Patient.class, "1"))
        .isInstanceOfSatisfying(FhirboxException.class, e -> assertThat(e.status()).isEqualTo(502));
    assertThat(peer.seen("/fhir/R4/Patient/1")).hasSize(4);
  }

  @Test
  void createIsNotRetriedOn503() {
    peer.on("/fhir/R4/Patient", ex -> PeerServer.send(ex, 503, "application/fhir+json",
        "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"transient\","
            + "\"diagnostics\":\"shutting down\"}]}"));
    assertThatThrownBy(() -> client().createResource(new Patient()))
        .isInstanceOfSatisfying(FhirboxException.class, e -> {
          assertThat(e.status()).isEqualTo(503);
          assertThat(e.getMessage()).contains("shutting down");
        });
    assertThat(peer.seen("/fhir/R4/Patient")).hasSize(1);
  }

  @Test
  void aServerWithoutResumableUploadsIsToldAtOnce() throws Exception {
    peer.on("/fhir/R4/Binary/$upload", ex -> PeerServer.send(ex, 404, "application/fhir+json",
        "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"not-found\"}]}"));
    Path file = work.resolve("big.bin");
    Files.write(file, data);

    assertThatThrownBy(() -> client().uploadResumably(Upload.of(file, "application/octet-stream")))
        .isInstanceOf(FhirboxException.class);

    assertThat(peer.seen("/fhir/R4/Binary/$upload")).as("a 404 to the creation is not retried").hasSize(1);
  }
}
