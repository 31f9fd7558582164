package org.fhirbox.binary;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * The slowest transfer a fetch may keep up, after curl's {@code --speed-limit} and
 * {@code --speed-time}: once the fetch has waited on its upstream for a whole window and fewer
 * than {@code bytesPerSecond} × window bytes of content arrived in it, the fetch is stopped
 * through its {@link Cancellation}. The idle timeout cannot catch this (one byte every 50 s
 * keeps a connection out of a 60 s idle timeout), and the total timeout only after an hour.
 *
 * <p>Waiting is the time from sending a request until its response head arrives (redirects
 * included: the window runs on across them), then the time spent inside reads of the body. The
 * time the server spends storing what arrived is not the upstream's and does not count. The
 * clock is {@link System#nanoTime}, as for the other timeouts of a fetch: this measures the
 * network, nothing stored expires by it.
 */
final class MinimumRate implements AutoCloseable {
  private final long bytesPerSecond;
  private final Duration window;
  private final long windowNanos;
  private final long required;
  private final Scheduler scheduler;
  private final Cancellation cancellation;
  /** Nanoseconds waited in this window before the current wait. */
  private long waited;
  /** When the current wait began, or -1 while not waiting. */
  private long since = -1;
  /** Bytes of content that arrived in this window. */
  private long bytes;
  private Scheduler.Task next;
  private boolean closed;

  /**
   * @param bytesPerSecond the minimum; 0 switches the check off
   * @param window how long the rate is averaged over, whole seconds (at least 1 when there is a minimum)
   */
  MinimumRate(long bytesPerSecond, Duration window, Scheduler scheduler, Cancellation cancellation) {
    this.bytesPerSecond = bytesPerSecond;
    this.window = window;
    this.windowNanos = window.toNanos();
    this.required = Math.multiplyExact(bytesPerSecond, window.toSeconds());
    this.scheduler = scheduler;
    this.cancellation = cancellation;
  }

  /** Starts the checks; until then (and when the minimum is 0) nothing is stopped. */
  synchronized MinimumRate start() {
    if (bytesPerSecond > 0) {
      schedule(windowNanos);
    }
    return this;
  }

  private void schedule(long delayNanos) {
    try {
      next = scheduler.schedule(this::check, delayNanos, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // the HTTP client is stopping, and its fetches fail with it
      closed = true;
    }
  }

  /** The fetch waits on the upstream from now on. */
  synchronized void waiting() {
    if (since < 0) {
      since = System.nanoTime();
    }
  }

  /** The wait ended with {@code count} bytes of content (0 for a response head, or the end). */
  synchronized void arrived(long count) {
    if (since >= 0) {
      waited += System.nanoTime() - since;
      since = -1;
    }
    bytes += Math.max(0, count);
  }

  /** {@code body}, with the time its reads wait and the bytes they return counted; closing it ends the checks. */
  InputStream counted(InputStream body) {
    return new FilterInputStream(body) {
      @Override
      public int read() throws IOException {
        waiting();
        int b = -1;
        try {
          b = super.read();
          return b;
        } finally {
          arrived(b < 0 ? 0 : 1);
        }
      }

      @Override
      public int read(byte[] buf, int off, int len) throws IOException {
        waiting();
        int n = -1;
        try {
          n = super.read(buf, off, len);
          return n;
        } finally {
          arrived(n);
        }
      }

      @Override
      public void close() throws IOException {
        try {
          super.close();
        } finally {
          MinimumRate.this.close();
        }
      }
    };
  }

  /** Judges the window once a whole one has been waited, else looks again when it could be. */
  private void check() {
    FetchException tooSlow = null;
    synchronized (this) {
      if (closed) {
        return;
      }
      long now = System.nanoTime();
      long total = waited + (since < 0 ? 0 : now - since);
      long delay;
      if (total < windowNanos) {
        delay = windowNanos - total;
      } else if (bytes < required) {
        tooSlow = FetchException.upstreamTimedOut("the upstream is too slow: " + bytes + " bytes of content in "
            + window.toSeconds() + " s; the minimum is " + bytesPerSecond + " bytes/s"
            + " (FHIRBOX_INGEST_MIN_BYTES_PER_SECOND over FHIRBOX_INGEST_MIN_RATE_SECONDS)", null);
        closed = true;
        delay = 0;
      } else {
        waited = 0;
        bytes = 0;
        since = since < 0 ? -1 : now;
        delay = windowNanos;
      }
      if (tooSlow == null) {
        schedule(delay);
      }
    }
    if (tooSlow != null) {
      cancellation.cancel(tooSlow);
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (next != null) {
      next.cancel();
    }
  }
}
