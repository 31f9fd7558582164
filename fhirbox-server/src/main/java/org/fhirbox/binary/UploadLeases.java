package org.fhirbox.binary;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.model.ResumableUpload;
import org.fhirbox.storage.WriteFence;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leases of resumable uploads: a request writes to an upload, completes it or removes it only
 * while it holds the upload's lease, taken by a compare-and-set on the offset it starts from
 * ({@code UploadTable.claim}), so that of two racing requests, on one node or two, one writes and
 * the other gets 409 (or 423 while the lease stays held, see {@link #claim}). A lease is short
 * and renewed while bytes arrive ({@link #keeper}), so that an upload a crashed node was writing
 * is free again soon.
 *
 * <p>Clocks: the database dates every lease, and judges whether one ran out, by its own clock,
 * so that a node whose clock runs ahead does not see another's live lease as run out. A node
 * counts when its own lease is due for renewal, and whether it still surely holds it, on its
 * monotonic clock ({@link System#nanoTime}) from just before the statement that took or renewed
 * it: the lease the database granted then lasts at least that long.
 */
final class UploadLeases {
  private static final Logger LOG = LoggerFactory.getLogger(UploadLeases.class);
  private static final SecureRandom RANDOM = new SecureRandom();
  /** How long a writing request holds its upload without renewing, unless configured. */
  static final Duration DEFAULT_LEASE = Duration.ofSeconds(15);
  /**
   * How long a request waits for another's lease before answering 409: a client that lost its
   * connection mid-piece and comes back at once finds the server still storing what it received.
   */
  private static final long LEASE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(3);
  /** How often a {@link Renewal} looks whether its lease is due (at most; see {@link #tickMillis}). */
  private static final long RENEWAL_TICK_MILLIS = 250;
  /**
   * Renews the leases of writes and completions that read no request body. Several threads, so
   * that one renewal slow to get its database connection or answer does not hold back the
   * renewals of every other upload of the node until their leases run out under their writes.
   */
  private static final ScheduledExecutorService RENEWALS = renewals();

  private final ResourceStore store;
  private final Duration lease;
  /** Renewed this often (a third of the lease) while bytes arrive. */
  private final long renewAfterNanos;
  private final long tickMillis;
  private final String node;
  private final AtomicLong counter = new AtomicLong();
  private volatile UploadPauses pauses = UploadPauses.NONE;

  UploadLeases(ResourceStore store, Duration lease) {
    this.store = store;
    this.lease = lease;
    this.renewAfterNanos = lease.toNanos() / 3;
    this.tickMillis = Math.max(10, Math.min(RENEWAL_TICK_MILLIS, TimeUnit.NANOSECONDS.toMillis(renewAfterNanos) / 4));
    byte[] b = new byte[6];
    RANDOM.nextBytes(b);
    this.node = HexFormat.of().formatHex(b);
  }

  private static ScheduledExecutorService renewals() {
    AtomicInteger n = new AtomicInteger();
    ScheduledThreadPoolExecutor pool = new ScheduledThreadPoolExecutor(4, r -> {
      Thread t = new Thread(r, "upload-lease-renewals-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    pool.setRemoveOnCancelPolicy(true);
    return pool;
  }

  /** How long a lease lasts without renewal; a request told 423 is asked to retry after it. */
  Duration lease() {
    return lease;
  }

  /** Where requests of an upload are held (tests); {@link UploadPauses#NONE} in production. */
  void pauseAt(UploadPauses p) {
    this.pauses = p;
  }

  /** Holds this request at {@code point} when a test asks for it. */
  void pause(UploadPauses.Point point, String id) {
    pauses.at(point, id);
  }

  /** A holder name no other request, on this node or another, uses. */
  String newOwner() {
    return node + "-" + counter.incrementAndGet();
  }

  /** Takes the lease as {@link #tryClaim} does; whether it was taken. */
  boolean take(String id, long offset, String owner) {
    return tryClaim(id, offset, owner).isPresent();
  }

  /**
   * Takes the lease of upload {@code id} at {@code offset} if it is free; the row as it is under
   * the lease, or empty.
   */
  Optional<ResumableUpload> tryClaim(String id, long offset, String owner) {
    return store.inTransaction(tx -> tx.uploads().claim(id, offset, owner, lease)
        ? tx.uploads().find(id) : Optional.empty());
  }

  /** An upload's row as a claim left it, and when (this node's {@link System#nanoTime}, just before the claim). */
  record Held(ResumableUpload upload, long sinceNanos) {}

  /**
   * Takes the lease at {@code u}'s offset, waiting a little for another holder; 409 when the
   * offset moved on or the upload finished meanwhile (a retry of its last piece is then answered
   * as for a finished upload, see {@code ResumableUploads.append}), 423 with {@code Retry-After}
   * when the lease stays taken. Returns the row as it is under the lease.
   */
  Held claim(ResumableUpload u, String owner) {
    long deadline = System.nanoTime() + LEASE_WAIT_NANOS;
    while (true) {
      long since = System.nanoTime();
      Optional<ResumableUpload> held = tryClaim(u.id(), u.offset(), owner);
      if (held.isPresent()) {
        return new Held(held.get(), since);
      }
      pause(UploadPauses.Point.LEASE_TAKEN, u.id());
      ResumableUpload current = store.read(tx -> tx.uploads().find(u.id()))
          .orElseThrow(() -> FhirException.notFound("no upload " + u.id()));
      if (current.offset() != u.offset() || current.finished()) {
        throw FhirException.conflict("the upload moved on to offset " + current.offset()
            + " while this request waited; ask HEAD for it and continue from there");
      }
      if (System.nanoTime() > deadline) {
        // 423, not 409: a tus client takes 409 for another offset, and tus-js-client forgets an
        // upload whose HEAD answers any 4xx but 423
        throw FhirException.locked("another request is writing to or committing this upload; try again once it"
            + " is done", lease.toSeconds());
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw FhirException.conflict("interrupted while waiting for another request writing to this upload");
      }
    }
  }

  /**
   * The upload once no request is writing to it, waiting (a little) for one that is: a client
   * whose connection broke mid-piece asks HEAD at once, while the server is still storing what
   * arrived, and should learn the offset it will continue from, not the one before.
   */
  ResumableUpload settled(ResumableUpload u) {
    long deadline = System.nanoTime() + LEASE_WAIT_NANOS;
    ResumableUpload current = u;
    while (current.leased() && System.nanoTime() < deadline) {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return current;
      }
      current = store.read(tx -> tx.uploads().find(u.id())).orElse(current);
    }
    return current;
  }

  /** Releases a lease; a failure is only logged, as the lease runs out by itself. */
  void releaseQuietly(String id, String owner) {
    try {
      store.inTransaction(tx -> tx.uploads().releaseLease(id, owner));
    } catch (RuntimeException e) {
      LOG.warn("could not release the lease of upload {}; it runs out in {} s", id, lease.toSeconds(), e);
    }
  }

  /**
   * {@code body}, renewing the lease while bytes arrive and failing with {@link LeaseLost} once it
   * was lost; and, as the {@link WriteFence} of the append, the same check before the first byte
   * is written.
   */
  LeaseKeeper keeper(InputStream body, Held held, String owner) {
    // counted from the claim, not from now: what ran since (digests read back) may have been long
    return new LeaseKeeper(body, held.upload().id(), owner, held.sinceNanos());
  }

  /**
   * Renews the lease {@code owner} claimed at {@code claimedNanos} ({@link System#nanoTime}, taken
   * just before the claim) every third of the lease until
   * closed, for work under the lease that reads no request body (completing a blob and reading it
   * once more may outlast a lease, and a HEAD would then take the upload over and read it again).
   * A renewal that finds the lease lost stops: the work's commit then finds the upload taken over.
   */
  Renewal renewing(String id, String owner, long claimedNanos) {
    return new Renewal(id, owner, claimedNanos);
  }

  /** A lease renewed on a timer until closed. */
  final class Renewal implements AutoCloseable {
    private final String id;
    private final String owner;
    private final ScheduledFuture<?> task;
    private long renewedNanos;
    private boolean closed;

    private Renewal(String id, String owner, long renewedNanos) {
      this.id = id;
      this.owner = owner;
      this.renewedNanos = renewedNanos;
      this.task = RENEWALS.scheduleWithFixedDelay(this::renewIfDue, tickMillis, tickMillis, TimeUnit.MILLISECONDS);
    }

    private synchronized void renewIfDue() {
      long now = System.nanoTime();
      if (closed || now - renewedNanos < renewAfterNanos) {
        return;
      }
      pause(UploadPauses.Point.RENEWING, id);
      try {
        if (!store.inTransaction(tx -> tx.uploads().extendLease(id, owner, lease))) {
          // finished meanwhile, or taken over: then the work's commit fails
          LOG.debug("upload {}: its lease is no longer this request's", id);
          closed = true;
          task.cancel(false);
          return;
        }
        renewedNanos = now;
      } catch (RuntimeException e) {
        LOG.warn("could not renew the lease of upload {}; trying again", id, e);
      }
    }

    @Override
    public synchronized void close() {
      closed = true;
      task.cancel(false);
    }
  }

  /** The lease ran out and another request took the upload: this one must stop writing. */
  static final class LeaseLost extends IOException {
    LeaseLost(String id) {
      super("the lease of upload " + id + " was lost");
    }
  }

  /** Renews the lease while bytes arrive, and stops the piece at once when it was lost. */
  final class LeaseKeeper extends FilterInputStream implements WriteFence {
    private final String id;
    private final String owner;
    private long renewedNanos;

    LeaseKeeper(InputStream in, String id, String owner, long renewedNanos) {
      super(in);
      this.id = id;
      this.owner = owner;
      this.renewedNanos = renewedNanos;
    }

    /**
     * The lease was claimed or renewed less than a third of it ago, so no one else can
     * hold it; or it is renewed now. Else {@link LeaseLost}: a request that stalled past its
     * lease must not write from the offset it started at.
     */
    @Override
    public void confirm() throws LeaseLost {
      renewIfDue();
    }

    /**
     * Renewed on a timer while {@code write} runs: a write to the store reads no body, and a
     * store slow to take a part (S3 retrying it) must not let the lease run out under it, or a
     * request that takes the upload over writes the same part number, and this one's part,
     * landing later, replaces the part the row names.
     */
    @Override
    public <T> T holding(Write<T> write) throws IOException {
      pause(UploadPauses.Point.WRITING, id);
      Renewal renewal = new Renewal(id, owner, renewedNanos);
      try {
        return write.run();
      } finally {
        renewal.close();
        synchronized (renewal) {
          renewedNanos = renewal.renewedNanos;
        }
      }
    }

    private void renewIfDue() throws LeaseLost {
      long now = System.nanoTime();
      if (now - renewedNanos < renewAfterNanos) {
        return;
      }
      if (!store.inTransaction(tx -> tx.uploads().extendLease(id, owner, lease))) {
        throw new LeaseLost(id);
      }
      renewedNanos = now;
    }

    @Override
    public int read() throws IOException {
      renewIfDue();
      return super.read();
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      renewIfDue();
      return super.read(b, off, len);
    }
  }
}
