package org.fhirbox.binary;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.fhirbox.binary.UploadRemovals.Removal;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.model.ResumableUpload;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes resumable uploads whose expiry passed, however many: in batches until none is left or
 * {@link #SWEEP_BUDGET} is spent. First the unfinished ones with their stored bytes (temporary
 * file, S3 multipart upload and tail), the earliest expiry first, each batch under leases this
 * node takes in one statement (an upload a request is writing is left to the next pass, and on
 * PostgreSQL the sweepers of other nodes take other rows, so that several nodes add to the rate);
 * then the rows of finished ones, in bulk.
 */
final class ExpiredUploads {
  private static final Logger LOG = LoggerFactory.getLogger(ExpiredUploads.class);
  /** Unfinished expired uploads one lease-taking statement of the sweep takes, unless {@link #batch} set another. */
  static final int SWEEP_BATCH = 100;
  /** Finished expired upload rows one statement of the sweep deletes. */
  private static final int FORGET_BATCH = 1000;
  /**
   * How long one sweep goes on taking batches (it finishes the batch in hand). The unfinished
   * uploads come first: they hold bytes, and each costs a storage deletion, where a finished row
   * is one of a thousand a statement deletes.
   */
  private static final Duration SWEEP_BUDGET = Duration.ofSeconds(60);

  private final ResourceStore store;
  private final UploadLeases leases;
  private final UploadRemovals removals;
  private final RunningDigests running;
  private final Clock clock;
  private volatile int batchSize = SWEEP_BATCH;

  ExpiredUploads(ResourceStore store, UploadLeases leases, UploadRemovals removals, RunningDigests running,
      Clock clock) {
    this.store = store;
    this.leases = leases;
    this.removals = removals;
    this.running = running;
    this.clock = clock;
  }

  /** Takes {@code size} unfinished expired uploads a statement (tests: many batches from few uploads). */
  void batch(int size) {
    if (size < 1) {
      throw new IllegalArgumentException("a batch holds at least one upload");
    }
    this.batchSize = size;
  }

  /** One pass; the number of unfinished uploads removed. */
  int sweep() {
    int size = batchSize;
    long deadline = System.nanoTime() + SWEEP_BUDGET.toNanos();
    int removed = 0;
    int batches = 0;
    while (true) {
      Instant now = clock.instant();
      String owner = leases.newOwner();
      List<ResumableUpload> batch = store.inTransaction(tx -> tx.uploads().claimExpired(owner, now,
          leases.lease(), size));
      batches++;
      for (ResumableUpload u : batch) {
        try {
          Removal removal = removals.removeClaimed(u, owner);
          if (removal != Removal.WRITING) {
            running.remove(u.id());
          }
          if (removal == Removal.DISCARDED) {
            removed++;
          }
        } catch (RuntimeException e) {
          // its lease stays until it runs out: the batches after this one take other uploads
          LOG.warn("could not remove expired upload {}; a later pass tries again", u.id(), e);
        }
      }
      if (batch.size() < size) {
        break;
      }
      if (System.nanoTime() > deadline) {
        LOG.warn("the sweep of expired uploads stopped after {} batches, its time being spent; the next pass goes on",
            batches);
        break;
      }
    }
    int forgotten = 0;
    while (true) {
      int deleted = store.inTransaction(tx -> tx.uploads().deleteFinishedExpired(clock.instant(), FORGET_BATCH));
      forgotten += deleted;
      if (deleted < FORGET_BATCH) {
        break;
      }
      if (System.nanoTime() > deadline) {
        LOG.warn("the sweep of expired uploads stopped after forgetting {} finished ones, its time being spent;"
            + " the next pass goes on", forgotten);
        break;
      }
    }
    if (removed > 0 || forgotten > 0) {
      LOG.info("removed {} expired unfinished uploads and forgot {} finished ones", removed, forgotten);
    }
    return removed;
  }
}
