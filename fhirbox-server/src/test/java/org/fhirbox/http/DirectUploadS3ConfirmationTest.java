package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirbox.http.DirectS3Fixture.GRACE;
import static org.fhirbox.http.DirectS3Fixture.complete;
import static org.fhirbox.http.DirectS3Fixture.objectKey;
import static org.fhirbox.http.DirectS3Fixture.post;
import static org.fhirbox.http.DirectS3Fixture.putPart;
import static org.fhirbox.http.DirectS3Fixture.putToS3;
import static org.fhirbox.http.DirectS3Fixture.sha1Base64;
import static org.fhirbox.testing.TestBytes.random;
import static org.fhirbox.testing.TestBytes.sha256;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.fhirbox.auth.OAuthClient;
import org.fhirbox.auth.Scopes;
import org.fhirbox.auth.User;
import org.fhirbox.binary.DirectUploads;
import org.fhirbox.binary.OrphanSweeper;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.http.DirectS3Fixture.Issued;
import org.fhirbox.http.DirectS3Fixture.Part;
import org.fhirbox.http.DirectS3Fixture.Parts;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.ProjectClients.Credentials;
import org.fhirbox.testing.S3Server;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

/**
 * The confirmation of presigned uploads straight to S3 (s3proxy, SigV4 checked): what the
 * uploader may add beside the signed headers, a refused multipart upload's completion URL, and
 * the background check's last look at an upload before it forgets it.
 */
@SlowTest
class DirectUploadS3ConfirmationTest {
  static DirectS3Fixture f;

  @BeforeAll
  static void start() throws Exception {
    f = DirectS3Fixture.start();
  }

  @AfterAll
  static void stop() throws Exception {
    f.close();
  }

  private static String id(String binary) {
    return binary.substring("Binary/".length());
  }

  private static boolean created(String binary) {
    ResourceStore store = f.server.server().store();
    return !store.read(tx -> tx.binaryContentAnyProject(id(binary), 1)).isEmpty();
  }

  /** The presigned PUT with its signed headers and {@code extra} ones, which SigV4 leaves unsigned. */
  private static HttpResponse<String> putWith(Issued issued, byte[] bytes, String... extra) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(issued.url()))
        .PUT(HttpRequest.BodyPublishers.ofByteArray(bytes));
    issued.headers().forEach(b::header);
    b.headers(extra);
    return DirectS3Fixture.ANONYMOUS.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void anObjectPutWithUnsignedResponseHeadersIsRefusedAtTheConfirmationAndDeleted() throws Exception {
    byte[] bytes = random(3000, 41);
    Issued issued = f.issue(f.body(bytes.length, sha256(bytes)));
    HttpResponse<String> put = putWith(issued, bytes, "Content-Disposition", "attachment; filename=\"scan.png.exe\"",
        "Content-Language", "de");
    assertThat(put.statusCode()).as("the bucket takes headers the signature does not cover").isEqualTo(200);

    HttpResponse<String> done = complete(issued);

    assertThat(done.statusCode()).as(done.body()).isEqualTo(400);
    assertThat(done.body()).contains("Content-Disposition").contains("deleted");
    assertThat(f.objectExists(issued.url())).as("the refused object was deleted").isFalse();
    assertThat(f.http.get("fhir/R4/" + issued.binary()).statusCode()).isEqualTo(404);
  }

  @Test
  void aStagedObjectPutWithAContentEncodingIsRefusedAtTheConfirmation() throws Exception {
    byte[] bytes = random(2000, 42);
    Issued issued = f.issue(f.body(bytes.length, null));
    assertThat(putWith(issued, bytes, "Content-Encoding", "gzip").statusCode()).isEqualTo(200);

    HttpResponse<String> done = complete(issued);

    assertThat(done.statusCode()).as(done.body()).isEqualTo(400);
    assertThat(done.body()).contains("Content-Encoding");
    assertThat(f.objectExists(issued.url())).as("the refused staging object was deleted").isFalse();
    assertThat(f.http.get("fhir/R4/" + issued.binary()).statusCode()).isEqualTo(404);
  }

  @Test
  void aMultipartUploadRefusedAtItsConfirmationAnswersItsCompletionWith410() throws Exception {
    byte[] bytes = random(3000, 43);
    Parts issued = f.issueParts(bytes.length, sha256(bytes));
    byte[] other = bytes.clone();
    other[7] ^= 1;
    for (Part p : issued.parts()) {
      assertThat(putPart(p, other, p.offset(), p.size()).statusCode()).isEqualTo(200);
    }
    assertThat(post(issued.completeUrl()).statusCode()).isEqualTo(400);

    HttpResponse<String> again = post(issued.completeUrl());

    assertThat(again.statusCode()).as(again.body()).isEqualTo(410);
    assertThat(again.body()).contains("OperationOutcome").contains("$upload-url");
  }

  @Test
  void anUploadTheBackgroundCheckRefusesIsLoggedAsAnOutcomeNotAsAFailure() throws Exception {
    byte[] bytes = random(2500, 45);
    Issued issued = f.issue(f.body(bytes.length, sha256(bytes)));
    assertThat(putWith(issued, bytes, "Content-Language", "de").statusCode()).isEqualTo(200);
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    Logger logger = (Logger) LoggerFactory.getLogger(DirectUploads.class);
    log.start();
    logger.addAppender(log);
    List<ILoggingEvent> lines;
    try {
      f.clock.advance(DirectUploads.CHECK_INTERVAL.plusSeconds(1));
      f.server.server().directUploads().confirmDue();
      HttpResponse<String> done = complete(issued);
      assertThat(done.statusCode()).as("refused by the check: " + done.body()).isEqualTo(410);
      lines = Poll.until("the check's log line", () -> log.list.stream()
          .filter(e -> e.getFormattedMessage().contains(id(issued.binary()))).toList(), l -> !l.isEmpty());
    } finally {
      logger.detachAppender(log);
    }
    // content that is not the declared one is the client's doing, and a refusal that won the race
    // the check's own outcome: neither is a failure of the server
    assertThat(lines).allSatisfy(e -> assertThat(e.getLevel()).as(e.getFormattedMessage()).isEqualTo(Level.INFO));
  }

  /**
   * A presigned PUT repeated after its upload was confirmed, with the same bytes (the signed
   * checksum lets no others through) and response headers the signature does not cover: the
   * bucket refuses it (the PUT is signed with {@code If-None-Match: *}), so the confirmed Binary's
   * object never carries a coding or a file name that a read through the bucket or a CDN in
   * front of it would be answered with.
   */
  @Test
  void aPutRepeatedAfterTheConfirmationCannotGiveTheObjectACodingOrAFileName() throws Exception {
    byte[] bytes = random(2200, 49);
    Issued issued = f.issue(f.body(bytes.length, sha256(bytes)));
    assertThat(putToS3(issued, issued.url(), bytes).statusCode()).isEqualTo(200);
    HttpResponse<String> done = complete(issued);
    assertThat(done.statusCode()).as("created, or confirmed before by the background check: " + done.body())
        .isIn(200, 201);

    HttpResponse<String> again = putWith(issued, bytes, "Content-Encoding", "gzip",
        "Content-Disposition", "attachment; filename=\"scan.png.exe\"");

    assertThat(again.statusCode()).as(again.body()).isEqualTo(412);
    HeadObjectResponse head = f.withCredentials(c -> c.headObject(r -> r.bucket(f.bucketName)
        .key(objectKey(issued.url()))));
    assertThat(head.contentEncoding()).isNull();
    assertThat(head.contentDisposition()).isNull();
    HttpResponse<byte[]> read = f.http.sendBytes(f.http.request("fhir/R4/" + issued.binary()).GET());
    assertThat(read.body()).isEqualTo(bytes);
  }

  @Test
  void anUploadWhoseClientWasDisabledIsNotConfirmedAndItsObjectIsLeftToTheSweeper() throws Exception {
    ProjectClients clients = new ProjectClients(f.server);
    Credentials uploader = clients.create("s3-revoked", "system/Binary.cruds", false);
    byte[] bytes = random(1800, 51);
    Issued issued = f.issue(clients.bearer(uploader), f.body(bytes.length, sha256(bytes)));
    assertThat(putToS3(issued, issued.url(), bytes).statusCode()).isEqualTo(200);
    HttpResponse<String> off = f.http.send(f.http.request("admin/clients/" + uploader.clientId() + "/disable")
        .POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(off.statusCode()).as(off.body()).isEqualTo(200);

    HttpResponse<String> done = complete(issued);

    assertThat(done.statusCode()).as(done.body()).isEqualTo(401);
    assertThat(done.body()).contains("OperationOutcome").contains("the client that issued this upload");
    assertThat(created(issued.binary())).isFalse();
    assertThat(f.objectExists(issued.url())).as("left to the orphan sweeper").isTrue();
    assertThat(complete(issued).statusCode()).as("the upload is over").isEqualTo(410);
  }

  @Test
  void aPersonsUploadWhoseUserWasDisabledIsNotConfirmedByItsCompletionAReadOrTheBackgroundCheck() throws Exception {
    ProjectClients clients = new ProjectClients(f.server);
    var auth = f.server.server().auth();
    OAuthClient app = auth.clients().find(auth.clients().create("s3-user-off", "user/Binary.cruds", false)
        .clientId()).orElseThrow();
    User nurse = f.server.server().signIn().users().create("s3-user-off", "nurse@example.org", "Nurse",
        "Practitioner/nurse", "user/Binary.cruds", false).orElseThrow();
    TestClient person = new TestClient(f.server.baseUrl()).withHeader("Authorization", "Bearer " + auth.tokens()
        .issue(app, Scopes.parse("user/Binary.cruds"), Optional.of(nurse.id()), Optional.empty()).accessToken());
    TestClient reader = clients.client("s3-user-off", "system/Binary.r");
    byte[] bytes = random(1600, 53);
    Issued completed = f.issue(person, f.body(bytes.length, sha256(bytes)));
    Issued read = f.issue(person, f.body(bytes.length, sha256(bytes)));
    Issued checked = f.issue(person, f.body(bytes.length, sha256(bytes)));
    for (Issued issued : List.of(completed, read, checked)) {
      assertThat(putToS3(issued, issued.url(), bytes).statusCode()).isEqualTo(200);
    }
    HttpResponse<String> off = f.http.send(f.http.request("admin/users/" + nurse.id() + "/disable")
        .POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(off.statusCode()).as(off.body()).isEqualTo(200);

    HttpResponse<String> done = complete(completed);
    assertThat(reader.get("fhir/R4/" + read.binary()).statusCode()).isEqualTo(404);
    f.clock.advance(DirectUploads.CHECK_INTERVAL.plusSeconds(1));
    f.server.server().directUploads().confirmDue();

    assertThat(done.statusCode()).as(done.body()).isEqualTo(401);
    assertThat(done.body()).contains("OperationOutcome").contains("the user who began this upload");
    assertThat(f.objectExists(completed.url())).as("left to the orphan sweeper").isTrue();
    for (Issued issued : List.of(completed, read, checked)) {
      assertThat(created(issued.binary())).isFalse();
      assertThat(complete(issued).statusCode()).as("the upload is over").isEqualTo(410);
    }
  }

  @Test
  void anUploadWhoseClientLostTheScopeIsNotConfirmedByAReadOrTheBackgroundCheck() throws Exception {
    ProjectClients clients = new ProjectClients(f.server);
    Credentials uploader = clients.create("s3-rescoped", "system/Binary.cruds", false);
    TestClient reader = clients.client("s3-rescoped", "system/Binary.r");
    byte[] bytes = random(1700, 52);
    Issued read = f.issue(clients.bearer(uploader), f.body(bytes.length, sha256(bytes)));
    Issued checked = f.issue(clients.bearer(uploader), f.body(bytes.length, sha256(bytes)));
    assertThat(putToS3(read, read.url(), bytes).statusCode()).isEqualTo(200);
    assertThat(putToS3(checked, checked.url(), bytes).statusCode()).isEqualTo(200);
    HttpResponse<String> scope = f.http.send(f.http.request("admin/clients/" + uploader.clientId() + "/scope")
        .header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString("{\"scope\":\"system/Binary.rs\"}")));
    assertThat(scope.statusCode()).as(scope.body()).isEqualTo(200);

    assertThat(reader.get("fhir/R4/" + read.binary()).statusCode()).isEqualTo(404);
    f.clock.advance(DirectUploads.CHECK_INTERVAL.plusSeconds(1));
    f.server.server().directUploads().confirmDue();

    assertThat(created(read.binary())).isFalse();
    assertThat(created(checked.binary())).isFalse();
    assertThat(complete(checked).statusCode()).as("the upload is over").isEqualTo(410);
  }

  @Test
  void anUploadWhoseUrlExpiredLongerThanTheGraceAgoGetsALastLookBeforeItIsForgotten() throws Exception {
    byte[] bytes = random(1500, 44);
    Issued checked = f.issue(f.body(bytes.length, sha256(bytes), 60));
    Issued read = f.issue(f.body(bytes.length, sha256(bytes), 60));
    assertThat(putToS3(checked, checked.url(), bytes).statusCode()).isEqualTo(200);
    assertThat(putToS3(read, read.url(), bytes).statusCode()).isEqualTo(200);
    // the background check ran late: its next look comes after the URLs expired and the grace passed
    f.clock.advance(GRACE.plusMinutes(3));

    HttpResponse<byte[]> first = f.http.sendBytes(f.http.request("fhir/R4/" + read.binary()).GET());
    f.server.server().directUploads().confirmDue();

    assertThat(first.statusCode()).as("the first read looked once more").isEqualTo(200);
    assertThat(first.body()).isEqualTo(bytes);
    // the first read's confirmation wakes a check of its own, which may take the row first
    Poll.until("the background check looked once more", () -> created(checked.binary()));
  }

  /**
   * Uploads PUT in time that no node looked at until long after the grace (every node was down, or
   * the background check was hours behind): the sweeps that come first leave their objects alone,
   * and the first look, a read or the background check, still confirms them, however late.
   */
  @Test
  void anUploadPutInTimeIsConfirmedHoweverLateItsFirstLookComes() throws Exception {
    byte[] bytes = random(1700, 50);
    Issued checked = f.issue(f.body(bytes.length, sha256(bytes), 60));
    Issued read = f.issue(f.body(bytes.length, sha256(bytes), 60));
    assertThat(putToS3(checked, checked.url(), bytes).statusCode()).isEqualTo(200);
    assertThat(putToS3(read, read.url(), bytes).statusCode()).isEqualTo(200);
    f.clock.advance(GRACE.plusHours(2));
    f.server.server().sweeper().sweep();
    f.clock.advance(OrphanSweeper.MIN_WATCH);
    f.server.server().sweeper().sweep();

    HttpResponse<byte[]> first = f.http.sendBytes(f.http.request("fhir/R4/" + read.binary()).GET());
    f.server.server().directUploads().confirmDue();

    assertThat(first.statusCode()).as("confirmed on the first read").isEqualTo(200);
    assertThat(first.body()).isEqualTo(bytes);
    // the first read's confirmation wakes a check of its own, which may take the row first
    Poll.until("confirmed by the background check", () -> created(checked.binary()));
    assertThat(f.objectExists(checked.url())).isTrue();
    HttpResponse<byte[]> later = f.http.sendBytes(f.http.request("fhir/R4/" + checked.binary()).GET());
    assertThat(later.body()).isEqualTo(bytes);
  }

  /**
   * An upload whose look after the grace refuses it for good (here its securityContext was deleted
   * meanwhile, so no Binary can be made of it): that look forgets it, and the sweeper then deletes
   * its object. Nothing stays, neither the upload's row nor its bytes.
   */
  @Test
  void anUploadRefusedAtItsLastLookIsForgottenAndItsObjectSwept() throws Exception {
    String patient = TestClient.createdId(f.http.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    byte[] bytes = random(1600, 51);
    Issued issued = f.issue("{\"resourceType\":\"Parameters\",\"parameter\":["
        + "{\"name\":\"contentType\",\"valueString\":\"application/octet-stream\"},"
        + "{\"name\":\"size\",\"valueInteger\":" + bytes.length + "},"
        + "{\"name\":\"sha256\",\"valueString\":\"" + sha256(bytes) + "\"},"
        + "{\"name\":\"securityContext\",\"valueString\":\"Patient/" + patient + "\"},"
        + "{\"name\":\"expiresIn\",\"valueInteger\":60}]}");
    // deleted before the PUT, so that no look before the last one can confirm the upload
    assertThat(f.http.delete("fhir/R4/Patient/" + patient).statusCode()).isLessThan(300);
    assertThat(putToS3(issued, issued.url(), bytes).statusCode()).isEqualTo(200);
    f.clock.advance(GRACE.plusMinutes(2));

    f.server.server().directUploads().confirmDue();

    ResourceStore store = f.server.server().store();
    assertThat(store.read(tx -> tx.pendingUploads().find(id(issued.binary()))).isPresent()).as("forgotten").isFalse();
    assertThat(created(issued.binary())).isFalse();
    f.server.server().sweeper().sweep();
    f.clock.advance(OrphanSweeper.MIN_WATCH);
    f.server.server().sweeper().sweep();
    assertThat(f.objectExists(issued.url())).as("its object was swept").isFalse();
  }

  /**
   * A confirmation that reads the object (here for its declared SHA-1) while a sweep runs, on this
   * node or another: the sweep finds the object unreferenced and its URL expired longer than the
   * grace ago, yet it must not delete the bytes the confirmation is about to make a Binary of,
   * however long the read takes.
   */
  @Test
  @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void anObjectIsNotSweptWhileItsConfirmationReadsIt() throws Exception {
    byte[] bytes = random(1500, 47);
    Issued issued = putWithBothDigests(bytes);
    f.clock.advance(GRACE.plusMinutes(3));
    S3Server.HeldReads reads = f.s3.holdReads(objectKey(issued.url()));
    ExecutorService reader = Executors.newSingleThreadExecutor();
    try {
      Future<HttpResponse<byte[]>> first = reader.submit(() ->
          f.http.sendBytes(f.http.request("fhir/R4/" + issued.binary()).GET()));
      Poll.until("the first read's confirmation reading the object", reads::reads, n -> n >= 1);
      f.server.server().sweeper().sweep();
      f.clock.advance(OrphanSweeper.MIN_WATCH);
      f.server.server().sweeper().sweep();
      reads.release();

      HttpResponse<byte[]> read = first.get(30, TimeUnit.SECONDS);
      assertThat(read.statusCode()).as(new String(read.body(), StandardCharsets.UTF_8)).isEqualTo(200);
      assertThat(read.body()).isEqualTo(bytes);
    } finally {
      reads.release();
      reader.shutdownNow();
    }
    assertThat(f.objectExists(issued.url())).as("the confirmed Binary's object").isTrue();
  }

  /**
   * A confirmation that refuses the object (its PUT was repeated with a header the URL does not
   * sign, which a store without conditional writes takes despite the signed {@code If-None-Match};
   * here written with credentials) while another confirmation of the upload commits its Binary on
   * that object: the Binary stands on its bytes, or neither stands; never a Binary whose object was
   * deleted. Here the refusal wins, and the other confirmation is told so (410), not that the
   * Binary exists.
   */
  @Test
  @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void aRefusalRacingACommitNeverDeletesTheObjectOfTheCommittedBinary() throws Exception {
    byte[] bytes = random(1500, 48);
    Issued issued = putWithBothDigests(bytes);
    S3Server.HeldReads reads = f.s3.holdReads(objectKey(issued.url()));
    S3Server.HeldPart delete = f.s3.holdDelete();
    ExecutorService clients = Executors.newFixedThreadPool(2);
    try {
      Future<HttpResponse<String>> committing = clients.submit(() -> complete(issued));
      Poll.until("the first confirmation reading the object", reads::reads, n -> n >= 1);
      f.withCredentials(c -> c.putObject(r -> r.bucket(f.bucketName).key(objectKey(issued.url()))
          .contentType("application/octet-stream").contentLanguage("de"), RequestBody.fromBytes(bytes)));
      Future<HttpResponse<String>> refusing = clients.submit(() -> complete(issued));
      assertThat(delete.arrived()).as("the second confirmation deleting the object").isTrue();
      reads.release();
      HttpResponse<String> lost = committing.get(30, TimeUnit.SECONDS);
      delete.release();
      assertThat(refusing.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(400);
      // the refusal won: no Binary was uploaded, and the loser is told that the upload is over
      assertThat(lost.statusCode()).as(lost.body()).isEqualTo(410);
      assertThat(lost.body()).contains("is over").doesNotContain("already uploaded");
    } finally {
      reads.release();
      delete.release();
      clients.shutdownNow();
    }
    assertThat(!created(issued.binary()) || f.objectExists(issued.url()))
        .as("a created Binary keeps its object").isTrue();
  }

  @Test
  void theBackgroundCheckWorksThroughMoreThanOneBatchOfDueUploads() throws Exception {
    for (int i = 0; i < 60; i++) {
      f.issue(f.body(1000, sha256(random(1000, 100 + i))));
    }
    byte[] bytes = random(1000, 45);
    Issued last = f.issue(f.body(bytes.length, sha256(bytes)));
    assertThat(putToS3(last, last.url(), bytes).statusCode()).isEqualTo(200);
    f.clock.advance(Duration.ofMinutes(2));

    f.server.server().directUploads().confirmDue();

    // a check woken by an earlier confirmation may take some rows first
    Poll.until("confirmed in the same round as the 60 due before it", () -> created(last.binary()));
  }

  /**
   * A resource read while its Binary's SHA-1 is still to be learnt (no {@code hash}), read again
   * within the same signing window once it is known: the Attachment has its {@code hash} then,
   * though the signed URL, and so the answer's other bytes, are the same as before.
   */
  @Test
  void aResourceReadBeforeItsBinarysSha1WasLearntHasTheHashWhenReadAfter() throws Exception {
    byte[] bytes = random(3000, 46);
    Issued issued = f.issue(f.body(bytes.length, sha256(bytes)));
    assertThat(putToS3(issued, issued.url(), bytes).statusCode()).isEqualTo(200);
    String patient;
    S3Server.HeldReads reads = f.s3.holdReads(objectKey(issued.url()));
    try {
      HttpResponse<String> done = complete(issued);
      assertThat(done.statusCode()).as(done.body()).isEqualTo(201);
      patient = TestClient.createdId(f.http.postJson("fhir/R4/Patient",
          "{\"resourceType\":\"Patient\",\"photo\":[{\"url\":\"" + issued.binary() + "\"}]}"));
      HttpResponse<String> early = f.http.get("fhir/R4/Patient/" + patient);
      assertThat(early.statusCode()).as(early.body()).isEqualTo(200);
      assertThat(early.body()).as("size filled, hash not yet known").contains("\"size\":" + bytes.length)
          .doesNotContain("\"hash\"");
    } finally {
      reads.release();
    }
    ResourceStore store = f.server.server().store();
    Poll.until("the SHA-1 learnt by the background check", () -> store.read(tx ->
        tx.binaryContentAnyProject(id(issued.binary()), 1)).get(0).sha1Hex() != null);

    // read until the answer has it: the row is visible a moment before the background check's
    // transaction ended and told the server's cache of Binary rows (the clock stands still, so
    // an answer reused for the signing window would never have it)
    String hash = "\"hash\":\"" + sha1Base64(bytes) + "\"";
    HttpResponse<String> later = Poll.until("the hash in a later read", () -> f.http.get("fhir/R4/Patient/" + patient),
        r -> r.body().contains(hash));

    assertThat(later.statusCode()).as(later.body()).isEqualTo(200);
  }

  /** {@code bytes} PUT to the bucket through an upload URL that declares their SHA-256 and SHA-1. */
  private Issued putWithBothDigests(byte[] bytes) throws Exception {
    Issued issued = f.issue(f.body(bytes.length, sha256(bytes), sha1Base64(bytes), 60));
    assertThat(putToS3(issued, issued.url(), bytes).statusCode()).isEqualTo(200);
    return issued;
  }
}
