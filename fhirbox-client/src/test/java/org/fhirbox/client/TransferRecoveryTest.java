package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TransferRecoveryTest {
  private static final String SIGNED = "storage/abc-123/1?Expires=1700000000&KeyId=k1&Signature=c2lnbmF0dXJl";

  @TempDir
  Path work;
  private final PeerServer peer = newPeer();
  private final byte[] data = BinaryTransferTest.randomBytes(500_000);

  private static PeerServer newPeer() {
    try {
      return new PeerServer();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @AfterEach
  void stop() {
    peer.close();
  }

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
    assertThat(requests.get(1).range()).isEqualTo("bytes=123456-");
    assertThat(requests.get(1).ifRange()).isEqualTo("\"v1\"");
    assertThat(requests).allSatisfy(r -> assertThat(r.authorization()).isNull());
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
  void readRetriesAfter503ThenSucceeds() {
    AtomicInteger calls = new AtomicInteger();
    peer.on("/fhir/R4/Patient/1", ex -> {
      if (calls.incrementAndGet() <= 2) {
        ex.getResponseHeaders().set("Retry-After", "0");
        PeerServer.send(ex, 503, "text/plain", "busy");
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
}
