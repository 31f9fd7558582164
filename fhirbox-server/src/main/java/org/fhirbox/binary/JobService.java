package org.fhirbox.binary;

import java.time.Clock;
import java.util.List;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.fhirbox.auth.Principal;
import org.fhirbox.core.FhirException;
import org.fhirbox.model.IngestJob;
import org.fhirbox.model.ListPosition;
import org.fhirbox.db.ResourceStore;

/**
 * The ingestion jobs of a project, for its admins: the caller's own project, or the project that
 * a server admin names (the routes decide which).
 */
public final class JobService {
  private final ResourceStore store;
  private final Clock clock;
  private final IngestJobs jobs;

  public JobService(ResourceStore store, Clock clock, IngestJobs jobs) {
    this.store = store;
    this.clock = clock;
    this.jobs = jobs;
  }

  /**
   * Queues a failed or skipped job of {@code project} again, due now, its attempts counted
   * afresh. 404 for another project's job or none; 409 for a job that has not failed, or of a
   * project whose ingestion is switched off; 429 when the project's backlog is full.
   *
   * @param project read once the caller is known to be an admin
   */
  public IngestJob retry(Principal principal, Supplier<String> project, String id) {
    if (!principal.access().isAdmin()) {
      throw FhirException.forbidden("retrying jobs needs project administration rights");
    }
    String p = project.get();
    if (jobs.disabled(p)) {
      throw FhirException.conflict(IngestWorker.DISABLED + ": no job of it is retried");
    }
    return store.inTransaction(tx -> {
      IngestJob job = tx.ingestJobs().find(id).filter(j -> j.project().equals(p))
          .orElseThrow(() -> FhirException.notFound("job '" + id + "' not found"));
      if (job.state() == IngestJob.State.FAILED || job.state() == IngestJob.State.SKIPPED) {
        // a retried job is queued again: it counts against the backlog as a new one does
        jobs.requireBacklogRoom(tx, p, 1, "retrying job '" + id + "' would queue one more");
      }
      if (!tx.ingestJobs().requeue(id, p, clock.instant())) {
        throw FhirException.conflict("job '" + id + "' is " + job.state().code() + ": only a failed or skipped job"
            + " can be retried");
      }
      return tx.ingestJobs().find(id).orElseThrow();
    });
  }

  /**
   * Newest first. The filters are read once the caller is known to be an admin.
   *
   * @param project the project whose jobs are listed
   * @param state the state asked for, or null for all
   * @param after where the page starts: after this job (null: at the newest)
   */
  public List<IngestJob> list(Principal principal, Supplier<String> project, Supplier<IngestJob.State> state,
      Supplier<ListPosition> after, IntSupplier count) {
    if (!principal.access().isAdmin()) {
      throw FhirException.forbidden("listing jobs needs project administration rights");
    }
    String p = project.get();
    IngestJob.State s = state.get();
    ListPosition a = after.get();
    int n = count.getAsInt();
    return store.read(tx -> tx.ingestJobs().list(p, s, a, n));
  }
}
