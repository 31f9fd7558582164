package org.fhirbox.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * What every {@link BlobStore} must do. A subclass per backend supplies a fresh, empty store;
 * each backend runs against the real thing (a directory, an S3 server).
 */
abstract class BlobStoreContract {
  static final long MIB = 1024 * 1024;
  /** Larger than several 5 MiB parts, so an S3 store uploads it in parallel parts. */
  static final long LARGE = 40 * MIB + 12_345;
  /** Three parts at 5 MiB: enough for a multipart upload to be under way when things go wrong. */
  static final long MULTIPART = 12 * MIB + 7;
  static final long NO_LIMIT = Long.MAX_VALUE;

  /** The store under test; the same instance for the whole test method. */
  protected abstract BlobStore store();

  @Test
  void aStoredBlobReadOnceMoreHasBothDigestsOfItsBytes() throws IOException {
    for (long size : new long[] {0, 1000, MIB, MIB + 1, MULTIPART}) {
      BlobInfo stored = store().put(TestContent.stream(size, size), NO_LIMIT);

      String[] expected = TestContent.digests(size, size);
      assertThat(store().digest(stored.key(), size)).as("%d bytes", size)
          .isEqualTo(new BlobInfo(stored.key(), size, expected[0], expected[1]));
      assertThat(stored.sha1Hex()).isEqualTo(expected[1]);
      if (size > 0) {
        assertThatThrownBy(() -> store().digest(stored.key(), size - 1)).as("%d bytes", size)
            .isInstanceOf(BlobTooLargeException.class);
      }
    }
  }

  @Test
  void emptyContentRoundTrips() throws IOException {
    BlobInfo info = store().put(InputStream.nullInputStream(), NO_LIMIT);

    assertThat(info.size()).isZero();
    assertThat(info.sha256Hex()).as("a put computes no SHA-256").isNull();
    assertThat(info.sha1Hex()).isEqualTo("da39a3ee5e6b4b0d3255bfef95601890afd80709");
    assertThat(store().size(info.key())).contains(0L);
    try (InputStream in = store().open(info.key(), 0)) {
      assertThat(in.readAllBytes()).isEmpty();
    }
  }

  @Test
  void smallContentRoundTripsWithDigests() throws IOException {
    byte[] content = "Hello, FHIR Binary".getBytes(StandardCharsets.UTF_8);

    BlobInfo info = store().put(new ByteArrayInputStream(content), NO_LIMIT);

    assertThat(info.size()).isEqualTo(content.length);
    assertThat(info.sha256Hex()).as("a put computes no SHA-256").isNull();
    assertThat(info.sha1Hex()).isEqualTo(sha1(content));
    assertThat(store().size(info.key())).contains((long) content.length);
    assertThat(read(info.key(), 0, content.length)).isEqualTo(content);
  }

  @Test
  void largeContentRoundTripsWithDigests() throws IOException {
    String[] expected = TestContent.digests(1, LARGE);

    BlobInfo info = store().put(TestContent.stream(1, LARGE), NO_LIMIT);

    assertThat(info.size()).isEqualTo(LARGE);
    assertThat(info.sha256Hex()).as("a put computes no SHA-256").isNull();
    assertThat(info.sha1Hex()).isEqualTo(expected[1]);
    assertThat(store().size(info.key())).contains(LARGE);
    try (InputStream in = store().open(info.key(), 0)) {
      assertThat(TestContent.sha256(in)).isEqualTo(expected[0]);
    }
  }

  @Test
  void rangedReadReturnsMiddleAcrossPartBoundaryAndEnd() throws IOException {
    BlobInfo info = store().put(TestContent.stream(2, MULTIPART), NO_LIMIT);
    long middle = 5 * MIB - 1000;

    assertThat(read(info.key(), middle, 3000)).isEqualTo(TestContent.bytes(2, middle, 3000));
    assertThat(read(info.key(), MULTIPART - 10, 10))
        .isEqualTo(TestContent.bytes(2, MULTIPART - 10, 10));
    assertThat(read(info.key(), 0, 1)).isEqualTo(TestContent.bytes(2, 0, 1));
  }

  @Test
  void readPastTheEndFails() throws IOException {
    BlobInfo info = store().put(TestContent.stream(3, 100), NO_LIMIT);

    assertThatThrownBy(() -> read(info.key(), 90, 20)).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> read(info.key(), 100, 1)).isInstanceOf(IOException.class);
    assertThat(read(info.key(), 100, 0)).isEmpty();
  }

  /**
   * Ranges at the edges of the blob and of the sizes where a store changes how it copies (a
   * small single read up to 64 KiB, 1 MiB copy buffers, 5 MiB S3 parts).
   */
  @Test
  void transferToSendsExactlyTheRangeAtEveryEdge() throws IOException {
    long size = 5 * MIB + 70_000;
    BlobInfo info = store().put(TestContent.stream(12, size), NO_LIMIT);
    long[][] ranges = {
        {0, 0}, {0, 1}, {size - 1, 1}, {0, size}, {1, size - 1}, {size, 0},
        {64 * 1024 - 1, 2}, {1, 64 * 1024}, {1, 64 * 1024 + 1},
        {MIB - 1, MIB + 2}, {5 * MIB - 3, 70_003}};

    for (long[] r : ranges) {
      assertThat(read(info.key(), r[0], (int) r[1]))
          .as("bytes %d..%d", r[0], r[0] + r[1] - 1)
          .isEqualTo(TestContent.bytes(12, r[0], (int) r[1]));
    }
  }

  @Test
  void transferToKeepsWritingToATargetThatTakesFewBytesPerCall() throws IOException {
    long size = 3 * MIB + 1;
    BlobInfo info = store().put(TestContent.stream(13, size), NO_LIMIT);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    WritableByteChannel trickle = new WritableByteChannel() {
      @Override
      public int write(ByteBuffer src) {
        int n = Math.min(src.remaining(), 1000);
        byte[] part = new byte[n];
        src.get(part);
        out.write(part, 0, n);
        return n;
      }

      @Override
      public boolean isOpen() {
        return true;
      }

      @Override
      public void close() {}
    };

    store().transferTo(info.key(), 7, size - 7, trickle);

    assertThat(out.toByteArray()).isEqualTo(TestContent.bytes(13, 7, (int) (size - 7)));
  }

  @Test
  void transferToAFileChannelCopiesTheRange() throws IOException {
    long size = 2 * MIB + 5;
    BlobInfo info = store().put(TestContent.stream(14, size), NO_LIMIT);
    Path copy = Files.createTempFile("transfer", ".bin");
    try (FileChannel file = FileChannel.open(copy, StandardOpenOption.WRITE)) {
      store().transferTo(info.key(), 3, size - 4, file);
    }
    try {
      assertThat(Files.readAllBytes(copy)).isEqualTo(TestContent.bytes(14, 3, (int) (size - 4)));
    } finally {
      Files.delete(copy);
    }
  }

  @Test
  void transferToOfAMissingBlobFailsEvenForNoBytes() {
    BlobKey missing = BlobKey.random();

    assertThatThrownBy(() -> read(missing, 0, 0)).isInstanceOf(NoSuchFileException.class);
  }

  @Test
  void openFromOffsetStreamsToTheEnd() throws IOException {
    BlobInfo info = store().put(TestContent.stream(4, 200_000), NO_LIMIT);

    try (InputStream in = store().open(info.key(), 123_456)) {
      assertThat(in.readAllBytes()).isEqualTo(TestContent.bytes(4, 123_456, 200_000 - 123_456));
    }
    try (InputStream in = store().open(info.key(), 200_000)) {
      assertThat(in.readAllBytes()).isEmpty();
    }
  }

  @Test
  void missingBlobHasNoSizeAndCannotBeRead() throws IOException {
    BlobKey missing = BlobKey.random();

    assertThat(store().size(missing)).isEmpty();
    assertThatThrownBy(() -> store().open(missing, 0)).isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> read(missing, 0, 10)).isInstanceOf(NoSuchFileException.class);
  }

  @Test
  void deleteRemovesTheBlobAndIsIdempotent() throws IOException {
    BlobInfo info = store().put(TestContent.stream(5, 1000), NO_LIMIT);

    store().delete(info.key());
    store().delete(info.key());
    store().delete(BlobKey.random());

    assertThat(store().size(info.key())).isEmpty();
    assertThat(listAll()).doesNotContain(info.key());
  }

  @Test
  void inputFailingInTheFirstPartLeavesNothing() throws IOException {
    Set<BlobKey> before = listAll();

    assertThatThrownBy(() -> store().put(TestContent.failingAfter(6, 1000), NO_LIMIT))
        .isInstanceOf(IOException.class).hasMessageContaining("client went away");

    assertThat(listAll()).isEqualTo(before);
  }

  @Test
  void inputFailingAfterSeveralPartsLeavesNothing() throws IOException {
    Set<BlobKey> before = listAll();

    assertThatThrownBy(() -> store().put(TestContent.failingAfter(7, MULTIPART), NO_LIMIT))
        .isInstanceOf(IOException.class).hasMessageContaining("client went away");

    assertThat(listAll()).isEqualTo(before);
  }

  @Test
  void contentOverTheLimitIsRefusedAndLeavesNothing() throws IOException {
    Set<BlobKey> before = listAll();

    assertThatThrownBy(() -> store().put(TestContent.stream(8, 2000), 1999))
        .isInstanceOfSatisfying(BlobTooLargeException.class,
            e -> assertThat(e.limit()).isEqualTo(1999));
    assertThatThrownBy(() -> store().put(TestContent.stream(8, LARGE), MULTIPART))
        .isInstanceOfSatisfying(BlobTooLargeException.class,
            e -> assertThat(e.limit()).isEqualTo(MULTIPART));

    assertThat(listAll()).isEqualTo(before);
  }

  /** 1 MiB is the file store's buffer: exactly one buffer, and one byte either side. */
  @Test
  void contentAroundOneBufferRoundTrips() throws IOException {
    for (long size : new long[] {MIB - 1, MIB, MIB + 1}) {
      BlobInfo info = store().put(TestContent.stream(15, size), NO_LIMIT);

      assertThat(info.size()).isEqualTo(size);
      assertThat(info.sha1Hex()).isEqualTo(TestContent.digests(15, size)[1]);
      assertThat(read(info.key(), 0, (int) size)).isEqualTo(TestContent.bytes(15, 0, (int) size));
    }
  }

  @Test
  void contentExactlyAtTheLimitIsStored() throws IOException {
    BlobInfo info = store().put(TestContent.stream(9, 2 * 5 * MIB), 2 * 5 * MIB);

    assertThat(store().size(info.key())).contains(2 * 5 * MIB);
  }

  @Test
  void listOlderThanSeesBlobsWrittenBeforeTheCutoff() throws IOException {
    BlobInfo first = store().put(TestContent.stream(10, 10), NO_LIMIT);
    BlobInfo second = store().put(TestContent.stream(11, 10), NO_LIMIT);

    assertThat(listAll()).contains(first.key(), second.key());
    List<BlobKey> none = new ArrayList<>();
    store().listOlderThan(Instant.now().minus(Duration.ofHours(1)), none::add);
    assertThat(none).doesNotContain(first.key(), second.key());
  }

  @Test
  void concurrentPutsAreIndependent() throws Exception {
    int uploads = 6;
    ExecutorService pool = Executors.newFixedThreadPool(uploads);
    try {
      List<Future<BlobInfo>> futures = new ArrayList<>();
      for (int i = 0; i < uploads; i++) {
        long seed = 100 + i;
        long size = i % 3 == 0 ? MULTIPART : 300_000 + i;
        Callable<BlobInfo> put = () -> store().put(TestContent.stream(seed, size), NO_LIMIT);
        futures.add(pool.submit(put));
      }
      Set<BlobKey> keys = new HashSet<>();
      for (int i = 0; i < uploads; i++) {
        BlobInfo info = futures.get(i).get();
        long size = i % 3 == 0 ? MULTIPART : 300_000 + i;
        assertThat(info.size()).isEqualTo(size);
        String[] expected = TestContent.digests(100 + i, size);
        assertThat(info.sha1Hex()).isEqualTo(expected[1]);
        try (InputStream in = store().open(info.key(), 0)) {
          assertThat(TestContent.sha256(in)).isEqualTo(expected[0]);
        }
        keys.add(info.key());
      }
      assertThat(keys).hasSize(uploads);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void reachableStoreSaysSo() {
    assertThat(store().isReachable()).isTrue();
  }

  /** Every key the store lists, whatever its age. */
  Set<BlobKey> listAll() throws IOException {
    Set<BlobKey> keys = new HashSet<>();
    store().listOlderThan(Instant.now().plus(Duration.ofHours(1)), keys::add);
    return keys;
  }

  byte[] read(BlobKey key, long offset, int length) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(length);
    store().transferTo(key, offset, length, Channels.newChannel(out));
    return out.toByteArray();
  }

  private static String sha1(byte[] content) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(content));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
