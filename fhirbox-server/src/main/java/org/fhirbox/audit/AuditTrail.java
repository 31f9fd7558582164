package org.fhirbox.audit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.audit.AuditBatchWriter.Queued;
import org.fhirbox.fhir.ResourceIds;
import org.fhirbox.fhir.ResourceRepository;
import org.hl7.fhir.r4.model.AuditEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes AuditEvents off the request's hot path: {@link #record} offers to a bounded in-memory
 * queue; one background thread drains it and inserts each batch through the normal repository
 * in one transaction, so AuditEvents are versioned, indexed and searchable like any resource.
 * {@link #close} stops taking events and writes what is queued.
 *
 * <p>When the queue is full, the request waits for room (up to {@link #DEFAULT_FULL_WAIT})
 * instead of losing its event: a server that takes requests faster than it can write their
 * AuditEvents slows down to the rate it can audit. Before, a full queue dropped the event at
 * once: 100 KB uploads at 16 connections on a 2-core host lost 8,301 of 35,141 events in a
 * minute (the writer is one thread among seventeen busy ones), and the upload rate counted
 * uploads whose audit was never written. Only a writer that frees no room for that long loses
 * events, dropped, counted and logged at WARN: one stuck on its database, or one retrying a batch
 * the database refuses ({@link AuditBatchWriter}: it takes no new events until that batch is
 * written). An event the writer took is given up only when it cannot be stored at all, counted in
 * {@link #failedCount}.
 *
 * <p>Once an event arrives the writer waits up to the linger time (10 ms by default) for more
 * before it writes the batch, so that a steady stream of uploads shares its audit commits. The
 * linger was 100 ms while every H2 commit wrote a chunk of pages to the file; since the commit
 * journal made a commit an append, a long linger only keeps batches in memory for longer: at 16
 * connections of 100 KB uploads, the build with 10 ms gave 1,370-1,492 uploads/s against
 * 1,336-1,424 for the one before with 100 ms (same minutes, 2026-12-03), and its collector's
 * concurrent threads used a third less CPU. The events of that window are in memory, like the
 * rest of the queue, so a crash can lose them; a request waits only while the queue is full.
 */
public final class AuditTrail implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AuditTrail.class);
  static final int BATCH = 200;
  static final Duration DEFAULT_LINGER = Duration.ofMillis(10);
  /** How long a request waits for room in a full queue before its event is dropped. */
  static final Duration DEFAULT_FULL_WAIT = Duration.ofSeconds(10);
  private static final long CLOSE_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  /** How long the writer pauses after an Error before it takes the next events. */
  static final Duration ERROR_PAUSE = Duration.ofSeconds(1);

  private final AuditBatchWriter batchWriter;
  private final AuditEventFactory factory = new AuditEventFactory();
  private final AuthenticationEventFactory authentications = new AuthenticationEventFactory();
  private final BlockingQueue<Queued> queue;
  private final int capacity;
  private final Duration closeTimeout;
  private final long lingerNanos;
  private final long fullWaitNanos;
  private final AtomicLong waits = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong droppedTotal = new AtomicLong();
  private final Thread writer;
  private volatile boolean running = true;
  /** Put in the queue by {@link #close} to wake a writer waiting for the next event; never written. */
  private static final Queued WAKE = new Queued("wake", null);

  public AuditTrail(ResourceStore store, ResourceRepository repository, int capacity, Duration closeTimeout) {
    this(store, repository, capacity, closeTimeout, DEFAULT_LINGER, DEFAULT_FULL_WAIT);
  }

  /**
   * @param linger how long the writer waits, after an event arrives, for more to share its
   *     transaction (never past a full batch, never once {@link #close} was called)
   * @param fullWait how long {@link #record} waits for room in a full queue before it drops
   */
  public AuditTrail(ResourceStore store, ResourceRepository repository, int capacity, Duration closeTimeout,
      Duration linger, Duration fullWait) {
    if (capacity < 1) {
      throw new IllegalArgumentException("the audit queue needs room for at least one event, got " + capacity);
    }
    this.batchWriter = new AuditBatchWriter(store, repository, this::build);
    this.capacity = capacity;
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.closeTimeout = closeTimeout;
    this.lingerNanos = linger.toNanos();
    this.fullWaitNanos = fullWait.toNanos();
    this.writer = new Thread(this::drainLoop, "fhirbox-audit");
    writer.setDaemon(true);
  }

  /** Starts the writer thread. */
  public AuditTrail start() {
    writer.start();
    return this;
  }

  /**
   * Queues one event, waiting for room while the queue is full (see the class comment); returns
   * false, and counts a drop, when it stayed full for the whole wait or the trail is closed. The
   * event gets its AuditEvent id here, so that a write retried after an unknown commit outcome
   * finds it stored (see {@link AuditBatchWriter}).
   */
  public boolean record(AuditEntry entry) {
    Queued r = new Queued(ResourceIds.newId(), entry);
    if (running && queue.offer(r)) {
      return true;
    }
    if (running) {
      waits.incrementAndGet();
      try {
        if (queue.offer(r, fullWaitNanos, TimeUnit.NANOSECONDS)) {
          return true;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    droppedTotal.incrementAndGet();
    if (dropped.getAndIncrement() == 0) {
      LOG.warn("audit queue full (capacity {}) for {} ms, or closed: dropping audit events until it drains",
          capacity, TimeUnit.NANOSECONDS.toMillis(fullWaitNanos));
    }
    return false;
  }

  /** Events waiting to be written. */
  public long queueDepth() {
    return queue.size();
  }

  /** Events that found the queue full and waited for room, since start. */
  public long waitCount() {
    return waits.get();
  }

  /** Events dropped since start: the queue stayed full for the whole wait, or the trail was closed. */
  public long droppedCount() {
    return droppedTotal.get();
  }

  /** Events written since start. */
  public long writtenCount() {
    return batchWriter.writtenCount();
  }

  /**
   * Events taken from the queue and given up since start: an event that cannot be stored, a batch
   * that met an Error, or events still unwritten when {@link #close} stopped waiting for them.
   */
  public long failedCount() {
    return batchWriter.failedCount();
  }

  /** Batches written since start: the transactions the trail committed, one per batch. */
  public long batchCount() {
    return batchWriter.batchCount();
  }

  /** Whether the writer thread runs: false before {@link #start}, after {@link #close}, or if it died. */
  public boolean writerAlive() {
    return writer.isAlive();
  }

  /**
   * Takes batches from the queue and writes them until closed. Nothing thrown ends it: an Error in
   * a write (an OutOfMemoryError while a large upload holds the heap) would otherwise stop auditing
   * for good, and every audited request would then wait out a full queue. The batch that met the
   * Error is given up, counted and logged, and the writer goes on after {@link #ERROR_PAUSE}. The
   * JVM's own response to running out of memory ({@code -XX:+ExitOnOutOfMemoryError}) acts where
   * the error is thrown, whether or not it is caught here.
   */
  private void drainLoop() {
    List<Queued> batch = new ArrayList<>(BATCH);
    while (running || !queue.isEmpty()) {
      try {
        try {
          Queued first = queue.poll(250, TimeUnit.MILLISECONDS);
          if (first != null && first != WAKE) {
            batch.add(first);
            gather(batch);
            batchWriter.write(batch);
          }
        } catch (Throwable e) {
          if (e instanceof InterruptedException) {
            throw (InterruptedException) e;
          }
          LOG.error("audit writer failed; {} audit events given up, the writer goes on", batch.size(), e);
          batchWriter.gaveUp(batch.size());
          batch.clear();
          TimeUnit.NANOSECONDS.sleep(ERROR_PAUSE.toNanos());
        }
      } catch (InterruptedException e) {
        // close() interrupts only after its timeout: give up on what is left
        int lost = batch.size() + queue.size();
        batchWriter.gaveUp(lost);
        LOG.warn("audit writer stopped by close; {} audit events not written", lost);
        break;
      }
      reportDrops();
    }
  }

  /** Adds what arrives within the linger time after the batch's first event, up to a full batch. */
  private void gather(List<Queued> batch) throws InterruptedException {
    long deadline = System.nanoTime() + lingerNanos;
    while (true) {
      queue.drainTo(batch, BATCH - batch.size());
      batch.removeIf(q -> q == WAKE);
      long left = deadline - System.nanoTime();
      if (batch.size() >= BATCH || left <= 0 || !running) {
        return;
      }
      // in slices, so that close() does not wait out a long linger
      Queued next = queue.poll(Math.min(left, CLOSE_CHECK_NANOS), TimeUnit.NANOSECONDS);
      if (next != null) {
        batch.add(next);
      }
    }
  }

  private void reportDrops() {
    long d = dropped.getAndSet(0);
    if (d > 0) {
      LOG.warn("dropped {} audit events: the audit queue (capacity {}) was full", d, capacity);
    }
  }

  private AuditEvent build(AuditEntry e) {
    if (e instanceof AuthenticationRecord a) {
      return authentications.build(a);
    }
    if (e instanceof ClientAuthenticationRecord c) {
      return SecurityEventFactory.build(c);
    }
    if (e instanceof AdminChangeRecord c) {
      return SecurityEventFactory.build(c);
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
    // a writer waiting for an event would otherwise see the close only when its wait ends; a full
    // queue takes no WAKE, and needs none: its writer is busy
    queue.offer(WAKE);
    try {
      writer.join(closeTimeout.toMillis());
      if (writer.isAlive()) {
        LOG.warn("audit writer did not finish within {}; stopping it", closeTimeout);
        writer.interrupt();
        writer.join(1000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
