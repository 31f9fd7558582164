package org.fhirbox.testing;

import java.io.InputStream;
import java.net.URI;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.fhirbox.storage.S3Settings;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.ForwardingBlobStore;
import org.gaul.s3proxy.blobstore.domain.MultipartUpload;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectResponse;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

/**
 * An in-process S3 server (s3proxy) on 127.0.0.1 and a free port, checking SigV2/V4
 * signatures, over an in-memory file system. Start one per test class and close it after.
 */
public final class S3Server implements AutoCloseable {
  public static final String ACCESS_KEY = "fhirbox-test";
  public static final String SECRET_KEY = "fhirbox-test-secret-0123456789";
  private static final AtomicInteger BUCKETS = new AtomicInteger();

  private final S3Proxy proxy;
  private final URI endpoint;
  private volatile HeldReads held;
  private volatile HeldPart heldPart;
  private volatile HeldPart heldPut;
  private volatile HeldPart heldDelete;

  private S3Server() throws Exception {
    proxy = S3Proxy.builder()
        .blobStore(new ForwardingBlobStore(new TransientNio2BlobStore()) {
          @Override
          public ResponseInputStream<GetObjectResponse> getBlob(GetObjectRequest request) {
            HeldReads h = held;
            if (h != null && h.keys.test(request.key())) {
              h.await();
            }
            return super.getBlob(request);
          }

          @Override
          public UploadPartResponse uploadMultipartPart(MultipartUpload upload, UploadPartRequest request,
              InputStream body) {
            HeldPart h = heldPart;
            if (h != null && request.partNumber() == h.number && h.taken.compareAndSet(false, true)) {
              h.arrived.countDown();
              h.await();
            }
            return super.uploadMultipartPart(upload, request, body);
          }

          @Override
          public PutObjectResponse putBlob(PutObjectRequest request, InputStream body) {
            HeldPart h = heldPut;
            if (h != null && !request.key().startsWith(".s3proxy") && h.taken.compareAndSet(false, true)) {
              h.arrived.countDown();
              h.await();
            }
            return super.putBlob(request, body);
          }

          @Override
          public DeleteObjectResponse removeBlob(DeleteObjectRequest request) {
            HeldPart h = heldDelete;
            if (h != null && !request.key().startsWith(".s3proxy") && h.taken.compareAndSet(false, true)) {
              h.arrived.countDown();
              h.await();
            }
            return super.removeBlob(request);
          }
        })
        .endpoint(URI.create("http://127.0.0.1:0"))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
        .build();
    proxy.start();
    Poll.until("s3proxy started", proxy::getState, "STARTED"::equals);
    endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
  }

  public static S3Server start() throws Exception {
    return new S3Server();
  }

  public URI endpoint() {
    return endpoint;
  }

  /** A client of this server as a test reads and writes the bucket behind the store's back. */
  public S3Client client() {
    return S3Client.builder().endpointOverride(endpoint).forcePathStyle(true).region(Region.US_EAST_1)
        .credentialsProvider(credentials()).build();
  }

  /** A fresh bucket name, unique in this JVM. */
  public static String newBucketName() {
    return "bucket-" + BUCKETS.incrementAndGet();
  }

  /** Settings for a new bucket on this server, created by the store. */
  public S3Settings.Builder newBucket() {
    return S3Settings.builder(newBucketName()).endpoint(endpoint).pathStyle(true).createBucket(true);
  }

  /**
   * Puts the test credentials where a fhirbox server finds them: the AWS SDK's default chain reads
   * the {@code aws.accessKeyId} and {@code aws.secretAccessKey} system properties first.
   */
  public static void exportCredentials() {
    System.setProperty("aws.accessKeyId", ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", SECRET_KEY);
  }

  /** Undoes {@link #exportCredentials}. */
  public static void clearCredentials() {
    System.clearProperty("aws.accessKeyId");
    System.clearProperty("aws.secretAccessKey");
  }

  public static StaticCredentialsProvider credentials() {
    return StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY));
  }

  /**
   * Holds every GetObject of {@code objectKey} (other requests pass) until {@link HeldReads#release},
   * counting them: a caller that reads the object waits, one that does not is not held up.
   */
  public HeldReads holdReads(String objectKey) {
    return holdReads(objectKey::equals);
  }

  /** Holds every GetObject of a key that {@code keys} accepts, as {@link #holdReads(String)} does one key's. */
  public HeldReads holdReads(Predicate<String> keys) {
    HeldReads h = new HeldReads(keys);
    held = h;
    return h;
  }

  /**
   * Holds the next UploadPart of part number {@code number}, of any object, until
   * {@link HeldPart#release} (its body unread, as on a slow link to the store); later ones pass.
   */
  public HeldPart holdPart(int number) {
    HeldPart h = new HeldPart(number);
    heldPart = h;
    return h;
  }

  /**
   * Holds the next PutObject of any object until {@link HeldPart#release} (its body unread); later
   * ones pass, and so do the stubs s3proxy puts for its multipart uploads.
   */
  public HeldPart holdPut() {
    HeldPart h = new HeldPart(0);
    heldPut = h;
    return h;
  }

  /** Holds the next DeleteObject of any object until {@link HeldPart#release}; later ones pass. */
  public HeldPart holdDelete() {
    HeldPart h = new HeldPart(0);
    heldDelete = h;
    return h;
  }

  /**
   * The UploadPart held back by {@link #holdPart}, the PutObject by {@link #holdPut}, or the
   * DeleteObject by {@link #holdDelete}.
   */
  public static final class HeldPart {
    private final int number;
    private final AtomicBoolean taken = new AtomicBoolean();
    private final CountDownLatch arrived = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);

    private HeldPart(int number) {
      this.number = number;
    }

    private void await() {
      try {
        if (!released.await(50, TimeUnit.SECONDS)) {
          throw new IllegalStateException("a held part " + number + " was never released");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    /** Waits until the part arrived at the store (and is held); false when it did not in 30 s. */
    public boolean arrived() throws InterruptedException {
      return arrived.await(30, TimeUnit.SECONDS);
    }

    public void release() {
      released.countDown();
    }
  }

  /** The GetObjects of the keys held back by {@link #holdReads}. */
  public static final class HeldReads {
    private final Predicate<String> keys;
    private final CountDownLatch released = new CountDownLatch(1);
    private final AtomicInteger reads = new AtomicInteger();

    private HeldReads(Predicate<String> keys) {
      this.keys = keys;
    }

    private void await() {
      reads.incrementAndGet();
      try {
        if (!released.await(60, TimeUnit.SECONDS)) {
          throw new IllegalStateException("a held read was never released");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    /** How many GetObjects of the keys arrived so far. */
    public int reads() {
      return reads.get();
    }

    public void release() {
      released.countDown();
    }
  }

  @Override
  public void close() throws Exception {
    proxy.stop();
  }
}
