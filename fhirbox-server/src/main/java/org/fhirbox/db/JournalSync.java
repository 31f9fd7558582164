package org.fhirbox.db;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;

/**
 * Puts the commit journal's records on the disk before their commits are acknowledged, in shared
 * batches (group commit): a committer whose record is not yet durable either leads a sync of the
 * current segment, which covers every record appended before it began, or waits for the sync under
 * way and then finds its record covered or leads the next. A segment is append-only and its records
 * are numbered in commit order, so one {@code fdatasync} (metadata only where the size changed)
 * covers a whole batch, and a commit that read another's rows is durable only after that one is.
 *
 * <p>A store that synced the database file ({@code CHECKPOINT SYNC}, at every segment rotation)
 * makes every transaction up to its mark durable by itself: {@link #stored} says so, and a sync
 * that finds its segment closed by that rotation has nothing left to do.
 *
 * <p>A failed sync fails its batch and every later one: after a failed {@code fsync} the kernel
 * may have dropped the dirty pages it could not write and reports the error once, so a later
 * success would prove nothing (PostgreSQL's answer, since 2018, is the same: stop).
 */
final class JournalSync {
  /** Forces a segment's content to the disk ({@link FileChannel#force}{@code (false)}); a seam for tests. */
  interface Force {
    void force(FileChannel segment) throws IOException;
  }

  static final Force FDATASYNC = segment -> segment.force(false);

  private volatile Force force;
  private final Object lock = new Object();
  /** Every record up to this number is on the disk. Written under {@link #lock}. */
  private volatile long durable;
  /** The newest record appended, and the segment holding it. Written under {@link #lock}. */
  private volatile long appended;
  private FileChannel segment;
  private boolean syncing;
  private IOException failed;

  /** @param durable the number of the newest record already on the disk (the stored mark at opening) */
  JournalSync(long durable, Force force) {
    this.durable = durable;
    this.appended = durable;
    this.force = force;
  }

  /** Replaces how a segment is forced (tests hold a sync under way). */
  void forceWith(Force force) {
    this.force = force;
  }

  /** Record {@code seq} was appended to {@code segment}; called in record order, under the journal's lock. */
  void appended(long seq, FileChannel segment) {
    synchronized (lock) {
      appended = seq;
      this.segment = segment;
    }
  }

  /** The database file holding every transaction up to {@code seq} is on the disk. */
  void stored(long seq) {
    synchronized (lock) {
      if (seq > durable) {
        durable = seq;
        lock.notifyAll();
      }
    }
  }

  /**
   * Returns once record {@code seq} is on the disk.
   *
   * @throws IOException when a sync failed, this one or an earlier one
   */
  void await(long seq) throws IOException {
    while (true) {
      FileChannel target;
      long covers;
      synchronized (lock) {
        try {
          while (syncing && durable < seq && failed == null) {
            lock.wait();
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while waiting for the commit journal's sync");
        }
        if (failed != null) {
          throw new IOException("the commit journal could not be synced to the disk; restart fhirbox", failed);
        }
        if (durable >= seq) {
          return;
        }
        syncing = true;
        target = segment;
        covers = appended;
      }
      IOException failure = null;
      Error error = null;
      boolean closed = false;
      try {
        force.force(target);
      } catch (ClosedChannelException e) {
        closed = true;
      } catch (IOException | RuntimeException e) {
        failure = e instanceof IOException io ? io : new IOException(e);
      } catch (Error e) {
        error = e;
        failure = new IOException(e);
      }
      synchronized (lock) {
        syncing = false;
        if (closed && durable < covers) {
          // a rotation closes a segment only after a synced store of all it held (stored() ran
          // first); any other close is the journal's own, with records not yet on the disk
          failure = new IOException("the commit journal closed before its records were synced");
        }
        if (failure != null) {
          failed = failure;
        } else if (!closed && covers > durable) {
          durable = covers;
        }
        lock.notifyAll();
      }
      if (error != null) {
        throw error;
      }
    }
  }

  /**
   * Returns once every record appended before this call is on the disk: a transaction that wrote
   * nothing may have read what those commits wrote, and answers only once they would survive a
   * power loss, as PostgreSQL with {@code synchronous_commit = on} shows a commit to others only
   * after its log is flushed. Record {@code n} is appended before its commit in H2, so a row read
   * is covered. With every record on the disk (no write since the last sync) this is two volatile
   * reads: no lock, no system call.
   *
   * @throws IOException when a sync failed, this one or an earlier one, with records not on the disk
   */
  void awaitAppended() throws IOException {
    long seen = appended;
    if (durable < seen) {
      await(seen);
    }
  }

  /** False once a sync has failed. */
  boolean healthy() {
    synchronized (lock) {
      return failed == null;
    }
  }

  /** Throws once a sync has failed: a commit then would be one that cannot be made durable. */
  void requireHealthy() throws IOException {
    synchronized (lock) {
      if (failed != null) {
        throw new IOException("the commit journal could not be synced to the disk earlier; restart fhirbox", failed);
      }
    }
  }
}
