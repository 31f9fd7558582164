package org.fhirbox.storage;

import java.net.URI;
import java.util.Objects;

/**
 * How {@link S3BlobStore} reaches its bucket.
 *
 * <pre>{@code
 * S3Settings settings = S3Settings.builder("fhirbox-blobs")
 *     .endpoint(URI.create("http://minio:9000")).pathStyle(true)
 *     .sse(S3Settings.Sse.S3)
 *     .build();
 * }</pre>
 *
 * @param bucket the bucket holding the blobs
 * @param endpoint the S3-compatible endpoint, or null for AWS S3 in {@code region}
 * @param region the signing region, e.g. {@code us-east-1}
 * @param pathStyle {@code http://host/bucket/key} instead of {@code http://bucket.host/key}
 *     (MinIO, Ceph and most S3-compatible stores want this)
 * @param createBucket create the bucket at startup when it does not exist
 * @param partSizeBytes multipart part size; at least 5 MiB (the S3 minimum for all but the last part)
 * @param parallelism parts of one upload in flight at once; one upload holds at most
 *     {@code partSizeBytes × (parallelism + 1)} bytes of buffers
 * @param sse server-side encryption requested on every write
 * @param kmsKeyId the KMS key for {@link Sse#KMS}; null means the account's default key
 * @param keyPrefix prepended to every blob key, e.g. {@code blobs/}; may be empty
 */
public record S3Settings(
    String bucket,
    URI endpoint,
    String region,
    boolean pathStyle,
    boolean createBucket,
    long partSizeBytes,
    int parallelism,
    Sse sse,
    String kmsKeyId,
    String keyPrefix) {

  public static final long MIN_PART_SIZE = 5L * 1024 * 1024;
  public static final long DEFAULT_PART_SIZE = 16L * 1024 * 1024;
  /** Parts live in {@code byte[]}s; S3 itself allows up to 5 GiB. */
  public static final long MAX_PART_SIZE = 1024L * 1024 * 1024;
  public static final int DEFAULT_PARALLELISM = 4;

  /** Server-side encryption of stored objects. */
  public enum Sse { NONE, S3, KMS }

  public S3Settings {
    Objects.requireNonNull(bucket, "bucket");
    Objects.requireNonNull(region, "region");
    Objects.requireNonNull(sse, "sse");
    Objects.requireNonNull(keyPrefix, "keyPrefix");
    if (bucket.isBlank()) {
      throw new IllegalArgumentException("bucket is blank");
    }
    if (partSizeBytes < MIN_PART_SIZE || partSizeBytes > MAX_PART_SIZE) {
      throw new IllegalArgumentException(
          "partSizeBytes must be between " + MIN_PART_SIZE + " and " + MAX_PART_SIZE);
    }
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism must be at least 1");
    }
    if (kmsKeyId != null && sse != Sse.KMS) {
      throw new IllegalArgumentException("kmsKeyId needs sse KMS");
    }
    if (keyPrefix.startsWith("/")) {
      throw new IllegalArgumentException("keyPrefix must not start with '/'");
    }
  }

  /** The object key under which the blob {@code key} is stored: {@code keyPrefix + key}. */
  public String objectKey(BlobKey key) {
    return keyPrefix + key.value();
  }

  /**
   * Where a presigned upload without a declared SHA-256 puts its bytes before fhirbox has checked
   * them: {@code keyPrefix + "staging/" + key}, a key no blob ever has (a blob key is 32 hex digits),
   * so no presigned URL can write an object a Binary references.
   */
  public String stagingObjectKey(BlobKey key) {
    return stagingPrefix() + key.value();
  }

  /** The prefix of every {@link #stagingObjectKey}. */
  public String stagingPrefix() {
    return keyPrefix + "staging/";
  }

  public static Builder builder(String bucket) {
    return new Builder(bucket);
  }

  /** Defaults: AWS endpoint, {@code us-east-1}, virtual-host style, 16 MiB parts, 4 in flight. */
  public static final class Builder {
    private final String bucket;
    private URI endpoint;
    private String region = "us-east-1";
    private boolean pathStyle;
    private boolean createBucket;
    private long partSizeBytes = DEFAULT_PART_SIZE;
    private int parallelism = DEFAULT_PARALLELISM;
    private Sse sse = Sse.NONE;
    private String kmsKeyId;
    private String keyPrefix = "blobs/";

    private Builder(String bucket) {
      this.bucket = bucket;
    }

    public Builder endpoint(URI endpoint) {
      this.endpoint = endpoint;
      return this;
    }

    public Builder region(String region) {
      this.region = region;
      return this;
    }

    public Builder pathStyle(boolean pathStyle) {
      this.pathStyle = pathStyle;
      return this;
    }

    public Builder createBucket(boolean createBucket) {
      this.createBucket = createBucket;
      return this;
    }

    public Builder partSizeBytes(long partSizeBytes) {
      this.partSizeBytes = partSizeBytes;
      return this;
    }

    public Builder parallelism(int parallelism) {
      this.parallelism = parallelism;
      return this;
    }

    public Builder sse(Sse sse) {
      this.sse = sse;
      return this;
    }

    /** Selects {@link Sse#KMS} with the given key (null: the account's default KMS key). */
    public Builder kms(String kmsKeyId) {
      this.sse = Sse.KMS;
      this.kmsKeyId = kmsKeyId;
      return this;
    }

    public Builder keyPrefix(String keyPrefix) {
      this.keyPrefix = keyPrefix;
      return this;
    }

    public S3Settings build() {
      return new S3Settings(bucket, endpoint, region, pathStyle, createBucket, partSizeBytes,
          parallelism, sse, kmsKeyId, keyPrefix);
    }
  }
}
