package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.fhirbox.binary.UploadPauses.Point;
import org.fhirbox.testing.TestBytes;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.Tus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The request that stores a tus upload's last byte, raced at the points of its completion by a
 * termination or by the client's empty retry of it: each is held there, by a latch, while the
 * other request runs, so that the race happens every time.
 */
class TusCompletionRaceTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();
  private static Tus tus;

  @BeforeAll
  static void client() {
    tus = new Tus(fhirbox.http());
  }

  @AfterEach
  void letGo() {
    fhirbox.server().server().resumableUploads().pauseAt(UploadPauses.NONE);
  }

  /** Holds the first request of one upload that reaches {@code point}, until {@link #release}. */
  static final class Hold implements UploadPauses {
    final Point point;
    final String uploadId;
    final CountDownLatch reached = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    private final AtomicBoolean once = new AtomicBoolean();

    Hold(Point point, String url) {
      this.point = point;
      this.uploadId = url.substring(url.lastIndexOf('/') + 1);
    }

    @Override
    public void at(Point p, String id) {
      if (p == point && id.equals(uploadId) && once.compareAndSet(false, true)) {
        reached.countDown();
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }

    void awaitReached() throws InterruptedException {
      assertThat(reached.await(30, TimeUnit.SECONDS)).as("a request reached " + point).isTrue();
    }
  }

  /** Holds requests at the points of {@code holds}. */
  static void hold(Hold... holds) {
    fhirbox.server().server().resumableUploads().pauseAt((point, id) -> {
      for (Hold h : holds) {
        h.at(point, id);
      }
    });
  }

  static CompletableFuture<HttpResponse<String>> lastPiece(String url, byte[] content) {
    return CompletableFuture.supplyAsync(() -> tus.patch(url, 0, content));
  }

  @Test
  void aLastPieceWhoseFinishedUploadIsDeletedBeforeItAnswersNamesItsBinary() throws Exception {
    byte[] content = TestBytes.random(100, 70);
    String url = tus.upload(content.length, null);
    Hold committed = new Hold(Point.COMMITTED, url);
    hold(committed);
    CompletableFuture<HttpResponse<String>> last = lastPiece(url, content);
    committed.awaitReached();

    assertThat(tus.delete(url).statusCode()).isEqualTo(204);
    committed.release.countDown();

    HttpResponse<String> piece = last.get(30, TimeUnit.SECONDS);
    assertThat(piece.statusCode()).as(piece.body()).isEqualTo(204);
    assertThat(piece.headers().firstValue("Upload-Offset")).contains("100");
    HttpResponse<byte[]> stored = fhirbox.http().sendBytes(
        fhirbox.http().request("fhir/R4/" + Tus.binaryVersion(piece)).header("Accept", "*/*").GET());
    assertThat(stored.statusCode()).isEqualTo(200);
    assertThat(stored.body()).isEqualTo(content);
  }

  @Test
  void anEmptyRetryThatWaitedForTheCommitOfItsUploadNamesTheBinary() throws Exception {
    byte[] content = TestBytes.random(100, 71);
    String url = tus.upload(content.length, null);
    Hold leased = new Hold(Point.LEASED, url);
    Hold waiting = new Hold(Point.LEASE_TAKEN, url);
    hold(leased, waiting);
    CompletableFuture<HttpResponse<String>> last = lastPiece(url, content);
    leased.awaitReached();
    // the client did not hear back and sends the last request again, without its bytes
    CompletableFuture<HttpResponse<String>> retry = CompletableFuture.supplyAsync(
        () -> tus.patch(url, 100, new byte[0]));
    waiting.awaitReached();

    leased.release.countDown();
    HttpResponse<String> piece = last.get(30, TimeUnit.SECONDS);
    assertThat(piece.statusCode()).as(piece.body()).isEqualTo(204);
    waiting.release.countDown();

    HttpResponse<String> again = retry.get(30, TimeUnit.SECONDS);
    assertThat(again.statusCode()).as(again.body()).isEqualTo(204);
    assertThat(again.headers().firstValue("Upload-Offset")).contains("100");
    assertThat(Tus.binaryVersion(again)).isEqualTo(Tus.binaryVersion(piece));
  }

  @Test
  void aLastPieceWhoseUploadIsTerminatedBeforeItsCompletionIs404() throws Exception {
    byte[] content = TestBytes.random(100, 72);
    String url = tus.upload(content.length, null);
    Hold completing = new Hold(Point.COMPLETING, url);
    hold(completing);
    CompletableFuture<HttpResponse<String>> last = lastPiece(url, content);
    completing.awaitReached();

    assertThat(tus.delete(url).statusCode()).isEqualTo(204);
    completing.release.countDown();

    HttpResponse<String> piece = last.get(30, TimeUnit.SECONDS);
    assertThat(piece.statusCode()).as(piece.body()).isEqualTo(404);
    assertThat(piece.body()).contains("terminated");
    assertThat(piece.headers().firstValue("Retry-After")).isEmpty();
    assertThat(piece.headers().firstValue("Content-Location")).isEmpty();
    assertThat(tus.head(url).statusCode()).isEqualTo(404);
  }
}
