package org.fhirbox.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.fhirbox.testing.S3Server;
import org.fhirbox.testing.SlowTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/** {@link S3PartialBlobs} against s3proxy with 5 MiB parts, the S3 minimum. */
@SlowTest
class S3PartialBlobsTest extends ResumableBlobsContract {
  private static S3Server server;
  private S3Settings settings;
  private S3BlobStore store;
  private S3Client raw;

  @BeforeAll
  static void startS3() throws Exception {
    server = S3Server.start();
  }

  @AfterAll
  static void stopS3() throws Exception {
    server.close();
  }

  @BeforeEach
  void createStore() throws IOException {
    settings = server.newBucket().partSizeBytes(5 * MIB).build();
    store = new S3BlobStore(settings, S3Server.credentials());
    raw = S3BlobStore.clientBuilder(settings, S3Server.credentials()).build();
  }

  @AfterEach
  void closeStore() {
    store.close();
    raw.close();
  }

  @Override
  protected BlobStore store() {
    return store;
  }

  private List<String> objects() {
    return raw.listObjectsV2Paginator(b -> b.bucket(settings.bucket())).contents().stream().map(S3Object::key)
        .toList();
  }

  private int multipartUploads() {
    return raw.listMultipartUploads(b -> b.bucket(settings.bucket())).uploads().size();
  }

  @Override
  protected boolean holdsAnything(PartialBlob blob) {
    return multipartUploads() > 0 || objects().stream().anyMatch(k -> k.contains("/tus/"));
  }

  @Test
  void aPartialBlobIsNotReadBackSoItsDigestsWaitForTheCompleteObject() throws Exception {
    PartialBlob blob = append(blobs().begin(), 61, 0, 6 * MIB, -1, List.of());
    List<MessageDigest> digests = digests();

    assertThat(blobs().readBack(blob, 0, digests)).isFalse();
    assertThat(hex(digests.get(0))).isEqualTo(TestContent.digests(61, 0)[0]);
  }

  @Test
  void piecesSmallerThanAPartAreGatheredInOneTailObject() throws Exception {
    PartialBlob blob = blobs().begin();
    for (int i = 0; i < 4; i++) {
      PartialBlob next = append(blob, 60, i * MIB, (i + 1) * MIB, -1, List.of());
      blobs().release(blob, next);
      blob = next;
    }

    assertThat(objects()).singleElement().satisfies(k -> assertThat(k).startsWith(settings.keyPrefix() + "tus/"));
    assertThat(multipartUploads()).isZero();

    PartialBlob full = append(blob, 60, 4 * MIB, 6 * MIB, -1, List.of());
    blobs().release(blob, full);
    assertThat(multipartUploads()).isEqualTo(1);
    assertThat(objects()).hasSize(1);
  }

  @Test
  void aLateWholeObjectWriteReleasedAfterAnotherCompletedTheBlobLeavesItsObject() throws Exception {
    PartialBlob start = blobs().begin();
    // two requests from the same state: one lost its lease mid-way and finishes late
    PartialBlob late = append(start, 62, 0, MIB, MIB, List.of());
    PartialBlob winner = append(start, 62, 0, MIB, MIB, List.of());
    blobs().complete(winner);
    String expected = storedSha256(winner.key());

    blobs().release(late, start); // the late request's commit was refused

    assertThat(objects()).contains(settings.objectKey(winner.key()))
        .doesNotContain(settings.objectKey(late.key()), settings.objectKey(start.key()));
    assertThat(storedSha256(winner.key())).isEqualTo(expected).isEqualTo(TestContent.digests(62, MIB)[0]);
  }

  @Test
  void theOrphanSweepSparesAMultipartUploadStillResuming() throws Exception {
    PartialBlob blob = append(blobs().begin(), 61, 0, 6 * MIB, -1, List.of());
    Instant later = Instant.now().plusSeconds(3600);

    store.listOlderThan(later, k -> { }, blob.key()::equals);
    assertThat(multipartUploads()).isEqualTo(1);

    store.listOlderThan(later, k -> { });
    assertThat(multipartUploads()).isZero();
  }

  /** Two nodes on one bucket, configured apart: one with {@code wideParts}, the other with 5 MiB parts. */
  private record Nodes(S3Settings settings, S3BlobStore wide, S3BlobStore narrow) implements AutoCloseable {
    static Nodes withWideParts(long wideParts) throws IOException {
      S3Settings.Builder bucket = server.newBucket();
      S3BlobStore wide = new S3BlobStore(bucket.partSizeBytes(wideParts).build(), S3Server.credentials());
      S3Settings narrow = bucket.partSizeBytes(5 * MIB).build();
      return new Nodes(narrow, wide, new S3BlobStore(narrow, S3Server.credentials()));
    }

    String sha256(BlobKey key) throws IOException {
      try (InputStream in = narrow.open(key, 0)) {
        return TestContent.sha256(in);
      }
    }

    @Override
    public void close() {
      wide.close();
      narrow.close();
    }
  }

  @Test
  void anUploadGoesOnAfterThePartSizeWasLoweredBelowItsTail() throws Exception {
    try (Nodes nodes = Nodes.withWideParts(12 * MIB)) {
      long size = 14 * MIB + 3;
      PartialBlob start = nodes.wide().resumable().begin();
      InputStream first = TestContent.stream(63, 11 * MIB);
      PartialBlob tailed = nodes.wide().resumable().append(start, first, NO_LIMIT, size, List.of(), null,
          WriteFence.NONE);

      // the node that takes the upload over runs with 5 MiB parts: the 11 MiB tail no longer fits one
      InputStream rest = TestContent.stream(63, size);
      rest.skipNBytes(11 * MIB);
      PartialBlob whole = nodes.narrow().resumable().append(tailed, rest, NO_LIMIT, size, List.of(), null,
          WriteFence.NONE);
      nodes.narrow().resumable().complete(whole);

      assertThat(nodes.sha256(whole.key())).isEqualTo(TestContent.digests(63, size)[0]);
    }
  }

  @Test
  void aLengthDeclaredLastCompletesATailLongerThanTodaysPartSize() throws Exception {
    try (Nodes nodes = Nodes.withWideParts(16 * MIB)) {
      long size = 11 * MIB + 7;
      PartialBlob tailed = nodes.wide().resumable().append(nodes.wide().resumable().begin(),
          TestContent.stream(64, size), NO_LIMIT, -1, List.of(), null, WriteFence.NONE);

      nodes.narrow().resumable().complete(tailed);

      assertThat(nodes.sha256(tailed.key())).isEqualTo(TestContent.digests(64, size)[0]);
      try (S3Client client = S3BlobStore.clientBuilder(nodes.settings(), S3Server.credentials()).build()) {
        assertThat(client.listMultipartUploads(b -> b.bucket(nodes.settings().bucket())).uploads()).isEmpty();
      }
    }
  }

  @Test
  void anEmptyPieceStartsNothingForATailLongerThanTodaysPartSize() throws Exception {
    try (Nodes nodes = Nodes.withWideParts(16 * MIB);
        S3Client client = S3BlobStore.clientBuilder(nodes.settings(), S3Server.credentials()).build()) {
      long size = 12 * MIB + 5;
      PartialBlob tailed = nodes.wide().resumable().append(nodes.wide().resumable().begin(),
          TestContent.stream(65, 12 * MIB), NO_LIMIT, -1, List.of(), null, WriteFence.NONE);

      PartialBlob after = nodes.narrow().resumable().append(tailed, InputStream.nullInputStream(), NO_LIMIT, -1,
          List.of(), null, WriteFence.NONE);

      assertThat(after).isEqualTo(tailed);
      assertThat(client.listMultipartUploads(b -> b.bucket(nodes.settings().bucket())).uploads()).isEmpty();
      InputStream rest = TestContent.stream(65, size);
      rest.skipNBytes(12 * MIB);
      PartialBlob whole = nodes.narrow().resumable().append(after, rest, NO_LIMIT, size, List.of(), null,
          WriteFence.NONE);
      nodes.narrow().resumable().complete(whole);
      assertThat(nodes.sha256(whole.key())).isEqualTo(TestContent.digests(65, size)[0]);
    }
  }

  /** {@code size} bytes of content {@code seed} from {@code from} on, that stop after 10 bytes until {@code go} opens. */
  private static InputStream trickling(long seed, long from, long size, CountDownLatch sent, CountDownLatch go)
      throws IOException {
    InputStream content = TestContent.stream(seed, size);
    content.skipNBytes(from);
    return new StallingStream(content, 10, sent, go);
  }

  @Test
  void slowSmallPiecesHoldNoPartBufferSoOtherWritesGoOn() throws Exception {
    S3BlobStore bounded = new S3BlobStore(settings, S3BlobStore.clientBuilder(settings, S3Server.credentials())
        .build(), 2, 200);
    ResumableBlobs tus = bounded.resumable();
    ExecutorService clients = Executors.newFixedThreadPool(2);
    CountDownLatch sent = new CountDownLatch(2);
    CountDownLatch go = new CountDownLatch(1);
    try {
      // two slow pieces, one of an upload that left a tail before: each has sent 10 bytes, then waits
      PartialBlob tailed = tus.append(tus.begin(), TestContent.stream(66, 10), NO_LIMIT, -1, List.of(), null,
          WriteFence.NONE);
      Future<PartialBlob> fresh = clients.submit(() -> tus.append(tus.begin(), trickling(67, 0, 1_000, sent, go),
          NO_LIMIT, 1_000, List.of(), null, WriteFence.NONE));
      Future<PartialBlob> behindATail = clients.submit(() -> tus.append(tailed, trickling(66, 10, 2_000, sent, go),
          NO_LIMIT, 2_000, List.of(), null, WriteFence.NONE));
      assertThat(sent.await(30, TimeUnit.SECONDS)).isTrue();

      // another client's raw upload past 128 KiB and its tus piece both go
      assertThat(bounded.put(TestContent.stream(68, MIB), NO_LIMIT).size()).isEqualTo(MIB);
      PartialBlob other = tus.append(tus.begin(), TestContent.stream(69, 10), NO_LIMIT, 10, List.of(), null,
          WriteFence.NONE);
      tus.complete(other);
      assertThat(storedSha256(other.key())).isEqualTo(TestContent.digests(69, 10)[0]);
      assertThat(bounded.partBuffersInUse()).as("two slow pieces under way").isZero();

      go.countDown();
      PartialBlob first = fresh.get(30, TimeUnit.SECONDS);
      PartialBlob second = behindATail.get(30, TimeUnit.SECONDS);
      tus.complete(first);
      tus.complete(second);
      assertThat(storedSha256(first.key())).isEqualTo(TestContent.digests(67, 1_000)[0]);
      assertThat(storedSha256(second.key())).isEqualTo(TestContent.digests(66, 2_000)[0]);
      assertThat(bounded.partBuffersInUse()).isZero();
    } finally {
      go.countDown();
      clients.shutdownNow();
      bounded.close();
    }
  }

  @Test
  void aPieceBehindATailThatCrossesAPartBoundaryInItsFirstBytesKeepsThemInOrder() throws Exception {
    long size = 5 * MIB + 300_000;
    long tail = 5 * MIB - 1_000;
    PartialBlob tailed = append(blobs().begin(), 70, 0, tail, size, List.of());
    List<MessageDigest> digests = digests();

    PartialBlob whole = append(tailed, 70, tail, size, size, digests);
    blobs().complete(whole);

    assertThat(storedSha256(whole.key())).isEqualTo(TestContent.digests(70, size)[0]);
    assertThat(multipartUploads()).isZero();
  }

  @Test
  void aStateReadsBackWhateverItsTailKeyHoldsAndRowsWrittenBeforeStillRead() {
    S3PartialBlobs.State spaced = new S3PartialBlobs.State("u1", List.of(new S3PartialBlobs.Part(1, 5 * MIB, "e1",
        "c1")), "fhir files/tus/0123/abcd", 300, false);
    assertThat(S3PartialBlobs.State.parse(spaced.encode())).isEqualTo(spaced);

    S3PartialBlobs.State written = S3PartialBlobs.State.parse("upload=u2\ntail=blobs/tus/0123/ef01 4096\n"
        + "part=1 5242880 e2 c2\n");
    assertThat(written.tail()).isEqualTo("blobs/tus/0123/ef01");
    assertThat(written.tailLength()).isEqualTo(4096);
    assertThat(written.parts()).singleElement().satisfies(p -> assertThat(p.etag()).isEqualTo("e2"));
  }
}
