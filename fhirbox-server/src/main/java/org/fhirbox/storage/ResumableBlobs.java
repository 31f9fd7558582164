package org.fhirbox.storage;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.List;

/**
 * Blobs written in pieces over many requests, possibly on different nodes, as tus uploads arrive.
 * The caller persists each {@link PartialBlob} this returns (a database row) and hands the
 * persisted one back with the next piece; the store keeps no state of its own between calls.
 *
 * <p>Contract:
 * <ul>
 *   <li>{@link #begin} reserves a key. Nothing is visible under it until {@link #complete}.
 *   <li>{@link #append} streams its input after the blob's {@code length} bytes (memory does not
 *       grow with the input) and returns once those bytes are durable. Whatever an append left
 *       beyond a state that was never persisted does not count: the next append from the
 *       persisted state replaces it, and {@link #release} frees what it held. The blob it returns
 *       may have another key (S3: one written whole goes to a key of its own), which the caller
 *       persists with it.
 *   <li>{@link #complete} makes the bytes visible under the blob's key, all at once; it may be repeated
 *       (after a crash between it and the caller's commit) and then changes nothing.
 *   <li>{@link #discard} frees everything a partial blob holds; repeating it is harmless.
 * </ul>
 */
public interface ResumableBlobs {

  /** A new, empty partial blob. */
  PartialBlob begin() throws IOException;

  /**
   * Appends everything {@code in} yields (does not close it). Every appended byte also goes to
   * each of {@code digests}, in order, before this returns, and to {@code trailing}'s digests
   * (null: none), in order, possibly after; bytes the store moves around internally do not.
   * An empty append to a blob whose last piece is stored as such changes nothing, even after
   * {@link #complete} (whose caller's commit then failed, and the client's next piece is empty).
   *
   * @param maxLength the most the blob may hold; beyond it {@link BlobTooLargeException}, and
   *     the returned-to state stays as it was
   * @param finalLength the blob's whole length when known, else -1: reaching it lets the store
   *     write its last piece as such (S3: the last part instead of a gathered tail)
   * @param fence checked once this append alone writes the blob, before it changes anything; by a
   *     store that cannot hold the blob alone, before each of its writes
   */
  PartialBlob append(PartialBlob blob, InputStream in, long maxLength, long finalLength,
      List<MessageDigest> digests, TrailingDigests trailing, WriteFence fence) throws IOException;

  /**
   * For {@link #append} of a store whose blob at {@code finalLength} needs nothing more: true when
   * {@code blob} holds {@code finalLength} bytes and {@code in} is empty; more bytes are
   * {@link BlobTooLargeException}, and the state holds. False, reading nothing, when the blob is
   * not at its final length.
   */
  static boolean nothingMore(PartialBlob blob, InputStream in, long maxLength, long finalLength)
      throws IOException {
    if (finalLength < 0 || blob.length() != finalLength) {
      return false;
    }
    if (in.read() >= 0) {
      throw new BlobTooLargeException(Math.min(maxLength, finalLength));
    }
    return true;
  }

  /**
   * Feeds the bytes {@code blob} holds from {@code from} on to each of {@code digests}, in order,
   * read back from storage, and returns true; false, reading nothing, when this store cannot read
   * a partial blob back (S3: the parts of a multipart upload are not readable before it completes).
   */
  default boolean readBack(PartialBlob blob, long from, List<MessageDigest> digests) throws IOException {
    return false;
  }

  /** Makes {@code blob}'s bytes the blob under its key; idempotent. */
  void complete(PartialBlob blob) throws IOException;

  /** Frees everything {@code blob} holds; idempotent. */
  void discard(PartialBlob blob) throws IOException;

  /**
   * Frees what {@code obsolete} holds and {@code current} does not: the previous state once the
   * next one is persisted, or an appended state that could not be persisted.
   */
  void release(PartialBlob obsolete, PartialBlob current) throws IOException;
}
