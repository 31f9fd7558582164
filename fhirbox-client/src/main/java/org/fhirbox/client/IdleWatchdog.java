package org.fhirbox.client;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Ends a response body that stops sending: the JDK's request timeout ends with the headers, so a
 * peer that goes silent mid-body would otherwise block a read forever. {@link Transport} guards
 * every answer's body. When no byte came for the idle timeout the body is closed, and the read
 * that waited fails with an IOException naming the timeout: a download treats it as a broken
 * connection (and resumes), any other call fails with it. Only the time a read waits counts.
 */
final class IdleWatchdog {
  private static final ScheduledThreadPoolExecutor TIMER = new ScheduledThreadPoolExecutor(1, r -> {
    Thread t = new Thread(r, "fhirbox-idle-watchdog");
    t.setDaemon(true);
    return t;
  });

  static {
    // a body closed long before its next check is due leaves the queue at once, rather than
    // when that check comes due: a client sending many requests would otherwise hold one per
    // request of the last quarter of the idle timeout
    TIMER.setRemoveOnCancelPolicy(true);
  }

  private IdleWatchdog() {}

  /** How many checks the timer holds: one per guarded body not yet closed. */
  static int pendingChecks() {
    return TIMER.getQueue().size();
  }

  /** {@code body} guarded by {@code idle}; null means no limit, and {@code body} is returned as it is. */
  static InputStream guard(InputStream body, Duration idle) {
    return idle == null || idle.isZero() || idle.isNegative() ? body : new Guarded(body, idle.toNanos());
  }

  /** Times each read, not the caller's work between reads (a slow disk or pipe is no silent peer). */
  private static final class Guarded extends FilterInputStream {
    private static final long NOT_READING = Long.MIN_VALUE;
    private final long idleNanos;
    private final ScheduledFuture<?> check;
    private volatile long readingSince = NOT_READING;
    private volatile boolean fired;

    Guarded(InputStream in, long idleNanos) {
      super(in);
      this.idleNanos = idleNanos;
      long period = Math.max(TimeUnit.MILLISECONDS.toNanos(5), idleNanos / 4);
      this.check = TIMER.scheduleAtFixedRate(this::check, period, period, TimeUnit.NANOSECONDS);
    }

    private void check() {
      long since = readingSince;
      if (since != NOT_READING && System.nanoTime() - since >= idleNanos && !fired) {
        fired = true;
        check.cancel(false);
        try {
          in.close();
        } catch (IOException ignored) {
          // the waiting read fails either way
        }
      }
    }

    private interface Read {
      long run() throws IOException;
    }

    private long timed(Read read) throws IOException {
      if (fired) {
        throw idle(null);
      }
      readingSince = System.nanoTime();
      try {
        long n = read.run();
        if (fired) {
          throw idle(null); // the close made the read end, as if the content were complete
        }
        return n;
      } catch (IOException e) {
        throw fired ? idle(e) : e;
      } finally {
        readingSince = NOT_READING;
      }
    }

    private IOException idle(IOException cause) {
      return new IOException("no bytes came for " + Duration.ofNanos(idleNanos).toMillis() + " ms", cause);
    }

    @Override
    public int read() throws IOException {
      return (int) timed(super::read);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      return (int) timed(() -> super.read(b, off, len));
    }

    /** Skipping waits for the bytes it skips, as reading does (a body is discarded so). */
    @Override
    public long skip(long n) throws IOException {
      return timed(() -> super.skip(n));
    }

    @Override
    public void close() throws IOException {
      check.cancel(false);
      super.close();
    }
  }
}
