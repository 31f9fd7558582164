package org.fhirbox.binary;

import java.util.List;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.fhirbox.auth.Principal;
import org.fhirbox.core.FhirException;
import org.fhirbox.model.IngestJob;
import org.fhirbox.db.ResourceStore;

/** The ingestion jobs of the caller's project, for its admins. */
public final class JobService {
  private final ResourceStore store;

  public JobService(ResourceStore store) {
    this.store = store;
  }

  /**
   * Newest first. The filters are read once the caller is known to be an admin.
   *
   * @param state the state asked for, or null for all
   */
  public List<IngestJob> list(Principal principal, Supplier<IngestJob.State> state, IntSupplier count) {
    if (!principal.access().isAdmin()) {
      throw FhirException.forbidden("listing jobs needs project administration rights");
    }
    IngestJob.State s = state.get();
    int n = count.getAsInt();
    return store.read(tx -> tx.ingestJobs().list(principal.project(), s, n));
  }
}
