package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.Map;
import org.fhirbox.testing.CuttingProxy;
import org.fhirbox.testing.S3Server;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestBytes;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.Tus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A multipart upload whose {@code CompleteMultipartUpload} S3 carried out, but whose answer breaks
 * off after its head (the connection to the object store closed mid-answer, as a load balancer or
 * a restarting S3 node closes it): the object is complete under the upload's own key, so the upload
 * stands, rather than failing with a 500 and leaving the object to the orphan sweeper. S3 here is
 * s3proxy behind a proxy that cuts that one answer.
 */
@SlowTest
class S3CutAnswerTest {
  private static final int MIB = 1 << 20;
  private static S3Server s3;
  private static S3Client raw;
  private static CuttingProxy proxy;
  private static String bucket;
  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    s3 = S3Server.start();
    S3Server.exportCredentials();
    raw = s3.client();
    proxy = new CuttingProxy().forwardTo(s3.endpoint().getPort());
    bucket = S3Server.newBucketName();
    String endpoint = proxy.baseUrl().substring(0, proxy.baseUrl().length() - 1);
    server = TestServer.start(Map.of("FHIRBOX_BLOB_STORE", "s3", "FHIRBOX_S3_BUCKET", bucket,
        "FHIRBOX_S3_ENDPOINT", endpoint, "FHIRBOX_S3_PATH_STYLE", "true",
        "FHIRBOX_S3_CREATE_BUCKET", "true", "FHIRBOX_S3_PART_SIZE", Integer.toString(5 * MIB)));
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      server.close();
      proxy.close();
      raw.close();
      s3.close();
    } finally {
      S3Server.clearCredentials();
    }
  }

  private static void cutTheNextCompletionsAnswer() {
    proxy.cutAnswerBodyTo("POST /" + bucket + "/", "uploadId=");
  }

  private static byte[] read(String binaryVersion) {
    HttpResponse<byte[]> read = server.client().sendBytes(server.client().request("fhir/R4/" + binaryVersion)
        .header("Accept", "*/*").GET());
    assertThat(read.statusCode()).isEqualTo(200);
    return read.body();
  }

  @Test
  void aRawUploadWhoseCompletionAnswerBreaksOffIsStored() {
    byte[] content = TestBytes.random(5 * MIB + 1, 91);
    long cuts = proxy.cuts();
    cutTheNextCompletionsAnswer();

    HttpResponse<String> created = server.client().send(server.client().request("fhir/R4/Binary")
        .header("Content-Type", "application/octet-stream").POST(HttpRequest.BodyPublishers.ofByteArray(content)));

    assertThat(proxy.cuts()).as("the completion's answer was cut").isEqualTo(cuts + 1);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String location = created.headers().firstValue("Location").orElseThrow();
    assertThat(read(location.substring(location.indexOf("Binary/")))).isEqualTo(content);
  }

  @Test
  void anAnswerThatBreaksOffBeforeTheUploadCanGoOnIsAnOutage() {
    long cuts = proxy.cuts();
    // CreateMultipartUpload: without the upload id it names, nothing can be sent to the upload
    proxy.cutAnswerBodyTo("POST /" + bucket + "/", "?uploads");

    HttpResponse<String> refused = server.client().send(server.client().request("fhir/R4/Binary")
        .header("Content-Type", "application/octet-stream")
        .POST(HttpRequest.BodyPublishers.ofByteArray(TestBytes.random(5 * MIB + 1, 93))));

    assertThat(proxy.cuts()).as("the answer was cut").isEqualTo(cuts + 1);
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
    assertThat(refused.headers().firstValue("Retry-After")).contains("10");
    assertThat(refused.body()).contains("\"transient\"", "the object store's answer broke off");
  }

  @Test
  void aResumableUploadWhoseCompletionAnswerBreaksOffEndsWithItsLastPiece() {
    Tus tus = new Tus(server.client());
    byte[] content = TestBytes.random(5 * MIB + 7, 92);
    String url = tus.upload(content.length, Tus.metadata("filetype", "application/octet-stream"));
    HttpResponse<String> first = tus.patch(url, 0, Arrays.copyOf(content, 5 * MIB));
    assertThat(first.statusCode()).as(first.body()).isEqualTo(204);
    long cuts = proxy.cuts();
    cutTheNextCompletionsAnswer();

    HttpResponse<String> last = tus.patch(url, 5 * MIB, Arrays.copyOfRange(content, 5 * MIB, content.length));

    assertThat(proxy.cuts()).as("the completion's answer was cut").isEqualTo(cuts + 1);
    assertThat(last.statusCode()).as(last.body()).isEqualTo(204);
    assertThat(read(Tus.binaryVersion(last))).isEqualTo(content);
  }
}
