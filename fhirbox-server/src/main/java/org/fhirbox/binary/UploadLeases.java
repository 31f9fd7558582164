package org.fhirbox.binary;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
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
 */
final class UploadLeases {
  private static final Logger LOG = LoggerFactory.getLogger(UploadLeases.class);
  private static final SecureRandom RANDOM = new SecureRandom();
  /** How long a writing request holds its upload without renewing. */
  static final Duration LEASE = Duration.ofSeconds(15);
  /** Renewed this often while bytes arrive, well within {@link #LEASE}. */
  private static final Duration RENEW_AFTER = Duration.ofSeconds(5);
  /**
   * How long a request waits for another's lease before answering 409: a client that lost its
   * connection mid-piece and comes back at once finds the server still storing what it received.
   */
  private static final long LEASE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(3);
  /** How often a {@link Renewal} looks whether its lease is due (renewed only every {@link #RENEW_AFTER}). */
  private static final long RENEWAL_TICK_MILLIS = 250;
  /** Renews the leases of work that reads no request body (a completion reading its blob again). */
  private static final ScheduledExecutorService RENEWALS = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "upload-lease-renewals");
    t.setDaemon(true);
    return t;
  });

  private final ResourceStore store;
  private final Clock clock;
  private final String node;
  private final AtomicLong counter = new AtomicLong();
  private volatile UploadPauses pauses = UploadPauses.NONE;

  UploadLeases(ResourceStore store, Clock clock) {
    this.store = store;
    this.clock = clock;
    byte[] b = new byte[6];
    RANDOM.nextBytes(b);
    this.node = HexFormat.of().formatHex(b);
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
  boolean take(String id, long offset, String owner, Instant now) {
    return tryClaim(id, offset, owner, now).isPresent();
  }

  /**
   * Takes the lease of upload {@code id} at {@code offset} if it is free; the row as it is under
   * the lease, or empty.
   */
  Optional<ResumableUpload> tryClaim(String id, long offset, String owner, Instant now) {
    return store.inTransaction(tx -> tx.uploads().claim(id, offset, owner, now, now.plus(LEASE))
        ? tx.uploads().find(id) : Optional.empty());
  }

  /**
   * Takes the lease at {@code u}'s offset, waiting a little for another holder; 409 when the
   * offset moved on or the upload finished meanwhile (a retry of its last piece is then answered
   * as for a finished upload, see {@code ResumableUploads.append}), 423 with {@code Retry-After}
   * when the lease stays taken. Returns the row as it is under the lease.
   */
  ResumableUpload claim(ResumableUpload u, String owner) {
    long deadline = System.nanoTime() + LEASE_WAIT_NANOS;
    while (true) {
      Optional<ResumableUpload> held = tryClaim(u.id(), u.offset(), owner, clock.instant());
      if (held.isPresent()) {
        return held.get();
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
            + " is done", LEASE.toSeconds());
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
    while (current.leaseUntil() != null && current.leaseUntil().isAfter(clock.instant())
        && System.nanoTime() < deadline) {
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
      LOG.warn("could not release the lease of upload {}; it runs out in {} s", id, LEASE.toSeconds(), e);
    }
  }

  /**
   * {@code body}, renewing the lease while bytes arrive and failing with {@link LeaseLost} once it
   * was lost; and, as the {@link WriteFence} of the append, the same check before the first byte
   * is written.
   */
  LeaseKeeper keeper(InputStream body, ResumableUpload held, String owner) {
    // counted from the claim, not from now: what ran since (digests read back) may have been long
    Instant renewAt = held.leaseUntil() == null ? Instant.EPOCH : held.leaseUntil().minus(LEASE).plus(RENEW_AFTER);
    return new LeaseKeeper(body, held.id(), owner, renewAt);
  }

  /**
   * Renews the lease {@code owner} claimed at {@code claimed} every {@link #RENEW_AFTER} until
   * closed, for work under the lease that reads no request body (completing a blob and reading it
   * once more may outlast a lease, and a HEAD would then take the upload over and read it again).
   * A renewal that finds the lease lost stops: the work's commit then finds the upload taken over.
   */
  Renewal renewing(String id, String owner, Instant claimed) {
    return new Renewal(id, owner, claimed.plus(RENEW_AFTER));
  }

  /** A lease renewed on a timer until closed. */
  final class Renewal implements AutoCloseable {
    private final String id;
    private final String owner;
    private final ScheduledFuture<?> task;
    private Instant renewAt;
    private boolean closed;

    private Renewal(String id, String owner, Instant renewAt) {
      this.id = id;
      this.owner = owner;
      this.renewAt = renewAt;
      this.task = RENEWALS.scheduleWithFixedDelay(this::renewIfDue, RENEWAL_TICK_MILLIS, RENEWAL_TICK_MILLIS,
          TimeUnit.MILLISECONDS);
    }

    private synchronized void renewIfDue() {
      Instant now = clock.instant();
      if (closed || now.isBefore(renewAt)) {
        return;
      }
      try {
        if (!store.inTransaction(tx -> tx.uploads().extendLease(id, owner, now.plus(LEASE)))) {
          // finished meanwhile, or taken over: then the work's commit fails
          LOG.debug("upload {}: its lease is no longer this request's", id);
          closed = true;
          task.cancel(false);
          return;
        }
        renewAt = now.plus(RENEW_AFTER);
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
    private Instant renewAt;

    LeaseKeeper(InputStream in, String id, String owner, Instant renewAt) {
      super(in);
      this.id = id;
      this.owner = owner;
      this.renewAt = renewAt;
    }

    /**
     * The lease was claimed or renewed less than {@code RENEW_AFTER} ago, so no one else can
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
      try (Renewal renewal = new Renewal(id, owner, renewAt)) {
        return write.run();
      }
    }

    private void renewIfDue() throws LeaseLost {
      Instant now = clock.instant();
      if (now.isBefore(renewAt)) {
        return;
      }
      if (!store.inTransaction(tx -> tx.uploads().extendLease(id, owner, now.plus(LEASE)))) {
        throw new LeaseLost(id);
      }
      renewAt = now.plus(RENEW_AFTER);
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
