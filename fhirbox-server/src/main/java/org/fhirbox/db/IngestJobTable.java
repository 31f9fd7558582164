package org.fhirbox.db;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.fhirbox.model.IngestJob;
import org.fhirbox.model.ListPosition;

/**
 * The {@code ingest_job} rows, seen from inside one transaction ({@link ResourceStore.Tx#ingestJobs()}),
 * so a job can be enqueued atomically with the resource write that asks for it.
 */
public interface IngestJobTable {

  void insert(IngestJob job);

  Optional<IngestJob> find(String id);

  /**
   * Claims the most overdue job that is queued, or running under an expired lease (its node
   * died), by setting a lease until {@code leaseUntil} and counting an attempt. Safe when many
   * nodes claim at once: the claim is a conditional update, so exactly one wins.
   *
   * <p>Projects share the workers: a project that has {@code perProject} jobs running under a
   * live lease (on any node) gets no more until one ends, and among due jobs those of projects
   * with fewer running jobs are claimed first, so one project's queue cannot hold every worker.
   * On PostgreSQL a project's jobs are claimed under a transaction-scoped advisory lock, so
   * nodes claiming at once do not pass the limit; on H2 (one node) the caller claims one at a time.
   *
   * <p>The lease is held under a token of this claim's own, {@code owner} (at most 47
   * characters) followed by a slash and a random suffix, which the returned job's
   * {@link IngestJob#leaseOwner()} names: the owner passed to the other methods. So a claim
   * superseded by a later one, even by the same node, can no longer renew, record or finish.
   *
   * <p>A job running under an expired lease that has had {@code maxAttempts} attempts already is
   * not claimed but failed ({@code last_error} says why) and returned in state FAILED: whatever
   * stopped the node running its last attempt must not stop node after node for ever.
   */
  Optional<IngestJob> claim(String owner, Instant now, Instant leaseUntil, int maxAttempts, int perProject);

  /** Extends the lease while {@code owner} (a claim's token) still holds it; false when it was lost. */
  boolean extendLease(String id, String owner, Instant leaseUntil);

  /**
   * Records the Binary {@code owner}'s attempt fetched, while {@code owner} holds the lease and
   * the job has none yet; false otherwise. Called in the transaction that creates the Binary, so
   * that Binary exists only if the job names it: a node that takes the job over later uses it
   * instead of fetching again, and one that lost the lease first creates none.
   */
  boolean recordBinary(String id, String owner, String binaryId);

  /**
   * Forgets the Binary the job records, {@code binaryId}, while {@code owner} holds the lease: that
   * Binary was deleted (the job failed or was skipped before it was queued again), so the job
   * fetches anew. False when the lease was lost or the job records another Binary.
   */
  boolean forgetBinary(String id, String owner, String binaryId);

  /**
   * Forgets {@code binaryId}, the Binary a failed job records, while the job is still failed and
   * records it; false otherwise (it was queued again, or records another). The row stays locked
   * until the transaction ends, so a retry queued meanwhile waits for the caller's decision.
   */
  boolean forgetFailedBinary(String id, String binaryId);

  /**
   * Records the outcome of {@code owner}'s attempt and releases the lease: QUEUED with a
   * {@code nextAttemptAt} for a retry, or a final state. False when the lease was lost (another
   * node owns the job now), in which case nothing changes. A null {@code binaryId} keeps the
   * Binary the job records: one recorded by a transaction whose commit reported an error, but stood.
   */
  boolean finish(String id, String owner, IngestJob.State state, String lastError, String binaryId,
      Instant nextAttemptAt, Instant now);

  /**
   * Queues a failed or skipped job of {@code project} again, due {@code now}, with its attempts
   * counted from zero; false when there is no such job or it is not in a final failed state.
   */
  boolean requeue(String id, String project, Instant now);

  /** A project's jobs, newest first, optionally only those in {@code state}. */
  default List<IngestJob> list(String project, IngestJob.State state, int limit) {
    return list(project, state, null, limit);
  }

  /**
   * A page of {@link #list(String, IngestJob.State, int)}: the jobs after {@code after} in its
   * order (newest first, then by id), or from the first when it is null.
   */
  List<IngestJob> list(String project, IngestJob.State state, ListPosition after, int limit);

  /** Jobs not yet finished (queued or running), across projects: the queue depth. */
  long pendingCount();

  /**
   * {@code project}'s jobs not yet finished (queued or running), those this transaction inserted
   * among them: what {@code FHIRBOX_INGEST_MAX_QUEUED_PER_PROJECT} caps.
   */
  long pendingCount(String project);
}
