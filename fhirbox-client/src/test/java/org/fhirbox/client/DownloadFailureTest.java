package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import ca.uhn.fhir.context.FhirContext;
import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpClient;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Downloads that meet a failure of their own side (the disk), a refused resume, or a host that resumes another content. */
class DownloadFailureTest {
  private static final String SIGNED = "storage/abc-123/1?Expires=1700000000&KeyId=k1&Signature=c2lnbmF0dXJl";
  private static final RetryPolicy QUICK = new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofSeconds(1));

  @TempDir
  Path work;
  @RegisterExtension
  final PeerServer peer = PeerServer.started();
  private final byte[] data = BinaryTransferTest.randomBytes(500_000);

  /** Serves {@link #data} under a strong ETag, honouring a single Range when If-Range matches. */
  private void serveFile() {
    peer.on("/storage/", ex -> {
      int start = PeerServer.sendRangeHead(ex, data);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(data, start, data.length - start);
      }
    });
  }

  private Downloader downloader() {
    Transport transport = new Transport(HttpClient.newHttpClient(), FhirContext.forR4Cached(),
        new Authorizer.Anonymous(), new Retrier(QUICK, Clock.systemUTC()), Duration.ofSeconds(10),
        Endpoints.of(peer.root()));
    return new Downloader(transport, Endpoints.of(peer.root()));
  }

  /** A file sink whose third write stores half its buffer and then fails, as a disk that fills up does. */
  private static Downloader.Sink fillingUp(FileChannel channel) {
    Downloader.Sink file = Downloader.sink(channel);
    return new Downloader.Sink() {
      private int writes;

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (++writes == 3) {
          channel.write(ByteBuffer.wrap(b, off, len / 2));
          throw new IOException("No space left on device");
        }
        file.write(b, off, len);
      }

      @Override
      public boolean restart() throws IOException {
        return file.restart();
      }
    };
  }

  @Test
  void aLocalWriteErrorFailsAtOnceInsteadOfResumingAtTheWrongOffset() throws Exception {
    serveFile();
    Path out = work.resolve("file.bin");

    try (FileChannel channel = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      assertThatThrownBy(() -> downloader().download(peer.root() + SIGNED, fillingUp(channel), ProgressListener.NONE))
          .isInstanceOf(FhirboxException.class)
          .hasMessageContaining("No space left on device");
    }

    assertThat(peer.seen("/storage/abc-123/1")).as("no resume").hasSize(1);
  }

  @Test
  void aPartHoldingTheWholeContentOfUnknownLengthIsFetchedAgainWhenTheServerRefusesTheRange() throws Exception {
    peer.on("/storage/", ex -> {
      ex.getResponseHeaders().set("ETag", "\"v1\"");
      if (ex.getRequestHeaders().getFirst("Range") != null) {
        ex.getResponseHeaders().set("Content-Range", "bytes */" + data.length);
        PeerServer.send(ex, 416, "application/fhir+json", "{\"resourceType\":\"OperationOutcome\",\"issue\":"
            + "[{\"severity\":\"error\",\"code\":\"invalid\",\"diagnostics\":\"range not satisfiable\"}]}");
        return;
      }
      ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
      ex.sendResponseHeaders(200, data.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(data);
      }
    });
    // what a run cut off after the last byte of a response without Content-Length leaves
    Path target = work.resolve("file.bin");
    Files.write(work.resolve("file.bin.part"), data);
    Files.writeString(work.resolve("file.bin.part.validator"), "fhirbox-partial 1\nvalidator \"v1\"\nlength -1\n");
    FhirboxClient client = FhirboxClient.builder().baseUrl(peer.root()).retryPolicy(QUICK).build();

    assertThat(client.download(peer.root() + SIGNED, target)).isEqualTo(data.length);

    assertThat(Files.readAllBytes(target)).isEqualTo(data);
    var requests = peer.seen("/storage/abc-123/1");
    assertThat(requests).hasSize(2);
    assertThat(requests.get(0).range()).isEqualTo("bytes=" + data.length + "-");
    assertThat(requests.get(1).range()).isNull();
    assertThat(work.resolve("file.bin.part")).doesNotExist();
  }

  /**
   * A host that ignores If-Range (RFC 9110 §13.1.5 lets one that does not support it answer the
   * Range alone) sends part of the content as it is now: its ETag says so, and the content is
   * fetched whole instead of spliced onto the part of the earlier one.
   */
  @Test
  void aRangeOfAnotherVersionFromAHostThatIgnoresIfRangeIsNotSpliced() throws Exception {
    byte[] changed = data.clone();
    for (int i = 0; i < changed.length; i++) {
      changed[i] ^= 1;
    }
    peer.on("/storage/", ex -> {
      ex.getResponseHeaders().set("ETag", "\"v2\"");
      ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
      String range = ex.getRequestHeaders().getFirst("Range");
      int start = range == null ? 0 : Integer.parseInt(range.replaceAll("bytes=(\\d+)-", "$1"));
      if (range != null) {
        ex.getResponseHeaders().set("Content-Range", "bytes " + start + "-" + (changed.length - 1) + "/" + changed.length);
      }
      ex.sendResponseHeaders(range == null ? 200 : 206, changed.length - start);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(changed, start, changed.length - start);
      }
    });
    // what an earlier run of the content under "v1", of the same length, left
    Path target = work.resolve("file.bin");
    Files.write(work.resolve("file.bin.part"), java.util.Arrays.copyOf(data, data.length / 2));
    Files.writeString(work.resolve("file.bin.part.validator"),
        "fhirbox-partial 1\nvalidator \"v1\"\nlength " + data.length + "\n");
    FhirboxClient client = FhirboxClient.builder().baseUrl(peer.root()).retryPolicy(QUICK).build();

    assertThat(client.download(peer.root() + SIGNED, target)).isEqualTo(changed.length);

    assertThat(java.util.Arrays.equals(Files.readAllBytes(target), changed)).as("the new content, whole").isTrue();
    var requests = peer.seen("/storage/abc-123/1");
    assertThat(requests).hasSize(2);
    assertThat(requests.get(1).range()).isNull();
  }

  /**
   * A URL that redirects to a short-lived one (a CDN to a presigned bucket URL): a break is
   * resumed from the URL asked for, which redirects to a fresh one, not at the first, expired since.
   */
  @Test
  void aBrokenDownloadThroughARedirectResumesFromTheUrlAskedFor() throws Exception {
    java.util.concurrent.atomic.AtomicInteger issued = new java.util.concurrent.atomic.AtomicInteger();
    java.util.Set<String> used = java.util.concurrent.ConcurrentHashMap.newKeySet();
    peer.on("/start", ex -> {
      ex.getResponseHeaders().set("Location", peer.root() + "storage/abc-123/1?n=" + issued.incrementAndGet());
      ex.sendResponseHeaders(302, -1);
    });
    peer.on("/storage/", ex -> {
      if (!used.add(ex.getRequestURI().getQuery())) {
        PeerServer.send(ex, 403, "text/plain", "expired"); // each URL lives for one request
        return;
      }
      int start = PeerServer.sendRangeHead(ex, data);
      OutputStream out = ex.getResponseBody();
      // the first answer breaks half way, the resumed one is whole
      out.write(data, start, start == 0 ? data.length / 2 : data.length - start);
      out.flush();
    });
    java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();

    long n = downloader().download(peer.root() + "start", Downloader.sink(got), ProgressListener.NONE);

    assertThat(n).isEqualTo(data.length);
    assertThat(java.util.Arrays.equals(got.toByteArray(), data)).isTrue();
    assertThat(peer.seen("/start")).hasSize(2);
  }

  /** An Attachment.url may be any URI; a redirect may point anywhere: only http(s) is fetched, named without its query. */
  @Test
  void aUrlOrRedirectThatIsNoHttpUrlFailsNamingItWithoutItsQuery() {
    peer.on("/start", ex -> {
      ex.getResponseHeaders().set("Location", "ftp://files.example/scan.pdf?Signature=c2lnbmF0dXJl");
      ex.sendResponseHeaders(302, -1);
    });
    java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();

    assertThatThrownBy(() -> downloader().download("urn:uuid:53fefa32-fcbb-4ff8-8a92-55ee120877b7",
        Downloader.sink(got), ProgressListener.NONE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a Binary reference or http(s) URL: 'urn:uuid:53fefa32");
    assertThatThrownBy(() -> downloader().download(peer.root() + "start", Downloader.sink(got), ProgressListener.NONE))
        .isInstanceOf(FhirboxException.class)
        .hasMessageContaining("GET /start redirected to what the client cannot fetch")
        .hasMessageContaining("ftp://files.example/scan.pdf")
        .hasMessageNotContaining("c2lnbmF0dXJl");
    assertThat(got.size()).isZero();
  }

  /** The JDK's body stream swallows an interrupt and goes on waiting; the client's ends the download. */
  @Test
  @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void anInterruptedDownloadEndsAndKeepsTheInterrupt() throws Exception {
    java.util.concurrent.CountDownLatch never = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch halfSent = new java.util.concurrent.CountDownLatch(1);
    peer.on("/storage/", ex -> {
      ex.getResponseHeaders().set("ETag", "\"v1\"");
      ex.sendResponseHeaders(200, data.length);
      OutputStream out = ex.getResponseBody();
      out.write(data, 0, data.length / 2);
      out.flush();
      halfSent.countDown();
      try {
        never.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
    java.util.concurrent.atomic.AtomicBoolean keptInterrupt = new java.util.concurrent.atomic.AtomicBoolean();
    Thread downloading = new Thread(() -> {
      try {
        downloader().download(peer.root() + SIGNED, Downloader.sink(OutputStream.nullOutputStream()), ProgressListener.NONE);
      } catch (RuntimeException e) {
        failure.set(e);
      }
      keptInterrupt.set(Thread.currentThread().isInterrupted());
    });
    try {
      downloading.start();
      assertThat(halfSent.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      Thread.sleep(100); // into the read that waits for the rest
      downloading.interrupt();
      downloading.join(2000);

      assertThat(downloading.isAlive()).as("still downloading after the interrupt").isFalse();
      assertThat(failure.get()).isInstanceOf(FhirboxException.class).hasMessageContaining("interrupted");
      assertThat(keptInterrupt).as("the interrupt is kept for the caller").isTrue();
      assertThat(peer.seen("/storage/abc-123/1")).as("no resume").hasSize(1);
    } finally {
      never.countDown();
      downloading.join(10_000);
    }
  }

  @Test
  void aPeerThatGoesSilentMidBodyIsLeftAfterTheRequestTimeoutAndTheRestComesWithARange() throws Exception {
    java.util.concurrent.CountDownLatch never = new java.util.concurrent.CountDownLatch(1);
    peer.on("/storage/", ex -> {
      ex.getResponseHeaders().set("ETag", "\"v1\"");
      ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
      String range = ex.getRequestHeaders().getFirst("Range");
      if (range == null) {
        // the headers and half the body, then nothing: the connection stays open
        ex.sendResponseHeaders(200, data.length);
        OutputStream out = ex.getResponseBody();
        out.write(data, 0, data.length / 2);
        out.flush();
        try {
          never.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return;
      }
      int start = Integer.parseInt(range.replaceAll("bytes=(\\d+)-", "$1"));
      ex.getResponseHeaders().set("Content-Range", "bytes " + start + "-" + (data.length - 1) + "/" + data.length);
      ex.sendResponseHeaders(206, data.length - start);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(data, start, data.length - start);
      }
    });
    Transport transport = new Transport(HttpClient.newHttpClient(), FhirContext.forR4Cached(),
        new Authorizer.Anonymous(), new Retrier(QUICK, Clock.systemUTC()), Duration.ofMillis(300),
        Endpoints.of(peer.root()));
    java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();

    long n = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> new Downloader(transport, Endpoints.of(peer.root()))
        .download(peer.root() + SIGNED, Downloader.sink(got), ProgressListener.NONE));

    never.countDown();
    assertThat(n).isEqualTo(data.length);
    assertThat(got.toByteArray()).isEqualTo(data);
    var requests = peer.seen("/storage/abc-123/1");
    assertThat(requests).hasSize(2);
    assertThat(requests.get(1).range()).matches("bytes=\\d+-").isNotEqualTo("bytes=0-");
  }
}
