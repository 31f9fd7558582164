package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.fhirbox.binary.TusCompletionRaceTest.Hold;
import org.fhirbox.binary.UploadPauses.Point;
import org.fhirbox.testing.S3Server;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestBytes;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.Tus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * tus writes to S3 by a request whose lease runs out under them (6 s leases, dated by the
 * database's clock): S3 has no lock, so what such a write does must not touch what the request that
 * took the upload over writes and commits, and one upload's stalled renewal must not let the leases
 * of the node's other writes run out.
 */
@SlowTest
class TusS3LeaseTest {
  private static final int MIB = 1 << 20;
  private static final Duration LEASE = Duration.ofSeconds(6);
  private static S3Server s3;
  private static S3Client raw;
  private static String bucket;
  private static TestServer server;
  private static Tus tus;

  @BeforeAll
  static void start() throws Exception {
    s3 = S3Server.start();
    S3Server.exportCredentials();
    raw = s3.client();
    bucket = S3Server.newBucketName();
    server = TestServer.start(Map.of("FHIRBOX_BLOB_STORE", "s3", "FHIRBOX_S3_BUCKET", bucket,
        "FHIRBOX_S3_ENDPOINT", s3.endpoint().toString(), "FHIRBOX_S3_PATH_STYLE", "true",
        "FHIRBOX_S3_CREATE_BUCKET", "true", "FHIRBOX_S3_PART_SIZE", Integer.toString(5 * MIB),
        "FHIRBOX_UPLOAD_LEASE_SECONDS", Long.toString(LEASE.toSeconds())));
    tus = new Tus(server.client());
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

  @AfterEach
  void letGo() {
    server.server().resumableUploads().pauseAt(UploadPauses.NONE);
  }

  private static void hold(Hold... holds) {
    server.server().resumableUploads().pauseAt((point, id) -> {
      for (Hold h : holds) {
        h.at(point, id);
      }
    });
  }

  private static List<String> objects() {
    return raw.listObjectsV2Paginator(b -> b.bucket(bucket)).contents().stream().map(S3Object::key).toList();
  }

  private static byte[] object(String key) {
    return raw.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray();
  }

  /**
   * A piece holding the whole of a small upload confirms its lease, then stalls (a pause of its
   * process) before its PutObject, past its lease; another request takes the upload over and
   * commits its own bytes. The stalled PutObject then lands: it must not replace the object the
   * committed Binary, and its hash, describe.
   */
  @Test
  void aWholeObjectWrittenAfterItsLeaseRanOutLeavesTheCommittedBinaryAlone() throws Exception {
    byte[] stale = TestBytes.random(1000, 90);
    byte[] fresh = TestBytes.random(1000, 91);
    List<String> before = objects();
    String url = tus.upload(fresh.length, null);
    Hold writing = new Hold(Point.WRITING, url);
    hold(writing);
    CompletableFuture<HttpResponse<String>> stalled = CompletableFuture.supplyAsync(() -> tus.patch(url, 0, stale));
    writing.awaitReached();
    Thread.sleep(LEASE.plusSeconds(1).toMillis());

    HttpResponse<String> done = tus.patch(url, 0, fresh);
    assertThat(done.statusCode()).as(done.body()).isEqualTo(204);
    writing.release.countDown();
    HttpResponse<String> late = stalled.get(60, TimeUnit.SECONDS);

    assertThat(late.statusCode()).as(late.body()).isEqualTo(409);
    HttpResponse<byte[]> read = server.client().sendBytes(server.client().request("fhir/R4/" + Tus.binaryVersion(done))
        .header("Accept", "*/*").GET());
    assertThat(read.statusCode()).isEqualTo(200);
    assertThat(read.body()).isEqualTo(fresh);
    List<String> written = new ArrayList<>(objects());
    written.removeAll(before);
    assertThat(written).as("the objects the upload left").singleElement()
        .satisfies(key -> assertThat(object(key)).isEqualTo(fresh));
  }

  /**
   * Two uploads' writes wait at the store, each renewing its lease on a timer; one renewal stalls
   * (a database connection slow to come). The other upload keeps its lease past its term: a piece
   * to it from another client waits for it and gets 423, rather than taking it over.
   */
  @Test
  void aStalledRenewalOfOneUploadLetsNoOtherUploadsLeaseRunOut() throws Exception {
    byte[] small = TestBytes.random(1000, 92);
    byte[] large = TestBytes.random(6 * MIB, 93);
    String stalledUrl = tus.upload(small.length, null);
    String keptUrl = tus.upload(large.length, null);
    Hold renewing = new Hold(Point.RENEWING, stalledUrl);
    hold(renewing);
    S3Server.HeldPart put = s3.holdPut();
    S3Server.HeldPart part = s3.holdPart(1);
    try {
      CompletableFuture<HttpResponse<String>> stalled =
          CompletableFuture.supplyAsync(() -> tus.patch(stalledUrl, 0, small));
      assertThat(put.arrived()).as("the small upload's PutObject at the store").isTrue();
      renewing.awaitReached();
      CompletableFuture<HttpResponse<String>> kept = CompletableFuture.supplyAsync(() -> tus.patch(keptUrl, 0, large));
      assertThat(part.arrived()).as("the large upload's part 1 at the store").isTrue();
      Thread.sleep(LEASE.plusSeconds(1).toMillis());

      HttpResponse<String> racing = tus.patch(keptUrl, 0, new byte[0]);

      assertThat(racing.statusCode()).as(racing.body()).isEqualTo(423);
      part.release();
      HttpResponse<String> done = kept.get(60, TimeUnit.SECONDS);
      assertThat(done.statusCode()).as(done.body()).isEqualTo(204);
      renewing.release.countDown();
      put.release();
      stalled.get(60, TimeUnit.SECONDS);
    } finally {
      renewing.release.countDown();
      put.release();
      part.release();
    }
  }
}
