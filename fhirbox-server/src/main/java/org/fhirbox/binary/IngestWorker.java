package org.fhirbox.binary;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.fhirbox.audit.BinaryListener;
import org.fhirbox.core.FhirException;
import org.fhirbox.model.IngestJob;
import org.fhirbox.model.IngestJob.State;
import org.fhirbox.db.CommitOutcomeUnknown;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.model.StoredResource;
import org.fhirbox.storage.HeldWrites;
import org.fhirbox.fhir.ResourceRepository;
import org.fhirbox.fhir.WritePreconditions;
import org.fhirbox.fhir.Written;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Resource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs ingestion jobs on every node: claims a due job under a lease (kept alive by a heartbeat
 * while the fetch runs), fetches it into a Binary, then repoints the Attachment with If-Match so
 * a concurrent edit wins. After a 412 the job re-reads: if an Attachment still has the same url
 * (the one at the same position, else the nearest one, when an edit moved it) the repoint is
 * retried on the new version, otherwise the job is skipped. Transient failures retry with
 * exponential backoff up to {@code maxAttempts}; permanent ones fail with {@code last_error} and leave the original url in place. A node that
 * dies leaves a lease that expires, and any node then claims the job again, unless that was its
 * last attempt: then the job fails (a job that kills the node running it is not passed on for ever).
 *
 * <p>A node that stalls past its lease (a long pause, a database failover) while another node
 * takes the job over must not leave a second Binary: so the Binary is created in one transaction
 * with the job's record of it, and the Attachment repointed in one transaction with a renewal of
 * the lease, each only while this node holds the lease, and a heartbeat that finds the lease
 * lost stops the fetch at once. The node that takes over uses the Binary the job records, and
 * finds the job done when the Attachment names it already. The lease belongs to the claim, not to
 * the node: when another worker thread of the same node takes the job over, the first thread's
 * renewals, record of a Binary and outcome fail just as another node's would. A commit that
 * reports an error may have stood: the job reads back what it wrote before it decides, and never
 * deletes a Binary the Attachment names.
 */
public final class IngestWorker implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(IngestWorker.class);
  private static final String CHANGED = "the resource changed this Attachment while it was fetched";
  private static final Duration MAX_BACKOFF = Duration.ofHours(1);

  /** The longest wait an upstream's {@code Retry-After} gets before the next attempt. */
  static final Duration MAX_RETRY_AFTER = Duration.ofMinutes(5);
  private static final int MAX_REPOINT_ROUNDS = 16;

  private final ResourceStore store;
  private final ResourceRepository repository;
  private final IngestJobs jobs;
  private final BinaryImporter importer;
  private final BinaryListener audit;
  private final Settings settings;
  private final Clock clock;
  /** This node; each claim holds its lease under a token of its own that starts with it. */
  private final String owner = "node-" + UUID.randomUUID();
  private final ScheduledExecutorService workers;
  private final ScheduledExecutorService heartbeat;
  private volatile boolean closing;
  /** This node's worker threads claim one at a time, so two cannot both take a project's last place. */
  private final Object claiming = new Object();
  /** This node's workers running a job now; changed under {@link #claiming} when one starts. */
  private final java.util.concurrent.atomic.AtomicInteger running = new java.util.concurrent.atomic.AtomicInteger();

  /** Timing and limits; see the FHIRBOX_INGEST_* settings. */
  public record Settings(Duration poll, Duration lease, int maxAttempts, Duration backoff, int concurrency,
      int projectConcurrency) {}

  private record Outcome(State state, String error, String binaryId, Instant nextAttemptAt) {}

  private static final String LEASE_LOST = "the job's lease passed to another node, which goes on with it";
  static final String DISABLED = "ingestion is switched off for this project (FHIRBOX_INGEST_DISABLED_PROJECTS)";

  /** This node no longer holds the job's lease: what it was about to write is rolled back. */
  private static final class LeaseLost extends RuntimeException {
    LeaseLost() {
      super(LEASE_LOST, null, false, false);
    }
  }

  /** {@code audit} is told of each Binary a job created. */
  public IngestWorker(ResourceStore store, ResourceRepository repository, IngestJobs jobs, BinaryImporter importer,
      BinaryListener audit, Settings settings, Clock clock) {
    this.store = store;
    this.repository = repository;
    this.jobs = jobs;
    this.importer = importer;
    this.audit = audit;
    this.settings = settings;
    this.clock = clock;
    this.workers = Executors.newScheduledThreadPool(settings.concurrency(), daemon("fhirbox-ingest"));
    this.heartbeat = Executors.newSingleThreadScheduledExecutor(daemon("fhirbox-ingest-lease"));
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  private Optional<IngestJob> claim(Instant now, int perProject) {
    return store.inTransaction(tx -> tx.ingestJobs().claim(owner, now, now.plus(settings.lease()),
        settings.maxAttempts(), perProject));
  }

  /** Starts polling for due jobs. */
  public void start() {
    long poll = settings.poll().toMillis();
    for (int i = 0; i < settings.concurrency(); i++) {
      workers.scheduleWithFixedDelay(this::drain, poll, poll, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Runs due jobs until none is left. Nothing thrown leaves it: a scheduled task that throws is
   * never run again, and the future that holds the throwable is read by no one, so one escaping
   * error (an OutOfMemoryError in one fetch, a StackOverflowError in one resource) would stop this
   * worker slot for good without a word. Errors are logged and the slot goes on at the next poll:
   * the JVM's own response to running out of memory (say {@code -XX:+ExitOnOutOfMemoryError})
   * acts where the error is thrown, whether or not it is caught here. A job whose run threw an
   * Error keeps its lease until it runs out, and is then claimed again as if its node had stopped,
   * so it fails after its last attempt.
   */
  void drain() {
    try {
      while (!closing) {
        Instant now = clock.instant();
        Optional<IngestJob> job;
        synchronized (claiming) {
          // A claim takes a job of the project with the fewest running first, so one within its
          // share always comes before one beyond it. A project beyond its share may have this
          // worker as long as another of the node's workers stays free for a project whose job
          // comes next: one query either way.
          job = claim(now, running.get() < settings.concurrency() - 1 ? Integer.MAX_VALUE
              : settings.projectConcurrency());
          if (job.isPresent() && job.get().state() != State.FAILED) {
            running.incrementAndGet();
          }
        }
        if (job.isEmpty()) {
          return;
        }
        if (job.get().state() == State.FAILED) {
          LOG.info("ingestion job {} for {}/{}: failed ({})", job.get().id(), job.get().resourceType(),
              job.get().resourceId(), job.get().lastError());
          if (job.get().binaryId() != null) {
            // the stopped node had fetched the content; what the Attachment does not name goes
            String binaryId = job.get().binaryId();
            discard(job.get(), binaryId, tx -> tx.ingestJobs().forgetFailedBinary(job.get().id(), binaryId));
          }
          continue;
        }
        try {
          run(job.get());
        } finally {
          running.decrementAndGet();
        }
      }
    } catch (RuntimeException e) {
      LOG.warn("ingestion worker pass failed", e);
    } catch (Throwable e) {
      LOG.error("ingestion worker pass failed with an error; the worker goes on at its next poll", e);
    }
  }

  private void run(IngestJob job) {
    long beat = Math.max(100, settings.lease().toMillis() / 3);
    Cancellation fetch = new Cancellation();
    ScheduledFuture<?> lease = heartbeat.scheduleAtFixedRate(() -> extendLease(job, fetch), beat, beat,
        TimeUnit.MILLISECONDS);
    Outcome outcome;
    // one unit of work: the objects it stored stay leased until their Binary is committed or discarded
    try (HeldWrites.Unit unit = HeldWrites.begin()) {
      outcome = process(job, fetch);
      if ((outcome.state() == State.SKIPPED || outcome.state() == State.FAILED) && outcome.binaryId() != null) {
        discard(job, outcome.binaryId(), tx -> {
          requireLease(tx, job);
          return true;
        });
      }
    } finally {
      lease.cancel(false);
    }
    Instant now = clock.instant();
    boolean recorded = store.inTransaction(tx -> tx.ingestJobs().finish(job.id(), job.leaseOwner(), outcome.state(),
        outcome.error(), outcome.binaryId(), outcome.nextAttemptAt() == null ? now : outcome.nextAttemptAt(), now));
    if (!recorded) {
      LOG.warn("ingestion job {} lost its lease before it finished; another node owns it", job.id());
    } else if (outcome.state() != State.DONE) {
      // The error names fetched URLs only as RedactedUrl does (no user info, no query), and the
      // job's own url, which may be presigned, is not logged.
      LOG.info("ingestion job {} for {}/{}: {} ({})", job.id(), job.resourceType(), job.resourceId(),
          outcome.state().code(), outcome.error());
    }
  }

  /**
   * Deletes the Binary the job created for an Attachment it could not repoint (the resource
   * changed it, the update was refused, the node running its last attempt stopped): nothing
   * references it. A normal delete, audited, and only while {@code hold} says the job may still
   * decide (this claim holds the lease; or the job is still failed with that Binary, not queued
   * again by an admin meanwhile); when that fails the Binary stays, and the job says so.
   */
  private void discard(IngestJob job, String binaryId, Predicate<ResourceStore.Tx> hold) {
    try {
      Optional<StoredResource> gone = store.inTransaction(tx -> {
        if (!hold.test(tx)) {
          return Optional.<StoredResource>empty();
        }
        if (tx.current(job.project(), "Binary", binaryId, true).filter(b -> !b.deleted()).isEmpty()) {
          return Optional.<StoredResource>empty(); // deleted before: nothing to delete or audit again
        }
        if (tx.current(job.project(), job.resourceType(), job.resourceId(), false).flatMap(this::matching)
            .flatMap(r -> find(job, r, "Binary/" + binaryId)).isPresent()) {
          // a repoint whose commit reported an error stood after all: the Binary is in use
          LOG.warn("ingestion job {} keeps Binary/{}, which {}/{} names", job.id(), binaryId, job.resourceType(),
              job.resourceId());
          return Optional.<StoredResource>empty();
        }
        return repository.delete(tx, job.project(), "Binary", binaryId, WritePreconditions.NONE);
      });
      gone.filter(StoredResource::deleted).ifPresent(g ->
          audit.ingestionDiscarded(job.project(), binaryId, g.versionId(), job.id()));
    } catch (RuntimeException e) {
      LOG.warn("ingestion job {} could not delete its unused Binary/{}", job.id(), binaryId, e);
    }
  }

  /** The heartbeat: renews the lease, and stops the fetch once another node holds it. */
  private void extendLease(IngestJob job, Cancellation fetch) {
    try {
      Instant until = clock.instant().plus(settings.lease());
      if (!store.inTransaction(tx -> tx.ingestJobs().extendLease(job.id(), job.leaseOwner(), until))) {
        fetch.cancel(FetchException.transientFailure(LEASE_LOST, null));
      }
    } catch (RuntimeException e) {
      // the lease may still be held; the writes check it themselves
      LOG.warn("could not extend the lease of ingestion job {}", job.id(), e);
    }
  }

  /** Fails the transaction unless this node still holds the job's lease, which it renews. */
  private void requireLease(ResourceStore.Tx tx, IngestJob job) {
    if (!tx.ingestJobs().extendLease(job.id(), job.leaseOwner(), clock.instant().plus(settings.lease()))) {
      throw new LeaseLost();
    }
  }

  private Outcome process(IngestJob job, Cancellation fetch) {
    if (jobs.disabled(job.project())) {
      // queued before ingestion was switched off for its project: nothing is fetched for it now
      return new Outcome(State.SKIPPED, DISABLED, job.binaryId(), null);
    }
    if (locateCurrent(job).isEmpty()) {
      return repointedAlready(job) ? new Outcome(State.DONE, null, job.binaryId(), null)
          : new Outcome(State.SKIPPED, "the Attachment no longer has this url", job.binaryId(), null);
    }
    // an earlier attempt fetched the content and could not repoint: its Binary is used, not fetched
    // again, unless it was deleted since (the job failed or was skipped, and is now retried)
    String binaryId = job.binaryId();
    if (binaryId != null && !binaryExists(job, binaryId)) {
      String deleted = binaryId;
      try {
        store.inTransaction(tx -> {
          if (!tx.ingestJobs().forgetBinary(job.id(), job.leaseOwner(), deleted)) {
            throw new LeaseLost();
          }
          return null;
        });
      } catch (LeaseLost e) {
        return new Outcome(State.QUEUED, LEASE_LOST, binaryId, clock.instant());
      } catch (RuntimeException e) {
        return retryLater(job, e.getClass().getSimpleName() + ": " + e.getMessage(), binaryId);
      }
      binaryId = null;
    }
    if (binaryId == null) {
      Written binary = null;
      try {
        binary = importer.fetch(job.project(), job.url(), job.contentType(),
            job.resourceType() + "/" + job.resourceId(), fetch, (tx, written) -> {
              if (!tx.ingestJobs().recordBinary(job.id(), job.leaseOwner(), written.stored().id())) {
                throw new LeaseLost();
              }
            });
      } catch (LeaseLost e) {
        return new Outcome(State.QUEUED, LEASE_LOST, null, clock.instant());
      } catch (FetchException e) {
        return failure(job, e);
      } catch (CommitOutcomeUnknown e) {
        // the Binary's transaction may have committed: the job's record of the Binary, written in
        // it, says whether; if it did, that Binary is repointed, and no second one fetched
        Optional<String> stood = recordedBinary(job);
        if (stood.isEmpty()) {
          return failure(job, FetchException.transientFailure(e.getClass().getSimpleName() + ": " + e.getMessage(), e));
        }
        binaryId = stood.get();
        store.read(tx -> tx.current(job.project(), "Binary", stood.get(), false)).flatMap(this::matching)
            .filter(r -> r instanceof org.hl7.fhir.r4.model.Binary)
            .ifPresent(r -> audit.ingested(job.project(), (org.hl7.fhir.r4.model.Binary) r, job.id()));
      } catch (FhirException e) {
        return refused(job, e.getMessage(), null);
      } catch (RuntimeException e) {
        return failure(job, FetchException.transientFailure(e.getClass().getSimpleName() + ": " + e.getMessage(), e));
      }
      if (binary != null) {
        binaryId = binary.stored().id();
        if (binary.resource() instanceof org.hl7.fhir.r4.model.Binary b) {
          audit.ingested(job.project(), b, job.id());
        }
      }
    }
    try {
      return repoint(job, binaryId);
    } catch (LeaseLost e) {
      return new Outcome(State.QUEUED, LEASE_LOST, binaryId, clock.instant());
    } catch (FhirException e) {
      return refused(job, "repointing the Attachment failed: " + e.getMessage(), binaryId);
    } catch (RuntimeException e) {
      // the database failed while repointing: the job keeps its Binary for the next attempt
      return retryLater(job, "repointing the Attachment failed: " + e.getClass().getSimpleName() + ": "
          + e.getMessage(), binaryId);
    }
  }

  /**
   * A job whose Binary was refused ({@code error}): failed, unless a concurrent edit (a delete
   * among them, which leaves no Binary's securityContext to name) took the Attachment's url away
   * meanwhile: that edit wins, and the job is skipped as when it finds so before it repoints.
   */
  private Outcome refused(IngestJob job, String error, String binaryId) {
    boolean gone;
    try {
      gone = locateCurrent(job).isEmpty();
    } catch (RuntimeException e) {
      gone = false; // the database failed reading it back: the refusal stands
    }
    return new Outcome(gone ? State.SKIPPED : State.FAILED, gone ? CHANGED : error, binaryId, null);
  }

  /** The Binary the job records while this claim holds its lease, read afresh. */
  private Optional<String> recordedBinary(IngestJob job) {
    return store.read(tx -> tx.ingestJobs().find(job.id())).filter(j -> job.leaseOwner().equals(j.leaseOwner()))
        .map(IngestJob::binaryId);
  }

  /** Whether the Binary a job recorded is still there (not deleted). */
  private boolean binaryExists(IngestJob job, String binaryId) {
    return store.read(tx -> tx.current(job.project(), "Binary", binaryId, false)).filter(b -> !b.deleted())
        .isPresent();
  }

  private Outcome failure(IngestJob job, FetchException e) {
    if (closing) {
      return retryLater(job, "interrupted by shutdown", null);
    }
    if (e.kind() != FetchException.Kind.TRANSIENT) {
      return new Outcome(State.FAILED, e.getMessage(), null, null);
    }
    return retryLater(job, e.getMessage(), null, e.retryAfter().orElse(Duration.ZERO));
  }

  /**
   * A passing failure: the job is queued again with a backoff that doubles per attempt up to a
   * cap, or fails after the last attempt. {@code binaryId}: what it already fetched, or null.
   */
  private Outcome retryLater(IngestJob job, String error, String binaryId) {
    return retryLater(job, error, binaryId, Duration.ZERO);
  }

  /**
   * {@link #retryLater(IngestJob, String, String)}, waiting at least {@code asked}, what the
   * upstream asked for with {@code Retry-After} (the cap holds for it too).
   */
  private Outcome retryLater(IngestJob job, String error, String binaryId, Duration asked) {
    if (closing) {
      // Shutting down interrupted the job: hand it back at once for the next node.
      return new Outcome(State.QUEUED, error, binaryId, clock.instant());
    }
    if (job.attempts() >= settings.maxAttempts()) {
      return new Outcome(State.FAILED, "gave up after " + job.attempts() + " attempts: " + error, binaryId, null);
    }
    long factor = 1L << Math.min(30, job.attempts() - 1);
    Duration delay = settings.backoff().multipliedBy(factor);
    // an upstream's Retry-After is followed up to a few minutes: its value, not the backoff, would
    // otherwise hold each attempt at the cap and the job, with the resource's url, for hours
    Duration heeded = asked.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : asked;
    delay = delay.compareTo(heeded) < 0 ? heeded : delay;
    delay = delay.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : delay;
    return new Outcome(State.QUEUED, error, binaryId, clock.instant().plus(delay));
  }

  /** Repoints with If-Match, re-checking after each 412 (a concurrent edit wins). */
  private Outcome repoint(IngestJob job, String binaryId) {
    long expected = job.resourceVersion();
    for (int round = 0; round < MAX_REPOINT_ROUNDS; round++) {
      Optional<Located> at = round == 0 ? locate(job, expected) : locateCurrent(job);
      if (at.isEmpty()) {
        return new Outcome(State.SKIPPED, CHANGED, binaryId, null);
      }
      Resource resource = at.get().resource();
      long version = Long.parseLong(resource.getMeta().getVersionId());
      Attachment attachment = jobs.attachments(resource).get(at.get().index());
      attachment.setUrl("Binary/" + binaryId);
      if (BinaryImporter.unknownType(attachment.getContentType())) {
        // "type not known" (RFC 2046 §4.5.1): the Binary took the upstream's type instead, and the
        // repoint fills the Attachment's from it, as for one without, so the two agree
        attachment.setContentTypeElement(null);
      }
      try {
        store.inTransaction(tx -> {
          requireLease(tx, job);
          return repository.update(tx, job.project(), job.resourceType(), job.resourceId(), resource, version, null,
              null);
        });
        return new Outcome(State.DONE, null, binaryId, null);
      } catch (CommitOutcomeUnknown e) {
        // the repoint may have committed: then the Attachment names the Binary, which stays
        if (currentResource(job).flatMap(r -> find(job, r, "Binary/" + binaryId)).isPresent()) {
          return new Outcome(State.DONE, null, binaryId, null);
        }
        throw e;
      } catch (FhirException e) {
        if (e.status() != 412) {
          throw e;
        }
      }
    }
    return new Outcome(State.FAILED, "the resource kept changing; gave up repointing", binaryId, null);
  }

  /** A resource and the position of the job's Attachment in it. */
  private record Located(Resource resource, int index) {}

  /** The resource at {@code version} if an Attachment of it still has the job's url. */
  private Optional<Located> locate(IngestJob job, long version) {
    return store.read(tx -> tx.version(job.project(), job.resourceType(), job.resourceId(), version))
        .flatMap(this::matching).flatMap(r -> find(job, r, job.url()));
  }

  private Optional<Located> locateCurrent(IngestJob job) {
    return currentResource(job).flatMap(r -> find(job, r, job.url()));
  }

  private Optional<Resource> currentResource(IngestJob job) {
    return store.read(tx -> tx.current(job.project(), job.resourceType(), job.resourceId(), false))
        .flatMap(this::matching);
  }

  /**
   * Whether the Attachment names the job's Binary already: a node repointed it and lost the lease
   * before it could record the outcome. The job is done, not skipped.
   */
  private boolean repointedAlready(IngestJob job) {
    return job.binaryId() != null
        && currentResource(job).flatMap(r -> find(job, r, "Binary/" + job.binaryId())).isPresent();
  }

  private Optional<Resource> matching(StoredResource s) {
    return s.deleted() ? Optional.empty() : repository.readable(s);
  }

  /**
   * The Attachment of {@code r} with {@code url}: the one at the job's position, else, when an edit
   * inserted or removed Attachments before it, the one with that url nearest to that position.
   */
  private Optional<Located> find(IngestJob job, Resource r, String url) {
    List<Attachment> all = jobs.attachments(r);
    int best = -1;
    for (int i = 0; i < all.size(); i++) {
      if (url.equals(all.get(i).getUrl())
          && (best < 0 || Math.abs(i - job.attachmentIndex()) < Math.abs(best - job.attachmentIndex()))) {
        best = i;
      }
    }
    return best < 0 ? Optional.empty() : Optional.of(new Located(r, best));
  }

  /**
   * Stops claiming, and closes the importer so fetches in flight fail at once; their jobs are
   * handed back (state queued, due now) so another node takes them. Worker threads are not
   * interrupted: an interrupt inside an embedded H2 file operation would close the database.
   */
  @Override
  public void close() throws Exception {
    closing = true;
    workers.shutdown();
    try {
      importer.close();
    } finally {
      if (!workers.awaitTermination(30, TimeUnit.SECONDS)) {
        LOG.warn("ingestion workers did not stop within 30 s");
      }
      heartbeat.shutdown();
    }
  }
}
