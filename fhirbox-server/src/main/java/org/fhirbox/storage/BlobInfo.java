package org.fhirbox.storage;

/**
 * What a store learned of a blob: its size and digests (lowercase hex). {@link BlobStore#put}
 * computes the SHA-1 only ({@code sha256Hex} null); {@link BlobStore#digest} both.
 */
public record BlobInfo(BlobKey key, long size, String sha256Hex, String sha1Hex) {

  /** This blob with its SHA-256 known. */
  public BlobInfo withSha256(String hex) {
    return new BlobInfo(key, size, hex, sha1Hex);
  }
}
