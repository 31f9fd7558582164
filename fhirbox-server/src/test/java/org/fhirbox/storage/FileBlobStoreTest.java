package org.fhirbox.storage;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileBlobStoreTest extends BlobStoreContract {
  @TempDir Path dir;
  private FileBlobStore store;

  @BeforeEach
  void createStore() throws IOException {
    store = newStore(dir.resolve("blobs"));
  }

  /** The store every test of this class and of its contract runs on. */
  FileBlobStore newStore(Path root) throws IOException {
    return new FileBlobStore(root);
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  @Override
  protected BlobStore store() {
    return store;
  }

  @Test
  void uploadsCloseInTimeShareOneDurableShardDirectory() throws IOException {
    BlobInfo first = store.put(new ByteArrayInputStream(new byte[] {1}), 10);
    BlobInfo second = store.put(new ByteArrayInputStream(new byte[] {2}), 10);

    assertThat(second.key().value()).startsWith(first.key().value().substring(0, 4));
    assertThat(store.pathOf(second.key())).isRegularFile()
        .hasParent(store.pathOf(first.key()).getParent());
    assertThat(first.key()).isNotEqualTo(second.key());
  }

  @Test
  void largeContentStoredWithoutAPipelineHasItsDigestsAndLimit() throws IOException {
    FileBlobStore inline = new FileBlobStore(dir.resolve("inline"), 0);
    try {
      long size = 5 * MIB + 7;
      String[] expected = TestContent.digests(21, size);

      BlobInfo info = inline.put(TestContent.stream(21, size), size);

      assertThat(info.size()).isEqualTo(size);
      assertThat(info.sha256Hex()).as("a put computes no SHA-256").isNull();
      assertThat(info.sha1Hex()).isEqualTo(expected[1]);
      try (InputStream in = inline.open(info.key(), 0)) {
        assertThat(TestContent.sha256(in)).isEqualTo(expected[0]);
      }
      assertThat(inline.digest(info.key(), size)).isEqualTo(info.withSha256(expected[0]));
      assertThatThrownBy(() -> inline.put(TestContent.stream(22, size + 1), size))
          .isInstanceOf(BlobTooLargeException.class);
      try (var left = Files.list(dir.resolve("inline").resolve("tmp"))) {
        assertThat(left).isEmpty();
      }
    } finally {
      inline.close();
    }
  }

  /**
   * Around the sizes where a body starts to be written with O_DIRECT and where it stops fitting
   * one buffer, whole blocks or not: every byte is stored, and the digests are the content's.
   */
  @Test
  void bodiesAroundTheDirectWriteSizesAreStoredExactly() throws IOException {
    long[] sizes = {64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 100_000, 102_400, MIB - 1, MIB, MIB + 1, 2 * MIB + 4095};
    for (int i = 0; i < sizes.length; i++) {
      long size = sizes[i];
      String[] expected = TestContent.digests(60 + i, size);

      BlobInfo info = store.put(TestContent.stream(60 + i, size), size);

      assertThat(info.size()).as("size of %d", size).isEqualTo(size);
      assertThat(info.sha256Hex()).as("no SHA-256 computed for %d", size).isNull();
      assertThat(info.sha1Hex()).as("SHA-1 of %d", size).isEqualTo(expected[1]);
      assertThat(Files.size(store.pathOf(info.key()))).isEqualTo(size);
      try (InputStream in = store.open(info.key(), 0)) {
        assertThat(TestContent.sha256(in)).as("stored bytes of %d", size).isEqualTo(expected[0]);
      }
    }
  }

  /**
   * Eight 3 MiB uploads in flight at once, one pipeline allowed: one runs through the lanes
   * (8 buffers), the seven others on their own threads with one buffer each.
   */
  @Test
  void concurrentLargeUploadsBeyondThePipelinesHoldOneBufferEach() throws Exception {
    FileBlobStore bounded = new FileBlobStore(dir.resolve("bounded"), 1);
    int uploads = 8;
    long size = 3 * MIB;
    CountDownLatch allStarted = new CountDownLatch(uploads);
    ExecutorService pool = Executors.newFixedThreadPool(uploads);
    try {
      List<Future<BlobInfo>> results = new ArrayList<>();
      for (int i = 0; i < uploads; i++) {
        long seed = 30 + i;
        results.add(pool.submit(() -> bounded.put(pausingAfter(TestContent.stream(seed, size), 2 * MIB, allStarted),
            size)));
      }
      for (int i = 0; i < uploads; i++) {
        BlobInfo info = results.get(i).get(60, TimeUnit.SECONDS);
        String[] expected = TestContent.digests(30 + i, size);
        assertThat(info.sha256Hex()).as("a put computes no SHA-256").isNull();
        assertThat(info.sha1Hex()).isEqualTo(expected[1]);
        try (InputStream in = bounded.open(info.key(), 0)) {
          assertThat(TestContent.sha256(in)).isEqualTo(expected[0]);
        }
      }
      assertThat(bounded.uploadBuffersAllocated()).isLessThanOrEqualTo(8 + uploads - 1);
    } finally {
      pool.shutdownNow();
      bounded.close();
    }
  }

  /** Once {@code after} bytes were read, waits (boundedly) until every upload got that far. */
  private static InputStream pausingAfter(InputStream in, long after, CountDownLatch all) {
    return new FilterInputStream(in) {
      private long read;
      private boolean paused;

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (read >= after && !paused) {
          paused = true;
          all.countDown();
          try {
            all.await(30, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
          }
        }
        int n = super.read(b, off, paused ? len : (int) Math.min(len, after - read));
        if (n > 0) {
          read += n;
        }
        return n;
      }
    };
  }

  /** A put's result and when it was called and returned. */
  private record Put(BlobInfo info, long called, long returned) {}

  /**
   * Without files made ahead of time: sixteen uploads at once, five each: every put returns only
   * after its content was synced under its temporary name and then a sync of its shard directory
   * began that already saw its final name; the uploads share those directory syncs.
   */
  @Test
  void concurrentPutsReturnAfterTheirContentAndThenTheirNameWereSyncedSharingDirectorySyncs() throws Exception {
    RecordingSyncs syncs = new RecordingSyncs(-1);
    FileBlobStore recorded = new FileBlobStore(dir.resolve("recorded"), 1, syncs, 0);
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<List<Put>>> results = new ArrayList<>();
      for (int t = 0; t < 16; t++) {
        long seed = 40 + t;
        results.add(pool.submit(() -> {
          start.await();
          List<Put> puts = new ArrayList<>();
          for (int r = 0; r < 5; r++) {
            long called = System.nanoTime();
            BlobInfo info = recorded.put(TestContent.stream(seed * 10 + r, 50_000), 50_000);
            puts.add(new Put(info, called, System.nanoTime()));
          }
          return puts;
        }));
      }
      start.countDown();
      int puts = 0;
      for (Future<List<Put>> f : results) {
        for (Put put : f.get(60, TimeUnit.SECONDS)) {
          puts++;
          String name = put.info().key().value();
          Path file = recorded.pathOf(put.info().key());
          RecordingSyncs.Synced content = syncs.log.stream()
              .filter(s -> s.kind().equals("content") && s.path().getFileName().toString().equals(name + ".part"))
              .findFirst().orElseThrow(() -> new AssertionError("no content sync of " + name));
          assertThat(content.start()).isGreaterThanOrEqualTo(put.called());
          assertThat(syncs.log).as("a sync of %s's directory that saw it, after its content sync", name)
              .anyMatch(s -> s.kind().equals("directory") && s.path().equals(file.getParent())
                  && s.entries().contains(name) && s.start() >= content.end() && s.end() <= put.returned());
        }
      }
      assertThat(syncs.log).filteredOn(s -> s.kind().equals("directory")).hasSizeLessThan(puts);
    } finally {
      pool.shutdownNow();
      recorded.close();
    }
  }

  @Test
  void aFailedContentSyncFailsOnlyItsOwnUploadAndLeavesNothingOfIt() throws Exception {
    long doomedSize = 40_001;
    RecordingSyncs syncs = new RecordingSyncs(doomedSize);
    Path blobs = dir.resolve("failing");
    FileBlobStore failing = new FileBlobStore(blobs, 1, syncs, 0);
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<BlobInfo>> results = new ArrayList<>();
      for (int t = 0; t < 16; t++) {
        long seed = 60 + t;
        long size = t == 7 ? doomedSize : 40_000;
        results.add(pool.submit(() -> {
          start.await();
          return failing.put(TestContent.stream(seed, size), size);
        }));
      }
      start.countDown();
      List<BlobKey> stored = new ArrayList<>();
      for (int t = 0; t < 16; t++) {
        if (t == 7) {
          Future<BlobInfo> doomed = results.get(t);
          assertThatThrownBy(() -> doomed.get(60, TimeUnit.SECONDS))
              .rootCause().hasMessageStartingWith("the disk refused to flush");
          continue;
        }
        BlobInfo info = results.get(t).get(60, TimeUnit.SECONDS);
        String[] expected = TestContent.digests(60 + t, 40_000);
        assertThat(info.sha1Hex()).isEqualTo(expected[1]);
        try (InputStream in = failing.open(info.key(), 0)) {
          assertThat(TestContent.sha256(in)).isEqualTo(expected[0]);
        }
        stored.add(info.key());
      }
      try (var left = Files.list(blobs.resolve("tmp"))) {
        assertThat(left).isEmpty();
      }
      try (var all = Files.find(blobs, 3, (p, a) -> a.isRegularFile())) {
        assertThat(all.map(p -> p.getFileName().toString()))
            .containsExactlyInAnyOrderElementsOf(stored.stream().map(BlobKey::value).toList());
      }
    } finally {
      pool.shutdownNow();
      failing.close();
    }
  }

  /**
   * A large upload whose body pauses between buffers writes nothing to its temporary file for as
   * long as the pause lasts: a sweep whose cutoff is past the file's date leaves it to the upload,
   * and still deletes the temporary file no upload of this store is writing (a crashed process's).
   */
  @Test
  void sweepSparesATemporaryFileThisStoreIsStillWriting() throws Exception {
    long size = 3 * MIB;
    StallingStream body = new StallingStream(TestContent.stream(70, size), 2 * MIB);
    Path tmp = dir.resolve("blobs").resolve("tmp");
    Path leftover = Files.createFile(tmp.resolve(BlobKey.random().value() + ".part"));
    ExecutorService client = Executors.newSingleThreadExecutor();
    try {
      Future<BlobInfo> slow = client.submit(() -> store.put(body, size));
      assertThat(body.stalled.await(30, TimeUnit.SECONDS)).isTrue();
      try (var files = Files.list(tmp)) {
        assertThat(files).filteredOn(p -> p.toString().endsWith(".part")).hasSize(2);
      }

      // a cutoff past every file's date, as after a grace period without a write
      store.listOlderThan(Instant.now().plusSeconds(7200), k -> { });

      assertThat(leftover).doesNotExist();
      body.resume.countDown();
      BlobInfo info = slow.get(60, TimeUnit.SECONDS);
      String[] expected = TestContent.digests(70, size);
      assertThat(info.sha1Hex()).isEqualTo(expected[1]);
      try (InputStream in = store.open(info.key(), 0)) {
        assertThat(TestContent.sha256(in)).isEqualTo(expected[0]);
      }
    } finally {
      body.resume.countDown();
      client.shutdownNow();
    }
  }

  /**
   * Uploads rename their temporary files into place and delete failed blobs while a sweep walks
   * the directories: a file gone between its listing and its look-up is passed over, and the rest
   * of the pass goes on.
   */
  @Test
  void filesThatVanishDuringTheSweepArePassedOver() throws IOException {
    List<BlobKey> stored = List.of(store.put(TestContent.stream(80, 10), 10).key(),
        store.put(TestContent.stream(81, 10), 10).key(), store.put(TestContent.stream(82, 10), 10).key());
    Path tmp = dir.resolve("blobs").resolve("tmp");
    Map<BlobKey, Path> leftovers = new HashMap<>();
    for (String suffix : List.of(".part", FilePartialBlobs.SUFFIX, ".part", FilePartialBlobs.SUFFIX)) {
      BlobKey key = BlobKey.random();
      leftovers.put(key, Files.createFile(tmp.resolve(key.value() + suffix)));
    }
    List<BlobKey> visited = new ArrayList<>();

    // the first blob seen deletes the others; the first leftover of each kind looked up, the
    // other of its kind
    store.listOlderThan(Instant.now().plusSeconds(7200), key -> {
      if (visited.isEmpty()) {
        for (BlobKey other : stored) {
          if (!other.equals(key)) {
            uncheckedDelete(store.pathOf(other));
          }
        }
      }
      visited.add(key);
    }, key -> {
      String suffix = leftovers.get(key).getFileName().toString().substring(key.value().length());
      leftovers.values().stream().filter(p -> p.getFileName().toString().endsWith(suffix))
          .forEach(FileBlobStoreTest::uncheckedDelete);
      return false;
    });

    assertThat(visited).hasSize(1).isSubsetOf(stored);
    try (var left = Files.list(tmp)) {
      assertThat(left).isEmpty();
    }
  }

  private static void uncheckedDelete(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A first start creates the data directory, its blobs/ and tmp/: the parent of each is synced
   * after it was created, so that a power loss does not take their names back.
   */
  @Test
  void theDirectoriesAFirstStartCreatesAreMadeDurable() throws IOException {
    Path data = dir.resolve("fresh-data");
    RecordingSyncs syncs = new RecordingSyncs(-1);
    new FileBlobStore(data.resolve("blobs"), 1, syncs, 0, 0).close();

    // each parent, synced once its new directory was in it
    assertSyncedWithEntries(syncs, Map.of(dir, "fresh-data", data, "blobs", data.resolve("blobs"), "tmp"));
  }

  /**
   * A start killed between the mkdir of blobs/ and the sync of its parent left the directories in
   * place, their names only in the page cache: the next start syncs their parents all the same,
   * or a power loss after it, with Binaries committed on blobs in there, would take them all back.
   */
  @Test
  void aStartSyncsTheParentsOfDirectoriesAnEarlierStartCreated() throws IOException {
    Path data = dir.resolve("killed-data");
    Files.createDirectories(data.resolve("blobs").resolve("tmp"));
    RecordingSyncs syncs = new RecordingSyncs(-1);
    new FileBlobStore(data.resolve("blobs"), 1, syncs, 0, 0).close();

    assertSyncedWithEntries(syncs, Map.of(dir, "killed-data", data, "blobs", data.resolve("blobs"), "tmp"));
  }

  /** Each directory of {@code synced} was synced with its entry in it, each parent before its child. */
  private static void assertSyncedWithEntries(RecordingSyncs syncs, Map<Path, String> synced) {
    List<RecordingSyncs.Synced> directories = syncs.log.stream().filter(s -> s.kind().equals("directory")).toList();
    List<Path> order = new ArrayList<>(synced.keySet());
    order.sort((a, b) -> Integer.compare(a.getNameCount(), b.getNameCount()));
    assertThat(directories).extracting(RecordingSyncs.Synced::path).containsSubsequence(order);
    synced.forEach((parent, entry) -> assertThat(directories).as("a sync of %s holding %s", parent, entry)
        .anyMatch(s -> s.path().equals(parent) && s.entries().contains(entry)));
  }

  private static final long MIB = 1 << 20;
}
