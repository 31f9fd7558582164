package org.fhirbox.storage;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Makes directory entries durable in shared batches, as a database shares one log flush among
 * the transactions that commit together. An upload renames its file into place and then calls
 * {@link #await}: the first caller to find no sync under way becomes the leader, takes every
 * directory named so far, syncs each of them once and wakes every caller of that batch; callers
 * that arrive while it works wait and form the next batch. A rename is on disk only once its
 * directory is synced (fsync(2)), and each directory in a batch is synced after every rename
 * of that batch, so {@link #await} returns only when the caller's entry is durable.
 *
 * <p>A failed sync fails the callers that named that directory in that batch, and no one else.
 */
final class GroupCommit {
  /** Makes one directory's entries durable. */
  interface DirectorySync {
    void sync(Path dir) throws IOException;
  }

  /** The directories named by one group of callers, and what syncing each gave. */
  private static final class Batch {
    final Set<Path> dirs = new LinkedHashSet<>();
    final Map<Path, IOException> failures = new HashMap<>();
    boolean done;
  }

  private final DirectorySync sync;
  private final Object lock = new Object();
  private Batch open = new Batch();
  private boolean syncing;

  GroupCommit(DirectorySync sync) {
    this.sync = sync;
  }

  /**
   * Returns once {@code dir} was synced by a sync that began after this call.
   *
   * @throws IOException what syncing {@code dir} threw
   */
  void await(Path dir) throws IOException {
    Batch mine;
    boolean leader = false;
    synchronized (lock) {
      mine = open;
      mine.dirs.add(dir);
      try {
        while (syncing && !mine.done) {
          lock.wait();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting for a directory sync");
      }
      if (!mine.done) {
        // No sync under way and ours not done: lead it. Later callers gather in a new batch.
        leader = true;
        syncing = true;
        open = new Batch();
      }
    }
    if (leader) {
      lead(mine);
    }
    IOException failure = mine.failures.get(dir);
    if (failure != null) {
      throw new IOException("could not make the directory " + dir + " durable", failure);
    }
  }

  private void lead(Batch batch) {
    Map<Path, IOException> failures = new HashMap<>();
    Set<Path> synced = new LinkedHashSet<>();
    try {
      for (Path d : batch.dirs) {
        try {
          sync.sync(d);
          synced.add(d);
        } catch (IOException e) {
          failures.put(d, e);
        } catch (RuntimeException e) {
          failures.put(d, new IOException(e));
        }
      }
    } finally {
      for (Path d : batch.dirs) {
        if (!synced.contains(d) && !failures.containsKey(d)) {
          failures.put(d, new IOException("the sync of " + d + " did not run"));
        }
      }
      synchronized (lock) {
        batch.failures.putAll(failures);
        batch.done = true;
        syncing = false;
        lock.notifyAll();
      }
    }
  }
}
