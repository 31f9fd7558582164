package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.TestBytes;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.Tus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two PATCHes on one upload at once: one writes; the other gets 423 (Locked, with Retry-After)
 * once it waited out the first one's lease, or 409 when the offset moved on meanwhile; the bytes
 * are never mixed.
 */
public class TusRaceTest {
  static TestServer server;
  static Tus tus;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
    tus = new Tus(server.client());
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static List<Path> partFiles() throws IOException {
    try (Stream<Path> files = Files.list(server.dataDir().resolve("blobs").resolve("tmp"))) {
      return files.filter(p -> p.toString().endsWith(".tus")).toList();
    }
  }

  static byte[] raw(HttpResponse<String> last) {
    return server.client().sendBytes(server.client().request("fhir/R4/" + Tus.binaryVersion(last))
        .header("Accept", "*/*").GET()).body();
  }

  /** A body that sends {@code content}'s first {@code pause} bytes, then waits for {@code go}. */
  public static InputStream pausing(byte[] content, int pause, CountDownLatch go) {
    InputStream rest = new InputStream() {
      private InputStream delegate;

      private InputStream delegate() throws IOException {
        if (delegate == null) {
          try {
            go.await();
          } catch (InterruptedException e) {
            throw new IOException(e);
          }
          delegate = new ByteArrayInputStream(content, pause, content.length - pause);
        }
        return delegate;
      }

      @Override
      public int read() throws IOException {
        return delegate().read();
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        return delegate().read(b, off, len);
      }
    };
    return new SequenceInputStream(new ByteArrayInputStream(content, 0, pause), rest);
  }

  /** An upload of {@code content} whose one PATCH has written its first 2 MiB and waits for {@code go}. */
  record PausedPiece(String url, Path file, CountDownLatch go, CompletableFuture<HttpResponse<String>> answer) {}

  static PausedPiece pausedPiece(byte[] content) throws Exception {
    List<Path> before = partFiles();
    String url = tus.upload(content.length, null);
    List<Path> mine = new ArrayList<>(partFiles());
    mine.removeAll(before);
    Path file = mine.get(0);
    CountDownLatch go = new CountDownLatch(1);
    CompletableFuture<HttpResponse<String>> answer = CompletableFuture.supplyAsync(() -> server.client().send(
        tus.request(url).header("Content-Type", Tus.OCTETS).header("Upload-Offset", "0")
            .method("PATCH", HttpRequest.BodyPublishers.ofInputStream(() -> pausing(content, 2 << 20, go)))));
    Poll.until("the piece's first bytes on disk", () -> Files.size(file), size -> size > 0);
    return new PausedPiece(url, file, go, answer);
  }

  @Test
  void aPieceWhileAnotherIsArrivingGets423AndTheFirstCompletes() throws Exception {
    byte[] first = TestBytes.random(4 << 20, 10);
    byte[] second = TestBytes.random(4 << 20, 11);
    // the first PATCH writes: it holds the upload
    PausedPiece slow = pausedPiece(first);

    HttpResponse<String> racing = tus.patch(slow.url(), 0, second);
    slow.go().countDown();

    assertThat(racing.statusCode()).as(racing.body()).isEqualTo(423);
    assertThat(racing.headers().firstValue("Retry-After")).isPresent();
    assertThat(racing.body()).contains("OperationOutcome");
    HttpResponse<String> done = slow.answer().get();
    assertThat(done.statusCode()).as(done.body()).isEqualTo(204);
    assertThat(raw(done)).isEqualTo(first);
  }

  @Test
  void aPieceStillArrivingAfterItsUploadWasTerminatedFreesTheBytes() throws Exception {
    PausedPiece slow = pausedPiece(TestBytes.random(4 << 20, 12));

    assertThat(tus.delete(slow.url()).statusCode()).isEqualTo(204);
    // past the lease's renewal (every 5 s while bytes arrive): the renewal finds the upload gone
    Thread.sleep(5_500);
    slow.go().countDown();

    HttpResponse<String> done = slow.answer().get();
    assertThat(done.statusCode()).as(done.body()).isEqualTo(404);
    assertThat(done.body()).contains("terminated while this piece arrived");
    assertThat(slow.file()).doesNotExist();
    assertThat(tus.head(slow.url()).statusCode()).isEqualTo(404);
  }

  @Test
  void ofPiecesStartedTogetherExactlyOneIsStored() throws Exception {
    for (int round = 0; round < 3; round++) {
      int n = 4;
      byte[][] contents = new byte[n][];
      for (int i = 0; i < n; i++) {
        contents[i] = TestBytes.random(3 << 20, 20 + round * n + i);
      }
      String url = tus.upload(contents[0].length, null);
      ExecutorService pool = Executors.newFixedThreadPool(n);
      CountDownLatch start = new CountDownLatch(1);
      try {
        List<Future<HttpResponse<String>>> answers = new ArrayList<>();
        for (byte[] content : contents) {
          answers.add(pool.submit(() -> {
            start.await();
            return tus.patch(url, 0, content);
          }));
        }
        start.countDown();
        List<HttpResponse<String>> stored = new ArrayList<>();
        for (Future<HttpResponse<String>> f : answers) {
          HttpResponse<String> r = f.get();
          assertThat(r.statusCode()).as(r.body()).isIn(204, 409, 423);
          if (r.statusCode() == 204) {
            stored.add(r);
          }
        }
        assertThat(stored).hasSize(1);
        byte[] kept = raw(stored.get(0));
        assertThat(Arrays.stream(contents).filter(c -> Arrays.equals(c, kept))).hasSize(1);
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void ofTerminationsSentTogetherNoneLeavesTheUploadsBytesBehind() throws Exception {
    int n = 4;
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      for (int round = 0; round < 5; round++) {
        List<Path> before = partFiles();
        String url = tus.upload(10, null);
        assertThat(tus.patch(url, 0, new byte[4]).statusCode()).isEqualTo(204);
        List<Path> mine = new ArrayList<>(partFiles());
        mine.removeAll(before);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          answers.add(pool.submit(() -> {
            start.await();
            return tus.delete(url);
          }));
        }
        start.countDown();
        List<Integer> statuses = new ArrayList<>();
        for (Future<HttpResponse<String>> f : answers) {
          statuses.add(f.get().statusCode());
        }

        assertThat(statuses).allMatch(s -> s == 204 || s == 404).contains(204);
        assertThat(tus.head(url).statusCode()).isEqualTo(404);
        // tus termination: the Server SHOULD free associated resources, not leave them to the orphan sweep
        assertThat(mine.get(0)).as("round " + round + ", answers " + statuses).doesNotExist();
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
