package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.fhirbox.binary.OrphanSweeper;
import org.fhirbox.testing.S3Server;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestBytes;
import org.fhirbox.testing.TestClock;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleType;
import org.hl7.fhir.r4.model.Bundle.HTTPVerb;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The object of a multipart upload between its completion and the commit of its Binary: S3 dates
 * it from the upload's start, so it looks older than the orphan grace at once; its write lease,
 * not its age, keeps the sweep off it until the request commits or discards it. A transaction
 * Bundle stores a large entry's object, then a small one's (held at the store), then commits.
 */
@SlowTest
class S3CommitLeaseTest {
  private static final int MIB = 1 << 20;
  private static final Duration GRACE = Duration.ofHours(1);
  /** Starts now: the bucket dates its objects by the wall clock, and the sweeper compares with this one. */
  private static final TestClock CLOCK = new TestClock(Instant.now());
  private static S3Server s3;
  private static S3Client raw;
  private static String bucket;
  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    s3 = S3Server.start();
    S3Server.exportCredentials();
    raw = s3.client();
    bucket = S3Server.newBucketName();
    server = TestServer.start(Map.of("FHIRBOX_BLOB_STORE", "s3", "FHIRBOX_S3_BUCKET", bucket,
        "FHIRBOX_S3_ENDPOINT", s3.endpoint().toString(), "FHIRBOX_S3_PATH_STYLE", "true",
        "FHIRBOX_S3_CREATE_BUCKET", "true", "FHIRBOX_S3_PART_SIZE", Integer.toString(5 * MIB),
        "FHIRBOX_ORPHAN_GRACE", Long.toString(GRACE.toSeconds())), CLOCK);
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      server.close();
      raw.close();
      s3.close();
    } finally {
      S3Server.clearCredentials();
    }
  }

  private static List<String> objects() {
    return raw.listObjectsV2Paginator(b -> b.bucket(bucket)).contents().stream().map(S3Object::key).toList();
  }

  private static Bundle transaction(byte[]... contents) {
    Bundle bundle = new Bundle().setType(BundleType.TRANSACTION);
    for (byte[] content : contents) {
      Binary binary = new Binary();
      binary.setContentType("application/octet-stream");
      binary.setData(content);
      bundle.addEntry().setFullUrl("urn:uuid:" + UUID.randomUUID()).setResource(binary).getRequest()
          .setMethod(HTTPVerb.POST).setUrl("Binary");
    }
    return bundle;
  }

  /** Two passes of the sweeper, the second one {@link OrphanSweeper#MIN_WATCH} after the first. */
  private static void sweepTwice() throws Exception {
    server.server().sweeper().sweep();
    CLOCK.advance(OrphanSweeper.MIN_WATCH);
    server.server().sweeper().sweep();
  }

  @Test
  @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void aCompletedMultipartObjectOutlastsTwoSweepsWhileItsRequestHasNotCommitted() throws Exception {
    byte[] large = TestBytes.random(5 * MIB + 1, 71);
    String json = server.client().json(transaction(large, TestBytes.random(100, 72)));
    int before = objects().size();
    S3Server.HeldPart smallPut = s3.holdPut();
    ExecutorService client = Executors.newSingleThreadExecutor();
    try {
      Future<HttpResponse<String>> posted = client.submit(() -> server.client().postJson("fhir/R4", json));
      assertThat(smallPut.arrived()).as("the small entry's PutObject at the store").isTrue();
      assertThat(objects()).as("the large entry's completed object").hasSize(before + 1);
      // the request stalls before its commit while the object looks older than the grace, for two passes
      CLOCK.advance(GRACE.plusMinutes(1));
      sweepTwice();
      smallPut.release();

      HttpResponse<String> done = posted.get(30, TimeUnit.SECONDS);
      assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
      String location = server.client().parse(done, Bundle.class).getEntryFirstRep().getResponse().getLocation();
      String binary = location.substring(0, location.indexOf("/_history"));
      HttpResponse<byte[]> read = server.client().sendBytes(server.client().request("fhir/R4/" + binary)
          .header("Accept", "*/*").GET());
      assertThat(read.statusCode()).isEqualTo(200);
      assertThat(read.body()).isEqualTo(large);
    } finally {
      smallPut.release();
      client.shutdownNow();
    }
  }

  @Test
  void aRequestThatFailsAfterStoringLeavesNothingOnceTheGracePassed() throws Exception {
    List<String> before = objects();
    Bundle bundle = transaction(TestBytes.random(5 * MIB + 1, 73));
    Patient patient = new Patient();
    patient.setId("lease-" + UUID.randomUUID());
    // checked in the committing transaction, after the Binary's object is stored: 412
    bundle.addEntry().setResource(patient).getRequest().setMethod(HTTPVerb.PUT)
        .setUrl("Patient/" + patient.getIdElement().getIdPart()).setIfMatch("W/\"9\"");

    HttpResponse<String> failed = server.client().postJson("fhir/R4", server.client().json(bundle));

    assertThat(failed.statusCode()).as(failed.body()).isGreaterThanOrEqualTo(400);
    CLOCK.advance(GRACE.plusMinutes(1));
    sweepTwice();
    assertThat(objects()).isEqualTo(before);
    assertThat(raw.listMultipartUploads(b -> b.bucket(bucket)).uploads()).isEmpty();
  }
}
