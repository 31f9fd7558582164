package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Direct uploads ask for URLs that live long enough, and a URL that expired anyway (S3's 403
 * with an XML error document, fhirbox's 410) fails with a message that says so, as does an answer
 * without what the upload needs. The peer plays
 * both the node ({@code $upload-url}) and the bucket (the part URLs), as S3 in its multipart mode.
 */
class DirectUploadExpiryTest {
  @TempDir
  Path work;
  @RegisterExtension
  final PeerServer peer = PeerServer.started();

  private FhirboxClient client() {
    return FhirboxClient.builder().baseUrl(peer.root()).accessToken("t")
        .retryPolicy(new RetryPolicy(1, Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofSeconds(1)))
        .resumableUploads(ResumableUploads.DEFAULT.withThreshold(1000))
        .build();
  }

  /** The answer to {@code $upload-url} for two parts of 1000 bytes at the peer's bucket. */
  private void serveUploadUrl() {
    String bucket = peer.root() + "bucket/key";
    peer.on("/fhir/R4/Binary/$upload-url", ex -> PeerServer.send(ex, 200, "application/fhir+json", """
        {"resourceType":"Parameters","parameter":[
          {"name":"binary","valueReference":{"reference":"Binary/b1"}},
          {"name":"method","valueString":"PUT"},
          {"name":"part","part":[{"name":"number","valueInteger":1},{"name":"offset","valueInteger":0},
            {"name":"size","valueInteger":1000},{"name":"url","valueUrl":"%s?partNumber=1&X-Amz-Signature=s"}]},
          {"name":"part","part":[{"name":"number","valueInteger":2},{"name":"offset","valueInteger":1000},
            {"name":"size","valueInteger":1000},{"name":"url","valueUrl":"%s?partNumber=2&X-Amz-Signature=s"}]},
          {"name":"complete","part":[{"name":"url","valueUrl":"%sstorage/upload/b1?Signature=s"}]}]}
        """.formatted(bucket, bucket, peer.root())));
  }

  private Path file() throws Exception {
    return Files.write(work.resolve("scan.bin"), BinaryTransferTest.randomBytes(2000));
  }

  @Test
  void partsAreAskedForWithTheLongestLifetimeAndAnExpiredPartSaysSoWithWhatS3Said() throws Exception {
    serveUploadUrl();
    peer.on("/bucket/", ex -> PeerServer.send(ex, 403, "application/xml", """
        <?xml version="1.0" encoding="UTF-8"?>
        <Error><Code>AccessDenied</Code><Message>Request has expired</Message>
        <X-Amz-Expires>900</X-Amz-Expires><RequestId>r1</RequestId></Error>"""));

    assertThatThrownBy(() -> client().uploadViaUrl(Upload.of(file(), "application/octet-stream")))
        .isInstanceOf(FhirboxException.class)
        .hasMessageContaining("the URL of part 1 expired")
        .hasMessageContaining("upload the file again")
        .hasMessageContaining("AccessDenied: Request has expired")
        .hasMessageNotContaining("X-Amz-Signature");

    String asked = peer.seen("/fhir/R4/Binary/$upload-url").get(0).body();
    assertThat(asked).contains("\"multipart\"").containsPattern("\"expiresIn\",\\s*\"valueInteger\":\\s*3600");
  }

  @Test
  void aBucketRefusalForAnotherReasonShowsItsCodeAndMessage() throws Exception {
    serveUploadUrl();
    peer.on("/bucket/", ex -> PeerServer.send(ex, 403, "application/xml",
        "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match"
            + "</Message><StringToSign>secret-ish</StringToSign></Error>"));

    assertThatThrownBy(() -> client().uploadViaUrl(Upload.of(file(), "application/octet-stream")))
        .isInstanceOf(FhirboxException.class)
        .hasMessageContaining("HTTP 403 from PUT /bucket/key: SignatureDoesNotMatch: The request signature")
        .hasMessageNotContaining("expired")
        .hasMessageNotContaining("secret-ish");
  }

  @Test
  void anExpiredCompletionUrlSaysSo() throws Exception {
    serveUploadUrl();
    peer.on("/bucket/", ex -> PeerServer.send(ex, 200, "application/xml", ""));
    peer.on("/storage/upload/", ex -> PeerServer.send(ex, 410, "application/fhir+json", """
        {"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"expired",
          "diagnostics":"upload URL expired at 2026-01-01T00:00:00Z"}]}"""));

    assertThatThrownBy(() -> client().uploadViaUrl(Upload.of(file(), "application/octet-stream")))
        .isInstanceOf(FhirboxException.class)
        .hasMessageContaining("the completion URL expired")
        .hasMessageContaining("upload URL expired at 2026-01-01T00:00:00Z");
    assertThat(peer.seen("/bucket/key")).hasSize(2);
  }

  @Test
  void aSingleUploadUrlLivesLongerForALargerFileUpToTheLongestLifetime() {
    assertThat(DirectUploader.expiresIn(0, false)).isEqualTo(900);
    assertThat(DirectUploader.expiresIn(8 * 1024 * 600, false)).isEqualTo(1500);
    assertThat(DirectUploader.expiresIn(1L << 40, false)).isEqualTo(3600);
    assertThat(DirectUploader.expiresIn(1, true)).isEqualTo(3600);
  }

  /** An answer to {@code $upload-url} without what the upload needs is the server's fault, named so. */
  @Test
  void anUploadUrlAnswerWithoutItsMethodFailsAsTheServersFault() throws Exception {
    peer.on("/fhir/R4/Binary/$upload-url", ex -> PeerServer.send(ex, 200, "application/fhir+json", """
        {"resourceType":"Parameters","parameter":[
          {"name":"binary","valueReference":{"reference":"Binary/b1"}},
          {"name":"url","valueUrl":"%sstorage/upload/b1?Signature=s"}]}
        """.formatted(peer.root())));
    Path small = Files.write(work.resolve("small.bin"), new byte[10]);

    assertThatThrownBy(() -> client().uploadViaUrl(Upload.of(small, "application/octet-stream")))
        .isInstanceOf(FhirboxException.class)
        .hasMessage("the $upload-url answer has no method");
  }
}
