package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.fhirbox.binary.ExpirySweeps;
import org.fhirbox.binary.OrphanSweeper;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestBytes;
import org.fhirbox.testing.TestClock;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.Tus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Expiry of resumable uploads (tus expiration) and of the tokens that send them, on a server whose
 * clock the test moves: {@code Upload-Expires} on every answer, 410 once it passed, the sweeper
 * removing the bytes, and a client that carries on with a new token.
 */
class TusExpiryTest {
  private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter
      .ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);
  private static final TestClock clock = new TestClock();
  /** Expired uploads the sweep test leaves to one sweep. */
  private static final int UPLOADS = 101;
  private static TestServer server;
  private static Tus tus;

  @BeforeAll
  static void start() throws Exception {
    // FHIRBOX_UPLOAD_EXPIRY left at its default, which the expiries below take to be 24 h; the
    // sweep's test holds more open uploads at once than a client or a project may by default
    server = TestServer.start(Map.of("FHIRBOX_UPLOAD_MAX_OPEN", "2000", "FHIRBOX_UPLOAD_MAX_OPEN_PER_PROJECT", "0"),
        clock);
    tus = new Tus(server.client());
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  /** The HTTP date {@code hours} from the test clock's now. */
  private static String inHours(long hours) {
    return HTTP_DATE.format(clock.instant().plus(Duration.ofHours(hours)));
  }

  private List<Path> partFiles() throws Exception {
    try (Stream<Path> files = Files.list(server.dataDir().resolve("blobs").resolve("tmp"))) {
      return files.filter(p -> p.toString().endsWith(".tus")).toList();
    }
  }

  @Test
  void everyAnswerSaysWhenTheUploadExpiresAndAPieceMovesItOn() {
    HttpResponse<String> created = tus.create(10, null);
    String expires = inHours(24);
    assertThat(created.headers().firstValue("Upload-Expires")).contains(expires);
    String url = created.headers().firstValue("Location").orElseThrow();

    clock.advance(Duration.ofHours(20));
    assertThat(tus.head(url).headers().firstValue("Upload-Expires")).contains(expires);
    HttpResponse<String> patched = tus.patch(url, 0, new byte[4]);
    assertThat(patched.headers().firstValue("Upload-Expires")).contains(inHours(24));

    clock.advance(Duration.ofHours(23));
    assertThat(tus.patch(url, 4, new byte[6]).statusCode()).isEqualTo(204);
  }

  @Test
  void anEmptyPieceKeepsTheExpiryAndOnlyProgressMovesItOn() {
    String url = tus.upload(10, null);
    assertThat(tus.patch(url, 0, new byte[4]).statusCode()).isEqualTo(204);
    String expires = inHours(24);
    String deferred = tus.createDeferred(null).headers().firstValue("Location").orElseThrow();

    clock.advance(Duration.ofHours(20));
    HttpResponse<String> empty = tus.patch(url, 4, new byte[0]);
    assertThat(empty.statusCode()).as(empty.body()).isEqualTo(204);
    assertThat(empty.headers().firstValue("Upload-Expires")).contains(expires);
    // declaring the deferred length is progress, though no byte comes with it
    HttpResponse<String> declared = tus.patch(deferred, 0, new byte[0], "Upload-Length", "10");
    assertThat(declared.statusCode()).as(declared.body()).isEqualTo(204);
    assertThat(declared.headers().firstValue("Upload-Expires")).contains(inHours(24));

    clock.advance(Duration.ofHours(5));
    assertThat(tus.head(url).statusCode()).isEqualTo(410);
    assertThat(tus.offset(deferred)).isZero();
  }

  @Test
  void aClientHasAtMostTheSetNumberOfOpenUploadsAndFreesRoomByFinishingOrDeletingOne() throws Exception {
    try (TestServer small = TestServer.start(Map.of("FHIRBOX_UPLOAD_MAX_OPEN", "2"), clock)) {
      Tus mine = new Tus(small.client());
      String first = mine.upload(3, null);
      String second = mine.upload(3, null);

      HttpResponse<String> refused = mine.create(3, null);
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(refused.headers().firstValue("Retry-After")).isPresent();
      assertThat(refused.body()).contains("OperationOutcome").contains("already has 2 unfinished resumable uploads")
          .contains("(2)").contains("DELETE");
      ProjectClients clients = new ProjectClients(small);
      Tus other = new Tus(clients.bearer(clients.create("tus-open", "system/Binary.cruds", false)));
      assertThat(other.create(3, null).statusCode()).as("another client's count").isEqualTo(201);

      assertThat(mine.delete(first).statusCode()).isEqualTo(204);
      mine.upload(3, null);
      assertThat(mine.patch(second, 0, "abc".getBytes()).statusCode()).isEqualTo(204);
      mine.upload(3, null);
      assertThat(mine.create(3, null).statusCode()).isEqualTo(429);

      // abandoned uploads count no more once they expired, before the sweeper removes them
      clock.advance(Duration.ofHours(25));
      assertThat(mine.create(3, null).statusCode()).isEqualTo(201);
    }
  }

  @Test
  void anExpiredUploadIsGoneAndTheSweeperRemovesItsBytes() throws Exception {
    List<Path> before = partFiles();
    String url = tus.upload(100, null);
    assertThat(tus.patch(url, 0, new byte[60]).statusCode()).isEqualTo(204);
    String kept = tus.upload(100, null);
    List<Path> files = new ArrayList<>(partFiles());
    files.removeAll(before);
    assertThat(files).hasSize(2);

    clock.advance(Duration.ofHours(23));
    assertThat(tus.patch(kept, 0, new byte[1]).statusCode()).isEqualTo(204);
    clock.advance(Duration.ofHours(2));

    assertThat(tus.head(url).statusCode()).isEqualTo(410);
    HttpResponse<String> late = tus.patch(url, 60, new byte[40]);
    assertThat(late.statusCode()).isEqualTo(410);
    assertThat(late.body()).contains("OperationOutcome");
    server.server().sweeper().sweep();

    assertThat(tus.head(url).statusCode()).isEqualTo(404);
    assertThat(tus.offset(kept)).isEqualTo(1);
    assertThat(files.stream().filter(Files::exists)).hasSize(1);
  }

  /**
   * The sweep takes expired uploads in batches (of 10 here, 100 in production) and goes on until
   * one comes back short: 101 uploads take it more than ten.
   */
  @Test
  void oneSweepRemovesEveryExpiredUploadHoweverManyThereAre() throws Exception {
    ExpirySweeps.batch(server.server(), 10);
    // creation-with-upload: 5 of 10 bytes, so that each upload holds a file; a few at once, for
    // speed (no more than the server lets one client's credentials be checked at once)
    assertThat(tus.head(tus.upload(10, null)).statusCode()).isEqualTo(200);
    List<Path> before = partFiles();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<String> urls;
    try {
      List<Future<String>> created = new ArrayList<>();
      for (int i = 0; i < UPLOADS; i++) {
        created.add(pool.submit(() -> {
          HttpResponse<String> r = server.client().send(tus.request(Tus.CREATE).header("Upload-Length", "10")
              .header("Content-Type", Tus.OCTETS).POST(HttpRequest.BodyPublishers.ofByteArray(new byte[5])));
          assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
          assertThat(r.headers().firstValue("Upload-Offset")).contains("5");
          return r.headers().firstValue("Location").orElseThrow();
        }));
      }
      urls = new ArrayList<>();
      for (Future<String> f : created) {
        urls.add(f.get(60, TimeUnit.SECONDS));
      }
      List<Path> files = new ArrayList<>(partFiles());
      files.removeAll(before);
      assertThat(files).hasSize(UPLOADS);

      clock.advance(Duration.ofHours(25));
      server.server().sweeper().sweep();

      assertThat(tus.head(urls.get(0)).statusCode()).isEqualTo(404);
      List<Future<Integer>> heads = new ArrayList<>();
      for (String url : urls) {
        heads.add(pool.submit(() -> tus.head(url).statusCode()));
      }
      int stillThere = 0;
      for (Future<Integer> f : heads) {
        stillThere += f.get(60, TimeUnit.SECONDS) == 404 ? 0 : 1;
      }
      assertThat(stillThere).as("uploads a HEAD still finds").isZero();
      assertThat(files.stream().filter(Files::exists)).as("their files").isEmpty();
    } finally {
      pool.shutdownNow();
      ExpirySweeps.batch(server.server(), ExpirySweeps.DEFAULT_BATCH);
    }
  }

  @Test
  void aPieceStillArrivingWhenItsUploadExpiresKeepsTheUploadAlive() throws Exception {
    byte[] content = TestBytes.random(4 << 20, 35);
    String url = tus.upload(content.length, null);
    clock.advance(Duration.ofHours(24).minusSeconds(1));
    CountDownLatch go = new CountDownLatch(1);
    CompletableFuture<HttpResponse<String>> piece = CompletableFuture.supplyAsync(() -> server.client().send(
        tus.request(url).header("Content-Type", Tus.OCTETS).header("Upload-Offset", "0")
            .method("PATCH", HttpRequest.BodyPublishers.ofInputStream(() -> TusRaceTest.pausing(content, 2 << 20, go)))));
    // a HEAD waits up to 3 s for a piece being written (and changes nothing, unlike a probing PATCH):
    // two in a row that waited that long tell that the piece holds the upload; one slow HEAD alone
    // may only be a busy machine's
    AtomicInteger waited = new AtomicInteger();
    Poll.until("the piece holding the upload", () -> {
      long start = System.nanoTime();
      tus.head(url);
      if (System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(2900)) {
        waited.set(0);
        return 0;
      }
      return waited.incrementAndGet();
    }, inARow -> inARow >= 2);
    clock.advance(Duration.ofSeconds(2));

    // past the expiry, but a piece is being written: the client is told where it is, not that it is gone
    HttpResponse<String> during = tus.head(url);
    go.countDown();
    HttpResponse<String> stored = piece.get(60, TimeUnit.SECONDS);

    assertThat(during.statusCode()).as(during.body()).isEqualTo(200);
    assertThat(stored.statusCode()).as(stored.body()).isEqualTo(204);
    assertThat(tus.head(url).statusCode()).isEqualTo(200);
  }

  /**
   * The sweep judges a lease by the database's clock, as the request that took it did: a node
   * whose clock runs a day ahead of the database's sees the upload expired, but not the lease of
   * the piece still arriving run out, and leaves the upload to it.
   */
  @Test
  void aSweepWhoseClockIsADayAheadLeavesAnUploadWhosePieceIsArriving() throws Exception {
    TestClock ahead = new TestClock(Instant.now());
    try (TestServer node = TestServer.start(Map.of(), ahead)) {
      Tus onNode = new Tus(node.client());
      byte[] content = TestBytes.random(4 << 20, 36);
      String url = onNode.upload(2 * content.length, null);
      CountDownLatch go = new CountDownLatch(1);
      CompletableFuture<HttpResponse<String>> piece = CompletableFuture.supplyAsync(() -> node.client().send(
          onNode.request(url).header("Content-Type", Tus.OCTETS).header("Upload-Offset", "0").method("PATCH",
              HttpRequest.BodyPublishers.ofInputStream(() -> TusRaceTest.pausing(content, 2 << 20, go)))));
      try {
        Poll.until("the piece holding the upload", () -> onNode.patch(url, 0, new byte[0]).statusCode(),
            status -> status == 423);
        ahead.advance(Duration.ofHours(25));

        node.server().sweeper().sweep();
      } finally {
        go.countDown();
      }
      HttpResponse<String> stored = piece.get(60, TimeUnit.SECONDS);

      assertThat(stored.statusCode()).as(stored.body()).isEqualTo(204);
      assertThat(onNode.offset(url)).isEqualTo(content.length);
    }
  }

  @Test
  void bytesThatAFailingPieceWroteAfterItsUploadWasDeletedAreSweptWhenOld() throws Exception {
    List<Path> before = partFiles();
    byte[] content = TestBytes.random(4 << 20, 33);
    String url = tus.upload(8 << 20, null);
    assertThat(tus.patch(url, 0, new byte[10]).statusCode()).isEqualTo(204);
    List<Path> mine = new ArrayList<>(partFiles());
    mine.removeAll(before);
    Path file = mine.get(0);
    // a piece whose checksum will not match, paused half way; meanwhile the client deletes the upload
    CountDownLatch go = new CountDownLatch(1);
    CompletableFuture<HttpResponse<String>> piece = CompletableFuture.supplyAsync(() -> server.client().send(
        tus.request(url).header("Content-Type", Tus.OCTETS).header("Upload-Offset", "10")
            .header("Upload-Checksum", Tus.checksum("sha1", new byte[1]))
            .method("PATCH", HttpRequest.BodyPublishers.ofInputStream(() -> TusRaceTest.pausing(content, 2 << 20, go)))));
    Poll.until("the piece's first bytes on disk", () -> Files.size(file), size -> size > 10);
    assertThat(tus.delete(url).statusCode()).isEqualTo(204);
    go.countDown();
    assertThat(piece.get(60, TimeUnit.SECONDS).statusCode()).isEqualTo(460);

    // as old as the server's clock makes it (which starts long before the file was written)
    Files.setLastModifiedTime(file, FileTime.from(clock.instant().minus(Duration.ofDays(2))));
    server.server().sweeper().sweep();
    clock.advance(OrphanSweeper.MIN_WATCH);
    server.server().sweeper().sweep();

    assertThat(file).as("no upload names it any more").doesNotExist();
  }

  @Test
  void aFinishedUploadIsForgottenAfterItsExpiryButItsBinaryStays() throws Exception {
    String url = tus.upload(3, null);
    HttpResponse<String> last = tus.patch(url, 0, "abc".getBytes());
    String version = Tus.binaryVersion(last);

    clock.advance(Duration.ofHours(25));
    server.server().sweeper().sweep();

    assertThat(tus.head(url).statusCode()).isEqualTo(404);
    HttpResponse<byte[]> raw = server.client().sendBytes(server.client().request("fhir/R4/" + version)
        .header("Accept", "*/*").GET());
    assertThat(new String(raw.body())).isEqualTo("abc");
  }

  @Test
  void aClientWhoseTokenExpiredMidUploadGoesOnWithANewOne() {
    ProjectClients clients = new ProjectClients(server);
    ProjectClients.Credentials owner = clients.create("tus-expiry", "system/Binary.cruds", false);
    Tus first = new Tus(clients.bearer(owner));
    String url = first.upload(8, null);
    assertThat(first.patch(url, 0, new byte[4]).statusCode()).isEqualTo(204);

    clock.advance(Duration.ofHours(2));
    assertThat(first.patch(url, 4, new byte[4]).statusCode()).isEqualTo(401);

    Tus renewed = new Tus(clients.bearer(owner));
    assertThat(renewed.offset(url)).isEqualTo(4);
    HttpResponse<String> last = renewed.patch(url, 4, new byte[4]);
    assertThat(last.statusCode()).isEqualTo(204);
    assertThat(last.headers().firstValue("Content-Location")).isPresent();
  }
}
