package org.fhirbox.audit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.fhir.ResourceRepository;
import org.hl7.fhir.r4.model.AuditEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes AuditEvents off the request's hot path: {@link #record} only offers to a bounded
 * in-memory queue and never blocks; one background thread drains it and inserts each batch
 * through the normal repository in one transaction, so AuditEvents are versioned, indexed and
 * searchable like any resource. When the queue is full the event is dropped and counted, and a
 * warning with the count is logged. {@link #close} stops taking events and writes what is queued.
 */
public final class AuditTrail implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AuditTrail.class);
  static final int BATCH = 200;

  private final ResourceStore store;
  private final ResourceRepository repository;
  private final AuditEventFactory factory = new AuditEventFactory();
  private final AuthenticationEventFactory authentications = new AuthenticationEventFactory();
  private final BlockingQueue<AuditEntry> queue;
  private final int capacity;
  private final Duration closeTimeout;
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong droppedTotal = new AtomicLong();
  private final AtomicLong written = new AtomicLong();
  private final Thread writer;
  private volatile boolean running = true;

  public AuditTrail(ResourceStore store, ResourceRepository repository, int capacity, Duration closeTimeout) {
    if (capacity < 1) {
      throw new IllegalArgumentException("the audit queue needs room for at least one event, got " + capacity);
    }
    this.store = store;
    this.repository = repository;
    this.capacity = capacity;
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.closeTimeout = closeTimeout;
    this.writer = new Thread(this::drainLoop, "fhirbox-audit");
    writer.setDaemon(true);
  }

  /** Starts the writer thread. */
  public AuditTrail start() {
    writer.start();
    return this;
  }

  /** Queues one event; returns false (and counts a drop) when the queue is full or closed. */
  public boolean record(AuditEntry r) {
    if (running && queue.offer(r)) {
      return true;
    }
    droppedTotal.incrementAndGet();
    if (dropped.getAndIncrement() == 0) {
      LOG.warn("audit queue full (capacity {}) or closed: dropping audit events until it drains", capacity);
    }
    return false;
  }

  /** Events waiting to be written. */
  public long queueDepth() {
    return queue.size();
  }

  /** Events dropped since start because the queue was full. */
  public long droppedCount() {
    return droppedTotal.get();
  }

  /** Events written since start. */
  public long writtenCount() {
    return written.get();
  }

  private void drainLoop() {
    List<AuditEntry> batch = new ArrayList<>(BATCH);
    while (running || !queue.isEmpty()) {
      try {
        AuditEntry first = queue.poll(250, TimeUnit.MILLISECONDS);
        if (first != null) {
          batch.add(first);
          queue.drainTo(batch, BATCH - 1);
          write(batch);
          batch.clear();
        }
      } catch (InterruptedException e) {
        // close() interrupts only after its timeout: give up on what is left
        break;
      } catch (RuntimeException e) {
        LOG.warn("audit writer failed; {} audit events lost", batch.size(), e);
        batch.clear();
      }
      reportDrops();
    }
  }

  private void reportDrops() {
    long d = dropped.getAndSet(0);
    if (d > 0) {
      LOG.warn("dropped {} audit events: the audit queue (capacity {}) was full", d, capacity);
    }
  }

  /** One transaction per batch; if it fails, each event alone, so one bad event loses only itself. */
  private void write(List<AuditEntry> batch) {
    try {
      store.inTransaction(tx -> {
        for (AuditEntry r : batch) {
          repository.create(tx, r.project(), build(r), null, null);
        }
        return null;
      });
      written.addAndGet(batch.size());
    } catch (RuntimeException batchFailure) {
      int lost = 0;
      for (AuditEntry r : batch) {
        try {
          store.inTransaction(tx -> repository.create(tx, r.project(), build(r), null, null));
          written.incrementAndGet();
        } catch (RuntimeException e) {
          lost++;
          if (lost == 1) {
            LOG.warn("could not write an audit event for {}", r.what(), e);
          }
        }
      }
      if (lost > 0) {
        LOG.warn("{} of {} audit events in a batch could not be written", lost, batch.size());
      }
    }
  }

  private AuditEvent build(AuditEntry e) {
    if (e instanceof AuthenticationRecord a) {
      return authentications.build(a);
    }
    return factory.build((AuditRecord) e);
  }

  /** Stops taking events, writes everything queued (bounded by the close timeout), then returns. */
  @Override
  public void close() {
    running = false;
    if (!writer.isAlive()) {
      return;
    }
    try {
      writer.join(closeTimeout.toMillis());
      if (writer.isAlive()) {
        LOG.warn("audit writer did not finish within {}; {} queued audit events lost", closeTimeout, queue.size());
        writer.interrupt();
        writer.join(1000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
