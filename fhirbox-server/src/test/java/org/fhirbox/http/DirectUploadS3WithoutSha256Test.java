package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirbox.http.DirectS3Fixture.assertConfirmedBefore;
import static org.fhirbox.http.DirectS3Fixture.complete;
import static org.fhirbox.http.DirectS3Fixture.objectKey;
import static org.fhirbox.http.DirectS3Fixture.post;
import static org.fhirbox.http.DirectS3Fixture.putPart;
import static org.fhirbox.http.DirectS3Fixture.putToS3;
import static org.fhirbox.http.DirectS3Fixture.sha1Base64;
import static org.fhirbox.testing.TestBytes.random;
import static org.fhirbox.testing.TestBytes.sha256;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.fhirbox.binary.OrphanSweeper;
import org.fhirbox.http.DirectS3Fixture.Issued;
import org.fhirbox.http.DirectS3Fixture.Part;
import org.fhirbox.http.DirectS3Fixture.Parts;
import org.fhirbox.signing.S3UploadSigner;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.storage.S3Settings;
import org.fhirbox.testing.S3Server;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestBytes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * Presigned uploads straight to S3 without a declared SHA-256, against s3proxy checking SigV4
 * signatures: the single PUT goes to a staging object, the confirmation copies it inside the
 * bucket to a blob no URL reaches and reads that once for its digests.
 */
@SlowTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DirectUploadS3WithoutSha256Test {
  static DirectS3Fixture f;

  @BeforeAll
  static void start() throws Exception {
    f = DirectS3Fixture.start();
  }

  @AfterAll
  static void stop() throws Exception {
    f.close();
  }

  static String attachment(Issued issued) {
    return "{\"resourceType\":\"Patient\",\"photo\":[{\"url\":\"" + issued.binary() + "\"}]}";
  }

  @Test
  void theCompletionCopiesTheStagedBytesAndReadsThemOnceForTheirDigests() throws Exception {
    byte[] bytes = random(3 << 20, 22);
    String request = f.body(bytes.length, null);
    double before = f.bytesIn();
    Issued issued = f.issue(request);
    assertThat(putToS3(issued, issued.url(), bytes).statusCode()).isEqualTo(200);

    HttpResponse<String> done = complete(issued);

    assertThat(done.statusCode()).as(done.body()).isEqualTo(201);
    // The request body of $upload-url is all the node received: the copy stayed inside the bucket.
    assertThat(f.bytesIn() - before).isEqualTo(request.getBytes(StandardCharsets.UTF_8).length);
    HttpResponse<byte[]> raw = f.http.sendBytes(f.http.request("fhir/R4/" + issued.binary()).GET());
    assertThat(raw.statusCode()).isEqualTo(200);
    TestBytes.assertBlobEtag(raw.headers());
    assertThat(raw.body()).isEqualTo(bytes);
    assertThat(f.http.postJson("fhir/R4/Patient", attachment(issued)).body()).as("the SHA-1 is known at once")
        .contains("\"hash\":\"" + sha1Base64(bytes) + "\"").contains("\"size\":" + bytes.length);
    assertThat(f.objectExists(issued.url())).as("the staging object is deleted once copied").isFalse();
    assertConfirmedBefore(complete(issued), issued.binary());
  }

  @Test
  void theUrlTakesTheDeclaredSizeOnlyAndNothingElseIsReadable() throws Exception {
    byte[] bytes = random(3000, 23);
    Issued issued = f.issue(f.body(bytes.length, null));
    assertThat(objectKey(issued.url())).as("never a blob's key").startsWith("blobs/staging/");
    assertThat(issued.headers()).containsKey("Content-Type").doesNotContainKey("x-amz-checksum-sha256");
    assertThat(putToS3(issued, issued.url(), random(2999, 23)).statusCode()).as("the signed Content-Length")
        .isGreaterThanOrEqualTo(400);
    String tampered = issued.url().replaceFirst("X-Amz-Signature=[0-9a-f]", "X-Amz-Signature=z");
    assertThat(putToS3(issued, tampered, bytes).statusCode()).as("signature checked").isEqualTo(403);
    assertThat(complete(issued).statusCode()).as("nothing to confirm yet").isEqualTo(409);
    HttpResponse<String> read = f.http.get("fhir/R4/" + issued.binary());
    assertThat(read.statusCode()).as("reserved, bytes not there").isEqualTo(409);
    assertThat(read.body()).contains("is being uploaded straight to storage");

    // A store that did not enforce the signed size: written with credentials beside the URL.
    f.writeWithCredentials(issued.url(), random(2999, 24), false);
    HttpResponse<String> done = complete(issued);

    assertThat(done.statusCode()).as(done.body()).isEqualTo(400);
    assertThat(done.body()).contains("2999 bytes, not the declared 3000");
    assertThat(f.objectExists(issued.url())).as("the refused object was deleted").isFalse();
    assertThat(f.http.get("fhir/R4/" + issued.binary()).statusCode()).isEqualTo(404);
  }

  @Test
  void theFirstReadConfirmsAnUploadWhoseClientNeverDid() throws Exception {
    byte[] bytes = random(5000, 25);
    Issued issued = f.issue(f.body(bytes.length, null));
    assertThat(putToS3(issued, issued.url(), bytes).statusCode()).isEqualTo(200);

    HttpResponse<byte[]> raw = f.http.sendBytes(f.http.request("fhir/R4/" + issued.binary()).GET());

    assertThat(raw.statusCode()).isEqualTo(200);
    assertThat(raw.body()).isEqualTo(bytes);
    TestBytes.assertBlobEtag(raw.headers());
    assertThat(f.http.postJson("fhir/R4/Patient", attachment(issued)).body())
        .contains("\"hash\":\"" + sha1Base64(bytes) + "\"");
    assertConfirmedBefore(complete(issued), issued.binary());
    assertThat(f.objectExists(issued.url())).isFalse();
  }

  @Test
  void theBackgroundCheckConfirmsAnUploadWhoseClientNeverDid() throws Exception {
    byte[] bytes = random(6000, 26);
    Issued issued = f.issue(f.body(bytes.length, null));
    assertThat(putToS3(issued, issued.url(), bytes).statusCode()).isEqualTo(200);

    f.clock.advance(Duration.ofMinutes(2));
    assertThat(f.server.server().directUploads().confirmDue()).isGreaterThanOrEqualTo(1);

    HttpResponse<byte[]> raw = f.http.sendBytes(f.http.request("fhir/R4/" + issued.binary()).GET());
    assertThat(raw.statusCode()).isEqualTo(200);
    assertThat(raw.body()).isEqualTo(bytes);
    assertConfirmedBefore(complete(issued), issued.binary());
  }

  @Test
  void partUrlsWithoutSha256AreCompletedAndTheObjectReadOnce() throws Exception {
    byte[] bytes = random((16 << 20) + 1000, 27);
    double before = f.bytesIn();
    Parts issued = f.issueParts(bytes.length, null);
    assertThat(issued.parts()).hasSize(2);
    assertThat(objectKey(issued.parts().get(0).url())).as("the blob itself: S3 ends the part URLs")
        .doesNotContain("staging/");
    for (Part p : issued.parts()) {
      assertThat(putPart(p, bytes, p.offset(), p.size()).statusCode()).isEqualTo(200);
    }

    HttpResponse<String> done = post(issued.completeUrl());

    assertThat(done.statusCode()).as(done.body()).isEqualTo(201);
    assertThat(f.bytesIn() - before).as("none of the content passed through the node").isLessThan(1000);
    HttpResponse<byte[]> raw = f.http.sendBytes(f.http.request("fhir/R4/" + issued.binary()).GET());
    TestBytes.assertBlobEtag(raw.headers());
    assertThat(raw.body()).isEqualTo(bytes);
    String attach = "{\"resourceType\":\"Patient\",\"photo\":[{\"url\":\"" + issued.binary() + "\"}]}";
    assertThat(f.http.postJson("fhir/R4/Patient", attach).body()).contains("\"hash\":\"" + sha1Base64(bytes) + "\"");
    assertConfirmedBefore(post(issued.completeUrl()), issued.binary());
  }

  @Test
  void aCopyTakesOnlyTheStagedObjectWhoseSizeWasChecked() throws Exception {
    String bucket = URI.create(f.issue(f.body(1, null)).url()).getPath().split("/")[1];
    S3Settings settings = S3Settings.builder(bucket).endpoint(f.s3.endpoint()).pathStyle(true).build();
    BlobKey staging = BlobKey.random();
    BlobKey target = BlobKey.random();
    byte[] first = random(100, 28);
    byte[] second = random(100, 29);
    try (S3UploadSigner signer = new S3UploadSigner(settings, S3Server.credentials())) {
      putStaged(settings, staging, first);
      String checked = signer.staged(staging).orElseThrow().eTag();
      putStaged(settings, staging, second); // a repeat of the PUT between the check and the copy

      assertThat(signer.copyStaged(staging, checked, target, "application/octet-stream"))
          .as("replaced since it was checked").isFalse();
      assertThat(f.objectExists("/" + bucket + "/" + settings.objectKey(target))).isFalse();

      assertThat(signer.copyStaged(staging, signer.staged(staging).orElseThrow().eTag(), target,
          "application/octet-stream")).isTrue();
      byte[] copied = f.withCredentials(c -> c.getObjectAsBytes(r -> r.bucket(bucket)
          .key(settings.objectKey(target))).asByteArray());
      assertThat(copied).isEqualTo(second);
      signer.deleteStaged(staging);
      assertThat(signer.staged(staging)).isEmpty();
      assertThat(signer.copyStaged(staging, "\"gone\"", BlobKey.random(), "application/octet-stream"))
          .as("nothing to copy").isFalse();
    }
  }

  private static void putStaged(S3Settings settings, BlobKey key, byte[] bytes) {
    f.withCredentials(c -> c.putObject(r -> r.bucket(settings.bucket()).key(settings.stagingObjectKey(key)),
        RequestBody.fromBytes(bytes)));
  }

  /** Last: it moves the clock hours ahead, past the grace of every upload issued before. */
  @Test
  @Order(Integer.MAX_VALUE)
  void aPutRepeatedAfterTheConfirmationChangesNothingAndLeftoversAreSweptAfterTheGrace() throws Exception {
    byte[] bytes = random(4000, 30);
    Issued confirmed = f.issue(f.body(bytes.length, null));
    assertThat(putToS3(confirmed, confirmed.url(), bytes).statusCode()).isEqualTo(200);
    assertThat(complete(confirmed).statusCode()).isEqualTo(201);
    byte[] other = random(bytes.length, 31);
    assertThat(putToS3(confirmed, confirmed.url(), other).statusCode()).as("the URL has not expired")
        .isEqualTo(200);
    assertThat(f.http.sendBytes(f.http.request("fhir/R4/" + confirmed.binary()).GET()).body())
        .as("the Binary keeps the confirmed bytes").isEqualTo(bytes);
    // refused (stored with a coding), then PUT again: a staging object of an upload that is over
    Issued refused = f.issue(f.body(bytes.length, null, 60));
    HttpRequest.Builder coded = HttpRequest.newBuilder(URI.create(refused.url()))
        .PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)).header("Content-Encoding", "gzip");
    refused.headers().forEach(coded::header);
    assertThat(DirectS3Fixture.ANONYMOUS.send(coded.build(), HttpResponse.BodyHandlers.ofString()).statusCode())
        .isEqualTo(200);
    assertThat(complete(refused).statusCode()).as("refused here, or by the background check first").isIn(400, 410);
    assertThat(putToS3(refused, refused.url(), bytes).statusCode()).isEqualTo(200);
    // PUT in time, and no look at it until long after the grace
    Issued late = f.issue(f.body(bytes.length, null, 60));
    assertThat(putToS3(late, late.url(), bytes).statusCode()).isEqualTo(200);

    // Past the grace after the short URLs expired, not the grace after the longest lifetime.
    f.clock.advance(Duration.ofMinutes(67));
    f.server.server().sweeper().sweep();
    f.clock.advance(OrphanSweeper.MIN_WATCH);
    f.server.server().sweeper().sweep();
    assertThat(f.objectExists(confirmed.url())).as("kept while a URL could still be in use").isTrue();
    assertThat(f.objectExists(refused.url())).as("kept while a URL could still be in use").isTrue();

    f.clock.advance(Duration.ofHours(1));
    f.server.server().sweeper().sweep();
    f.clock.advance(OrphanSweeper.MIN_WATCH);
    f.server.server().sweeper().sweep();

    assertThat(f.objectExists(confirmed.url())).as("the repeated PUT's leftover").isFalse();
    assertThat(f.objectExists(refused.url())).as("the refused upload's leftover").isFalse();
    // spared until a look ends its upload, this first read, which confirms it
    HttpResponse<byte[]> read = f.http.sendBytes(f.http.request("fhir/R4/" + late.binary()).GET());
    assertThat(read.statusCode()).as(new String(read.body(), StandardCharsets.UTF_8)).isEqualTo(200);
    assertThat(read.body()).isEqualTo(bytes);
    assertThat(f.objectKeys(confirmed.url())).noneMatch(k -> k.startsWith("blobs/staging/"));
    assertThat(f.http.sendBytes(f.http.request("fhir/R4/" + confirmed.binary()).GET()).body()).isEqualTo(bytes);
  }
}
