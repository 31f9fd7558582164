package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.fhirbox.binary.OrphanSweeper;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.S3Server;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestBytes;
import org.fhirbox.testing.TestClock;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.Tus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * tus uploads on S3 (s3proxy, signatures checked) with 5 MiB parts: pieces of any size are
 * gathered into parts, and nothing of an upload stays in the bucket once it is finished,
 * terminated or expired (no multipart upload, no gathered tail).
 */
@SlowTest
class TusS3Test {
  static final int MIB = 1 << 20;
  static S3Server s3;
  static S3Client raw;
  /** Starts now: the bucket dates its objects by the wall clock, and the sweeper compares with this one. */
  final TestClock clock = new TestClock(Instant.now());
  String bucket;
  /** What the object keys of the server start with. */
  String prefix;
  TestServer server;
  Tus tus;

  @BeforeAll
  static void startS3() throws Exception {
    s3 = S3Server.start();
    S3Server.exportCredentials();
    raw = s3.client();
  }

  @AfterAll
  static void stopS3() throws Exception {
    try {
      raw.close();
      s3.close();
    } finally {
      S3Server.clearCredentials();
    }
  }

  @BeforeEach
  void start() throws Exception {
    startOnANewBucket("blobs/");
  }

  /** A server on a bucket of its own whose object keys start with {@code prefix}. */
  void startOnANewBucket(String prefix) throws Exception {
    bucket = S3Server.newBucketName();
    this.prefix = prefix;
    startWithLease(15);
  }

  /**
   * (Re)starts the server with leases of {@code seconds}: the database's clock, not the test's,
   * dates them, so a test that lets one run out waits for it, and a short one keeps that wait short.
   */
  void startWithLease(int seconds) throws Exception {
    if (server != null) {
      server.close();
    }
    server = TestServer.start(Map.of("FHIRBOX_BLOB_STORE", "s3", "FHIRBOX_S3_BUCKET", bucket,
        "FHIRBOX_S3_ENDPOINT", s3.endpoint().toString(), "FHIRBOX_S3_PATH_STYLE", "true",
        "FHIRBOX_S3_CREATE_BUCKET", "true", "FHIRBOX_S3_PART_SIZE", Integer.toString(5 * MIB),
        "FHIRBOX_S3_PREFIX", prefix, "FHIRBOX_UPLOAD_LEASE_SECONDS", Integer.toString(seconds)), clock);
    tus = new Tus(server.client());
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
    server = null;
  }

  List<String> objects() {
    return raw.listObjectsV2Paginator(b -> b.bucket(bucket)).contents().stream().map(S3Object::key).toList();
  }

  int multipartUploads() {
    return raw.listMultipartUploads(b -> b.bucket(bucket)).uploads().size();
  }

  List<String> tails() {
    return objects().stream().filter(k -> k.contains("tus/")).toList();
  }

  byte[] raw(HttpResponse<String> last) {
    return server.client().sendBytes(server.client().request("fhir/R4/" + Tus.binaryVersion(last))
        .header("Accept", "*/*").GET()).body();
  }

  @Test
  void smallPiecesBecomePartsAndNothingIsLeftOnceFinished() {
    byte[] content = TestBytes.random(12 * MIB + 3, 50);
    String url = tus.upload(content.length, Tus.metadata("filetype", "video/mp4"));
    tus.send(url, Arrays.copyOf(content, 6 * MIB), 0, 1_500_000);
    assertThat(multipartUploads()).isEqualTo(1);
    assertThat(tails()).hasSize(1);

    HttpResponse<String> last = tus.send(url, content, 6 * MIB, 1_500_000);

    assertThat(raw(last)).isEqualTo(content);
    assertThat(multipartUploads()).isZero();
    assertThat(tails()).isEmpty();
    assertThat(objects()).hasSize(1);
  }

  @Test
  void aKeyPrefixWithASpaceGathersTailsAndFreesThem() throws Exception {
    server.close();
    startOnANewBucket("fhir files/");
    byte[] content = TestBytes.random(2048, 56);
    String url = tus.upload(content.length, null);
    assertThat(tus.patch(url, 0, Arrays.copyOf(content, 1024)).statusCode()).isEqualTo(204);
    assertThat(tails()).singleElement().satisfies(k -> assertThat(k).startsWith("fhir files/tus/"));

    HttpResponse<String> last = tus.patch(url, 1024, Arrays.copyOfRange(content, 1024, 2048));

    assertThat(last.statusCode()).as(last.body()).isEqualTo(204);
    assertThat(raw(last)).isEqualTo(content);
    String terminated = tus.upload(2048, null);
    assertThat(tus.patch(terminated, 0, Arrays.copyOf(content, 1024)).statusCode()).isEqualTo(204);
    assertThat(tus.delete(terminated).statusCode()).isEqualTo(204);
    assertThat(tails()).isEmpty();
    assertThat(objects()).singleElement().satisfies(k -> assertThat(k).startsWith("fhir files/"));
  }

  @Test
  void anUploadSmallerThanAPartIsOneObject() {
    byte[] content = TestBytes.random(3 * MIB, 51);
    String url = tus.upload(content.length, null);

    HttpResponse<String> last = tus.send(url, content, 0, MIB);

    assertThat(raw(last)).isEqualTo(content);
    assertThat(multipartUploads()).isZero();
    assertThat(objects()).hasSize(1);
  }

  @Test
  void aDiscardedPieceLeavesNoTail() throws Exception {
    byte[] content = TestBytes.random(7 * MIB, 52);
    String url = tus.upload(content.length, null);
    tus.send(url, Arrays.copyOf(content, MIB), 0, MIB);
    byte[] second = Arrays.copyOfRange(content, MIB, 7 * MIB);
    byte[] corrupted = second.clone();
    corrupted[5 * MIB] ^= 1;

    assertThat(tus.patch(url, MIB, corrupted, "Upload-Checksum", Tus.checksum("sha1", second)).statusCode())
        .isEqualTo(460);
    assertThat(tails()).hasSize(1);
    HttpResponse<String> last = tus.patch(url, MIB, second, "Upload-Checksum", Tus.checksum("sha1", second));

    assertThat(last.statusCode()).isEqualTo(204);
    assertThat(raw(last)).isEqualTo(content);
    assertThat(tails()).isEmpty();
  }

  @Test
  void terminationAbortsTheMultipartUploadAndDeletesTheTail() {
    String url = tus.upload(20 * MIB, null);
    tus.send(url, TestBytes.random(7 * MIB, 53), 0, 7 * MIB);
    assertThat(multipartUploads()).isEqualTo(1);

    assertThat(tus.delete(url).statusCode()).isEqualTo(204);

    assertThat(multipartUploads()).isZero();
    assertThat(objects()).isEmpty();
  }

  @Test
  void theSweeperAbortsAnExpiredUploadsMultipartUploadAndSparesALiveOne() throws Exception {
    String expired = tus.upload(20 * MIB, null);
    tus.send(expired, TestBytes.random(6 * MIB, 54), 0, 6 * MIB);
    clock.advance(Duration.ofHours(20));
    String live = tus.upload(20 * MIB, null);
    tus.send(live, TestBytes.random(6 * MIB, 55), 0, 6 * MIB);
    assertThat(multipartUploads()).isEqualTo(2);
    clock.advance(Duration.ofHours(5));

    server.server().sweeper().sweep();
    clock.advance(OrphanSweeper.MIN_WATCH);
    server.server().sweeper().sweep();

    assertThat(tus.head(expired).statusCode()).isEqualTo(404);
    assertThat(multipartUploads()).isEqualTo(1);
    assertThat(tails()).hasSize(1);
    assertThat(tus.offset(live)).isEqualTo(6 * MIB);
  }

  @Test
  void aPieceThatStalledPastItsLeaseLeavesAloneTheBinaryAnotherPieceCompleted() throws Exception {
    startWithLease(6);
    byte[] content = TestBytes.random(4 * MIB, 31);
    String url = tus.upload(content.length, null);
    CountDownLatch go = new CountDownLatch(1);
    CompletableFuture<HttpResponse<String>> stalled = CompletableFuture.supplyAsync(() -> server.client().send(
        tus.request(url).header("Content-Type", Tus.OCTETS).header("Upload-Offset", "0")
            .method("PATCH", HttpRequest.BodyPublishers.ofInputStream(() -> TusRaceTest.pausing(content, 2 * MIB, go)))));
    // an empty piece is 423 once the stalled one holds the upload (and stores nothing before)
    Poll.until("the stalled piece holding the upload", () -> tus.patch(url, 0, new byte[0]).statusCode(),
        status -> status == 423);
    // the client gives up on it and sends the piece again once its lease ran out (it renews none
    // while no byte arrives); its upload finished, it forgets it
    Thread.sleep(Duration.ofSeconds(6).toMillis());
    HttpResponse<String> done = tus.patch(url, 0, content);
    assertThat(done.statusCode()).as(done.body()).isEqualTo(204);
    assertThat(tus.delete(url).statusCode()).isEqualTo(204);

    go.countDown();

    HttpResponse<String> late = stalled.get(60, TimeUnit.SECONDS);
    assertThat(late.statusCode()).as(late.body()).isIn(404, 409);
    HttpResponse<byte[]> stored = server.client().sendBytes(server.client().request("fhir/R4/" + Tus.binaryVersion(done))
        .header("Accept", "*/*").GET());
    assertThat(stored.statusCode()).isEqualTo(200);
    assertThat(stored.body()).isEqualTo(content);
  }

  /**
   * Sends {@code content}'s first 400 bytes to {@code url}, then a refused piece (which drops the
   * running digests, so the completion reads the whole object again), and holds reads of the
   * bucket's objects but tails from now on: the upload's whole object goes to a key of its own.
   */
  private S3Server.HeldReads lastPieceWithItsObjectReadHeld(String url, byte[] content) {
    assertThat(tus.patch(url, 0, Arrays.copyOf(content, 400)).statusCode()).isEqualTo(204);
    assertThat(objects()).as("only the upload's tail").hasSize(1);
    byte[] rest = Arrays.copyOfRange(content, 400, content.length);
    byte[] bad = rest.clone();
    bad[0] ^= 1;
    assertThat(tus.patch(url, 400, bad, "Upload-Checksum", Tus.checksum("sha1", rest)).statusCode()).isEqualTo(460);
    return s3.holdReads(key -> !key.contains("tus/"));
  }

  @Test
  void aHeadDuringALongCompletionIsToldToAskAgainAndReadsNothing() throws Exception {
    startWithLease(2);
    byte[] content = TestBytes.random(1000, 32);
    String url = tus.upload(content.length, null);
    byte[] rest = Arrays.copyOfRange(content, 400, content.length);
    S3Server.HeldReads held = lastPieceWithItsObjectReadHeld(url, content);
    try {
      CompletableFuture<HttpResponse<String>> last = CompletableFuture.supplyAsync(() -> tus.patch(url, 400, rest));
      Poll.until("the completion reading the object", () -> held.reads() >= 1);
      // the read outlasts the lease the completion took (2 s) three times, which it renews meanwhile
      for (int i = 0; i < 3; i++) {
        Thread.sleep(Duration.ofSeconds(2).toMillis());
        HttpResponse<String> asked = CompletableFuture.supplyAsync(() -> tus.head(url)).get(30, TimeUnit.SECONDS);
        assertThat(asked.statusCode()).as("the upload is complete, its Binary not yet committed").isEqualTo(423);
        assertThat(asked.headers().firstValue("Retry-After")).isPresent();
        assertThat(asked.headers().firstValue("Tus-Resumable")).contains("1.0.0");
        assertThat(asked.headers().firstValue("Content-Location")).isEmpty();
        assertThat(held.reads()).as("a HEAD does not read the object again").isEqualTo(1);
      }
      held.release();

      HttpResponse<String> piece = last.get(60, TimeUnit.SECONDS);
      HttpResponse<String> asked = tus.head(url);

      assertThat(piece.statusCode()).as(piece.body()).isEqualTo(204);
      assertThat(asked.statusCode()).isEqualTo(200);
      assertThat(Tus.binaryVersion(asked)).isEqualTo(Tus.binaryVersion(piece));
      assertThat(held.reads()).as("the object was read once for its digests").isEqualTo(1);
      assertThat(raw(piece)).isEqualTo(content);
    } finally {
      held.release();
    }
  }

  @Test
  void anUploadTerminatedWhileItsBinaryIsCommittedLeavesNothingAndItsLastPieceIs404() throws Exception {
    byte[] content = TestBytes.random(1000, 35);
    String url = tus.upload(content.length, null);
    byte[] rest = Arrays.copyOfRange(content, 400, content.length);
    S3Server.HeldReads held = lastPieceWithItsObjectReadHeld(url, content);
    try {
      CompletableFuture<HttpResponse<String>> last = CompletableFuture.supplyAsync(() -> tus.patch(url, 400, rest));
      Poll.until("the completion reading the object", () -> held.reads() >= 1);

      assertThat(tus.delete(url).statusCode()).isEqualTo(204);
      held.release();

      HttpResponse<String> piece = last.get(60, TimeUnit.SECONDS);
      assertThat(piece.statusCode()).as(piece.body()).isEqualTo(404);
      assertThat(piece.body()).contains("terminated while");
      assertThat(piece.headers().firstValue("Content-Location")).isEmpty();
      assertThat(objects()).as("the completed object is freed with the upload").isEmpty();
      assertThat(multipartUploads()).isZero();
      assertThat(tus.head(url).statusCode()).isEqualTo(404);
    } finally {
      held.release();
    }
  }

  @Test
  void theTailOfAnUploadDeletedWhileAPieceOfItFailedIsSweptWhenOld() throws Exception {
    byte[] content = TestBytes.random(4 * MIB, 34);
    String url = tus.upload(8 * MIB, null);
    assertThat(tus.patch(url, 0, new byte[10]).statusCode()).isEqualTo(204);
    assertThat(tails()).hasSize(1);
    CountDownLatch go = new CountDownLatch(1);
    CompletableFuture<HttpResponse<String>> piece = CompletableFuture.supplyAsync(() -> server.client().send(
        tus.request(url).header("Content-Type", Tus.OCTETS).header("Upload-Offset", "10")
            .header("Upload-Checksum", Tus.checksum("sha1", new byte[1]))
            .method("PATCH", HttpRequest.BodyPublishers.ofInputStream(() -> TusRaceTest.pausing(content, 2 * MIB, go)))));
    Poll.until("the failing piece holding the upload", () -> tus.patch(url, 10, new byte[0]).statusCode(),
        status -> status == 423);
    assertThat(tus.delete(url).statusCode()).isEqualTo(204);
    go.countDown();
    assertThat(piece.get(60, TimeUnit.SECONDS).statusCode()).isEqualTo(460);
    assertThat(tails()).as("the piece frees only what it wrote itself").hasSize(1);

    clock.advance(Duration.ofDays(2));
    server.server().sweeper().sweep();
    clock.advance(OrphanSweeper.MIN_WATCH);
    server.server().sweeper().sweep();

    assertThat(tails()).as("no upload names it any more").isEmpty();
    assertThat(multipartUploads()).isZero();
  }
}
