package org.fhirbox.storage;

/**
 * Where a blob store records the multipart uploads this process is feeding, so that the orphan
 * sweep of no node aborts one while its body still arrives, however slowly: a multipart upload
 * shows S3 nothing new until a whole part has arrived, which at a slow enough rate takes longer
 * than the sweeper's grace period. The record lives as long as the upload runs here, and past its
 * completion until the unit of work that stored the object has committed its row or discarded it
 * ({@link HeldWrites}); it lapses when the process dies, after which the sweep treats the upload
 * as any other it left behind.
 */
public interface LiveWrites {
  /** Records nothing: the store's own process still spares its uploads, other processes do not. */
  LiveWrites NONE = key -> () -> { };

  /** Records that this process writes {@code key} until the returned registration is closed. */
  Registration begin(BlobKey key);

  /** Ends a record of {@link #begin}. */
  interface Registration extends AutoCloseable {
    @Override
    void close();
  }
}
