package org.fhirbox.binary;

import java.io.IOException;
import org.eclipse.jetty.client.Request;

/**
 * Stops a fetch from another thread: the request in flight fails at once (a read blocked on its
 * body returns), and no later request of the fetch (a redirect) is sent. The ingestion worker
 * stops its fetch this way when it learns it lost the job's lease, and {@link MinimumRate} when
 * the upstream is too slow. The first reason given is the one the fetch fails with.
 */
public final class Cancellation {
  private Request request;
  private FetchException reason;

  /** How a cancel reaches Jetty: as the failure of the request, so reads of the body end with it. */
  static final class Stopped extends IOException {
    Stopped(FetchException reason) {
      super(reason.getMessage());
    }
  }

  /** Stops the fetch with {@code why}; later calls change nothing. */
  public void cancel(FetchException why) {
    Request current;
    synchronized (this) {
      if (reason != null) {
        return;
      }
      reason = why;
      current = request;
    }
    // outside the lock: Jetty runs the listeners of the failure on this thread
    if (current != null) {
      current.abort(new Stopped(why));
    }
  }

  public synchronized boolean isCancelled() {
    return reason != null;
  }

  /** Makes {@code next} the request to stop; throws the reason instead when the fetch was cancelled already. */
  void attach(Request next) throws FetchException {
    synchronized (this) {
      if (reason == null) {
        request = next;
        return;
      }
    }
    throw failure(null);
  }

  /**
   * The failure a fetch that failed with {@code cause} throws when it was cancelled: the
   * reason's kind, message and detail; null when it was not cancelled.
   */
  synchronized FetchException failure(Throwable cause) {
    return reason == null ? null : reason.causedBy(cause);
  }
}
