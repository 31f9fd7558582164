package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.S3Server;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestClock;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Presigned direct uploads in the {@code s3} signing mode, against s3proxy checking SigV4
 * signatures: the bytes go to the bucket, the node only confirms them.
 */
@SlowTest
class DirectUploadS3Test {
  // Starts at the real time: s3proxy dates objects by it, and the sweeper compares those dates with this clock.
  static final TestClock CLOCK = new TestClock(Instant.now());
  static S3Server s3;
  static TestServer server;
  static TestClient http;
  static final HttpClient ANONYMOUS = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    s3 = S3Server.start();
    // The AWS SDK's default credential chain reads these, as it would read the environment.
    System.setProperty("aws.accessKeyId", S3Server.ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", S3Server.SECRET_KEY);
    server = TestServer.start(Map.of(
        "FHIRBOX_ORPHAN_GRACE", "3600",
        "FHIRBOX_BLOB_STORE", "s3",
        "FHIRBOX_SIGNED_URL_MODE", "s3",
        "FHIRBOX_S3_BUCKET", S3Server.newBucketName(),
        "FHIRBOX_S3_ENDPOINT", s3.endpoint().toString(),
        "FHIRBOX_S3_PATH_STYLE", "true",
        "FHIRBOX_S3_CREATE_BUCKET", "true"), CLOCK);
    http = server.client();
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      server.close();
      s3.close();
    } finally {
      System.clearProperty("aws.accessKeyId");
      System.clearProperty("aws.secretAccessKey");
    }
  }

  record Issued(String binary, String url, Map<String, String> headers, String completeUrl) {}

  static String body(long size, String sha256) {
    Parameters in = new Parameters();
    in.addParameter("contentType", "application/octet-stream");
    in.addParameter().setName("size").setValue(new IntegerType((int) size));
    if (sha256 != null) {
      in.addParameter("sha256", sha256);
    }
    return http.json(in);
  }

  static Issued issue(String requestBody) {
    HttpResponse<String> r = http.postJson("fhir/R4/Binary/$upload-url", requestBody);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Parameters p = http.parse(r, Parameters.class);
    Map<String, String> headers = new LinkedHashMap<>();
    p.getParameter("headers").getPart().forEach(part -> headers.put(part.getName(), part.getValue().primitiveValue()));
    String complete = p.getParameter("complete").getPart().stream().filter(part -> part.getName().equals("url"))
        .findFirst().orElseThrow().getValue().primitiveValue();
    return new Issued(((Reference) p.getParameter("binary").getValue()).getReference(),
        p.getParameter("url").getValue().primitiveValue(), headers, complete);
  }

  static HttpResponse<String> putToS3(Issued issued, String url, byte[] bytes) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).PUT(HttpRequest.BodyPublishers.ofByteArray(bytes));
    issued.headers().forEach(b::header);
    return ANONYMOUS.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> complete(Issued issued) throws Exception {
    return ANONYMOUS.send(HttpRequest.newBuilder(URI.create(issued.completeUrl()))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
  }

  static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  static double bytesIn() {
    String text = http.send(http.request("metrics").GET()).body();
    Matcher m = Pattern.compile("(?m)^fhirbox_bytes_in_total (\\S+)$").matcher(text);
    assertThat(m.find()).isTrue();
    return Double.parseDouble(m.group(1));
  }

  @Test
  void theBytesGoToTheBucketAndTheNodeOnlyConfirmsThem() throws Exception {
    byte[] bytes = random(3 << 20, 1);
    String request = body(bytes.length, sha256(bytes));
    double before = bytesIn();

    Issued issued = issue(request);
    assertThat(issued.url()).startsWith(s3.endpoint().toString());
    assertThat(issued.headers()).containsKey("x-amz-checksum-sha256");
    assertThat(http.get("fhir/R4/" + issued.binary()).statusCode()).as("reserved, bytes not there").isEqualTo(409);
    HttpResponse<String> put = putToS3(issued, issued.url(), bytes);
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    HttpResponse<String> done = complete(issued);
    assertThat(done.statusCode()).as(done.body()).isEqualTo(201);

    // The request body of $upload-url is all the node received: none of the content.
    assertThat(bytesIn() - before).isEqualTo(request.getBytes(StandardCharsets.UTF_8).length);
    HttpResponse<byte[]> raw = http.sendBytes(http.request("fhir/R4/" + issued.binary()).GET());
    assertThat(raw.statusCode()).isEqualTo(200);
    assertThat(raw.body()).isEqualTo(bytes);
    assertThat(http.get("fhir/R4/" + issued.binary()).body()).contains("\"contentType\":\"application/octet-stream\"");

    assertThat(complete(issued).statusCode()).as("the confirmation is used once").isEqualTo(409);
    String audit = Poll.until("the AuditEvent of the confirmation",
        () -> http.get("fhir/R4/AuditEvent?entity=" + issued.binary() + "&_count=50").body(),
        b -> b.contains("confirmed after a presigned upload"));
    assertThat(audit).contains("confirmed after a presigned upload straight to the bucket")
        .contains("\"altId\":\"" + TestServer.ADMIN_ID + "\"");
  }

  @Test
  void theCompletionConfirmsWithoutReadingTheObjectAndTheSha1FollowsFromOneBackgroundRead() throws Exception {
    byte[] bytes = random(2 << 20, 11);
    Issued issued = issue(body(bytes.length, sha256(bytes)));
    assertThat(putToS3(issued, issued.url(), bytes).statusCode()).isEqualTo(200);
    String id = issued.binary().substring("Binary/".length());
    String attach = "{\"resourceType\":\"Patient\",\"photo\":[{\"url\":\"" + issued.binary() + "\"}]}";
    S3Server.HeldReads reads = s3.holdReads(objectKey(issued.url()));
    try {
      // Every GetObject of the object waits until released: a completion that read it would time out.
      HttpResponse<String> done = ANONYMOUS.send(HttpRequest.newBuilder(URI.create(issued.completeUrl()))
          .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(done.statusCode()).as(done.body()).isEqualTo(201);

      HttpResponse<String> binary = http.get("fhir/R4/" + issued.binary());
      assertThat(binary.statusCode()).as("readable before its SHA-1 is known").isEqualTo(200);
      HttpResponse<String> early = http.postJson("fhir/R4/Patient", attach);
      assertThat(early.statusCode()).as(early.body()).isEqualTo(201);
      assertThat(early.body()).as("size filled, hash not yet known").contains("\"size\":" + bytes.length)
          .doesNotContain("\"hash\"");
    } finally {
      reads.release();
    }

    String sha1 = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1").digest(bytes));
    Poll.until("the SHA-1 learnt by the background check", () -> http.postJson("fhir/R4/Patient", attach).body(),
        b -> b.contains("\"hash\":\"" + sha1 + "\""));
    assertThat(reads.reads()).as("the object was read once, by the background check").isEqualTo(1);
    assertThat(server.server().directUploads().confirmDue()).isZero();
    assertThat(reads.reads()).as("and not again").isEqualTo(1);
    HttpResponse<byte[]> raw = http.sendBytes(http.request("fhir/R4/Binary/" + id).GET());
    assertThat(raw.headers().firstValue("ETag")).contains("\"" + sha256(bytes) + "\"");
    assertThat(raw.body()).isEqualTo(bytes);
  }

  @Test
  void anObjectOfAnotherSizeIsRefusedAtTheCompletionAndDeleted() throws Exception {
    byte[] bytes = random(3000, 12);
    Issued issued = issue(body(bytes.length, sha256(bytes)));
    // Written with credentials, beside the presigned URL: the store checked its own checksum, not the declared one.
    byte[] other = random(2999, 12);
    writeWithCredentials(issued.url(), other, true);

    HttpResponse<String> done = complete(issued);

    assertThat(done.statusCode()).as(done.body()).isEqualTo(400);
    assertThat(objectExists(issued.url())).as("the refused object was deleted").isFalse();
    assertThat(http.get("fhir/R4/" + issued.binary()).statusCode()).isEqualTo(404);
  }

  @Test
  void anObjectTheStoreKeepsNoChecksumOfIsReadAtTheCompletion() throws Exception {
    byte[] bytes = random(4000, 13);
    Issued issued = issue(body(bytes.length, sha256(bytes)));
    writeWithCredentials(issued.url(), bytes, false);
    String attach = "{\"resourceType\":\"Patient\",\"photo\":[{\"url\":\"" + issued.binary() + "\"}]}";

    HttpResponse<String> done = complete(issued);

    assertThat(done.statusCode()).as(done.body()).isEqualTo(201);
    String sha1 = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1").digest(bytes));
    assertThat(http.postJson("fhir/R4/Patient", attach).body()).as("the SHA-1 is known at once")
        .contains("\"hash\":\"" + sha1 + "\"");
  }

  /** Puts {@code bytes} under the object a presigned path-style URL names, with or without a SHA-256 checksum. */
  static void writeWithCredentials(String presignedUrl, byte[] bytes, boolean checksum) throws Exception {
    String path = URI.create(presignedUrl).getPath().substring(1);
    int slash = path.indexOf('/');
    try (S3Client client = S3Client.builder().endpointOverride(s3.endpoint()).region(Region.US_EAST_1)
        .credentialsProvider(S3Server.credentials()).forcePathStyle(true)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED).build()) {
      PutObjectRequest.Builder put = PutObjectRequest.builder().bucket(path.substring(0, slash))
          .key(path.substring(slash + 1)).contentType("application/octet-stream");
      if (checksum) {
        put.checksumSHA256(Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(bytes)));
      }
      client.putObject(put.build(), RequestBody.fromBytes(bytes));
    }
  }

  /** The object key of a presigned path-style URL. */
  static String objectKey(String presignedUrl) {
    String path = URI.create(presignedUrl).getPath().substring(1);
    return path.substring(path.indexOf('/') + 1);
  }

  @Test
  void theBucketRefusesOtherBytesAndATamperedUrl() throws Exception {
    byte[] bytes = random(1000, 2);
    Issued issued = issue(body(bytes.length, sha256(bytes)));
    byte[] other = bytes.clone();
    other[10] ^= 1;
    assertThat(putToS3(issued, issued.url(), other).statusCode()).as("checksum mismatch").isEqualTo(400);
    assertThat(putToS3(issued, issued.url(), random(999, 2)).statusCode()).as("wrong size")
        .isGreaterThanOrEqualTo(400);
    String tampered = issued.url().replaceFirst("X-Amz-Signature=[0-9a-f]", "X-Amz-Signature=z");
    assertThat(putToS3(issued, tampered, bytes).statusCode()).as("signature checked").isEqualTo(403);
    HttpResponse<String> early = complete(issued);
    assertThat(early.statusCode()).as("nothing to confirm yet").isEqualTo(409);
    HttpResponse<String> read = http.get("fhir/R4/" + issued.binary());
    assertThat(read.statusCode()).as("reserved, bytes not there").isEqualTo(409);
    assertThat(read.body()).contains("is being uploaded straight to storage");
  }

  @Test
  void directUploadsToS3NeedTheSha256() {
    HttpResponse<String> r = http.postJson("fhir/R4/Binary/$upload-url", body(10, null));
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("sha256");
  }

  @Test
  void anUploadNeverConfirmedIsSweptAfterTheGrace() throws Exception {
    byte[] bytes = random(2000, 3);
    Issued issued = issue(body(bytes.length, sha256(bytes)));
    assertThat(putToS3(issued, issued.url(), bytes).statusCode()).isEqualTo(200);

    // The sweeper deletes a blob unreferenced on two passes past the grace.
    CLOCK.advance(Duration.ofHours(2));
    server.server().sweeper().sweep();
    server.server().sweeper().sweep();

    HttpResponse<String> late = complete(issued);
    assertThat(late.statusCode()).as("the URL expired with the grace").isEqualTo(410);
    assertThat(http.get("fhir/R4/" + issued.binary()).statusCode()).isEqualTo(404);
    assertThat(objectExists(issued.url())).as("the unconfirmed object was swept").isFalse();
  }

  @Test
  void aConfirmedUploadIsNotSwept() throws Exception {
    byte[] bytes = random(2000, 4);
    Issued issued = issue(body(bytes.length, sha256(bytes)));
    assertThat(putToS3(issued, issued.url(), bytes).statusCode()).isEqualTo(200);
    assertThat(complete(issued).statusCode()).isEqualTo(201);
    CLOCK.advance(Duration.ofHours(2));
    server.server().sweeper().sweep();
    server.server().sweeper().sweep();
    assertThat(objectExists(issued.url())).isTrue();
    assertThat(http.sendBytes(http.request("fhir/R4/" + issued.binary()).GET()).body()).isEqualTo(bytes);
  }

  record Part(int number, long offset, long size, String url) {}

  record Parts(String binary, List<Part> parts, String completeUrl) {}

  static Parts issueParts(long size, String sha256) {
    Parameters in = new Parameters();
    in.addParameter("contentType", "video/mp4");
    in.addParameter().setName("size").setValue(new IntegerType((int) size));
    in.addParameter("sha256", sha256);
    in.addParameter().setName("multipart").setValue(new BooleanType(true));
    HttpResponse<String> r = http.postJson("fhir/R4/Binary/$upload-url", http.json(in));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Parameters p = http.parse(r, Parameters.class);
    assertThat(p.getParameter("url")).as("no single URL").isNull();
    List<Part> parts = p.getParameter().stream().filter(pp -> pp.getName().equals("part")).map(pp -> new Part(
        Integer.parseInt(value(pp, "number")), Long.parseLong(value(pp, "offset")), Long.parseLong(value(pp, "size")),
        value(pp, "url"))).toList();
    String complete = p.getParameter("complete").getPart().stream().filter(part -> part.getName().equals("url"))
        .findFirst().orElseThrow().getValue().primitiveValue();
    return new Parts(((Reference) p.getParameter("binary").getValue()).getReference(), parts, complete);
  }

  private static String value(Parameters.ParametersParameterComponent p, String name) {
    return p.getPart().stream().filter(x -> x.getName().equals(name)).findFirst().orElseThrow().getValue()
        .primitiveValue();
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
    } catch (java.io.IOException e) {
      return -1;
    }
  }

  static HttpResponse<String> post(String url) throws Exception {
    return ANONYMOUS.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aLargeFileGoesToTheBucketInPresignedPartsAndIsConfirmedOnce() throws Exception {
    byte[] bytes = random((20 << 20) + 1000, 5);
    double before = bytesIn();
    Parts issued = issueParts(bytes.length, sha256(bytes));

    assertThat(issued.parts()).extracting(Part::number).containsExactly(1, 2);
    assertThat(issued.parts()).extracting(Part::offset).containsExactly(0L, 16L << 20);
    assertThat(issued.parts()).extracting(Part::size).containsExactly(16L << 20, bytes.length - (16L << 20));
    assertThat(issued.parts()).allMatch(p -> p.url().startsWith(s3.endpoint().toString()));
    Part first = issued.parts().get(0);
    Part second = issued.parts().get(1);
    assertThat(putPart(second, bytes, second.offset(), second.size()).statusCode()).isEqualTo(200);
    HttpResponse<String> early = post(issued.completeUrl());
    assertThat(early.statusCode()).as("a part is missing: %s", early.body()).isEqualTo(409);
    assertThat(refusal(first.url(), bytes, first.size() - 1)).as("another size").isNotEqualTo(200);
    String tampered = first.url().replaceFirst("partNumber=1", "partNumber=3");
    assertThat(refusal(tampered, bytes, first.size())).as("the part number is signed").isIn(403, -1);
    assertThat(http.get("fhir/R4/" + issued.binary()).statusCode()).as("a part is missing").isEqualTo(409);
    assertThat(putPart(first, bytes, first.offset(), first.size()).statusCode()).isEqualTo(200);

    HttpResponse<String> done = post(issued.completeUrl());

    assertThat(done.statusCode()).as(done.body()).isEqualTo(201);
    assertThat(bytesIn() - before).as("none of the content passed through the node")
        .isLessThan(1000);
    HttpResponse<byte[]> raw = http.sendBytes(http.request("fhir/R4/" + issued.binary()).GET());
    assertThat(raw.headers().firstValue("ETag")).contains("\"" + sha256(bytes) + "\"");
    assertThat(raw.headers().firstValue("Content-Type")).contains("video/mp4");
    assertThat(raw.body()).isEqualTo(bytes);
    assertThat(post(issued.completeUrl()).statusCode()).as("the confirmation is used once").isEqualTo(409);
    // AWS answers NoSuchUpload to a part of a completed upload; s3proxy takes it. Either way the
    // object is already assembled and keeps the confirmed bytes.
    byte[] other = random((int) first.size(), 7);
    putPart(first, other, 0, other.length);
    assertThat(http.sendBytes(http.request("fhir/R4/" + issued.binary()).GET()).body()).isEqualTo(bytes);
  }

  @Test
  void partsThatAreNotTheDeclaredContentAreRefusedAtTheConfirmation() throws Exception {
    byte[] bytes = random((16 << 20) + 10, 6);
    Parts issued = issueParts(bytes.length, sha256(bytes));
    byte[] other = bytes.clone();
    other[5] ^= 1;
    for (Part p : issued.parts()) {
      assertThat(putPart(p, other, p.offset(), p.size()).statusCode()).isEqualTo(200);
    }

    HttpResponse<String> done = post(issued.completeUrl());

    assertThat(done.statusCode()).as(done.body()).isEqualTo(400);
    assertThat(http.get("fhir/R4/" + issued.binary()).statusCode()).isEqualTo(404);
    assertThat(objectExists(issued.parts().get(0).url())).as("the refused object was deleted").isFalse();
  }

  @Test
  void theFirstReadConfirmsAnUploadWhoseClientNeverDid() throws Exception {
    byte[] bytes = random(5000, 8);
    Issued issued = issue(body(bytes.length, sha256(bytes)));
    assertThat(putToS3(issued, issued.url(), bytes).statusCode()).isEqualTo(200);

    HttpResponse<byte[]> raw = http.sendBytes(http.request("fhir/R4/" + issued.binary()).GET());

    assertThat(raw.statusCode()).isEqualTo(200);
    assertThat(raw.body()).isEqualTo(bytes);
    assertThat(complete(issued).statusCode()).as("already confirmed").isEqualTo(409);
    String audit = Poll.until("the AuditEvent of the confirmation",
        () -> http.get("fhir/R4/AuditEvent?entity=" + issued.binary() + "&_count=50").body(),
        b -> b.contains("confirmed on the first read"));
    assertThat(audit).contains("\"altId\":\"" + TestServer.ADMIN_ID + "\"");
  }

  @Test
  void theBackgroundCheckConfirmsAPartWiseUploadWhoseClientNeverDid() throws Exception {
    byte[] bytes = random((16 << 20) + 20, 9);
    Parts issued = issueParts(bytes.length, sha256(bytes));
    for (Part p : issued.parts()) {
      assertThat(putPart(p, bytes, p.offset(), p.size()).statusCode()).isEqualTo(200);
    }

    CLOCK.advance(Duration.ofMinutes(2));
    int confirmed = server.server().directUploads().confirmDue();

    assertThat(confirmed).isGreaterThanOrEqualTo(1);
    HttpResponse<byte[]> raw = http.sendBytes(http.request("fhir/R4/" + issued.binary()).GET());
    assertThat(raw.statusCode()).isEqualTo(200);
    assertThat(raw.headers().firstValue("ETag")).contains("\"" + sha256(bytes) + "\"");
    assertThat(raw.body()).isEqualTo(bytes);
    assertThat(post(issued.completeUrl()).statusCode()).as("already confirmed").isEqualTo(409);
  }

  @Test
  void aPartWiseUploadNeverUsedLeavesNothingAfterTheGrace() throws Exception {
    byte[] bytes = random((16 << 20) + 30, 10);
    Parts issued = issueParts(bytes.length, sha256(bytes));
    assertThat(putPart(issued.parts().get(0), bytes, 0, issued.parts().get(0).size()).statusCode()).isEqualTo(200);
    assertThat(multipartUploads(issued.parts().get(0).url())).isEqualTo(1);

    CLOCK.advance(Duration.ofHours(2));
    server.server().directUploads().confirmDue();
    server.server().sweeper().sweep();
    server.server().sweeper().sweep();

    assertThat(multipartUploads(issued.parts().get(0).url())).as("the multipart upload was aborted").isZero();
    assertThat(http.get("fhir/R4/" + issued.binary()).statusCode()).as("nothing pending any more").isEqualTo(404);
    assertThat(post(issued.completeUrl()).statusCode()).as("the URL expired").isEqualTo(410);
  }

  /** The multipart uploads in progress of the object a presigned path-style URL names. */
  static int multipartUploads(String presignedUrl) {
    String path = URI.create(presignedUrl).getPath().substring(1);
    int slash = path.indexOf('/');
    try (S3Client client = S3Client.builder().endpointOverride(s3.endpoint()).region(Region.US_EAST_1)
        .credentialsProvider(S3Server.credentials()).forcePathStyle(true).build()) {
      return client.listMultipartUploads(r -> r.bucket(path.substring(0, slash)).prefix(path.substring(slash + 1)))
          .uploads().size();
    }
  }

  /** Whether the object a presigned path-style URL names is in the bucket, asked with credentials. */
  static boolean objectExists(String presignedUrl) {
    String path = URI.create(presignedUrl).getPath().substring(1);
    int slash = path.indexOf('/');
    try (S3Client client = S3Client.builder().endpointOverride(s3.endpoint()).region(Region.US_EAST_1)
        .credentialsProvider(S3Server.credentials()).forcePathStyle(true).build()) {
      client.headObject(r -> r.bucket(path.substring(0, slash)).key(path.substring(slash + 1)));
      return true;
    } catch (NoSuchKeyException e) {
      return false;
    } catch (S3Exception e) {
      if (e.statusCode() == 404) {
        return false;
      }
      throw e;
    }
  }
}
