package org.fhirbox.testing;

import java.net.URI;
import java.util.concurrent.atomic.AtomicInteger;
import org.fhirbox.storage.S3Settings;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

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

  private S3Server() throws Exception {
    proxy = S3Proxy.builder()
        .blobStore(new TransientNio2BlobStore())
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

  /** A fresh bucket name, unique in this JVM. */
  public static String newBucketName() {
    return "bucket-" + BUCKETS.incrementAndGet();
  }

  /** Settings for a new bucket on this server, created by the store. */
  public S3Settings.Builder newBucket() {
    return S3Settings.builder(newBucketName()).endpoint(endpoint).pathStyle(true).createBucket(true);
  }

  public static StaticCredentialsProvider credentials() {
    return StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY));
  }

  @Override
  public void close() throws Exception {
    proxy.stop();
  }
}
