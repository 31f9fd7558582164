package org.fhirbox.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fhirbox.config.FhirboxConfig;
import org.fhirbox.metrics.Metrics;
import org.fhirbox.signing.CloudFrontUrlSigner;
import org.fhirbox.signing.S3UrlSigner;
import org.fhirbox.signing.SigningKeys;
import org.fhirbox.signing.StorageUrlSigner;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.storage.BlobInfo;
import org.fhirbox.storage.LiveWrites;
import org.fhirbox.storage.S3Settings;
import org.fhirbox.testing.S3Server;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Configuration to backends, and a server running on S3 with S3 presigned attachment URLs. */
@SlowTest
class BackendsTest {
  private static S3Server s3;
  private final StorageUrlSigner storage =
      new StorageUrlSigner(SigningKeys.generate(), Duration.ofHours(1), Clock.systemUTC());

  @BeforeAll
  static void startS3() throws Exception {
    s3 = S3Server.start();
  }

  @AfterAll
  static void stopS3() throws Exception {
    s3.close();
  }

  private static FhirboxConfig config(String... pairs) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      m.put(pairs[i], pairs[i + 1]);
    }
    return FhirboxConfig.of(m);
  }

  @Test
  void s3SettingsComeFromTheS3Keys() {
    S3Settings s = Backends.s3Settings(config("FHIRBOX_S3_BUCKET", "b", "FHIRBOX_S3_ENDPOINT",
        "http://minio:9000", "FHIRBOX_S3_REGION", "eu-central-1", "FHIRBOX_S3_PATH_STYLE", "true",
        "FHIRBOX_S3_CREATE_BUCKET", "TRUE", "FHIRBOX_S3_PART_SIZE", "8388608",
        "FHIRBOX_S3_PARALLELISM", "3", "FHIRBOX_S3_SSE", "kms", "FHIRBOX_S3_KMS_KEY_ID", "key-1",
        "FHIRBOX_S3_PREFIX", "fhirbox/"));

    assertThat(s).isEqualTo(new S3Settings("b", URI.create("http://minio:9000"), "eu-central-1",
        true, true, 8L << 20, 3, S3Settings.Sse.KMS, "key-1", "fhirbox/"));
  }

  @Test
  void s3DefaultsAreAwsUsEast1VirtualHostedWithBlobsPrefix() {
    S3Settings s = Backends.s3Settings(config("FHIRBOX_S3_BUCKET", "b"));

    assertThat(s).isEqualTo(S3Settings.builder("b").build());
  }

  @Test
  void aLimitBeyondTenThousandPartsIsRejectedNamingTheSizeThatWouldDo() {
    S3Settings s = Backends.s3Settings(config("FHIRBOX_S3_BUCKET", "b", "FHIRBOX_S3_PART_SIZE", "5242880"));
    assertThatThrownBy(() -> Backends.withinPartLimit(s, config("FHIRBOX_MAX_BINARY_BYTES", "107374182400")))
        .hasMessageContaining("FHIRBOX_S3_PART_SIZE").hasMessageContaining("at least 10737419 bytes");
    assertThat(Backends.withinPartLimit(s, config("FHIRBOX_MAX_BINARY_BYTES", "52428800000"))).isSameAs(s);
    // the defaults: 10 GiB in 16 MiB parts is 640 parts
    S3Settings defaults = Backends.s3Settings(config("FHIRBOX_S3_BUCKET", "b"));
    assertThat(Backends.withinPartLimit(defaults, config())).isSameAs(defaults);
  }

  @Test
  void misconfigurationIsRejectedNamingTheKey() {
    assertThatThrownBy(() -> Backends.s3Settings(config()))
        .hasMessageContaining("FHIRBOX_S3_BUCKET");
    assertThatThrownBy(() -> Backends.s3Settings(config("FHIRBOX_S3_BUCKET", "b", "FHIRBOX_S3_SSE", "aes")))
        .hasMessageContaining("FHIRBOX_S3_SSE");
    assertThatThrownBy(() -> Backends.s3Settings(config("FHIRBOX_S3_BUCKET", "b",
        "FHIRBOX_S3_KMS_KEY_ID", "k"))).hasMessageContaining("FHIRBOX_S3_KMS_KEY_ID");
    assertThatThrownBy(() -> Backends.s3Settings(config("FHIRBOX_S3_BUCKET", "b",
        "FHIRBOX_S3_PATH_STYLE", "yes"))).hasMessageContaining("FHIRBOX_S3_PATH_STYLE");
    assertThatThrownBy(() -> Backends.blobStore(config("FHIRBOX_BLOB_STORE", "nfs"), S3Server.credentials(),
        null, LiveWrites.NONE, false)).hasMessageContaining("FHIRBOX_BLOB_STORE");
    assertThatThrownBy(() -> Backends.signing(config("FHIRBOX_SIGNED_URL_MODE", "s3"), storage,
        S3Server.credentials(), Clock.systemUTC())).hasMessageContaining("FHIRBOX_BLOB_STORE=s3");
    assertThatThrownBy(() -> Backends.signing(config("FHIRBOX_SIGNED_URL_MODE", "gcs"), storage,
        S3Server.credentials(), Clock.systemUTC())).hasMessageContaining("FHIRBOX_SIGNED_URL_MODE");
    assertThatThrownBy(() -> Backends.signing(config("FHIRBOX_SIGNED_URL_MODE", "cloudfront",
        "FHIRBOX_BLOB_STORE", "s3", "FHIRBOX_S3_BUCKET", "b", "FHIRBOX_CLOUDFRONT_DOMAIN", "d.net",
        "FHIRBOX_CLOUDFRONT_KEY_PAIR_ID", "K1"), storage, S3Server.credentials(), Clock.systemUTC()))
        .hasMessageContaining("FHIRBOX_CLOUDFRONT_PRIVATE_KEY");
    // presigned uploads to S3 live up to an hour: a shorter grace would let the sweeper take their bytes
    assertThatThrownBy(() -> Backends.s3Uploads(config("FHIRBOX_SIGNED_URL_MODE", "s3", "FHIRBOX_BLOB_STORE", "s3",
        "FHIRBOX_S3_BUCKET", "b", "FHIRBOX_ORPHAN_GRACE", "1800"), S3Server.credentials()))
        .hasMessageContaining("FHIRBOX_ORPHAN_GRACE is 1800 s");
    assertThat(Backends.s3Uploads(config("FHIRBOX_SIGNED_URL_MODE", "server", "FHIRBOX_ORPHAN_GRACE", "1200"),
        S3Server.credentials())).as("server mode: the node receives every byte itself").isNull();
  }

  @Test
  void defaultsAreFilesUnderTheDataDirAndServerSignedUrls(@TempDir Path dir) throws Exception {
    FhirboxConfig c = config("FHIRBOX_DATA_DIR", dir.toString());

    try (var blobs = Backends.blobStore(c, S3Server.credentials(), new Metrics(), LiveWrites.NONE, false)) {
      assertThat(dir.resolve("blobs")).isDirectory();
      // every store comes wrapped in MeteredBlobStore: what counts is where the bytes land
      BlobInfo stored = blobs.put(new ByteArrayInputStream("stored as a file".getBytes(UTF_8)), 1024);
      try (Stream<Path> files = Files.walk(dir.resolve("blobs"))) {
        assertThat(files.filter(Files::isRegularFile).toList())
            .anySatisfy(p -> assertThat(p).hasContent("stored as a file"));
      }
      assertThat(stored.size()).isEqualTo(16);
    }
    Backends.Signing signing = Backends.signing(c, storage, S3Server.credentials(), Clock.systemUTC());
    assertThat(signing.signer()).isSameAs(storage);
    assertThat(signing.objectUrls()).isEmpty();
  }

  @Test
  void signedUrlModesSelectTheirSigner() throws Exception {
    java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    String pem = "-----BEGIN PRIVATE KEY-----\n" + java.util.Base64.getMimeEncoder().encodeToString(
        g.generateKeyPair().getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n";
    FhirboxConfig s3Mode = config("FHIRBOX_SIGNED_URL_MODE", "S3", "FHIRBOX_BLOB_STORE", "s3",
        "FHIRBOX_S3_BUCKET", "b");
    FhirboxConfig cloudFront = s3Mode.with("FHIRBOX_SIGNED_URL_MODE", "cloudfront")
        .with("FHIRBOX_CLOUDFRONT_DOMAIN", "d1.cloudfront.net")
        .with("FHIRBOX_CLOUDFRONT_KEY_PAIR_ID", "K1").with("FHIRBOX_CLOUDFRONT_PRIVATE_KEY", pem);

    assertThat(Backends.signing(s3Mode, storage, S3Server.credentials(), Clock.systemUTC()).signer())
        .isInstanceOf(S3UrlSigner.class);
    Backends.Signing cf = Backends.signing(cloudFront, storage, S3Server.credentials(), Clock.systemUTC());
    assertThat(cf.signer()).isInstanceOf(CloudFrontUrlSigner.class);
    BlobKey key = BlobKey.random();
    assertThat(cf.objectUrls().orElseThrow().recogniseBlobKey("https://d1.cloudfront.net/blobs/" + key))
        .contains(key);
  }

  /** Pulls the "valueUrl" out of a $presigned-url Parameters response. */
  private static String presignedUrl(TestServer server, String binaryId) {
    HttpResponse<String> resp = server.client().get("fhir/R4/Binary/" + binaryId + "/$presigned-url");
    assertThat(resp.statusCode()).isEqualTo(200);
    Matcher m = Pattern.compile("\"valueUrl\"\\s*:\\s*\"([^\"]+)\"").matcher(resp.body());
    assertThat(m.find()).as(resp.body()).isTrue();
    return m.group(1).replace("\\u0026", "&");
  }

  @Test
  void serverOnS3HandsOutPresignedUrlsThatServeRanges() throws Exception {
    S3Server.exportCredentials();
    String bucket = S3Server.newBucketName();
    try (TestServer server = TestServer.start(Map.of(
        "FHIRBOX_BLOB_STORE", "s3", "FHIRBOX_SIGNED_URL_MODE", "s3",
        "FHIRBOX_S3_BUCKET", bucket, "FHIRBOX_S3_ENDPOINT", s3.endpoint().toString(),
        "FHIRBOX_S3_PATH_STYLE", "true", "FHIRBOX_S3_CREATE_BUCKET", "true"))) {
      byte[] body = new byte[100_000];
      new java.util.Random(5).nextBytes(body);
      HttpResponse<String> created = server.client().send(server.client().request("fhir/R4/Binary")
          .header("Content-Type", "image/png").POST(HttpRequest.BodyPublishers.ofByteArray(body)));
      assertThat(created.statusCode()).isEqualTo(201);
      String id = created.headers().firstValue("Location").orElseThrow()
          .replaceAll(".*/Binary/([^/]+)/.*", "$1");

      String url = presignedUrl(server, id);
      HttpResponse<byte[]> range = server.client().http().send(HttpRequest.newBuilder(URI.create(url))
          .header("Range", "bytes=1000-1999").build(), HttpResponse.BodyHandlers.ofByteArray());

      assertThat(url).startsWith(s3.endpoint() + "/" + bucket + "/blobs/");
      assertThat(range.statusCode()).isEqualTo(206);
      assertThat(range.body()).isEqualTo(java.util.Arrays.copyOfRange(body, 1000, 2000));
      assertThat(range.headers().firstValue("Content-Type")).contains("image/png");
      assertThat(server.client().get("readyz").body()).contains("\"blobStore\":\"up\"");
      assertThat(server.client().get("metrics").body())
          .contains("fhirbox_blobstore_operation_seconds_count{op=\"put\"} 1");
    } finally {
      S3Server.clearCredentials();
    }
  }
}
