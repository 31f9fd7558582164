package org.fhirbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fhirbox.client.FhirboxClient;
import org.fhirbox.client.ResumableUploads;
import org.fhirbox.client.Upload;
import org.fhirbox.testing.CuttingProxy;
import org.fhirbox.testing.S3Server;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Binary;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SDK's {@code uploadViaUrl} for a file at or above its threshold, against a server in the
 * {@code s3} mode and s3proxy checking signatures: it asks for parts, sends each byte range to its
 * presigned URL (again after a failed connection), confirms, and none of the content passes
 * through the node.
 */
@SlowTest
class DirectUploadPartsTest {
  @TempDir
  Path work;

  private static double bytesIn(TestServer server) {
    String text = server.client().get("metrics").body();
    Matcher m = Pattern.compile("(?m)^fhirbox_bytes_in_total (\\S+)$").matcher(text);
    assertThat(m.find()).isTrue();
    return Double.parseDouble(m.group(1));
  }

  @BeforeEach
  void exportCredentials() {
    S3Server.exportCredentials();
  }

  @AfterEach
  void clearCredentials() {
    S3Server.clearCredentials();
  }

  /** A server in the {@code s3} mode on a new bucket behind {@code endpoint}, in parts of 5 MiB. */
  private static TestServer s3Mode(String endpoint) throws Exception {
    return s3Mode(endpoint, Map.of());
  }

  private static TestServer s3Mode(String endpoint, Map<String, String> more) throws Exception {
    Map<String, String> settings = new java.util.HashMap<>(Map.of(
        "FHIRBOX_BLOB_STORE", "s3",
        "FHIRBOX_SIGNED_URL_MODE", "s3",
        "FHIRBOX_S3_BUCKET", S3Server.newBucketName(),
        "FHIRBOX_S3_ENDPOINT", endpoint,
        "FHIRBOX_S3_PATH_STYLE", "true",
        "FHIRBOX_S3_CREATE_BUCKET", "true",
        "FHIRBOX_S3_PART_SIZE", Integer.toString(5 << 20)));
    settings.putAll(more);
    return TestServer.start(settings);
  }

  /** A client that asks for parts from 1 MiB on. */
  private static FhirboxClient client(TestServer server) {
    return client(server.baseUrl());
  }

  private static FhirboxClient client(String baseUrl) {
    return FhirboxClient.builder().baseUrl(baseUrl)
        .basicAuth(TestServer.ADMIN_ID, TestServer.ADMIN_SECRET)
        .resumableUploads(ResumableUploads.DEFAULT.withThreshold(1 << 20))
        .build();
  }

  private Path file(byte[] content) throws Exception {
    Path file = work.resolve("scan.dcm");
    Files.write(file, content);
    return file;
  }

  private static byte[] content(long seed) {
    byte[] content = new byte[(12 << 20) + 345];
    new Random(seed).nextBytes(content);
    return content;
  }

  private static void assertStored(FhirboxClient client, Binary b, byte[] content) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    client.download("Binary/" + b.getIdElement().getIdPart(), out);
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    assertThat(sha.digest(out.toByteArray())).isEqualTo(MessageDigest.getInstance("SHA-256").digest(content));
  }

  @Test
  void aLargeFileGoesStraightToTheBucketInParts() throws Exception {
    byte[] content = content(70);
    Path file = file(content);
    try (S3Server s3 = S3Server.start(); TestServer server = s3Mode(s3.endpoint().toString())) {
      FhirboxClient client = client(server);
      List<Long> seen = new CopyOnWriteArrayList<>();
      double before = bytesIn(server);

      Binary b = client.uploadViaUrl(Upload.of(file, "application/dicom")
          .withProgress((done, total) -> seen.add(done)));

      assertThat(bytesIn(server) - before).as("only the $upload-url request reached the node").isLessThan(2000);
      assertStored(client, b, content);
      assertThat(b.getContentType()).isEqualTo("application/dicom");
      assertThat(seen).contains((long) content.length).contains(5L << 20, 10L << 20);
    }
  }

  @Test
  void aPartWhoseConnectionIsCutIsSentAgainAndTheUploadCompletes() throws Exception {
    byte[] content = content(71);
    Path file = file(content);
    try (S3Server s3 = S3Server.start();
        CuttingProxy proxy = new CuttingProxy().forwardTo(s3.endpoint().getPort());
        TestServer server = s3Mode(proxy.baseUrl().substring(0, proxy.baseUrl().length() - 1))) {
      FhirboxClient client = client(server);
      // Counts every byte sent to the bucket from here on (the node's few requests too): the cut
      // falls inside the second 5 MiB part, whose PUT the SDK then sends again on a new connection.
      proxy.cutAfter(7 << 20);

      Binary b = client.uploadViaUrl(Upload.of(file, "application/dicom"));

      assertThat(proxy.cuts()).as("a part's connection was cut").isEqualTo(1);
      assertStored(client, b, content);
      assertThat(b.getContentType()).isEqualTo("application/dicom");
    }
  }

  @Test
  void aCompletionWhoseAnswerIsLostIsSentAgainAndNamesTheSameBinary() throws Exception {
    byte[] content = content(72);
    Path file = file(content);
    try (S3Server s3 = S3Server.start(); CuttingProxy proxy = new CuttingProxy();
        TestServer server = s3Mode(s3.endpoint().toString(), Map.of("FHIRBOX_BASE_URL", proxy.baseUrl()))) {
      proxy.forwardTo(server.server().port());
      FhirboxClient client = client(proxy.baseUrl());
      // the node confirms the parts and commits the Binary; the client's connection breaks before the answer
      proxy.loseAnswerTo("POST /storage/");

      Binary b = client.uploadViaUrl(Upload.of(file, "application/dicom"));

      assertThat(proxy.cuts()).as("the completion's answer was lost once").isEqualTo(1);
      assertStored(client, b, content);
      assertThat(b.getMeta().getVersionId()).isEqualTo("1");
      String history = server.client().get("fhir/R4/Binary/" + b.getIdElement().getIdPart() + "/_history").body();
      assertThat(history.split("\"fullUrl\"", -1)).as("one version in the history").hasSize(2);
    }
  }
}
