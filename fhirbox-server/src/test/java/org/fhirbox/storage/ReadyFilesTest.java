package org.fhirbox.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.IntSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bodies that fit in one buffer go into empty files made durable ahead of time: the upload then
 * waits for its own content sync only, the name having reached the disk before it began. Real
 * files and syncs, recorded.
 */
class ReadyFilesTest {
  private static final int READY = 8;
  @TempDir Path dir;

  @Test
  void aSmallUploadWaitsOnlyForItsOwnContentSyncItsNameWasDurableBefore() throws Exception {
    RecordingSyncs syncs = new RecordingSyncs(-1);
    FileBlobStore store = new FileBlobStore(dir, 1, syncs, READY);
    try {
      awaitReady(store, READY);
      for (int i = 0; i < 3; i++) {
        int size = i == 2 ? 1 << 20 : 100_000; // one buffer exactly, too
        int syncsBefore = syncs.log.size();
        long called = System.nanoTime();
        BlobInfo info = store.put(TestContent.stream(i, size), size);
        long returned = System.nanoTime();

        Path file = store.pathOf(info.key());
        String name = info.key().value();
        String[] expected = TestContent.digests(i, size);
        assertThat(info.sha1Hex()).isEqualTo(expected[1]);
        try (InputStream in = store.open(info.key(), 0)) {
          assertThat(TestContent.sha256(in)).isEqualTo(expected[0]);
        }
        assertThat(syncs.log).as("%s's name was made durable before the upload began", name)
            .anyMatch(s -> s.kind().equals("directory") && s.path().equals(file.getParent())
                && s.entries().contains(name) && s.end() <= called);
        List<RecordingSyncs.Synced> during = syncs.log.subList(syncsBefore, syncs.log.size());
        assertThat(during).as("the upload's own syncs").singleElement().satisfies(s -> {
          assertThat(s.kind()).isEqualTo("content");
          assertThat(s.path()).isEqualTo(file);
          assertThat(s.start()).isGreaterThanOrEqualTo(called);
          assertThat(s.end()).isLessThanOrEqualTo(returned);
        });
      }
      try (Stream<Path> temps = Files.list(dir.resolve("tmp"))) {
        assertThat(temps).isEmpty();
      }
    } finally {
      store.close();
    }
  }

  @Test
  void readyFilesAreNotListedAsBlobsAndACleanCloseDeletesThem() throws Exception {
    FileBlobStore store = new FileBlobStore(dir, 1, Syncs.FSYNC, READY);
    BlobInfo stored;
    try {
      awaitReady(store, READY);
      stored = store.put(TestContent.stream(1, 5_000), 5_000);
      assertThat(emptyFiles()).as("files made ahead of time").hasSizeGreaterThanOrEqualTo(READY / 2);

      assertThat(listAll(store)).containsExactly(stored.key());
    } finally {
      store.close();
    }
    assertThat(emptyFiles()).isEmpty();
    assertThat(regularFiles()).containsExactly(store.pathOf(stored.key()));
  }

  @Test
  void aFailedUploadDeletesTheReadyFileItTookAndLeavesOnlyTheOthersBlobs() throws Exception {
    long doomed = 40_001;
    FileBlobStore store = new FileBlobStore(dir, 1, new RecordingSyncs(doomed), READY);
    try {
      awaitReady(store, READY);
      BlobInfo kept = store.put(TestContent.stream(2, 40_000), 40_000);
      assertThatThrownBy(() -> store.put(TestContent.stream(3, doomed), doomed))
          .hasMessageStartingWith("the disk refused to flush");
      assertThatThrownBy(() -> store.put(TestContent.stream(4, 200), 100)).isInstanceOf(BlobTooLargeException.class);
      assertThatThrownBy(() -> store.put(failingAfter(TestContent.stream(5, 300), 200), 1000))
          .hasMessage("client went away");

      assertThat(listAll(store)).containsExactly(kept.key());
      assertThat(nonEmptyFiles()).containsExactly(store.pathOf(kept.key()));
    } finally {
      store.close();
    }
    assertThat(regularFiles()).hasSize(1);
  }

  /**
   * A process that dies leaves its ready files behind, empty and named by no row: the next
   * process does not hold them, so it lists them to the orphan sweeper like any unreferenced blob.
   */
  @Test
  void readyFilesLeftByAProcessThatDiedAreListedToTheSweeperByTheNext() throws Exception {
    FileBlobStore died = new FileBlobStore(dir, 1, Syncs.FSYNC, READY);
    awaitReady(died, READY);
    BlobInfo stored = died.put(TestContent.stream(6, 1_000), 1_000);
    Set<Path> left = emptyFiles();
    assertThat(left).hasSizeGreaterThanOrEqualTo(READY / 2);

    FileBlobStore next = new FileBlobStore(dir, 1, Syncs.FSYNC, 0);
    try {
      Set<BlobKey> listed = listAll(next);
      assertThat(listed).contains(stored.key());
      assertThat(listed).containsAll(left.stream().map(p -> new BlobKey(p.getFileName().toString())).toList());
    } finally {
      next.close();
      died.close();
    }
  }

  @Test
  void uploadsBeyondTheReadyFilesStillStoreTheirBodiesAndTheyAreRefilled() throws Exception {
    FileBlobStore store = new FileBlobStore(dir, 1, Syncs.FSYNC, READY);
    try {
      List<BlobInfo> infos = new ArrayList<>();
      for (int i = 0; i < 3 * READY; i++) {
        infos.add(store.put(TestContent.stream(100 + i, 2_000 + i), 1 << 20));
      }
      for (int i = 0; i < infos.size(); i++) {
        try (InputStream in = store.open(infos.get(i).key(), 0)) {
          assertThat(TestContent.sha256(in)).isEqualTo(TestContent.digests(100 + i, 2_000 + i)[0]);
        }
      }
      assertThat(new HashSet<>(infos.stream().map(BlobInfo::key).toList())).hasSize(3 * READY);
      awaitReady(store, READY / 2 + 1); // a refill starts whenever half of them were taken
    } finally {
      store.close();
    }
  }

  /** A ready file past its age is deleted, not used: a sweeper that does not hold it may list it. */
  @Test
  void readyFilesPastTheirAgeAreDeletedInsteadOfUsed() throws Exception {
    ExecutorService background = Executors.newCachedThreadPool(); // Shards prepares on it too
    Files.createDirectories(dir);
    ReadyFiles files = new ReadyFiles(new Shards(dir, background, 1024), dir, Syncs.FSYNC, background, READY,
        Duration.ofMillis(200));
    try {
      files.fill();
      awaitCount(files::readyCount, READY);
      Set<Path> old = emptyFiles();
      assertThat(old).hasSize(READY);
      Thread.sleep(300);

      assertThat(files.take()).as("every ready file is too old").isEmpty();
      awaitCount(files::readyCount, READY);
      BlobKey fresh = files.take().orElseThrow();

      assertThat(old).noneMatch(Files::exists);
      assertThat(FileBlobStore.pathOf(dir, fresh)).exists().isEmptyFile();
      assertThat(files.isHeld(fresh)).isTrue();
      assertThat(old).allMatch(p -> !files.isHeld(new BlobKey(p.getFileName().toString())));
    } finally {
      files.close();
      background.shutdown();
    }
  }

  private static void awaitCount(IntSupplier count, int n) throws InterruptedException {
    long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (count.getAsInt() < n && System.nanoTime() < until) {
      Thread.sleep(10);
    }
    assertThat(count.getAsInt()).as("files made ahead of time").isGreaterThanOrEqualTo(n);
  }

  private static void awaitReady(FileBlobStore store, int n) throws InterruptedException {
    awaitCount(store::readyFiles, n);
  }

  private static Set<BlobKey> listAll(FileBlobStore store) throws IOException {
    Set<BlobKey> keys = new HashSet<>();
    store.listOlderThan(Instant.now().plus(Duration.ofHours(1)), keys::add);
    return keys;
  }

  private Set<Path> regularFiles() throws IOException {
    Set<Path> files = new HashSet<>();
    try (Stream<Path> all = Files.find(dir, 3, (p, a) -> a.isRegularFile())) {
      all.forEach(files::add);
    }
    return files;
  }

  private Set<Path> emptyFiles() throws IOException {
    Set<Path> files = regularFiles();
    files.removeIf(p -> p.toFile().length() > 0);
    return files;
  }

  private Set<Path> nonEmptyFiles() throws IOException {
    Set<Path> files = regularFiles();
    files.removeAll(emptyFiles());
    return files;
  }

  private static InputStream failingAfter(InputStream in, int after) {
    return new java.io.FilterInputStream(in) {
      private int read;

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (read >= after) {
          throw new IOException("client went away");
        }
        int n = super.read(b, off, Math.min(len, after - read));
        read += Math.max(n, 0);
        return n;
      }
    };
  }
}
