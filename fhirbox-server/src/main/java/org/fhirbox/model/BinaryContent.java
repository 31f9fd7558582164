package org.fhirbox.model;

import java.time.Instant;
import org.fhirbox.storage.BlobKey;

/**
 * The stored bytes of one Binary version: where they are, what they are, and how to name them
 * on download. {@code securityContext} is a reference such as {@code Patient/123}, or null;
 * {@code sha256Hex} is null unless the SHA-256 was computed: a client declared it, or the whole
 * blob was read once more (a presigned upload's confirmation, a resumable upload on S3 that moved
 * nodes); {@code sha1Hex} is null only while a presigned upload's is still to be learnt.
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

  /**
   * Strong entity tag for this version's representation (RFC 9110 §8.8.3): the blob's key, and a
   * short checksum of the content type and file name served with it. A blob is written once and
   * never changed, and new bytes always get a new blob, so the key changes whenever the bytes do, as
   * a strong validator must; a new version that keeps the bytes under another content type or file
   * name (a JSON update without data) is served with other headers, so the tag changes too, and a
   * cache asking {@code If-None-Match} gets the new type rather than 304. The key costs nothing on
   * the upload path, where a content digest such as the SHA-256 cost a 1 GiB upload a fifth of its
   * rate (README, "Durability and failures"); it is known from the first moment, also for a
   * presigned upload whose SHA-1 is learnt later; and its 32 hex digits (random; in the file store
   * 112 random bits after a shard prefix) name nothing but the blob.
   */
  public String etag() {
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update((contentType + "\n" + filename).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    return "\"" + blobKey.value() + "-" + String.format("%08x", crc.getValue()) + "\"";
  }
}
