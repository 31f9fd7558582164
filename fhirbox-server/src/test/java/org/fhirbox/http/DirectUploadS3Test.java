package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirbox.http.DirectS3Fixture.ANONYMOUS;
import static org.fhirbox.http.DirectS3Fixture.GRACE;
import static org.fhirbox.http.DirectS3Fixture.assertConfirmedBefore;
import static org.fhirbox.http.DirectS3Fixture.complete;
import static org.fhirbox.http.DirectS3Fixture.objectKey;
import static org.fhirbox.http.DirectS3Fixture.post;
import static org.fhirbox.http.DirectS3Fixture.putPart;
import static org.fhirbox.http.DirectS3Fixture.putToS3;
import static org.fhirbox.http.DirectS3Fixture.refusal;
import static org.fhirbox.http.DirectS3Fixture.sha1Base64;
import static org.fhirbox.testing.TestBytes.random;
import static org.fhirbox.testing.TestBytes.sha256;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.fhirbox.binary.DirectUploads;
import org.fhirbox.binary.OrphanSweeper;
import org.fhirbox.http.DirectS3Fixture.Issued;
import org.fhirbox.http.DirectS3Fixture.Part;
import org.fhirbox.http.DirectS3Fixture.Parts;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.S3Server;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestBytes;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Presigned direct uploads in the {@code s3} signing mode, against s3proxy checking SigV4
 * signatures: the bytes go to the bucket, the node only confirms them.
 */
@SlowTest
class DirectUploadS3Test {
  static DirectS3Fixture f;

  @BeforeAll
  static void start() throws Exception {
    f = DirectS3Fixture.start();
  }

  @AfterAll
  static void stop() throws Exception {
    f.close();
  }

  @Test
  void theBytesGoToTheBucketAndTheNodeOnlyConfirmsThem() throws Exception {
    byte[] bytes = random(3 << 20, 1);
    String request = f.body(bytes.length, sha256(bytes));
    double before = f.bytesIn();

    Issued issued = f.issue(request);
    assertThat(issued.url()).startsWith(f.s3.endpoint().toString());
    assertThat(issued.headers()).containsKey("x-amz-checksum-sha256");
    assertThat(f.http.get("fhir/R4/" + issued.binary()).statusCode()).as("reserved, bytes not there").isEqualTo(409);
    HttpResponse<String> put = putToS3(issued, issued.url(), bytes);
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    HttpResponse<String> done = complete(issued);
    assertThat(done.statusCode()).as(done.body()).isEqualTo(201);

    // The request body of $upload-url is all the node received: none of the content.
    assertThat(f.bytesIn() - before).isEqualTo(request.getBytes(StandardCharsets.UTF_8).length);
    HttpResponse<byte[]> raw = f.http.sendBytes(f.http.request("fhir/R4/" + issued.binary()).GET());
    assertThat(raw.statusCode()).isEqualTo(200);
    assertThat(raw.body()).isEqualTo(bytes);
    assertThat(f.http.get("fhir/R4/" + issued.binary()).body())
        .contains("\"contentType\":\"application/octet-stream\"");

    assertConfirmedBefore(complete(issued), issued.binary());
    String audit = Poll.until("the AuditEvent of the confirmation",
        () -> f.http.get("fhir/R4/AuditEvent?entity=" + issued.binary() + "&_count=50").body(),
        b -> b.contains("confirmed after a presigned upload"));
    assertThat(audit).contains("confirmed after a presigned upload straight to the bucket")
        .contains("\"altId\":\"" + TestServer.ADMIN_ID + "\"");
  }

  @Test
  void theCompletionConfirmsWithoutReadingTheObjectAndTheSha1FollowsFromOneBackgroundRead() throws Exception {
    byte[] bytes = random(2 << 20, 11);
    Issued issued = f.issue(f.body(bytes.length, sha256(bytes)));
    assertThat(putToS3(issued, issued.url(), bytes).statusCode()).isEqualTo(200);
    String id = issued.binary().substring("Binary/".length());
    String attach = "{\"resourceType\":\"Patient\",\"photo\":[{\"url\":\"" + issued.binary() + "\"}]}";
    S3Server.HeldReads reads = f.s3.holdReads(objectKey(issued.url()));
    try {
      // Every GetObject of the object waits until released: a completion that read it would time out.
      HttpResponse<String> done = ANONYMOUS.send(HttpRequest.newBuilder(URI.create(issued.completeUrl()))
          .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(done.statusCode()).as(done.body()).isEqualTo(201);

      HttpResponse<String> binary = f.http.get("fhir/R4/" + issued.binary());
      assertThat(binary.statusCode()).as("readable before its SHA-1 is known").isEqualTo(200);
      HttpResponse<String> early = f.http.postJson("fhir/R4/Patient", attach);
      assertThat(early.statusCode()).as(early.body()).isEqualTo(201);
      assertThat(early.body()).as("size filled, hash not yet known").contains("\"size\":" + bytes.length)
          .doesNotContain("\"hash\"");
    } finally {
      reads.release();
    }

    String sha1 = sha1Base64(bytes);
    Poll.until("the SHA-1 learnt by the background check", () -> f.http.postJson("fhir/R4/Patient", attach).body(),
        b -> b.contains("\"hash\":\"" + sha1 + "\""));
    assertThat(reads.reads()).as("the object was read once, by the background check").isEqualTo(1);
    assertThat(f.server.server().directUploads().confirmDue()).isZero();
    assertThat(reads.reads()).as("and not again").isEqualTo(1);
    HttpResponse<byte[]> raw = f.http.sendBytes(f.http.request("fhir/R4/Binary/" + id).GET());
    TestBytes.assertBlobEtag(raw.headers());
    assertThat(raw.body()).isEqualTo(bytes);
  }

  @Test
  void anObjectOfAnotherSizeIsRefusedAtTheCompletionAndDeleted() throws Exception {
    byte[] bytes = random(3000, 12);
    Issued issued = f.issue(f.body(bytes.length, sha256(bytes)));
    // Written with credentials, beside the presigned URL: the store checked its own checksum, not the declared one.
    byte[] other = random(2999, 12);
    f.writeWithCredentials(issued.url(), other, true);

    HttpResponse<String> done = complete(issued);

    assertThat(done.statusCode()).as(done.body()).isEqualTo(400);
    assertThat(f.objectExists(issued.url())).as("the refused object was deleted").isFalse();
    assertThat(f.http.get("fhir/R4/" + issued.binary()).statusCode()).isEqualTo(404);
  }

  @Test
  void anObjectTheStoreKeepsNoChecksumOfIsReadAtTheCompletion() throws Exception {
    byte[] bytes = random(4000, 13);
    Issued issued = f.issue(f.body(bytes.length, sha256(bytes)));
    f.writeWithCredentials(issued.url(), bytes, false);
    String attach = "{\"resourceType\":\"Patient\",\"photo\":[{\"url\":\"" + issued.binary() + "\"}]}";

    HttpResponse<String> done = complete(issued);

    assertThat(done.statusCode()).as(done.body()).isEqualTo(201);
    String sha1 = sha1Base64(bytes);
    assertThat(f.http.postJson("fhir/R4/Patient", attach).body()).as("the SHA-1 is known at once")
        .contains("\"hash\":\"" + sha1 + "\"");
  }

  @Test
  void onAStoreThatKeepsNoChecksumARepeatedPutCannotChangeAConfirmedBinary() throws Exception {
    byte[] bytes = random(4000, 14);
    Issued issued = f.issue(f.body(bytes.length, sha256(bytes)));
    // as a store that ignores x-amz-checksum-* would keep the PUT: no checksum, nothing checked
    f.writeWithCredentials(issued.url(), bytes, false);
    assertThat(complete(issued).statusCode()).isEqualTo(201);
    assertThat(f.objectExists(issued.url())).as("copied to a blob no URL writes, then deleted").isFalse();

    // the presigned PUT repeated before it expires, with other bytes of the signed size
    f.writeWithCredentials(issued.url(), random(4000, 15), false);

    HttpResponse<byte[]> raw = f.http.sendBytes(f.http.request("fhir/R4/" + issued.binary()).GET());
    assertThat(raw.statusCode()).isEqualTo(200);
    assertThat(raw.body()).isEqualTo(bytes);
    String attach = "{\"resourceType\":\"Patient\",\"photo\":[{\"url\":\"" + issued.binary() + "\"}]}";
    assertThat(f.http.postJson("fhir/R4/Patient", attach).body()).contains("\"hash\":\"" + sha1Base64(bytes) + "\"");
  }

  @Test
  void theBucketRefusesOtherBytesAndATamperedUrl() throws Exception {
    byte[] bytes = random(1000, 2);
    Issued issued = f.issue(f.body(bytes.length, sha256(bytes)));
    byte[] other = bytes.clone();
    other[10] ^= 1;
    assertThat(putToS3(issued, issued.url(), other).statusCode()).as("checksum mismatch").isEqualTo(400);
    assertThat(putToS3(issued, issued.url(), random(999, 2)).statusCode()).as("wrong size")
        .isGreaterThanOrEqualTo(400);
    String tampered = issued.url().replaceFirst("X-Amz-Signature=[0-9a-f]", "X-Amz-Signature=z");
    assertThat(putToS3(issued, tampered, bytes).statusCode()).as("signature checked").isEqualTo(403);
    HttpResponse<String> early = complete(issued);
    assertThat(early.statusCode()).as("nothing to confirm yet").isEqualTo(409);
    HttpResponse<String> read = f.http.get("fhir/R4/" + issued.binary());
    assertThat(read.statusCode()).as("reserved, bytes not there").isEqualTo(409);
    assertThat(read.body()).contains("is being uploaded straight to storage");
  }

  @Test
  void aDeclaredSha1AloneIsSignedForTheBucketAndTheHashIsKnownAtTheCompletion() throws Exception {
    byte[] bytes = random(5000, 14);
    String sha1 = sha1Base64(bytes);
    Issued issued = f.issue(f.body(bytes.length, null, sha1, null));
    assertThat(issued.headers()).containsEntry("x-amz-checksum-sha1", sha1).doesNotContainKey("x-amz-checksum-sha256");
    byte[] other = bytes.clone();
    other[10] ^= 1;
    assertThat(putToS3(issued, issued.url(), other).statusCode()).as("checksum mismatch").isEqualTo(400);
    assertThat(putToS3(issued, issued.url(), bytes).statusCode()).isEqualTo(200);

    HttpResponse<String> done = complete(issued);

    assertThat(done.statusCode()).as(done.body()).isEqualTo(201);
    String attach = "{\"resourceType\":\"Patient\",\"photo\":[{\"url\":\"" + issued.binary() + "\"}]}";
    assertThat(f.http.postJson("fhir/R4/Patient", attach).body()).as("read at the completion: the SHA-1 is known")
        .contains("\"hash\":\"" + sha1 + "\"");
    assertThat(f.objectExists(issued.url())).as("copied to a blob no URL writes, then deleted").isFalse();
    // The PUT repeated before it expires with other bytes of the same size and SHA-1 (such
    // collisions are published): the bucket checks only that SHA-1, and takes them.
    f.writeWithCredentials(issued.url(), random(5000, 16), false);
    HttpResponse<byte[]> raw = f.http.sendBytes(f.http.request("fhir/R4/" + issued.binary()).GET());
    TestBytes.assertBlobEtag(raw.headers());
    assertThat(raw.body()).isEqualTo(bytes);
  }

  /** 6,000 bytes of {@code seed} put to an upload URL that declared their SHA-256 and the SHA-1 of other bytes. */
  private static Issued putWithAnotherDeclaredSha1(long seed) throws Exception {
    byte[] bytes = random(6000, seed);
    byte[] other = bytes.clone();
    other[10] ^= 1;
    Issued issued = f.issue(f.body(bytes.length, sha256(bytes), sha1Base64(other), null));
    assertThat(putToS3(issued, issued.url(), bytes).statusCode()).isEqualTo(200);
    return issued;
  }

  @Test
  void aDeclaredSha1ThatIsNotTheContentsIsRefusedAtTheCompletionThoughTheBucketTookTheBytes() throws Exception {
    // Both declared: the bucket checks the signed SHA-256, the completion reads the object for the SHA-1.
    Issued issued = putWithAnotherDeclaredSha1(15);
    assertThat(issued.headers()).containsKey("x-amz-checksum-sha256").doesNotContainKey("x-amz-checksum-sha1");

    HttpResponse<String> done = complete(issued);

    assertThat(done.statusCode()).as(done.body()).isEqualTo(400);
    assertThat(f.http.parse(done, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("another SHA-1 than the declared one");
    assertThat(f.objectExists(issued.url())).as("the refused object was deleted").isFalse();
    assertThat(f.http.get("fhir/R4/" + issued.binary()).statusCode()).isEqualTo(404);
  }

  @Test
  void aReadThatFindsTheUploadNotTheDeclaredContentGets404() throws Exception {
    Issued issued = putWithAnotherDeclaredSha1(17);

    // the read confirms the upload, which is refused: for the reader there is no such Binary
    HttpResponse<String> read = f.http.get("fhir/R4/" + issued.binary());

    assertThat(read.statusCode()).as(read.body()).isEqualTo(404);
    assertThat(f.objectExists(issued.url())).as("the refused object was deleted").isFalse();
    HttpResponse<String> again = complete(issued);
    assertThat(again.statusCode()).as("nothing to confirm any more").isEqualTo(410);
    assertThat(again.body()).contains("$upload-url");
  }

  /**
   * An object PUT in time that nobody confirmed before the grace ended: the sweeps spare it until
   * a look, here the first read, however late, makes it the Binary (only its completion URL has
   * expired).
   */
  @Test
  void anUploadNeverConfirmedIsNotSweptAfterTheGraceButConfirmedByTheNextLook() throws Exception {
    byte[] bytes = random(2000, 3);
    Issued issued = f.issue(f.body(bytes.length, sha256(bytes)));
    assertThat(putToS3(issued, issued.url(), bytes).statusCode()).isEqualTo(200);

    f.clock.advance(Duration.ofHours(2));
    f.server.server().sweeper().sweep();
    f.clock.advance(OrphanSweeper.MIN_WATCH);
    f.server.server().sweeper().sweep();

    HttpResponse<String> late = complete(issued);
    assertThat(late.statusCode()).as("the URL expired with the grace").isEqualTo(410);
    assertTheFirstReadConfirms(issued.binary(), bytes);
    assertThat(f.objectExists(issued.url())).as("the Binary's object").isTrue();
  }

  /**
   * Keeps the node's background check busy until the returned reads are released, as when it is
   * far behind: it reads the object of an upload confirmed here for its SHA-1, and that read is
   * held, so meanwhile it confirms and forgets no other upload. (The orphan sweeps the tests run
   * themselves, on their own thread.)
   */
  private static S3Server.HeldReads holdTheBackgroundCheck(long seed) throws Exception {
    byte[] bytes = random(1000, seed);
    Issued busy = f.issue(f.body(bytes.length, sha256(bytes)));
    assertThat(putToS3(busy, busy.url(), bytes).statusCode()).isEqualTo(200);
    S3Server.HeldReads reads = f.s3.holdReads(objectKey(busy.url()));
    HttpResponse<String> done = complete(busy);
    assertThat(done.statusCode()).as(done.body()).isEqualTo(201);
    Poll.until("the background check reading an object for its SHA-1", reads::reads, n -> n >= 1);
    return reads;
  }

  /**
   * Moves the test clock up to the real time when it is behind: s3proxy dates objects by the real
   * time, so an object put afterwards is no older by this clock than it is.
   */
  private static void clockNotBehindTheBucket() {
    Duration behind = Duration.between(f.clock.instant(), Instant.now());
    if (behind.compareTo(Duration.ZERO) > 0) {
      f.clock.advance(behind);
    }
  }

  private static void sweepTwice() throws Exception {
    f.server.server().sweeper().sweep();
    f.clock.advance(OrphanSweeper.MIN_WATCH);
    f.server.server().sweeper().sweep();
  }

  private void assertTheFirstReadConfirms(String binary, byte[] bytes) {
    HttpResponse<byte[]> raw = f.http.sendBytes(f.http.request("fhir/R4/" + binary).GET());
    assertThat(raw.statusCode()).as("confirmed by the first read").isEqualTo(200);
    assertThat(raw.body()).isEqualTo(bytes);
  }

  @Test
  void anObjectWhoseClientStoppedAfterItsPutIsNotSweptWhileTheUploadMayStillBeConfirmed() throws Exception {
    S3Server.HeldReads busy = holdTheBackgroundCheck(20);
    try {
      clockNotBehindTheBucket();
      byte[] bytes = random(2000, 21);
      Issued issued = f.issue(f.body(bytes.length, sha256(bytes)));
      assertThat(putToS3(issued, issued.url(), bytes).statusCode()).isEqualTo(200);

      // Past the grace since the PUT, within it since the URL expired, the background check behind.
      f.clock.advance(GRACE.plusMinutes(2));
      sweepTwice();

      assertThat(f.objectExists(issued.url())).as("spared while it may still be confirmed").isTrue();
      assertTheFirstReadConfirms(issued.binary(), bytes);
    } finally {
      busy.release();
    }
  }

  @Test
  void thePartsOfAnUploadWhoseClientStoppedAfterThemAreNotAbortedWhileItMayStillBeConfirmed() throws Exception {
    S3Server.HeldReads busy = holdTheBackgroundCheck(22);
    try {
      clockNotBehindTheBucket();
      byte[] bytes = random((16 << 20) + 40, 23);
      Parts issued = f.issueParts(bytes.length, sha256(bytes));
      for (Part p : issued.parts()) {
        assertThat(putPart(p, bytes, p.offset(), p.size()).statusCode()).isEqualTo(200);
      }

      f.clock.advance(GRACE.plusMinutes(2));
      sweepTwice();

      assertThat(f.multipartUploads(issued.parts().get(0).url())).as("not aborted").isEqualTo(1);
      assertTheFirstReadConfirms(issued.binary(), bytes);
    } finally {
      busy.release();
    }
  }

  /**
   * The background check far behind: an object PUT in time is spared past the grace after its URL
   * expired too, for as long as no look ended its upload (all nodes down, or the check behind), and
   * the next look confirms it. What an upload whose last look confirms nothing leaves is swept
   * ({@code aPartWiseUploadNeverUsedLeavesNothingAfterTheGrace}).
   */
  @Test
  void anObjectIsSparedPastTheGraceAfterItsUrlExpiredUntilTheCheckBehindLooksAtIt() throws Exception {
    S3Server.HeldReads busy = holdTheBackgroundCheck(24);
    try {
      clockNotBehindTheBucket();
      byte[] bytes = random(2000, 25);
      Issued issued = f.issue(f.body(bytes.length, sha256(bytes), 60));
      assertThat(putToS3(issued, issued.url(), bytes).statusCode()).isEqualTo(200);

      // Put more than the grace ago, by a URL that expired less than the grace ago: it may still be confirmed.
      f.clock.advance(GRACE.plusSeconds(30));
      sweepTwice();
      assertThat(f.objectExists(issued.url())).as("spared while it may still be confirmed").isTrue();
      // Now its URL expired more than the grace ago; the background check, still behind, looked at nothing.
      f.clock.advance(Duration.ofMinutes(1));
      sweepTwice();

      assertThat(f.objectExists(issued.url())).as("spared until a look ends its upload").isTrue();
      assertThat(complete(issued).statusCode()).as("the URL expired with the grace").isEqualTo(410);
      assertTheFirstReadConfirms(issued.binary(), bytes);
    } finally {
      busy.release();
    }
  }

  /**
   * S3 checks a presigned URL's expiry when a request starts, so a PUT begun just before the
   * expiry ends after it: the client's confirmation is then still taken, as a read or the
   * background check would take it, and a repeat whose answer was lost names the same Binary.
   */
  @Test
  void aPutThatEndedAfterItsUrlExpiredIsConfirmedByTheClientWithinTheGrace() throws Exception {
    S3Server.HeldReads busy = holdTheBackgroundCheck(26);
    try {
      byte[] bytes = random(2000, 27);
      Issued issued = f.issue(f.body(bytes.length, sha256(bytes), 60));
      assertThat(putToS3(issued, issued.url(), bytes).statusCode()).isEqualTo(200);

      f.clock.advance(Duration.ofSeconds(61));

      HttpResponse<String> done = complete(issued);
      assertThat(done.statusCode()).as(done.body()).isEqualTo(201);
      assertConfirmedBefore(complete(issued), issued.binary());
    } finally {
      busy.release();
    }
  }

  @Test
  void partsPutBeforeTheirUrlsExpiredAreConfirmedByTheClientWithinTheGrace() throws Exception {
    S3Server.HeldReads busy = holdTheBackgroundCheck(28);
    try {
      byte[] bytes = random((16 << 20) + 50, 29);
      Parts issued = f.issueParts(bytes.length, sha256(bytes));
      for (Part p : issued.parts()) {
        assertThat(putPart(p, bytes, p.offset(), p.size()).statusCode()).isEqualTo(200);
      }

      f.clock.advance(DirectUploads.DEFAULT_EXPIRES_IN.plusSeconds(1));

      HttpResponse<String> done = post(issued.completeUrl());
      assertThat(done.statusCode()).as(done.body()).isEqualTo(201);
      assertConfirmedBefore(post(issued.completeUrl()), issued.binary());
      assertThat(f.http.sendBytes(f.http.request("fhir/R4/" + issued.binary()).GET()).body()).isEqualTo(bytes);
    } finally {
      busy.release();
    }
  }

  @Test
  void aConfirmedUploadIsNotSwept() throws Exception {
    byte[] bytes = random(2000, 4);
    Issued issued = f.issue(f.body(bytes.length, sha256(bytes)));
    assertThat(putToS3(issued, issued.url(), bytes).statusCode()).isEqualTo(200);
    assertThat(complete(issued).statusCode()).isEqualTo(201);
    f.clock.advance(Duration.ofHours(2));
    f.server.server().sweeper().sweep();
    f.clock.advance(OrphanSweeper.MIN_WATCH);
    f.server.server().sweeper().sweep();
    assertThat(f.objectExists(issued.url())).isTrue();
    assertThat(f.http.sendBytes(f.http.request("fhir/R4/" + issued.binary()).GET()).body()).isEqualTo(bytes);
  }

  @Test
  void aLargeFileGoesToTheBucketInPresignedPartsAndIsConfirmedOnce() throws Exception {
    byte[] bytes = random((20 << 20) + 1000, 5);
    double before = f.bytesIn();
    Parts issued = f.issueParts(bytes.length, sha256(bytes));

    assertThat(issued.parts()).extracting(Part::number).containsExactly(1, 2);
    assertThat(issued.parts()).extracting(Part::offset).containsExactly(0L, 16L << 20);
    assertThat(issued.parts()).extracting(Part::size).containsExactly(16L << 20, bytes.length - (16L << 20));
    assertThat(issued.parts()).allMatch(p -> p.url().startsWith(f.s3.endpoint().toString()));
    Part first = issued.parts().get(0);
    Part second = issued.parts().get(1);
    assertThat(putPart(second, bytes, second.offset(), second.size()).statusCode()).isEqualTo(200);
    HttpResponse<String> early = post(issued.completeUrl());
    assertThat(early.statusCode()).as("a part is missing: %s", early.body()).isEqualTo(409);
    assertThat(refusal(first.url(), bytes, first.size() - 1)).as("another size").isNotEqualTo(200);
    String tampered = first.url().replaceFirst("partNumber=1", "partNumber=3");
    assertThat(refusal(tampered, bytes, first.size())).as("the part number is signed").isIn(403, -1);
    assertThat(f.http.get("fhir/R4/" + issued.binary()).statusCode()).as("a part is missing").isEqualTo(409);
    assertThat(putPart(first, bytes, first.offset(), first.size()).statusCode()).isEqualTo(200);

    HttpResponse<String> done = post(issued.completeUrl());

    assertThat(done.statusCode()).as(done.body()).isEqualTo(201);
    assertThat(f.bytesIn() - before).as("none of the content passed through the node")
        .isLessThan(1000);
    HttpResponse<byte[]> raw = f.http.sendBytes(f.http.request("fhir/R4/" + issued.binary()).GET());
    TestBytes.assertBlobEtag(raw.headers());
    assertThat(raw.headers().firstValue("Content-Type")).contains("video/mp4");
    assertThat(raw.body()).isEqualTo(bytes);
    assertConfirmedBefore(post(issued.completeUrl()), issued.binary());
    // AWS answers NoSuchUpload to a part of a completed upload; s3proxy takes it. Either way the
    // object is already assembled and keeps the confirmed bytes.
    byte[] other = random((int) first.size(), 7);
    putPart(first, other, 0, other.length);
    assertThat(f.http.sendBytes(f.http.request("fhir/R4/" + issued.binary()).GET()).body()).isEqualTo(bytes);
  }

  @Test
  void partsThatAreNotTheDeclaredContentAreRefusedAtTheConfirmation() throws Exception {
    byte[] bytes = random((16 << 20) + 10, 6);
    Parts issued = f.issueParts(bytes.length, sha256(bytes));
    byte[] other = bytes.clone();
    other[5] ^= 1;
    for (Part p : issued.parts()) {
      assertThat(putPart(p, other, p.offset(), p.size()).statusCode()).isEqualTo(200);
    }

    HttpResponse<String> done = post(issued.completeUrl());

    assertThat(done.statusCode()).as(done.body()).isEqualTo(400);
    assertThat(f.http.get("fhir/R4/" + issued.binary()).statusCode()).isEqualTo(404);
    assertThat(f.objectExists(issued.parts().get(0).url())).as("the refused object was deleted").isFalse();
  }

  @Test
  void theFirstReadConfirmsAnUploadWhoseClientNeverDid() throws Exception {
    byte[] bytes = random(5000, 8);
    Issued issued = f.issue(f.body(bytes.length, sha256(bytes)));
    assertThat(putToS3(issued, issued.url(), bytes).statusCode()).isEqualTo(200);

    HttpResponse<byte[]> raw = f.http.sendBytes(f.http.request("fhir/R4/" + issued.binary()).GET());

    assertThat(raw.statusCode()).isEqualTo(200);
    assertThat(raw.body()).isEqualTo(bytes);
    assertConfirmedBefore(complete(issued), issued.binary());
    String audit = Poll.until("the AuditEvent of the confirmation",
        () -> f.http.get("fhir/R4/AuditEvent?entity=" + issued.binary() + "&_count=50").body(),
        b -> b.contains("confirmed on the first read"));
    assertThat(audit).contains("\"altId\":\"" + TestServer.ADMIN_ID + "\"");
  }

  @Test
  void theBackgroundCheckConfirmsAPartWiseUploadWhoseClientNeverDid() throws Exception {
    byte[] bytes = random((16 << 20) + 20, 9);
    Parts issued = f.issueParts(bytes.length, sha256(bytes));
    for (Part p : issued.parts()) {
      assertThat(putPart(p, bytes, p.offset(), p.size()).statusCode()).isEqualTo(200);
    }

    f.clock.advance(Duration.ofMinutes(2));
    int confirmed = f.server.server().directUploads().confirmDue();

    assertThat(confirmed).isGreaterThanOrEqualTo(1);
    HttpResponse<byte[]> raw = f.http.sendBytes(f.http.request("fhir/R4/" + issued.binary()).GET());
    assertThat(raw.statusCode()).isEqualTo(200);
    TestBytes.assertBlobEtag(raw.headers());
    assertThat(raw.body()).isEqualTo(bytes);
    assertConfirmedBefore(post(issued.completeUrl()), issued.binary());
  }

  @Test
  void aPartWiseUploadNeverUsedLeavesNothingAfterTheGrace() throws Exception {
    byte[] bytes = random((16 << 20) + 30, 10);
    Parts issued = f.issueParts(bytes.length, sha256(bytes));
    assertThat(putPart(issued.parts().get(0), bytes, 0, issued.parts().get(0).size()).statusCode()).isEqualTo(200);
    assertThat(f.multipartUploads(issued.parts().get(0).url())).isEqualTo(1);

    f.clock.advance(Duration.ofHours(2));
    f.server.server().directUploads().confirmDue();
    f.server.server().sweeper().sweep();
    f.clock.advance(OrphanSweeper.MIN_WATCH);
    f.server.server().sweeper().sweep();

    assertThat(f.multipartUploads(issued.parts().get(0).url())).as("the multipart upload was aborted").isZero();
    assertThat(f.http.get("fhir/R4/" + issued.binary()).statusCode()).as("nothing pending any more").isEqualTo(404);
    assertThat(post(issued.completeUrl()).statusCode()).as("the URL expired").isEqualTo(410);
  }

  /**
   * S3 takes at most 5 GiB in one PUT (and AWS refuses a larger one only once it was sent): a
   * larger file gets part URLs and the completion step without asking for them.
   */
  @Test
  void aFileLargerThanOnePutMayHoldGetsPartUrlsUnasked() {
    long size = (6L << 30) + 1;
    HttpResponse<String> r = f.http.postJson("fhir/R4/Binary/$upload-url", "{\"resourceType\":\"Parameters\","
        + "\"parameter\":[{\"name\":\"contentType\",\"valueString\":\"video/mp4\"},"
        + "{\"name\":\"size\",\"valueDecimal\":" + size + "}]}");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Parameters p = f.http.parse(r, Parameters.class);
    assertThat(p.getParameter("url")).as("no single PUT").isNull();
    List<Parameters.ParametersParameterComponent> parts = p.getParameter().stream()
        .filter(part -> part.getName().equals("part")).toList();
    assertThat(parts).as("16 MiB parts").hasSize(385);
    assertThat(parts.get(384).getPart()).anyMatch(x -> x.getName().equals("size")
        && x.getValue().primitiveValue().equals("1"));
    assertThat(p.getParameter("complete")).as("the completion step").isNotNull();
  }

  /** Medplum's upload URL is fhirbox's own in this mode too: the PUT streams through the node to the bucket. */
  @Test
  void medplumsUploadUrlStoresTheNextVersionInTheBucket() throws Exception {
    String id = TestClient.createdId(f.http.postJson("fhir/R4/Binary",
        "{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\"}"));
    String url = f.http.parse(f.http.get("fhir/R4/Binary/" + id + "/$presigned-url?upload=true"), Parameters.class)
        .getParameterFirstRep().getValue().primitiveValue();
    byte[] bytes = "foo bar baz quux".getBytes(StandardCharsets.UTF_8);

    HttpResponse<String> put = ANONYMOUS.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type",
        "text/plain").PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)).build(), HttpResponse.BodyHandlers.ofString());

    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    assertThat(f.http.sendBytes(f.http.request("fhir/R4/Binary/" + id).GET()).body()).isEqualTo(bytes);
  }
}
