package org.fhirbox.model;

import java.time.Instant;
import org.fhirbox.storage.BlobKey;

/**
 * The stored bytes of one Binary version: where they are, what they are, and how to name them
 * on download. {@code securityContext} is a reference such as {@code Patient/123}, or null.
 */
public record BinaryContent(
    String project,
    String binaryId,
    long versionId,
    BlobKey blobKey,
    long size,
    String sha256Hex,
    String sha1Hex,
    String contentType,
    String filename,
    String securityContext,
    Instant lastUpdated) {

  /** Strong entity tag for this version's bytes (RFC 9110 §8.8.3). */
  public String etag() {
    return "\"" + sha256Hex + "\"";
  }
}
