package org.fhirbox.storage;

import java.util.Objects;

/**
 * A blob being written in pieces (see {@link ResumableBlobs}): the key it will have, how many
 * bytes it holds durably, and what the backend needs to go on ({@code state}: nothing for files;
 * the multipart upload, its parts and the gathered tail for S3). The caller keeps it, e.g. in a
 * database row, and hands it back with the next piece; it is text so that any node can.
 */
public record PartialBlob(BlobKey key, long length, String state) {
  public PartialBlob {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(state, "state");
    if (length < 0) {
      throw new IllegalArgumentException("length < 0");
    }
  }
}
