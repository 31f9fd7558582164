package org.fhirbox.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link GroupCommit} over real directories, synced with fsync(2). */
class GroupCommitTest {
  @TempDir Path root;
  private final ExecutorService pool = Executors.newCachedThreadPool();

  /** One real directory sync: which directory, and when it started and ended. */
  private record Synced(Path dir, long start, long end) {}

  private final List<Synced> synced = new CopyOnWriteArrayList<>();

  private void recordedSync(Path dir) throws IOException {
    long start = System.nanoTime();
    FileBlobStore.syncDirectory(dir);
    synced.add(new Synced(dir, start, System.nanoTime()));
  }

  @AfterEach
  void stopPool() {
    pool.shutdownNow();
  }

  @Test
  void concurrentCallersShareSyncsAndEachReturnsAfterASyncThatBeganAfterItsRename() throws Exception {
    List<Path> dirs = List.of(dir("a"), dir("b"));
    GroupCommit commits = new GroupCommit(this::recordedSync);
    int callers = 16;
    int rounds = 20;
    CountDownLatch start = new CountDownLatch(1);
    List<Future<List<long[]>>> results = new ArrayList<>();
    for (int c = 0; c < callers; c++) {
      int caller = c;
      results.add(pool.submit(() -> {
        start.await();
        List<long[]> calls = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
          Path dir = dirs.get((caller + r) % 2);
          Path file = dir.resolve("f" + caller + "-" + r);
          Files.write(file, new byte[] {1});
          long called = System.nanoTime();
          commits.await(dir);
          calls.add(new long[] {(caller + r) % 2, called, System.nanoTime()});
        }
        return calls;
      }));
    }
    start.countDown();

    for (Future<List<long[]>> f : results) {
      for (long[] call : f.get(60, TimeUnit.SECONDS)) {
        Path dir = dirs.get((int) call[0]);
        assertThat(synced).as("a sync of %s between the call and its return", dir)
            .anyMatch(s -> s.dir().equals(dir) && s.start() >= call[1] && s.end() <= call[2]);
      }
    }
    assertThat(synced.size()).isLessThan(callers * rounds);
  }

  @Test
  void aFailedSyncFailsOnlyTheCallersOfThatDirectoryInThatBatch() throws Exception {
    Path good = dir("good");
    Path doomed = dir("doomed");
    CountDownLatch firstSyncStarted = new CountDownLatch(1);
    CountDownLatch releaseFirstSync = new CountDownLatch(1);
    AtomicInteger calls = new AtomicInteger();
    GroupCommit commits = new GroupCommit(dir -> {
      if (calls.getAndIncrement() == 0) {
        firstSyncStarted.countDown();
        await(releaseFirstSync);
      }
      recordedSync(dir);
    });
    Future<?> first = pool.submit(() -> {
      commits.await(good);
      return null;
    });
    assertThat(firstSyncStarted.await(10, TimeUnit.SECONDS)).isTrue();
    // While the first batch syncs, two callers form the second: one names a directory that
    // is gone by the time it is synced.
    Future<?> doomedCaller = pool.submit(() -> {
      commits.await(doomed);
      return null;
    });
    Future<?> goodCaller = pool.submit(() -> {
      commits.await(good);
      return null;
    });
    waitUntilWaiting(2);
    Files.delete(doomed);
    releaseFirstSync.countDown();

    first.get(10, TimeUnit.SECONDS);
    goodCaller.get(10, TimeUnit.SECONDS);
    assertThatThrownBy(() -> doomedCaller.get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(IOException.class)
        .hasRootCauseInstanceOf(NoSuchFileException.class);
    Files.createDirectories(doomed);
    commits.await(doomed);
    assertThat(synced).filteredOn(s -> s.dir().equals(doomed)).hasSize(1);
  }

  @Test
  void noCallerIsLeftWaitingUnderManyShortBatches() throws Exception {
    List<Path> dirs = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      dirs.add(dir("d" + i));
    }
    GroupCommit commits = new GroupCommit(this::recordedSync);
    List<Future<?>> all = new ArrayList<>();
    for (int c = 0; c < 32; c++) {
      all.add(pool.submit(() -> {
        for (int r = 0; r < 100; r++) {
          commits.await(dirs.get(ThreadLocalRandom.current().nextInt(dirs.size())));
        }
        return null;
      }));
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    for (Future<?> f : all) {
      f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }
  }

  private Path dir(String name) throws IOException {
    return Files.createDirectories(root.resolve(name));
  }

  private static void await(CountDownLatch latch) throws IOException {
    try {
      if (!latch.await(10, TimeUnit.SECONDS)) {
        throw new IOException("test latch not released");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  /** Until {@code n} pool threads are parked in {@link GroupCommit#await} (a wait on its lock). */
  private void waitUntilWaiting(int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      long waiting = Thread.getAllStackTraces().entrySet().stream()
          .filter(e -> e.getKey().getState() == Thread.State.WAITING)
          .filter(e -> List.of(e.getValue()).stream()
              .anyMatch(f -> f.getClassName().equals(GroupCommit.class.getName())))
          .count();
      if (waiting >= n) {
        return;
      }
      Thread.sleep(5);
    }
    throw new AssertionError(n + " callers did not start waiting");
  }
}
