package org.fhirbox.app;

import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.fhirbox.binary.DirectUploads;
import org.fhirbox.config.FhirboxConfig;
import org.fhirbox.http.ContentDisposition;
import org.fhirbox.metrics.MeteredBlobStore;
import org.fhirbox.metrics.Metrics;
import org.fhirbox.signing.BinaryUrlSigner;
import org.fhirbox.signing.CloudFrontUrlSigner;
import org.fhirbox.signing.ObjectUrlSigner;
import org.fhirbox.signing.RsaPrivateKeys;
import org.fhirbox.signing.S3UploadSigner;
import org.fhirbox.signing.S3UrlSigner;
import org.fhirbox.signing.StorageUrlSigner;
import org.fhirbox.storage.BlobStore;
import org.fhirbox.storage.FileBlobStore;
import org.fhirbox.storage.LiveWrites;
import org.fhirbox.storage.S3BlobStore;
import org.fhirbox.storage.S3Settings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;

/**
 * Part of the wiring: turns the configuration into the blob store and the signed-URL mode.
 * {@code FHIRBOX_BLOB_STORE=file|s3} and {@code FHIRBOX_SIGNED_URL_MODE=server|s3|cloudfront};
 * see {@code deploy/README.md} for every key. AWS credentials come from the caller (the SDK's
 * default chain in production).
 */
public final class Backends {
  private static final Logger LOG = LoggerFactory.getLogger(Backends.class);
  private static final UnaryOperator<String> ATTACHMENT =
      name -> ContentDisposition.attachment(name).headerValue();
  private static final UnaryOperator<String> INLINE = name -> ContentDisposition.inline(name).headerValue();

  /** The signer that makes attachment URLs, and the recogniser of direct object-store URLs. */
  public record Signing(BinaryUrlSigner signer, Optional<ObjectUrlSigner> objectUrls) {}

  private Backends() {}

  /** The SDK's default credentials chain, built on first use: only the S3 modes need it, and it is slow to make. */
  static AwsCredentialsProvider defaultAwsCredentialsOnFirstUse() {
    Supplier<AwsCredentialsProvider> defaultChain = new Supplier<>() {
      private AwsCredentialsProvider chain;

      @Override
      public synchronized AwsCredentialsProvider get() {
        if (chain == null) {
          chain = DefaultCredentialsProvider.builder().build();
        }
        return chain;
      }
    };
    return () -> defaultChain.get().resolveCredentials();
  }

  /**
   * The blob store named by {@code FHIRBOX_BLOB_STORE}, files under {@code <data-dir>/blobs} or
   * S3, timed into {@code metrics}; an S3 store records its multipart uploads under way in
   * {@code liveWrites}, so that no node's sweep aborts them.
   *
   * @param sharedDatabase other processes (server nodes) may use the database too (PostgreSQL,
   *     an H2 server): files, which only this node may see, get a {@code WARN}
   */
  public static BlobStore blobStore(FhirboxConfig config, AwsCredentialsProvider credentials,
      Metrics metrics, LiveWrites liveWrites, boolean sharedDatabase) throws IOException {
    String kind = config.get("FHIRBOX_BLOB_STORE").trim().toLowerCase(Locale.ROOT);
    BlobStore store = switch (kind) {
      case "file", "" -> {
        if (sharedDatabase) {
          LOG.warn("FHIRBOX_BLOB_STORE=file keeps the Binary content under {}, while the database is one other"
              + " nodes can use too: a node that does not see this directory finds the resources but not their"
              + " content. Run more than one node with FHIRBOX_BLOB_STORE=s3, or with FHIRBOX_DATA_DIR on storage"
              + " every node mounts; a single node needs neither", config.dataDir().resolve("blobs"));
        }
        yield new FileBlobStore(config.dataDir().resolve("blobs"));
      }
      case "s3" -> {
        S3BlobStore s3 = new S3BlobStore(withinPartLimit(s3Settings(config), config), credentials);
        s3.recordWritesIn(liveWrites);
        yield s3;
      }
      default -> throw new IllegalArgumentException("FHIRBOX_BLOB_STORE must be file or s3, got '" + kind + "'");
    };
    return new MeteredBlobStore(store, metrics);
  }

  /**
   * {@code settings}, once the largest Binary fits in S3's 10,000 parts: a streamed upload (raw or
   * resumable) does not know its size ahead, so its parts have the configured size, and one past
   * 10,000 parts would fail only after tens of gigabytes.
   */
  static S3Settings withinPartLimit(S3Settings settings, FhirboxConfig config) {
    long max = config.getLong("FHIRBOX_MAX_BINARY_BYTES");
    if (max > 10_000L * settings.partSizeBytes()) {
      throw new IllegalArgumentException("FHIRBOX_MAX_BINARY_BYTES (" + max + ") is more than S3's 10,000 parts of"
          + " FHIRBOX_S3_PART_SIZE (" + settings.partSizeBytes() + " bytes) hold; raise the part size to at least "
          + ((max + 9_999) / 10_000) + " bytes or lower the limit");
    }
    return settings;
  }

  /** The {@code FHIRBOX_S3_*} settings. */
  public static S3Settings s3Settings(FhirboxConfig config) {
    String bucket = config.optional("FHIRBOX_S3_BUCKET").orElseThrow(() ->
        new IllegalArgumentException("FHIRBOX_S3_BUCKET is required when blobs or signed URLs use S3"));
    S3Settings.Builder b = S3Settings.builder(bucket)
        .region(config.optional("FHIRBOX_S3_REGION").orElse("us-east-1"))
        .pathStyle(config.getBoolean("FHIRBOX_S3_PATH_STYLE"))
        .createBucket(config.getBoolean("FHIRBOX_S3_CREATE_BUCKET"))
        .partSizeBytes(config.getLong("FHIRBOX_S3_PART_SIZE"))
        .parallelism(config.getInt("FHIRBOX_S3_PARALLELISM"))
        .keyPrefix(config.get("FHIRBOX_S3_PREFIX").trim());
    config.optional("FHIRBOX_S3_ENDPOINT").map(URI::create).ifPresent(b::endpoint);
    String sse = config.get("FHIRBOX_S3_SSE").trim().toLowerCase(Locale.ROOT);
    Optional<String> kmsKey = config.optional("FHIRBOX_S3_KMS_KEY_ID");
    switch (sse) {
      case "none", "" -> b.sse(S3Settings.Sse.NONE);
      case "s3" -> b.sse(S3Settings.Sse.S3);
      case "kms" -> b.kms(kmsKey.orElse(null));
      default -> throw new IllegalArgumentException("FHIRBOX_S3_SSE must be none, s3 or kms, got '" + sse + "'");
    }
    if (kmsKey.isPresent() && !sse.equals("kms")) {
      throw new IllegalArgumentException("FHIRBOX_S3_KMS_KEY_ID needs FHIRBOX_S3_SSE=kms");
    }
    return b.build();
  }

  /**
   * The signer named by {@code FHIRBOX_SIGNED_URL_MODE}. {@code server} keeps {@code storage}
   * (our {@code /storage} route); {@code s3} and {@code cloudfront} need
   * {@code FHIRBOX_BLOB_STORE=s3}, since their URLs name the object in the bucket.
   */
  public static Signing signing(FhirboxConfig config, StorageUrlSigner storage,
      AwsCredentialsProvider credentials, Clock clock) throws IOException {
    String mode = config.get("FHIRBOX_SIGNED_URL_MODE").trim().toLowerCase(Locale.ROOT);
    if (mode.isEmpty() || mode.equals("server")) {
      return new Signing(storage, Optional.empty());
    }
    if (!mode.equals("s3") && !mode.equals("cloudfront")) {
      throw new IllegalArgumentException(
          "FHIRBOX_SIGNED_URL_MODE must be server, s3 or cloudfront, got '" + mode + "'");
    }
    if (!config.get("FHIRBOX_BLOB_STORE").trim().equalsIgnoreCase("s3")) {
      throw new IllegalArgumentException("FHIRBOX_SIGNED_URL_MODE=" + mode + " needs FHIRBOX_BLOB_STORE=s3");
    }
    S3Settings s3 = s3Settings(config);
    ObjectUrlSigner signer = mode.equals("s3")
        ? new S3UrlSigner(s3, credentials, config.seconds("FHIRBOX_SIGNED_URL_TTL"), clock, ATTACHMENT, INLINE)
        : new CloudFrontUrlSigner(config.get("FHIRBOX_CLOUDFRONT_DOMAIN"), s3.keyPrefix(),
            config.get("FHIRBOX_CLOUDFRONT_KEY_PAIR_ID"),
            RsaPrivateKeys.parse(config.optional("FHIRBOX_CLOUDFRONT_PRIVATE_KEY").orElseThrow(() ->
                new IllegalArgumentException("FHIRBOX_CLOUDFRONT_PRIVATE_KEY is required in cloudfront mode"))),
            config.seconds("FHIRBOX_SIGNED_URL_TTL"), clock, ATTACHMENT);
    return new Signing(signer, Optional.of(signer));
  }

  /**
   * In the {@code s3} signing mode, direct uploads go to the bucket by S3 presigned PUTs; in the
   * others (null), their bytes come to our {@code /storage/upload} route.
   */
  public static S3UploadSigner s3Uploads(FhirboxConfig config, AwsCredentialsProvider credentials) {
    String mode = config.get("FHIRBOX_SIGNED_URL_MODE").trim().toLowerCase(Locale.ROOT);
    if (!mode.equals("s3")) {
      return null;
    }
    // an object or multipart upload that a URL still writes must not look like an orphan
    Duration grace = config.seconds("FHIRBOX_ORPHAN_GRACE");
    if (grace.compareTo(DirectUploads.MAX_EXPIRES_IN) < 0) {
      throw new IllegalArgumentException("FHIRBOX_ORPHAN_GRACE is " + grace.toSeconds() + " s; with"
          + " FHIRBOX_SIGNED_URL_MODE=s3 it must be at least " + DirectUploads.MAX_EXPIRES_IN.toSeconds()
          + " s, the longest life of an upload URL, or the orphan sweeper could delete what such a URL is still"
          + " uploading");
    }
    return new S3UploadSigner(s3Settings(config), credentials);
  }
}
