import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * Reference for bench/run-scaleout: a multipart upload of FILE straight to the S3 server with the
 * AWS SDK alone (no fhirbox), with fhirbox's default part size and parallelism, so that the cost
 * of the S3 server's multipart handling can be told apart from fhirbox's own.
 *
 * <p>{@code java -cp SDK_CLASSPATH bench/S3Multipart.java ENDPOINT BUCKET KEY FILE ID SECRET [PART_MIB] [PARALLEL]}
 * prints {@code seconds=S}.
 */
public final class S3Multipart {
  public static void main(String[] a) throws Exception {
    URI endpoint = URI.create(a[0]);
    String bucket = a[1];
    String key = a[2];
    Path file = Path.of(a[3]);
    int partSize = (a.length > 6 ? Integer.parseInt(a[6]) : 16) << 20;
    int parallel = a.length > 7 ? Integer.parseInt(a[7]) : 4;
    try (S3Client s3 = S3Client.builder().endpointOverride(endpoint).region(Region.US_EAST_1).forcePathStyle(true)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(a[4], a[5])))
        .httpClientBuilder(UrlConnectionHttpClient.builder()).build()) {
      try {
        s3.createBucket(b -> b.bucket(bucket));
      } catch (RuntimeException alreadyThere) {
        // fine
      }
      long start = System.nanoTime();
      String uploadId = s3.createMultipartUpload(b -> b.bucket(bucket).key(key)).uploadId();
      ExecutorService pool = Executors.newFixedThreadPool(parallel);
      Semaphore inFlight = new Semaphore(parallel); // memory: part size x parallelism
      List<Future<CompletedPart>> parts = new ArrayList<>();
      try (InputStream in = Files.newInputStream(file)) {
        for (int n = 1; ; n++) {
          byte[] buf = in.readNBytes(partSize);
          if (buf.length == 0) {
            break;
          }
          inFlight.acquire();
          int partNumber = n;
          parts.add(pool.submit(() -> {
            try {
              String etag = s3.uploadPart(b -> b.bucket(bucket).key(key).uploadId(uploadId).partNumber(partNumber),
                  RequestBody.fromBytes(buf)).eTag();
              return CompletedPart.builder().partNumber(partNumber).eTag(etag).build();
            } finally {
              inFlight.release();
            }
          }));
        }
      }
      List<CompletedPart> done = new ArrayList<>();
      for (Future<CompletedPart> f : parts) {
        done.add(f.get());
      }
      pool.shutdown();
      s3.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId)
          .multipartUpload(m -> m.parts(done)));
      System.out.printf("seconds=%.3f%n", (System.nanoTime() - start) / 1e9);
      s3.deleteObject(b -> b.bucket(bucket).key(key));
    }
  }

  private S3Multipart() {}
}
