package org.fhirbox.audit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.fhirbox.core.BackendException.Kind;
import org.fhirbox.db.CommitOutcomeUnknown;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.db.StoreException;
import org.fhirbox.fhir.ResourceRepository;
import org.hl7.fhir.r4.model.AuditEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one batch of the {@link AuditTrail}'s events, and does not give up on it while the
 * database refuses writes: a disk that filled up, a PostgreSQL failover that left the pool on a
 * read-only node, connections broken by a restart. It retries after a pause that doubles from
 * {@link #FIRST_PAUSE} up to {@link #MAX_PAUSE}, taking no new events meanwhile, so the queue fills
 * and requests wait and then drop, counted, as they do for a writer stuck on its database. An
 * event is given up on its own (and counted in {@link #failedCount}) only for a failure that is its
 * own: it cannot be built or validated, or holds a value the database cannot store, or the database
 * still refuses it alone after {@link #FAULT_ATTEMPTS} for a reason it does not name.
 *
 * <p>Each event carries the id it was given when it was recorded, and is created with that id. A
 * commit whose outcome is unknown ({@link CommitOutcomeUnknown}) may have stored
 * the batch, so every attempt after a failure first skips the ids already stored: a retry never
 * stores an event twice.
 */
final class AuditBatchWriter {
  private static final Logger LOG = LoggerFactory.getLogger(AuditBatchWriter.class);
  static final Duration FIRST_PAUSE = Duration.ofMillis(100);
  static final Duration MAX_PAUSE = Duration.ofSeconds(10);
  /**
   * Attempts of a batch that met only faults the database does not name as its unavailability
   * (about 13 s of pauses), after which an event failing so on its own is given up: an unreachable, full or read-only
   * database names itself and is waited for without end, but one event the database keeps refusing
   * for a reason of its own would otherwise hold back every event after it.
   */
  static final int FAULT_ATTEMPTS = 8;

  /** An event as the queue holds it: the AuditEvent id it will be created with, and what it records. */
  record Queued(String id, AuditEntry entry) {}

  private final ResourceStore store;
  private final ResourceRepository repository;
  private final Function<AuditEntry, AuditEvent> build;
  private final AtomicLong written = new AtomicLong();
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();

  AuditBatchWriter(ResourceStore store, ResourceRepository repository, Function<AuditEntry, AuditEvent> build) {
    this.store = store;
    this.repository = repository;
    this.build = build;
  }

  long writtenCount() {
    return written.get();
  }

  long batchCount() {
    return batches.get();
  }

  /** Events given up without being written. */
  long failedCount() {
    return failed.get();
  }

  /** Counts {@code n} events given up by the caller (the writer was stopped before it wrote them). */
  void gaveUp(int n) {
    failed.addAndGet(n);
  }

  /**
   * Writes {@code batch} in one transaction, retrying as the class comment says, and returns once
   * every event is written or given up. Interrupted while it waits to retry, it throws and leaves in
   * {@code batch} the events not written.
   */
  void write(List<Queued> batch) throws InterruptedException {
    boolean retrying = false;
    long pauseNanos = FIRST_PAUSE.toNanos();
    int attempts = 0;
    int faults = 0;
    while (!batch.isEmpty()) {
      RuntimeException failure;
      try {
        boolean check = retrying;
        store.inTransaction(tx -> {
          for (Queued q : batch) {
            create(tx, q, check);
          }
          return null;
        });
        written.addAndGet(batch.size());
        batches.incrementAndGet();
        batch.clear();
        break;
      } catch (RuntimeException e) {
        failure = e;
      }
      retrying = true;
      if (!databaseDown(failure) && oneAtATime(batch, ++faults >= FAULT_ATTEMPTS)) {
        break;
      }
      if (attempts++ == 0) {
        LOG.warn("could not write {} audit events; retrying until the database takes them", batch.size(), failure);
      }
      TimeUnit.NANOSECONDS.sleep(pauseNanos);
      pauseNanos = Math.min(pauseNanos * 2, MAX_PAUSE.toNanos());
    }
    if (attempts > 0) {
      LOG.info("the database took audit events again after {} failed attempts", attempts);
    }
  }

  /**
   * Each event of {@code batch} in its own transaction, to find the one whose failure is its own;
   * removes the events written or given up. True when none is left; false when the database
   * refused one for a reason that is not that event's own, so the rest waits for a retry. With
   * {@code giveUpFaults} (after {@link #FAULT_ATTEMPTS}) an event that meets a fault is given up.
   */
  private boolean oneAtATime(List<Queued> batch, boolean giveUpFaults) {
    List<Queued> held = new ArrayList<>();
    boolean anyWritten = false;
    for (Iterator<Queued> it = batch.iterator(); it.hasNext(); ) {
      Queued q = it.next();
      RuntimeException e = writeAlone(q);
      if (e == null) {
        anyWritten = true;
        it.remove();
      } else if (ownFailure(e) || giveUpFaults && !databaseDown(e)) {
        giveUp(q, e);
        it.remove();
      } else if (databaseDown(e)) {
        return false;
      } else {
        held.add(q);
      }
    }
    // A fault with no SQL state that tells why (a read-only or full database gives one) is taken
    // for the database's while no event gets through. Once others were written in this pass, the
    // events it held get one more try, and one failing again is given up as its own failure
    // rather than holding back every event after it.
    for (Queued q : anyWritten ? held : List.<Queued>of()) {
      RuntimeException e = writeAlone(q);
      if (e != null && databaseDown(e)) {
        return false;
      }
      if (e != null) {
        giveUp(q, e);
      }
      batch.remove(q);
    }
    return batch.isEmpty();
  }

  /** Writes {@code q} in its own transaction; returns the failure, or null when it is written. */
  private RuntimeException writeAlone(Queued q) {
    try {
      store.inTransaction(tx -> {
        create(tx, q, true);
        return null;
      });
      written.incrementAndGet();
      batches.incrementAndGet();
      return null;
    } catch (RuntimeException e) {
      return e;
    }
  }

  private void create(ResourceStore.Tx tx, Queued q, boolean check) {
    if (check && tx.current(q.entry().project(), "AuditEvent", q.id(), false).isPresent()) {
      return; // stored by an attempt whose commit outcome was unknown
    }
    repository.create(tx, q.entry().project(), build.apply(q.entry()), q.id(), null, null);
  }

  private void giveUp(Queued q, RuntimeException e) {
    failed.incrementAndGet();
    LOG.warn("audit event for {} given up: it cannot be stored", q.entry().what(), e);
  }

  /** The database refuses every write for now: unreachable, full, read-only, or a commit lost. */
  private static boolean databaseDown(RuntimeException e) {
    return e instanceof StoreException s && (s.kind() == Kind.UNAVAILABLE || s.kind() == Kind.CONFLICT);
  }

  /** A failure that only this event has: it cannot be built or validated, or holds a value no database stores. */
  private static boolean ownFailure(RuntimeException e) {
    return !(e instanceof StoreException s) || s.kind() == Kind.INVALID_VALUE;
  }
}
