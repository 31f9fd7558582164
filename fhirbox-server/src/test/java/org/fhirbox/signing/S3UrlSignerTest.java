package org.fhirbox.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.http.ContentDisposition;
import org.fhirbox.storage.BlobInfo;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.storage.S3BlobStore;
import org.fhirbox.storage.S3Settings;
import org.fhirbox.testing.S3Server;
import org.fhirbox.testing.SlowTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/** {@link S3UrlSigner} against s3proxy, which checks SigV4 presigned URLs. */
@SlowTest
class S3UrlSignerTest {
  private static final Duration TTL = Duration.ofHours(1);
  private static final long WINDOW = 360;
  private static final byte[] DATA = "0123456789abcdefghijklmnopqrstuvwxyz".getBytes();

  private static S3Server s3;
  private static S3BlobStore store;
  private static BinaryContent content;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void storeOneBlob() throws Exception {
    s3 = S3Server.start();
    store = new S3BlobStore(s3.newBucket().build(), S3Server.credentials());
    BlobInfo info = store.put(new ByteArrayInputStream(DATA), 1000);
    content = new BinaryContent("default", "b1", 1, info.key(), info.size(), info.sha256Hex(),
        info.sha1Hex(), "text/plain", "letters.txt", null, Instant.now());
  }

  @AfterAll
  static void stop() throws Exception {
    store.close();
    s3.close();
  }

  private static S3UrlSigner signer(Clock clock) {
    return signer(store.settings(), clock);
  }

  private static S3UrlSigner signer(S3Settings settings, Clock clock) {
    return new S3UrlSigner(settings, S3Server.credentials(), TTL, clock,
        name -> ContentDisposition.attachment(name).headerValue(),
        name -> ContentDisposition.inline(name).headerValue());
  }

  private static Clock at(Instant instant) {
    return Clock.fixed(instant, ZoneOffset.UTC);
  }

  private HttpResponse<byte[]> get(String url, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).GET();
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static Map<String, String> query(String url) {
    Map<String, String> q = new HashMap<>();
    for (String pair : URI.create(url).getRawQuery().split("&")) {
      int eq = pair.indexOf('=');
      q.put(pair.substring(0, eq), java.net.URLDecoder.decode(pair.substring(eq + 1),
          java.nio.charset.StandardCharsets.UTF_8));
    }
    return q;
  }

  @Test
  void presignedUrlServesTheBlobWithItsContentType() throws Exception {
    String url = signer(Clock.systemUTC()).sign("http://ignored/", content, null);

    HttpResponse<byte[]> resp = get(url);

    assertThat(resp.statusCode()).isEqualTo(200);
    assertThat(resp.body()).isEqualTo(DATA);
    assertThat(resp.headers().firstValue("Content-Type")).hasValueSatisfying(
        t -> assertThat(t).startsWith("text/plain"));
    assertThat(url).startsWith(s3.endpoint() + "/" + store.settings().bucket() + "/blobs/"
        + content.blobKey().value() + "?");
    // the Binary version it serves is named too, for the web app (the key names only the blob);
    // signed with the rest, and the store answers all the same
    assertThat(query(url)).containsEntry("fhirbox-binary", "Binary/b1/_history/1");
    // private, for at most what the URL has left when handed out: as our /storage answers
    assertThat(resp.headers().firstValue("Cache-Control")).hasValue("private, max-age=" + TTL.toSeconds());
    String share = signer(Clock.systemUTC()).signFor("", content, null, Duration.ofDays(2));
    assertThat(get(share).headers().firstValue("Cache-Control")).hasValue("private, max-age=172800");
  }

  @Test
  void rangeRequestOnPresignedUrlGetsPartialContent() throws Exception {
    String url = signer(Clock.systemUTC()).sign("http://ignored/", content, null);

    HttpResponse<byte[]> resp = get(url, "Range", "bytes=10-19");

    assertThat(resp.statusCode()).isEqualTo(206);
    assertThat(resp.body()).isEqualTo(Arrays.copyOfRange(DATA, 10, 20));
    assertThat(resp.headers().firstValue("Content-Range")).contains("bytes 10-19/" + DATA.length);
  }

  @Test
  void downloadFilenameAsksForAttachmentDisposition() throws Exception {
    String url = signer(Clock.systemUTC()).sign("http://ignored/", content, "résumé 1.txt");

    HttpResponse<byte[]> resp = get(url);

    assertThat(resp.statusCode()).isEqualTo(200);
    assertThat(query(url).get("response-content-disposition"))
        .isEqualTo(ContentDisposition.attachment("résumé 1.txt").headerValue());
    assertThat(resp.headers().firstValue("Content-Disposition")).hasValueSatisfying(
        d -> assertThat(d).startsWith("attachment;"));
  }

  @Test
  void contentThatCouldRunScriptIsAnsweredAsAnAttachmentOfACleanType() throws Exception {
    BinaryContent html = new BinaryContent("default", "b2", 1, content.blobKey(), content.size(),
        null, content.sha1Hex(), "text/html", null, null, Instant.now());
    BinaryContent listed = new BinaryContent("default", "b3", 1, content.blobKey(), content.size(),
        null, content.sha1Hex(), "image/png;x=,text/html", null, null, Instant.now());
    String page = signer(Clock.systemUTC()).sign("", html, null);

    HttpResponse<byte[]> resp = get(page);

    assertThat(query(page).get("response-content-disposition")).startsWith("attachment");
    assertThat(resp.statusCode()).isEqualTo(200);
    assertThat(resp.headers().firstValue("Content-Disposition")).hasValueSatisfying(
        d -> assertThat(d).startsWith("attachment"));
    assertThat(query(signer(Clock.systemUTC()).sign("", listed, null)).get("response-content-type"))
        .isEqualTo("application/octet-stream");
  }

  @Test
  void headersTheUploaderStoredWithTheObjectAreOverriddenForInlineTypesToo() throws Exception {
    // what a presigned PUT may store beside its signed headers (SigV4 signs host and x-amz-* only)
    S3Settings settings = store.settings();
    BlobKey key = BlobKey.random();
    try (S3Client raw = S3BlobStore.newClient(settings, S3Server.credentials())) {
      raw.putObject(r -> r.bucket(settings.bucket()).key(settings.objectKey(key)).contentType("image/png")
          .contentDisposition("attachment; filename=\"scan.png.exe\"").contentEncoding("gzip"),
          RequestBody.fromBytes(DATA));
    }
    BinaryContent png = new BinaryContent("default", "b4", 1, key, DATA.length, null, content.sha1Hex(),
        "image/png", "scan.png", null, Instant.now());
    String url = signer(Clock.systemUTC()).sign("", png, null);

    HttpResponse<byte[]> resp = get(url);

    assertThat(resp.statusCode()).isEqualTo(200);
    assertThat(resp.headers().firstValue("Content-Disposition"))
        .hasValue(ContentDisposition.inline("scan.png").headerValue());
    assertThat(resp.headers().firstValue("Content-Encoding")).hasValue("identity");
    assertThat(resp.body()).isEqualTo(DATA);
  }

  @Test
  void urlIsStableWithinAWindowAndChangesInTheNext() {
    Instant windowStart = Instant.ofEpochSecond(1_800_000_000L / WINDOW * WINDOW);

    String first = signer(at(windowStart)).sign("", content, null);
    String last = signer(at(windowStart.plusSeconds(WINDOW - 1))).sign("", content, null);
    String next = signer(at(windowStart.plusSeconds(WINDOW))).sign("", content, null);

    assertThat(last).isEqualTo(first);
    assertThat(next).isNotEqualTo(first);
  }

  @Test
  void lifetimeIsMoreThanTtlAndAtMostTtlPlusTenPercent() {
    Instant windowStart = Instant.ofEpochSecond(1_800_000_000L / WINDOW * WINDOW);
    DateTimeFormatter amzDate = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    for (long offset : new long[] {0, 1, WINDOW / 2, WINDOW - 1}) {
      Instant now = windowStart.plusSeconds(offset);
      Map<String, String> q = query(signer(at(now)).sign("", content, null));
      Instant signedAt = Instant.from(amzDate.parse(q.get("X-Amz-Date")));
      Instant expiry = signedAt.plusSeconds(Long.parseLong(q.get("X-Amz-Expires")));
      Duration lifetime = Duration.between(now, expiry);
      assertThat(signedAt).isEqualTo(windowStart);
      assertThat(lifetime).isGreaterThan(TTL).isLessThanOrEqualTo(TTL.plusSeconds(WINDOW));
    }
  }

  @Test
  void expiredPresignedUrlIsRefusedByTheStore() throws Exception {
    String url = signer(at(Instant.now().minus(TTL.multipliedBy(2)))).sign("", content, null);

    assertThat(get(url).statusCode()).isEqualTo(403);
  }

  @Test
  void urlSignedWithTheWrongSecretIsRefused() throws Exception {
    S3UrlSigner forged = new S3UrlSigner(store.settings(), StaticCredentialsProvider.create(
        AwsBasicCredentials.create(S3Server.ACCESS_KEY, "not-the-secret")), TTL, Clock.systemUTC(),
        name -> name, name -> name);

    assertThat(get(forged.sign("", content, null)).statusCode()).isEqualTo(403);
  }

  @Test
  void recognisesItsOwnUrlsByBlobKey() {
    S3UrlSigner signer = signer(Clock.systemUTC());
    String url = signer.sign("", content, "a.txt");

    assertThat(signer.recogniseBlobKey(url)).contains(content.blobKey());
    assertThat(signer.recogniseBlobKey(url.substring(0, url.indexOf('?')))).contains(content.blobKey());
    assertThat(signer.recogniseBlobKey("https://example.org/blobs/" + content.blobKey())).isEmpty();
    assertThat(signer.recogniseBlobKey(url.replace("/blobs/", "/other/"))).isEmpty();
    S3Settings otherBucket = S3Settings.builder("other").endpoint(s3.endpoint()).pathStyle(true).build();
    assertThat(signer(otherBucket, Clock.systemUTC()).recogniseBlobKey(url)).isEmpty();
  }

  @Test
  void awsVirtualHostedUrlNamesBucketInHost() {
    S3Settings aws = S3Settings.builder("my-bucket").region("eu-west-1").keyPrefix("").build();
    S3UrlSigner signer = signer(aws, Clock.systemUTC());

    String url = signer.sign("", content, null);

    assertThat(url).startsWith("https://my-bucket.s3.eu-west-1.amazonaws.com/" + content.blobKey() + "?");
    assertThat(query(url)).containsKeys("X-Amz-Signature", "X-Amz-Credential", "X-Amz-Date")
        .containsEntry("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
    assertThat(signer.recogniseBlobKey(url)).contains(content.blobKey());
  }

  @Test
  void ttlBeyondSigV4MaximumIsRejected() {
    assertThatThrownBy(() -> new S3UrlSigner(store.settings(), S3Server.credentials(),
        Duration.ofDays(7), Clock.systemUTC(), name -> name, name -> name))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
