package org.fhirbox.binary;

import org.fhirbox.app.FhirboxServer;

/** Sets, for tests outside this package, how many expired uploads one statement of a server's sweep takes. */
public final class ExpirySweeps {
  /** What production takes. */
  public static final int DEFAULT_BATCH = ExpiredUploads.SWEEP_BATCH;

  private ExpirySweeps() {}

  public static void batch(FhirboxServer server, int size) {
    server.resumableUploads().sweepBatch(size);
  }
}
