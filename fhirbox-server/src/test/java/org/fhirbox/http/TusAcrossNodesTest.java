package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.fhirbox.core.FhirException;
import org.fhirbox.model.ResumableUpload;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.TestBytes;
import org.fhirbox.testing.TestClock;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.Tus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A request to the server and another node's work on the same upload, interleaved in the one
 * order that used to go wrong (see {@link UploadsOnAnotherNode}): the other node's expiry sweeper
 * reaching an upload that a piece stored meanwhile moved on, and a piece on the other node that
 * read the upload before a piece to the server declared its length (tus creation-defer-length:
 * once known, the length cannot change).
 */
class TusAcrossNodesTest {
  private static final TestClock clock = new TestClock();
  @TempDir static Path dir;
  private static UploadsOnAnotherNode nodes;
  private static TestServer server;
  private static Tus tus;

  @BeforeAll
  static void start() throws Exception {
    nodes = UploadsOnAnotherNode.start(dir,
        Map.of("FHIRBOX_UPLOAD_EXPIRY", Long.toString(Duration.ofHours(24).toSeconds())), clock);
    server = nodes.server();
    tus = new Tus(server.client());
  }

  @AfterAll
  static void stop() throws Exception {
    nodes.close();
  }

  private static List<Path> partFiles() throws Exception {
    try (Stream<Path> files = Files.list(server.dataDir().resolve("blobs").resolve("tmp"))) {
      return files.filter(p -> p.toString().endsWith(".tus")).toList();
    }
  }

  private static byte[] raw(HttpResponse<String> last) {
    return server.client().sendBytes(server.client().request("fhir/R4/" + Tus.binaryVersion(last))
        .header("Accept", "*/*").GET()).body();
  }

  private static String id(String url) {
    return url.substring(url.lastIndexOf('/') + 1);
  }

  /** Upload A, and the answer to its piece that the sweeper did not wait for. */
  private record Raced(String url, HttpResponse<String> answer) {}

  /**
   * Uploads B, then A of {@code length} bytes, both expired when the other node's sweeper lists
   * them (B first); meanwhile a PATCH of {@code piece} to A is being written, and it is stored, and
   * answered, once the sweeper removed B and before it reaches A.
   */
  private static Raced pieceStoredWhileTheSweeperIsBetweenUploads(long length, byte[] piece) throws Exception {
    String b = tus.upload(10, null);
    clock.advance(Duration.ofSeconds(1));
    List<Path> before = partFiles();
    String a = tus.upload(length, null);
    List<Path> mine = new ArrayList<>(partFiles());
    mine.removeAll(before);
    Path file = mine.get(0);
    clock.advance(Duration.ofHours(24).minusSeconds(1));

    CountDownLatch go = new CountDownLatch(1);
    CompletableFuture<HttpResponse<String>> answer = CompletableFuture.supplyAsync(() -> server.client().send(
        tus.request(a).header("Content-Type", Tus.OCTETS).header("Upload-Offset", "0")
            .method("PATCH", HttpRequest.BodyPublishers.ofInputStream(() -> TusRaceTest.pausing(piece, 2 << 20, go)))));
    Poll.until("the piece's first bytes on disk", () -> Files.size(file), size -> size > 0);
    // both past their expiry now; A's piece, still arriving, holds A
    clock.advance(Duration.ofSeconds(2));

    List<HttpResponse<String>> stored = new ArrayList<>();
    nodes.onceAfterDatabaseWork(rows -> rows.read(tx -> tx.uploads().find(id(b))).isEmpty(), () -> {
      go.countDown();
      stored.add(answer.orTimeout(60, TimeUnit.SECONDS).join());
    });
    nodes.uploads().sweepExpired();

    assertThat(stored).as("the sweeper removed B before A").hasSize(1);
    assertThat(tus.head(b).statusCode()).isEqualTo(404);
    return new Raced(a, stored.get(0));
  }

  @Test
  void anUploadWhosePieceWasStoredAfterTheSweeperListedItIsKeptWithItsBytes() throws Exception {
    byte[] content = TestBytes.random(6 << 20, 40);
    byte[] piece = Arrays.copyOf(content, 4 << 20);
    Raced raced = pieceStoredWhileTheSweeperIsBetweenUploads(content.length, piece);
    String a = raced.url();
    assertThat(raced.answer().statusCode()).as(raced.answer().body()).isEqualTo(204);

    assertThat(tus.offset(a)).isEqualTo(piece.length);
    HttpResponse<String> last = tus.patch(a, piece.length, Arrays.copyOfRange(content, piece.length, content.length));
    assertThat(last.statusCode()).as(last.body()).isEqualTo(204);
    assertThat(raw(last)).isEqualTo(content);
  }

  @Test
  void anUploadWhoseLastPieceWasStoredAfterTheSweeperListedItStillAnswersHead() throws Exception {
    byte[] content = TestBytes.random(4 << 20, 41);
    Raced raced = pieceStoredWhileTheSweeperIsBetweenUploads(content.length, content);
    String a = raced.url();
    HttpResponse<String> last = raced.answer();
    assertThat(last.statusCode()).as(last.body()).isEqualTo(204);

    // a client whose answer to the last piece was lost asks where the upload is
    HttpResponse<String> head = tus.head(a);
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.headers().firstValue("Upload-Offset")).contains(Long.toString(content.length));
    assertThat(head.headers().firstValue("Content-Location"))
        .isEqualTo(last.headers().firstValue("Content-Location"));
    assertThat(raw(last)).isEqualTo(content);
  }

  /**
   * Once the other node's piece read the deferred-length upload at {@code url}, and before it
   * takes the upload, a piece to the server declares the length 1000 (with no bytes); its answer.
   */
  private static List<HttpResponse<String>> lengthDeclaredOnceTheOtherNodeReadTheUpload(String url) {
    List<HttpResponse<String>> declared = new ArrayList<>();
    nodes.onceAfterDatabaseWork(rows -> true,
        () -> declared.add(tus.patch(url, 0, new byte[0], "Upload-Length", "1000")));
    return declared;
  }

  private static String deferredUpload() {
    HttpResponse<String> created = tus.createDeferred(null);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    return created.headers().firstValue("Location").orElseThrow();
  }

  @Test
  void aPieceDeclaringAnotherLengthThanARacingPieceDidGets400AndTheLengthStays() {
    String url = deferredUpload();
    List<HttpResponse<String>> declared = lengthDeclaredOnceTheOtherNodeReadTheUpload(url);

    assertThatThrownBy(() -> nodes.patch(id(url), 0, 6L, new byte[5]))
        .isInstanceOfSatisfying(FhirException.class, e -> assertThat(e.status()).isEqualTo(400));

    assertThat(declared).singleElement().satisfies(r -> assertThat(r.statusCode()).as(r.body()).isEqualTo(204));
    HttpResponse<String> head = tus.head(url);
    assertThat(head.headers().firstValue("Upload-Length")).contains("1000");
    assertThat(head.headers().firstValue("Upload-Offset")).contains("0");
  }

  @Test
  void aPieceDeclaringNoLengthKeepsTheLengthARacingPieceDeclared() {
    String url = deferredUpload();
    List<HttpResponse<String>> declared = lengthDeclaredOnceTheOtherNodeReadTheUpload(url);

    ResumableUpload after = nodes.patch(id(url), 0, null, new byte[5]);

    assertThat(declared).singleElement().satisfies(r -> assertThat(r.statusCode()).as(r.body()).isEqualTo(204));
    assertThat(after.length()).isEqualTo(1000);
    HttpResponse<String> head = tus.head(url);
    assertThat(head.headers().firstValue("Upload-Length")).contains("1000");
    assertThat(head.headers().firstValue("Upload-Offset")).contains("5");
  }
}
