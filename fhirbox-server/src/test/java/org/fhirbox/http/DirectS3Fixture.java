package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirbox.testing.TestBytes.random;
import static org.fhirbox.testing.TestBytes.sha256;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fhirbox.testing.S3Server;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestClock;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Reference;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * A server in the {@code s3} signing mode over s3proxy checking SigV4 signatures, and the calls a
 * test of presigned uploads straight to the bucket makes: {@code $upload-url}, the anonymous
 * {@code PUT}s and completion, and looks into the bucket with credentials.
 */
final class DirectS3Fixture implements AutoCloseable {
  static final HttpClient ANONYMOUS = HttpClient.newHttpClient();
  /** The server's {@code FHIRBOX_ORPHAN_GRACE}. */
  static final Duration GRACE = Duration.ofHours(1);

  // Starts at the real time: s3proxy dates objects by it, and the sweeper compares those dates with this clock.
  final TestClock clock = new TestClock(Instant.now());
  final S3Server s3;
  final TestServer server;
  final TestClient http;
  final String bucketName = S3Server.newBucketName();

  record Issued(String binary, String url, Map<String, String> headers, String completeUrl) {}

  record Part(int number, long offset, long size, String url) {}

  record Parts(String binary, List<Part> parts, String completeUrl) {}

  private DirectS3Fixture(String signedUrlMode) throws Exception {
    s3 = S3Server.start();
    // The AWS SDK's default credential chain reads these, as it would read the environment.
    S3Server.exportCredentials();
    server = TestServer.start(Map.of(
        "FHIRBOX_ORPHAN_GRACE", String.valueOf(GRACE.toSeconds()),
        "FHIRBOX_BLOB_STORE", "s3",
        "FHIRBOX_SIGNED_URL_MODE", signedUrlMode,
        "FHIRBOX_S3_BUCKET", bucketName,
        "FHIRBOX_S3_ENDPOINT", s3.endpoint().toString(),
        "FHIRBOX_S3_PATH_STYLE", "true",
        "FHIRBOX_S3_CREATE_BUCKET", "true"), clock);
    http = server.client();
  }

  /** Starts s3proxy and a server on it whose orphan grace is an hour. */
  static DirectS3Fixture start() throws Exception {
    return new DirectS3Fixture("s3");
  }

  /** As {@link #start()}, in another signing mode: {@code server} signs fhirbox's own upload URLs. */
  static DirectS3Fixture start(String signedUrlMode) throws Exception {
    return new DirectS3Fixture(signedUrlMode);
  }

  @Override
  public void close() throws Exception {
    try {
      server.close();
      s3.close();
    } finally {
      S3Server.clearCredentials();
    }
  }

  /** A {@code $upload-url} body for {@code size} bytes of application/octet-stream, with {@code sha256} unless null. */
  String body(long size, String sha256) {
    return body(size, sha256, null);
  }

  /** As {@link #body(long, String)}, with {@code expiresIn} seconds unless null. */
  String body(long size, String sha256, Integer expiresIn) {
    return body(size, sha256, null, expiresIn);
  }

  /** As {@link #body(long, String, Integer)}, with a declared {@code sha1} unless null. */
  String body(long size, String sha256, String sha1, Integer expiresIn) {
    Parameters in = new Parameters();
    in.addParameter("contentType", "application/octet-stream");
    in.addParameter().setName("size").setValue(new IntegerType((int) size));
    if (sha256 != null) {
      in.addParameter("sha256", sha256);
    }
    if (sha1 != null) {
      in.addParameter("sha1", sha1);
    }
    if (expiresIn != null) {
      in.addParameter().setName("expiresIn").setValue(new IntegerType(expiresIn));
    }
    return http.json(in);
  }

  Issued issue(String requestBody) {
    return issue(http, requestBody);
  }

  /** As {@link #issue(String)}, asked for by {@code client}. */
  Issued issue(TestClient client, String requestBody) {
    HttpResponse<String> r = client.postJson("fhir/R4/Binary/$upload-url", requestBody);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Parameters p = http.parse(r, Parameters.class);
    Map<String, String> headers = new LinkedHashMap<>();
    p.getParameter("headers").getPart().forEach(part -> headers.put(part.getName(), part.getValue().primitiveValue()));
    return new Issued(((Reference) p.getParameter("binary").getValue()).getReference(),
        p.getParameter("url").getValue().primitiveValue(), headers, completeUrl(p));
  }

  /** Part URLs for {@code size} bytes of video/mp4, with {@code sha256} unless null. */
  Parts issueParts(long size, String sha256) {
    Parameters in = new Parameters();
    in.addParameter("contentType", "video/mp4");
    in.addParameter().setName("size").setValue(new IntegerType((int) size));
    if (sha256 != null) {
      in.addParameter("sha256", sha256);
    }
    in.addParameter().setName("multipart").setValue(new BooleanType(true));
    HttpResponse<String> r = http.postJson("fhir/R4/Binary/$upload-url", http.json(in));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Parameters p = http.parse(r, Parameters.class);
    assertThat(p.getParameter("url")).as("no single URL").isNull();
    List<Part> parts = p.getParameter().stream().filter(pp -> pp.getName().equals("part")).map(pp -> new Part(
        Integer.parseInt(value(pp, "number")), Long.parseLong(value(pp, "offset")), Long.parseLong(value(pp, "size")),
        value(pp, "url"))).toList();
    return new Parts(((Reference) p.getParameter("binary").getValue()).getReference(), parts, completeUrl(p));
  }

  private static String completeUrl(Parameters p) {
    return p.getParameter("complete").getPart().stream().filter(part -> part.getName().equals("url"))
        .findFirst().orElseThrow().getValue().primitiveValue();
  }

  private static String value(Parameters.ParametersParameterComponent p, String name) {
    return p.getPart().stream().filter(x -> x.getName().equals(name)).findFirst().orElseThrow().getValue()
        .primitiveValue();
  }

  static HttpResponse<String> putToS3(Issued issued, String url, byte[] bytes) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).PUT(HttpRequest.BodyPublishers.ofByteArray(bytes));
    issued.headers().forEach(b::header);
    return ANONYMOUS.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> complete(Issued issued) throws Exception {
    return post(issued.completeUrl());
  }

  static HttpResponse<String> post(String url) throws Exception {
    return ANONYMOUS.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> putPart(Part part, byte[] bytes, long offset, long length) throws Exception {
    return ANONYMOUS.send(HttpRequest.newBuilder(URI.create(part.url())).PUT(HttpRequest.BodyPublishers.ofByteArray(
        bytes, (int) offset, (int) length)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The status of a PUT the store may refuse before it has read the body; -1 when it closed the connection. */
  static int refusal(String url, byte[] bytes, long length) throws Exception {
    try {
      return ANONYMOUS.send(HttpRequest.newBuilder(URI.create(url)).PUT(HttpRequest.BodyPublishers.ofByteArray(
          bytes, 0, (int) length)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    } catch (IOException e) {
      return -1;
    }
  }

  /** The SHA-1 as {@code Attachment.hash} carries it. */
  static String sha1Base64(byte[] b) throws Exception {
    return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1").digest(b));
  }

  /** The node's {@code fhirbox_bytes_in_total}. */
  /**
   * A completion repeated after the upload was confirmed (by an earlier completion, the first read
   * or the background check): 200, naming the version the confirmation created.
   */
  static void assertConfirmedBefore(HttpResponse<String> again, String binary) {
    assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
    assertThat(again.headers().firstValue("Location").orElseThrow()).endsWith(binary + "/_history/1");
    assertThat(again.body()).contains("was confirmed before");
  }

  double bytesIn() {
    String text = http.send(http.request("metrics").GET()).body();
    Matcher m = Pattern.compile("(?m)^fhirbox_bytes_in_total (\\S+)$").matcher(text);
    assertThat(m.find()).isTrue();
    return Double.parseDouble(m.group(1));
  }

  /** The object key of a presigned path-style URL. */
  static String objectKey(String presignedUrl) {
    String path = URI.create(presignedUrl).getPath().substring(1);
    return path.substring(path.indexOf('/') + 1);
  }

  private static String bucket(String presignedUrl) {
    String path = URI.create(presignedUrl).getPath().substring(1);
    return path.substring(0, path.indexOf('/'));
  }

  /** {@code call} with a client holding the bucket's credentials. */
  <T> T withCredentials(Function<S3Client, T> call) {
    try (S3Client client = S3Client.builder().endpointOverride(s3.endpoint()).region(Region.US_EAST_1)
        .credentialsProvider(S3Server.credentials()).forcePathStyle(true)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED).build()) {
      return call.apply(client);
    }
  }

  /** Puts {@code bytes} under the object a presigned path-style URL names, with or without a SHA-256 checksum. */
  void writeWithCredentials(String presignedUrl, byte[] bytes, boolean checksum) throws Exception {
    PutObjectRequest.Builder put = PutObjectRequest.builder().bucket(bucket(presignedUrl))
        .key(objectKey(presignedUrl)).contentType("application/octet-stream");
    if (checksum) {
      put.checksumSHA256(Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(bytes)));
    }
    withCredentials(client -> client.putObject(put.build(), RequestBody.fromBytes(bytes)));
  }

  /** The multipart uploads in progress of the object a presigned path-style URL names. */
  int multipartUploads(String presignedUrl) {
    return withCredentials(client -> client.listMultipartUploads(r -> r.bucket(bucket(presignedUrl))
        .prefix(objectKey(presignedUrl))).uploads().size());
  }

  /** Whether the object a presigned path-style URL names is in the bucket, asked with credentials. */
  boolean objectExists(String presignedUrl) {
    return withCredentials(client -> {
      try {
        client.headObject(r -> r.bucket(bucket(presignedUrl)).key(objectKey(presignedUrl)));
        return true;
      } catch (NoSuchKeyException e) {
        return false;
      } catch (S3Exception e) {
        if (e.statusCode() == 404) {
          return false;
        }
        throw e;
      }
    });
  }

  /** The keys of the objects in the bucket a presigned path-style URL names. */
  List<String> objectKeys(String presignedUrl) {
    return objectKeysIn(bucket(presignedUrl));
  }

  /** The keys of the objects in the server's bucket. */
  List<String> objectKeys() {
    return objectKeysIn(bucketName);
  }

  private List<String> objectKeysIn(String name) {
    return withCredentials(client -> client.listObjectsV2Paginator(r -> r.bucket(name)).contents()
        .stream().map(o -> o.key()).toList());
  }
}
