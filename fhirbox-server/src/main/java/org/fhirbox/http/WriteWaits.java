package org.fhirbox.http;

import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * The waits on one response's writes, one pending at a time (Jetty never overlaps them), and their
 * judgement as {@link MinimumWriteRate} describes it: once the waits since the last judgement add
 * up to the window, the bytes the socket took meanwhile must be at least the rate times those
 * waits. A timer judges a write that stays pending for the window.
 */
final class WriteWaits {
  /** Schedules a task after a delay in nanoseconds; Jetty's {@link Scheduler} in the server. */
  interface Timers {
    Scheduler.Task schedule(Runnable task, long delayNanos);
  }

  private final long bytesPerSecond;
  private final long windowNanos;
  private final LongSupplier flushed;
  private final LongSupplier clock;
  private final Timers timers;
  private final Consumer<MinimumWriteRate.SlowResponse> close;
  private long flushedAtJudgement;
  private long waitedNanos;
  private long credit;
  private long pendingSince;
  private Scheduler.Task timer;
  /** The pending write's number, counted from the first. */
  private long generation;
  private boolean failed;

  /**
   * @param flushed the bytes the socket took so far
   * @param clock the time in nanoseconds
   * @param close closes the connection of a client too slow, which fails its pending write
   */
  WriteWaits(long bytesPerSecond, long windowNanos, LongSupplier flushed, LongSupplier clock, Timers timers,
      Consumer<MinimumWriteRate.SlowResponse> close) {
    this.bytesPerSecond = bytesPerSecond;
    this.windowNanos = windowNanos;
    this.flushed = flushed;
    this.clock = clock;
    this.timers = timers;
    this.close = close;
    this.flushedAtJudgement = flushed.getAsLong();
  }

  /**
   * A write was handed to the connection: its timer replaces any earlier one. Each write has its
   * own generation, which its timer carries: a timer whose cancel came once it had already started
   * runs when it gets the lock, after its write was done and perhaps the next one started, and must
   * not judge the few microseconds the next one waited (a window may see no step of a slow link,
   * so a judgement over less than one is unfair).
   */
  synchronized void started() {
    if (failed) {
      return;
    }
    cancelTimer();
    long write = ++generation;
    pendingSince = clock.getAsLong();
    timer = timers.schedule(() -> stillPending(write), Math.max(1, windowNanos - waitedNanos));
  }

  /** The pending write is done, or failed; a slow client's connection is closed here, outside the lock. */
  void done() {
    MinimumWriteRate.SlowResponse slow = null;
    synchronized (this) {
      cancelTimer();
      if (pendingSince != 0) {
        waitedNanos += clock.getAsLong() - pendingSince;
        pendingSince = 0;
      }
      if (!failed && waitedNanos >= windowNanos) {
        slow = judge();
      }
    }
    closeFor(slow);
  }

  /** The write of generation {@code write} still pending when the window's waits are up: judged now, and again a window later. */
  private void stillPending(long write) {
    MinimumWriteRate.SlowResponse slow;
    synchronized (this) {
      if (write != generation || pendingSince == 0 || failed) {
        return;
      }
      long now = clock.getAsLong();
      waitedNanos += now - pendingSince;
      pendingSince = now;
      slow = judge();
      timer = slow == null ? timers.schedule(() -> stillPending(write), windowNanos) : null;
    }
    closeFor(slow);
  }

  private void cancelTimer() {
    if (timer != null) {
      timer.cancel();
      timer = null;
    }
  }

  /**
   * Closes the connection of a client found too slow. Outside the lock: closing fails the pending
   * write at once, on this thread, and its callback must run free of it; {@link #failed} was set
   * under the lock, so that is the only close.
   */
  private void closeFor(MinimumWriteRate.SlowResponse slow) {
    if (slow != null) {
      close.accept(slow);
    }
  }

  /**
   * Too few bytes taken over the waits fail the response, and the connection is to be closed
   * with what this returns; enough start the next window, with
   * what they took beyond the rate kept as credit for up to {@link MinimumWriteRate#CREDIT_WINDOWS}
   * windows. The kernel lets a blocked socket take more only once a good part of its send buffer is
   * free, so a slow link takes a large buffer in steps far apart: a window may see none, and the
   * step before pays for it.
   */
  private MinimumWriteRate.SlowResponse judge() {
    long taken = flushed.getAsLong() - flushedAtJudgement;
    long bytes = taken + credit;
    double owed = (double) bytesPerSecond * waitedNanos / 1_000_000_000.0;
    if (bytes < owed) {
      failed = true;
      long rate = Math.round(taken * 1_000_000_000.0 / Math.max(1, waitedNanos));
      return new MinimumWriteRate.SlowResponse("the client took the response at " + rate
          + " bytes/s while the server waited for it; FHIRBOX_MIN_RESPONSE_BYTES_PER_SECOND is " + bytesPerSecond);
    }
    credit = (long) Math.min(bytes - owed,
        (double) bytesPerSecond * windowNanos * MinimumWriteRate.CREDIT_WINDOWS / 1_000_000_000.0);
    flushedAtJudgement = flushed.getAsLong();
    waitedNanos = 0;
    return null;
  }
}
