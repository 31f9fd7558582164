package org.fhirbox.storage;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The part buffers of one {@link S3BlobStore}'s uploads (from a {@link PartBufferPool}), at most
 * {@code maxOut} out at once, whatever the number of uploads: each holds a whole part (16 MiB by
 * default) however slowly its client sends, so twenty slow clients would otherwise hold 320 MiB,
 * more than a 256 MiB heap. An upload that finds none free waits for one, in order of arrival, up
 * to {@code waitMillis}, then fails with {@link Busy}, which the HTTP layer answers with 503 and
 * {@code Retry-After} ({@link BlobStoreOutage}). An upload that waits for its next part has one in
 * flight, whose buffer comes back: waiting never deadlocks.
 */
final class S3PartBuffers {
  private final PartBufferPool pool;
  private final int partSize;
  private final int maxOut;
  private final Semaphore out;
  private final long waitMillis;

  S3PartBuffers(int partSize, int maxIdle, int maxOut, long waitMillis) {
    if (maxOut < 1) {
      throw new IllegalArgumentException("maxOut must be at least 1");
    }
    this.pool = new PartBufferPool(partSize, maxIdle);
    this.partSize = partSize;
    this.maxOut = maxOut;
    this.out = new Semaphore(maxOut, true);
    this.waitMillis = waitMillis;
  }

  /** How many part buffers a heap of {@code maxHeapBytes} lends to uploads: half of it, at least one. */
  static int maxOutFor(long maxHeapBytes, long partSize) {
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, maxHeapBytes / 2 / partSize));
  }

  /** A part buffer, waiting up to the limit for one to be handed back. */
  byte[] take() throws IOException {
    return take(() -> false);
  }

  /**
   * A part buffer for an upload that may have parts of its own in flight. While one is, the
   * wait goes on past the limit, a window at a time: that part's buffer comes back when S3
   * answers (its own timeouts bound that), so the wait is the object store's pace, not the memory
   * budget being spent by others. A slow S3 must not turn into 503s for uploads it is serving.
   */
  byte[] take(BooleanSupplier ownPartInFlight) throws IOException {
    try {
      while (!out.tryAcquire(waitMillis, TimeUnit.MILLISECONDS)) {
        if (!ownPartInFlight.getAsBoolean()) {
          throw new Busy("all " + maxOut + " part buffers (" + (partSize >> 20) + " MiB each) are in use by other"
              + " uploads to the object store");
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for a part buffer");
    }
    try {
      return pool.take();
    } catch (RuntimeException | Error e) {
      out.release();
      throw e;
    }
  }

  /** Hands back a buffer from {@link #take}, exactly once. */
  void give(byte[] buf) {
    pool.give(buf);
    out.release();
  }

  /** Buffers allocated since the store was made. */
  long allocated() {
    return pool.allocated();
  }

  /** Buffers out now. */
  int inUse() {
    return maxOut - out.availablePermits();
  }

  /** No part buffer came free in time: the store is at its memory budget. */
  static final class Busy extends IOException {
    Busy(String message) {
      super(message);
    }
  }
}
