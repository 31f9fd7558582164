package org.fhirbox.storage;

import java.io.IOException;

/**
 * What a writer of a partial blob checks once it alone writes it, before it changes anything
 * ({@link ResumableBlobs#append}): that it still may. A request that claimed an upload for a while
 * (a lease) and then stalled past it must not cut back what a later request appended and
 * persisted meanwhile. A store that holds the blob exclusively while it writes (a file lock)
 * checks it once, under that hold, which makes the check and the writing one step; a store without
 * such a hold (S3's multipart uploads) checks it before each of its writes.
 */
@FunctionalInterface
public interface WriteFence {
  /** For a caller that is the only writer of its blobs. */
  WriteFence NONE = () -> {};

  /** Returns when the caller may still write; throws, and nothing is changed, when not. */
  void confirm() throws IOException;

  /** One write to the store. */
  @FunctionalInterface
  interface Write<T> {
    T run() throws IOException;
  }

  /**
   * Runs {@code write}, a write confirmed just before, keeping the caller's right to write while
   * it runs, however long the store takes: a write that no longer may would land after a later
   * writer's, in its place (an S3 part of the same number). Just runs it by default.
   */
  default <T> T holding(Write<T> write) throws IOException {
    return write.run();
  }
}
