package org.fhirbox.storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.WritableByteChannel;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Where Binary content lives. Implementations: {@link FileBlobStore} (default) and S3.
 *
 * <p>Contract:
 * <ul>
 *   <li>{@link #put} streams its input (memory does not grow with the content size), computes
 *       size and SHA-1 on the way (not SHA-256: a caller that needs it, for a digest a client
 *       declared, computes it over the body itself), and returns the blob's key only once all bytes are
 *       durably stored under it. If the input fails or exceeds {@code maxBytes}, nothing remains
 *       visible and {@link BlobTooLargeException} or the {@link IOException} propagates.
 *   <li>Keys are created by the store ({@link BlobKey#random()}); no user input becomes a key.
 *   <li>Blobs are immutable once written; a new Binary version gets a new blob.
 * </ul>
 */
public interface BlobStore extends AutoCloseable {

  /** Streams {@code in} into a new blob. Does not close {@code in}. */
  BlobInfo put(InputStream in, long maxBytes) throws IOException;

  /** Size of a stored blob, or empty when it does not exist. */
  Optional<Long> size(BlobKey key) throws IOException;

  /**
   * Writes bytes {@code offset} to {@code offset + length - 1} of the blob to {@code target},
   * all of them, in order, and returns once the last one was handed to it. Memory stays
   * constant whatever {@code length}: a file store copies with positional reads or
   * {@link java.nio.channels.FileChannel#transferTo} (zero-copy when the target is a file or a
   * socket), an object store streams one ranged GET. Does not close {@code target}.
   *
   * <p>A zero {@code length} writes nothing but still fails for a missing blob.
   *
   * @throws java.nio.file.NoSuchFileException when the blob does not exist
   * @throws IOException when the blob ends before {@code offset + length} (the caller's
   *     recorded size and the stored bytes disagree) or the backend or target fails
   */
  void transferTo(BlobKey key, long offset, long length, WritableByteChannel target) throws IOException;

  /** Opens the blob from {@code offset} to its end. The caller closes the stream. */
  InputStream open(BlobKey key, long offset) throws IOException;

  /**
   * Reads the blob of {@code key} once: its size, SHA-256 and SHA-1. {@link BlobTooLargeException}
   * once it holds more than {@code maxBytes}.
   */
  default BlobInfo digest(BlobKey key, long maxBytes) throws IOException {
    try (DigestingInputStream in = new DigestingInputStream(open(key, 0), maxBytes, true)) {
      in.transferTo(OutputStream.nullOutputStream());
      return in.info(key);
    }
  }

  /** Deletes a blob; deleting a missing blob is not an error. */
  void delete(BlobKey key) throws IOException;

  /** Visits every blob last modified before {@code cutoff} (for the orphan sweeper). */
  default void listOlderThan(Instant cutoff, Consumer<BlobKey> visitor) throws IOException {
    listOlderThan(cutoff, visitor, key -> false);
  }

  /**
   * Visits every blob last modified before {@code cutoff}, and removes what interrupted writes
   * left that has seen no activity since (temporary files, multipart uploads), except the writes
   * of keys {@code resuming} says are still under way (a resumable upload, see {@link #resumable};
   * a presigned upload straight to S3 that may still be confirmed).
   */
  void listOlderThan(Instant cutoff, Consumer<BlobKey> visitor, Predicate<BlobKey> resuming) throws IOException;

  /** Blobs written in pieces over many requests (resumable uploads), in this store. */
  ResumableBlobs resumable();

  /** True when the backend answers (for readiness checks), within about two seconds. */
  boolean isReachable();

  @Override
  default void close() throws IOException {}
}
