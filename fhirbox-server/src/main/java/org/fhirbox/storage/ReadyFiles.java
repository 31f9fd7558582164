package org.fhirbox.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Empty blob files created under fresh keys ahead of time, each with its directory entry already
 * durable, so that an upload whose body is complete in memory writes it into one of them and
 * needs a single fdatasync of its own: no rename and no directory sync on its way to the answer.
 * Refilled in the background in batches whose creations share one directory sync.
 *
 * <p>Why this survives a power loss: the empty file and its name reached the disk (file and
 * directory fsynced) before its key was handed out; fdatasync(2) of the written file then makes
 * its content and its size durable, and only after that does the caller commit a row naming the
 * key. A crash before that commit leaves a complete, partial or empty file that no row names,
 * which the orphan sweeper deletes like any unreferenced blob. Files still ready or being written
 * are {@link #isHeld held}: the store does not list them to the sweeper, however old. On a clean
 * {@link #close} the ready files are deleted.
 */
final class ReadyFiles implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReadyFiles.class);
  private static final Duration RETRY = Duration.ofSeconds(1);
  /**
   * Older ready files are deleted instead of used. Another process's orphan sweeper over the same
   * directory does not hold them, and lists no file younger than its grace time (an hour by
   * default), so it can never delete a file under an upload that is writing into it.
   */
  static final Duration MAX_AGE = Duration.ofMinutes(10);
  private final Shards shards;
  private final Path root;
  private final Syncs syncs;
  private final Executor background;
  private final int capacity;
  /** A file ready for an upload, and when it was made ({@link System#nanoTime}). */
  private record Ready(BlobKey key, long made) {}

  private final ArrayDeque<Ready> ready = new ArrayDeque<>();
  /** Ready files found too old, to be deleted by the next refill. */
  private final List<BlobKey> stale = new ArrayList<>();
  private final Duration maxAge;
  /** Ready, or handed out and not yet {@link #release released}. */
  private final Set<BlobKey> held = new HashSet<>();
  private boolean refilling;
  private boolean closed;
  /** After a failed refill (a full disk), when the next may start: one warning a second at most. */
  private long retryAt = System.nanoTime();

  /**
   * @param root the store's root: files go to their key's shard directory under it
   * @param capacity how many files are kept ready; a refill starts once half of them were taken.
   *     Zero turns the pool off: {@link #take} then never has a file.
   */
  ReadyFiles(Shards shards, Path root, Syncs syncs, Executor background, int capacity) {
    this(shards, root, syncs, background, capacity, MAX_AGE);
  }

  ReadyFiles(Shards shards, Path root, Syncs syncs, Executor background, int capacity, Duration maxAge) {
    this.maxAge = maxAge;
    this.shards = shards;
    this.root = root;
    this.syncs = syncs;
    this.background = background;
    this.capacity = capacity;
  }

  /**
   * A key whose empty file exists durably, held until {@link #release}; empty when none is ready
   * (the pool is off, or uploads outran the refills): the caller then writes a temporary file and
   * renames it.
   */
  synchronized Optional<BlobKey> take() {
    if (capacity == 0 || closed) {
      return Optional.empty();
    }
    long now = System.nanoTime();
    Ready r = ready.pollFirst();
    while (r != null && now - r.made() > maxAge.toNanos()) {
      stale.add(r.key());
      r = ready.pollFirst();
    }
    if (ready.size() <= capacity / 2) {
      fill();
    }
    return Optional.ofNullable(r).map(Ready::key);
  }

  /** Starts filling the pool, so that the first uploads find files ready. */
  synchronized void fill() {
    if (capacity > 0 && !closed && !refilling && System.nanoTime() - retryAt >= 0) {
      refilling = true;
      background.execute(this::refill);
    }
  }

  /** The upload that took {@code key} is over: its file is now a blob like any other, or deleted. */
  synchronized void release(BlobKey key) {
    held.remove(key);
  }

  /** True for a file that is ready or being written: not a blob yet, never an orphan. */
  synchronized boolean isHeld(BlobKey key) {
    return held.contains(key);
  }

  synchronized int readyCount() {
    return ready.size();
  }

  /** Tops the pool up to its capacity: creates the files, syncs each and then their directories. */
  private void refill() {
    List<BlobKey> made = new ArrayList<>();
    try {
      int wanted;
      List<BlobKey> old;
      synchronized (this) {
        wanted = closed ? 0 : capacity - ready.size();
        old = new ArrayList<>(stale);
        stale.clear();
      }
      deleteQuietly(old);
      Set<Path> dirs = new LinkedHashSet<>();
      for (int i = 0; i < wanted; i++) {
        BlobKey key = shards.newKey();
        Path file = FileBlobStore.durableShard(root, key).resolve(key.value());
        synchronized (this) {
          held.add(key); // from before it exists: not an orphan while it is being made
        }
        try {
          Files.createFile(file);
        } catch (IOException | RuntimeException e) {
          release(key);
          throw e;
        }
        made.add(key);
        dirs.add(file.getParent());
      }
      // All created first, then synced: on a journaling file system the first sync commits every
      // creation of the batch at once and the others find nothing left to do, whereas a sync after
      // each creation would cost the disk one journal commit per file, beside the uploads' own.
      for (BlobKey key : made) {
        Path file = FileBlobStore.pathOf(root, key);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
          syncs.content(ch, file);
        }
      }
      for (Path dir : dirs) {
        syncs.directory(dir);
      }
      long now = System.nanoTime();
      synchronized (this) {
        if (!closed) {
          made.forEach(k -> ready.add(new Ready(k, now)));
          made.clear();
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn("could not create blob files ahead of time; uploads write temporary files meanwhile, "
          + "another try in {} s", RETRY.toSeconds(), e);
      synchronized (this) {
        retryAt = System.nanoTime() + RETRY.toNanos();
      }
    } finally {
      deleteQuietly(made);
      synchronized (this) {
        refilling = false;
        notifyAll();
        if (ready.size() <= capacity / 2) {
          fill(); // uploads took files while this refill ran; after a failure, fill waits RETRY
        }
      }
    }
  }

  /** Stops refilling and deletes the files still ready; files being written stay with their uploads. */
  @Override
  public void close() {
    List<BlobKey> left;
    synchronized (this) {
      closed = true;
      long until = System.nanoTime() + 10_000_000_000L;
      while (refilling && System.nanoTime() < until) {
        try {
          wait(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      left = new ArrayList<>(stale);
      ready.forEach(r -> left.add(r.key()));
      ready.clear();
      stale.clear();
    }
    deleteQuietly(left);
  }

  /** Deletes files that will not be used, then stops holding them. */
  private void deleteQuietly(List<BlobKey> keys) {
    for (BlobKey key : keys) {
      try {
        Files.deleteIfExists(FileBlobStore.pathOf(root, key));
      } catch (IOException e) {
        // unreferenced and no longer held: the orphan sweeper takes it
        LOG.debug("could not delete the unused blob file {}", key, e);
      }
    }
    synchronized (this) {
      keys.forEach(held::remove);
    }
  }
}
