package org.fhirbox.storage;

import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Part-sized byte arrays shared by the uploads of one {@link S3BlobStore}. Part buffers are large
 * (humongous objects for the G1 collector), so finished parts hand theirs back for the next part
 * or the next upload instead of leaving them to the garbage collector. At most {@code maxIdle}
 * buffers are kept when nothing is uploading.
 *
 * <p>The pool does not limit how many buffers are out: each upload bounds its own (see
 * {@link S3Upload}), and its owner bounds them all ({@link S3PartBuffers}; {@link FileBlobStore}
 * runs a bounded number of pipelines).
 */
final class PartBufferPool {
  private final int partSize;
  private final int maxIdle;
  private final ConcurrentLinkedDeque<byte[]> idle = new ConcurrentLinkedDeque<>();
  private final AtomicInteger idleCount = new AtomicInteger();
  private final AtomicLong allocated = new AtomicLong();

  PartBufferPool(int partSize, int maxIdle) {
    this.partSize = partSize;
    this.maxIdle = maxIdle;
  }

  byte[] take() {
    byte[] buf = idle.pollFirst();
    if (buf != null) {
      idleCount.decrementAndGet();
      return buf;
    }
    allocated.incrementAndGet();
    return new byte[partSize];
  }

  void give(byte[] buf) {
    if (idleCount.incrementAndGet() <= maxIdle) {
      idle.offerFirst(buf);
    } else {
      idleCount.decrementAndGet();
    }
  }

  /** Buffers allocated since the pool was made: stays at the peak number in use at once. */
  long allocated() {
    return allocated.get();
  }
}
