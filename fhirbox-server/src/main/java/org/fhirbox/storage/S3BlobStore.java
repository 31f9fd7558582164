package org.fhirbox.storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.BucketAlreadyOwnedByYouException;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.Part;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Blobs as objects in an S3-compatible bucket, named {@code keyPrefix + key}. Uploads stream
 * in parts (see {@link S3Upload}); reads are ranged GetObjects streamed to the caller. An object
 * exists only once its PutObject or CompleteMultipartUpload succeeded, which gives the
 * all-or-nothing visibility the {@link BlobStore} contract asks for.
 *
 * <pre>{@code
 * try (BlobStore store = new S3BlobStore(S3Settings.builder("fhirbox-blobs").build())) {
 *   BlobInfo info = store.put(request.getInputStream(), 2L << 30);
 * }
 * }</pre>
 *
 * <p>Missing blobs: {@link #read} and {@link #open} throw {@link NoSuchFileException}, like
 * {@link FileBlobStore}.
 */
public final class S3BlobStore implements BlobStore {
  private static final int COPY_BUFFER = 64 * 1024;
  /**
   * How many times the client sends a request before it gives up: six, not the SDK's four. The
   * JDK's HTTP client keeps up to five idle connections per server ({@code http.maxConnections})
   * and does not retry a streamed body on its own; a server that has closed those connections
   * fails one attempt per closed connection with "Error writing request body to server". With
   * four attempts, an upload to s3proxy failed that way in two clean-clone test runs in a row
   * (2026-12-04), each time right after other requests; the sixth attempt gets a new connection
   * unless other requests returned closed ones meanwhile.
   */
  static final int ATTEMPTS = 6;

  /**
   * How long the readiness check waits for the bucket, all attempts together: an orchestrator's
   * probe gives up after a few seconds, and a check bounded only by the client's timeouts (six
   * attempts of up to 60 s) would hold a request thread for minutes per probe while S3 is stuck.
   */
  static final Duration PING_TIMEOUT = Duration.ofSeconds(2);
  /** How long an upload waits for a part buffer when all are in use, before it answers 503. */
  static final long BUFFER_WAIT_MILLIS = 30_000;

  private final S3Settings settings;
  private final S3Client s3;
  private final ExecutorService partUploads;
  private final S3PartBuffers buffers;
  private final S3PartialBlobs partials;
  /** The keys of the multipart uploads this store is feeding now; its own sweep spares them. */
  private final Set<BlobKey> writing = ConcurrentHashMap.newKeySet();
  private volatile LiveWrites liveWrites = LiveWrites.NONE;

  /** Credentials from the SDK's default chain (environment, profile, container, instance). */
  public S3BlobStore(S3Settings settings) throws IOException {
    this(settings, DefaultCredentialsProvider.builder().build());
  }

  public S3BlobStore(S3Settings settings, AwsCredentialsProvider credentials) throws IOException {
    this(settings, clientBuilder(settings, credentials).build());
  }

  /** Takes ownership of {@code s3}: {@link #close} closes it. */
  S3BlobStore(S3Settings settings, S3Client s3) throws IOException {
    this(settings, s3, S3PartBuffers.maxOutFor(Runtime.getRuntime().maxMemory(), settings.partSizeBytes()),
        BUFFER_WAIT_MILLIS);
  }

  /**
   * @param maxBuffers part buffers all uploads may hold at once ({@link S3PartBuffers})
   * @param bufferWaitMillis how long an upload waits for one before it fails (503)
   */
  S3BlobStore(S3Settings settings, S3Client s3, int maxBuffers, long bufferWaitMillis) throws IOException {
    this.settings = settings;
    this.s3 = s3;
    this.buffers = new S3PartBuffers((int) settings.partSizeBytes(), settings.parallelism() + 1, maxBuffers,
        bufferWaitMillis);
    this.partUploads = Executors.newCachedThreadPool(daemonThreads());
    this.partials = new S3PartialBlobs(s3, settings, buffers);
    try {
      if (settings.createBucket()) {
        createBucketIfMissing();
      }
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  /** A client configured as this store's is, e.g. for the multipart uploads of presigned direct uploads. */
  public static S3Client newClient(S3Settings settings, AwsCredentialsProvider credentials) {
    return clientBuilder(settings, credentials).build();
  }

  /**
   * The client this store would build, with {@code interceptors} (tests record calls with them).
   * They are passed here, not added to the builder later: a second {@code overrideConfiguration}
   * on the builder replaces the first, retry strategy and all.
   */
  static S3ClientBuilder clientBuilder(S3Settings settings, AwsCredentialsProvider credentials,
      ExecutionInterceptor... interceptors) {
    S3ClientBuilder builder = S3Client.builder()
        .region(Region.of(settings.region()))
        .credentialsProvider(credentials)
        .forcePathStyle(settings.pathStyle())
        .httpClientBuilder(UrlConnectionHttpClient.builder()
            .connectionTimeout(Duration.ofSeconds(10))
            .socketTimeout(Duration.ofSeconds(60)))
        .overrideConfiguration(o -> o.retryStrategy(r -> r.maxAttempts(ATTEMPTS))
            .executionInterceptors(List.of(interceptors)))
        // S3Upload sends its own CRC32C header on every write; without this the SDK would add
        // a second, trailing CRC32 to each upload.
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED);
    if (settings.endpoint() != null) {
      builder.endpointOverride(settings.endpoint());
    }
    return builder;
  }

  private static ThreadFactory daemonThreads() {
    AtomicInteger count = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "s3-part-upload-" + count.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  private void createBucketIfMissing() throws IOException {
    try {
      s3.headBucket(b -> b.bucket(settings.bucket()));
      return;
    } catch (S3Exception e) {
      if (e.statusCode() != 404) {
        throw io("HeadBucket " + settings.bucket(), e);
      }
    } catch (SdkException e) {
      throw io("HeadBucket " + settings.bucket(), e);
    }
    try {
      // AWS S3: us-east-1 takes no location constraint, every other region needs one.
      if ("us-east-1".equals(settings.region())) {
        s3.createBucket(b -> b.bucket(settings.bucket()));
      } else {
        s3.createBucket(b -> b.bucket(settings.bucket())
            .createBucketConfiguration(c -> c.locationConstraint(settings.region())));
      }
    } catch (BucketAlreadyOwnedByYouException e) {
      // Another node created it between our HEAD and CREATE.
    } catch (SdkException e) {
      throw io("CreateBucket " + settings.bucket(), e);
    }
  }

  /** The object key of a blob in the bucket (for URL signers that point at the object store). */
  public String objectKey(BlobKey key) {
    return settings.objectKey(key);
  }

  public S3Settings settings() {
    return settings;
  }

  @Override
  public ResumableBlobs resumable() {
    return partials;
  }

  /**
   * Where this store records its multipart uploads under way, for the sweeps of other processes
   * (its own spares them without it).
   */
  public void recordWritesIn(LiveWrites liveWrites) {
    this.liveWrites = liveWrites;
  }

  @Override
  public BlobInfo put(InputStream in, long maxBytes) throws IOException {
    BlobKey key = BlobKey.random();
    DigestingInputStream digesting = new DigestingInputStream(in, maxBytes, false);
    new S3Upload(s3, settings, objectKey(key), partUploads, buffers, () -> registerWrite(key)).run(digesting);
    return digesting.info(key);
  }

  /** Marks {@code key} as being written, here and in {@link #liveWrites}, before its multipart upload begins. */
  private LiveWrites.Registration registerWrite(BlobKey key) {
    writing.add(key);
    try {
      LiveWrites.Registration shared = liveWrites.begin(key);
      return () -> {
        try {
          shared.close();
        } finally {
          writing.remove(key);
        }
      };
    } catch (RuntimeException | Error e) {
      writing.remove(key);
      throw e;
    }
  }

  @Override
  public Optional<Long> size(BlobKey key) throws IOException {
    try {
      return Optional.of(s3.headObject(b -> b.bucket(settings.bucket()).key(objectKey(key)))
          .contentLength());
    } catch (S3Exception e) {
      if (e.statusCode() == 404) {
        requireBucket("HeadObject " + key);
        return Optional.empty();
      }
      throw io("HeadObject " + key, e);
    } catch (SdkException e) {
      throw io("HeadObject " + key, e);
    }
  }

  /** One ranged GetObject, streamed through a buffer of at most {@code COPY_BUFFER} bytes. */
  @Override
  public void transferTo(BlobKey key, long offset, long length, WritableByteChannel target)
      throws IOException {
    if (length == 0) {
      // An HTTP range cannot be empty; still report a missing blob as a missing blob.
      if (size(key).isEmpty()) {
        throw new NoSuchFileException(key.value());
      }
      return;
    }
    // RFC 9110 §14.1.2: "bytes=first-last", both inclusive.
    String range = "bytes=" + offset + "-" + (offset + length - 1);
    InputStream in;
    try {
      in = get(key, range);
    } catch (RangeNotSatisfiable e) {
      throw new IOException("blob " + key + " is shorter than " + (offset + length) + " bytes", e);
    }
    try (in) {
      ByteBuffer buf = ByteBuffer.allocate((int) Math.min(COPY_BUFFER, length));
      long copied = 0;
      int n;
      while (copied < length
          && (n = in.read(buf.array(), 0, (int) Math.min(buf.capacity(), length - copied))) >= 0) {
        buf.clear().limit(n);
        while (buf.hasRemaining()) {
          target.write(buf);
        }
        copied += n;
      }
      if (copied < length) {
        throw new IOException("blob " + key + " is shorter than " + (offset + length) + " bytes");
      }
    }
  }

  @Override
  public InputStream open(BlobKey key, long offset) throws IOException {
    try {
      return get(key, offset == 0 ? null : "bytes=" + offset + "-");
    } catch (RangeNotSatisfiable e) {
      // Offset at or past the end: the same empty stream a file positioned there gives.
      return InputStream.nullInputStream();
    }
  }

  private ResponseInputStream<GetObjectResponse> get(BlobKey key, String range)
      throws IOException {
    GetObjectRequest request = GetObjectRequest.builder()
        .bucket(settings.bucket()).key(objectKey(key)).range(range).build();
    try {
      return s3.getObject(request);
    } catch (S3Exception e) {
      if (e.statusCode() == 404 && !isNoSuchBucket(e)) {
        throw new NoSuchFileException(key.value());
      }
      if (e.statusCode() == 416) {
        throw new RangeNotSatisfiable();
      }
      throw io("GetObject " + key, e);
    } catch (SdkException e) {
      throw io("GetObject " + key, e);
    }
  }

  /**
   * A 404 names a missing object or a missing bucket. A missing bucket is an outage
   * ({@link BlobStoreOutage}), not a lost blob, so its exception is kept as the cause.
   */
  private static boolean isNoSuchBucket(S3Exception e) {
    return e.awsErrorDetails() != null && "NoSuchBucket".equals(e.awsErrorDetails().errorCode());
  }

  /**
   * The 404 of a HEAD has no body to tell a missing object from a missing bucket: asks the
   * bucket (one more request, only for an object that is not there).
   *
   * @throws IOException with the store's {@code NoSuchBucket} as its cause when the bucket is gone
   */
  private void requireBucket(String what) throws IOException {
    try {
      s3.headBucket(b -> b.bucket(settings.bucket()));
    } catch (S3Exception e) {
      if (e.statusCode() == 404) {
        throw io(what, e);
      }
      // anything else: the object's own 404 stands
    } catch (SdkException e) {
      throw io(what, e);
    }
  }

  /** A range starting at or past the end of the object. */
  private static final class RangeNotSatisfiable extends IOException {
    RangeNotSatisfiable() {
      super("range not satisfiable");
    }
  }

  @Override
  public void delete(BlobKey key) throws IOException {
    try {
      s3.deleteObject(b -> b.bucket(settings.bucket()).key(objectKey(key)));
    } catch (SdkException e) {
      throw io("DeleteObject " + key, e);
    }
  }

  /**
   * Visits blobs last modified before {@code cutoff}, and aborts multipart uploads under the
   * prefix that have received nothing since it: what a crashed process left behind (the
   * counterpart of {@link FileBlobStore}'s old {@code .part} files). An upload is judged by its
   * newest part, not by when it began: a 10 GiB body on a slow link takes longer than any grace
   * period and must not be aborted while its parts still arrive. (A bucket lifecycle rule
   * {@code AbortIncompleteMultipartUpload} on AWS goes by the start date only, so give it a
   * margin of days.) A multipart upload is spared while {@code resuming} says it is under way: a
   * paused resumable upload may wait far longer than the grace period for its next piece, and the
   * parts of a presigned upload straight to the bucket wait for its confirmation. A multipart
   * upload this store is still feeding ({@link #put}) is spared too, however long ago its last
   * part arrived: a slow body fills a part slower than the grace period passes. Other processes
   * learn of it through {@link #recordWritesIn}, and their {@code resuming} says so.
   */
  @Override
  public void listOlderThan(Instant cutoff, Consumer<BlobKey> visitor, Predicate<BlobKey> resuming)
      throws IOException {
    String prefix = settings.keyPrefix();
    try {
      for (S3Object object : s3.listObjectsV2Paginator(b -> b.bucket(settings.bucket())
          .prefix(prefix)).contents()) {
        if (!object.lastModified().isBefore(cutoff)) {
          continue;
        }
        String name = object.key().substring(prefix.length());
        Optional<BlobKey> tailOf = S3PartialBlobs.tailOf(name);
        if (tailOf.isPresent()) {
          // the gathered tail of a resumable upload that no unfinished upload names any more (one
          // deleted while a piece of it failed, or whose node died holding it)
          if (!resuming.test(tailOf.get())) {
            s3.deleteObject(b -> b.bucket(settings.bucket()).key(object.key()));
          }
        } else {
          BlobKey.tryParse(name).ifPresent(visitor);
        }
      }
      for (MultipartUpload upload : s3.listMultipartUploadsPaginator(b -> b
          .bucket(settings.bucket()).prefix(prefix)).uploads()) {
        boolean spared = BlobKey.tryParse(upload.key().substring(prefix.length()))
            .map(key -> writing.contains(key) || resuming.test(key)).orElse(false);
        if (!spared && upload.initiated().isBefore(cutoff)) {
          abortIfIdleSince(upload, cutoff);
        }
      }
    } catch (SdkException e) {
      throw io("listing " + settings.bucket() + "/" + prefix, e);
    }
  }

  /**
   * Aborts {@code upload} when it received nothing since {@code cutoff}. Every node sweeps, so an
   * upload listed a moment ago may be gone by now (another node's sweep aborted it, or its owner
   * completed it): what this abort wanted is then done, and the pass goes on with the others.
   */
  private void abortIfIdleSince(MultipartUpload upload, Instant cutoff) {
    try {
      if (lastActivity(upload).isBefore(cutoff)) {
        s3.abortMultipartUpload(b -> b.bucket(settings.bucket()).key(upload.key()).uploadId(upload.uploadId()));
      }
    } catch (S3Exception e) {
      if (e.statusCode() != 404 || isNoSuchBucket(e)) {
        throw e;
      }
    }
  }

  /** When {@code upload} last received a part; its start when it has none. */
  private Instant lastActivity(MultipartUpload upload) {
    Instant last = upload.initiated();
    for (Part part : s3.listPartsPaginator(b -> b.bucket(settings.bucket()).key(upload.key())
        .uploadId(upload.uploadId())).parts()) {
      if (part.lastModified() != null && part.lastModified().isAfter(last)) {
        last = part.lastModified();
      }
    }
    return last;
  }

  @Override
  public boolean isReachable() {
    try {
      s3.headBucket(b -> b.bucket(settings.bucket()).overrideConfiguration(o -> o.apiCallTimeout(PING_TIMEOUT)));
      return true;
    } catch (SdkException e) {
      return false;
    }
  }

  /** Part buffers allocated so far (each {@code partSizeBytes}); for memory-bound tests. */
  long partBuffersAllocated() {
    return buffers.allocated();
  }

  /** Part buffers held by uploads now. */
  int partBuffersInUse() {
    return buffers.inUse();
  }

  @Override
  public void close() {
    partUploads.shutdown();
    s3.close();
  }

  static IOException io(String what, SdkException e) {
    return new IOException(what + " failed: " + e.getMessage(), e);
  }
}
