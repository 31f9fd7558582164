package org.fhirbox.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.fhirbox.testing.S3Server;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.SlowTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;

/**
 * {@link S3BlobStore} against s3proxy, started in-process on a free port with SigV2/V4
 * signature checking, over a transient (in-memory file system) backend. Each test gets its own
 * bucket, created by the store.
 */
@SlowTest
class S3BlobStoreTest extends BlobStoreContract {
  private static final String ACCESS_KEY = S3Server.ACCESS_KEY;
  private static final String SECRET_KEY = S3Server.SECRET_KEY;
  private static final long PART = 5 * MIB;
  private static final AtomicInteger BUCKETS = new AtomicInteger();

  private static S3Server proxy;
  private static URI endpoint;

  private final List<Sent> sent = new CopyOnWriteArrayList<>();
  private final AtomicInteger partsInFlight = new AtomicInteger();
  private final AtomicInteger maxPartsInFlight = new AtomicInteger();
  private S3Settings settings;
  private S3BlobStore store;
  private S3Client raw;

  /** One request as the SDK put it on the wire: its checksum and encryption headers. */
  private record Sent(String operation, String crc32c, String sse) {}

  @BeforeAll
  static void startS3Proxy() throws Exception {
    proxy = S3Server.start();
    endpoint = proxy.endpoint();
  }

  @AfterAll
  static void stopS3Proxy() throws Exception {
    proxy.close();
  }

  @BeforeEach
  void createStore() throws IOException {
    settings = settings(2).build();
    store = newStore(settings, SECRET_KEY);
    raw = S3BlobStore.clientBuilder(settings, credentials(SECRET_KEY)).build();
  }

  @AfterEach
  void closeStore() {
    store.close();
    raw.close();
  }

  @Override
  protected BlobStore store() {
    return store;
  }

  private static S3Settings.Builder settings(int parallelism) {
    return S3Settings.builder("test-" + BUCKETS.incrementAndGet())
        .endpoint(endpoint).pathStyle(true).createBucket(true)
        .partSizeBytes(PART).parallelism(parallelism);
  }

  private S3BlobStore newStore(S3Settings settings, String secret) throws IOException {
    // Recorded per API call, not per transmission: the SDK may retry a part on a busy machine,
    // and a retry is not another part.
    ExecutionInterceptor recorder = new ExecutionInterceptor() {
      @Override
      public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
        if ("UploadPart".equals(attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME))) {
          maxPartsInFlight.accumulateAndGet(partsInFlight.incrementAndGet(), Math::max);
        }
      }

      @Override
      public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
        String operation = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
        SdkHttpRequest request = context.httpRequest();
        sent.add(new Sent(operation,
            request.firstMatchingHeader("x-amz-checksum-crc32c").orElse(null),
            request.firstMatchingHeader("x-amz-server-side-encryption").orElse(null)));
        callEnded(operation);
      }

      @Override
      public void onExecutionFailure(Context.FailedExecution context, ExecutionAttributes attributes) {
        String operation = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
        context.httpRequest().ifPresent(request -> sent.add(new Sent(operation,
            request.firstMatchingHeader("x-amz-checksum-crc32c").orElse(null),
            request.firstMatchingHeader("x-amz-server-side-encryption").orElse(null))));
        callEnded(operation);
      }

      private void callEnded(String operation) {
        if ("UploadPart".equals(operation)) {
          partsInFlight.decrementAndGet();
        }
      }
    };
    return new S3BlobStore(settings, S3BlobStore.clientBuilder(settings, credentials(secret), recorder).build());
  }

  private static StaticCredentialsProvider credentials(String secret) {
    return StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, secret));
  }

  private List<Sent> sent(String operation) {
    return sent.stream().filter(s -> operation.equals(s.operation())).toList();
  }

  private String objectKey(BlobKey key) {
    return settings.keyPrefix() + key.value();
  }

  private void assertNoMultipartUploadsRemain() {
    assertThat(raw.listMultipartUploads(b -> b.bucket(settings.bucket())).uploads()).isEmpty();
  }

  @Test
  void contentLongerThanOnePartIsUploadedInPartsWithChecksums() throws IOException {
    BlobInfo info = store.put(TestContent.stream(20, 2 * PART + 1), NO_LIMIT);

    assertThat(sent("PutObject")).isEmpty();
    assertThat(sent("CreateMultipartUpload")).hasSize(1);
    assertThat(sent("UploadPart")).hasSize(3)
        .allSatisfy(s -> assertThat(s.crc32c()).isNotBlank());
    assertThat(sent("CompleteMultipartUpload")).hasSize(1);
    // S3 gives a multipart object the ETag "<md5 of part md5s>-<part count>".
    assertThat(raw.headObject(b -> b.bucket(settings.bucket()).key(objectKey(info.key()))).eTag())
        .endsWith("-3\"");
  }

  @Test
  void contentOfExactlyOnePartIsOnePutObjectWithChecksum() throws IOException {
    BlobInfo info = store.put(TestContent.stream(21, PART), NO_LIMIT);

    assertThat(sent("CreateMultipartUpload")).isEmpty();
    assertThat(sent("PutObject")).singleElement()
        .satisfies(s -> assertThat(s.crc32c()).isNotBlank());
    assertThat(store.size(info.key())).contains(PART);
  }

  @Test
  void contentOfExactlyTwoPartsHasNoEmptyThirdPart() throws IOException {
    BlobInfo info = store.put(TestContent.stream(22, 2 * PART), NO_LIMIT);

    assertThat(sent("UploadPart")).hasSize(2);
    try (var in = store.open(info.key(), 0)) {
      assertThat(TestContent.sha256(in)).isEqualTo(TestContent.digests(22, 2 * PART)[0]);
    }
  }

  @Test
  void serverRejectsABodyThatDoesNotMatchItsChecksum() {
    // What the store relies on: the CRC32C header it sends is checked against the bytes received.
    byte[] body = TestContent.bytes(23, 0, 1000);
    String wrong = S3Upload.crc32c(TestContent.bytes(24, 0, 1000), 1000);

    assertThatThrownBy(() -> raw.putObject(b -> b.bucket(settings.bucket()).key("corrupt")
        .checksumCRC32C(wrong), RequestBody.fromBytes(body)))
        .isInstanceOfSatisfying(S3Exception.class,
            e -> assertThat(e.statusCode()).isEqualTo(400));
    assertThat(raw.listObjectsV2(b -> b.bucket(settings.bucket())).contents()).isEmpty();
  }

  @Test
  void failedMultipartUploadIsAborted() {
    assertThatThrownBy(() -> store.put(TestContent.failingAfter(25, 3 * PART + 10), NO_LIMIT))
        .isInstanceOf(IOException.class);

    assertThat(sent("UploadPart")).hasSizeGreaterThanOrEqualTo(2);
    assertThat(sent("AbortMultipartUpload")).hasSize(1);
    assertNoMultipartUploadsRemain();
  }

  @Test
  void multipartUploadOverTheLimitIsAbortedAndStaysTooLarge() {
    assertThatThrownBy(() -> store.put(TestContent.stream(26, LARGE), 3 * PART))
        .isInstanceOf(BlobTooLargeException.class);

    assertThat(sent("AbortMultipartUpload")).hasSize(1);
    assertNoMultipartUploadsRemain();
  }

  @Test
  void interruptedUploadIsAbortedAndKeepsTheInterrupt() throws IOException {
    try {
      assertThatThrownBy(() -> store.put(
          TestContent.interruptingAfter(27, 4 * PART, 2 * PART + 100), NO_LIMIT))
          .isInstanceOf(InterruptedIOException.class);
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
    assertNoMultipartUploadsRemain();
    assertThat(listAll()).isEmpty();
  }

  @Test
  void partBuffersStayWithinParallelismPlusOneAndAreReused() throws IOException {
    // 40 MiB is 9 parts: a store that allocated a buffer per part, or kept them all, would
    // exceed the bound; two uploads in a row show the buffers are reused, not re-allocated.
    store.put(TestContent.stream(28, LARGE), NO_LIMIT);
    store.put(TestContent.stream(29, LARGE), NO_LIMIT);

    assertThat(sent("UploadPart")).hasSize(18);
    assertThat(maxPartsInFlight.get()).isBetween(1, settings.parallelism());
    assertThat(store.partBuffersAllocated()).isBetween(1L, settings.parallelism() + 1L);
  }

  /** {@code size} bytes of content {@code seed} that stop after {@code pauseAt} until {@code go} opens. */
  private static InputStream pausing(long seed, long size, long pauseAt, CountDownLatch paused, CountDownLatch go) {
    return new StallingStream(TestContent.stream(seed, size), pauseAt, paused, go);
  }

  /** A store on this test's bucket whose uploads together may hold {@code maxBuffers} part buffers. */
  private S3BlobStore bounded(int maxBuffers, long waitMillis) throws IOException {
    return new S3BlobStore(settings, S3BlobStore.clientBuilder(settings, credentials(SECRET_KEY)).build(), maxBuffers,
        waitMillis);
  }

  @Test
  void slowSmallBodiesHoldNoPartBuffer() throws Exception {
    S3BlobStore bounded = bounded(1, 200);
    ExecutorService clients = Executors.newFixedThreadPool(6);
    try {
      CountDownLatch paused = new CountDownLatch(6);
      CountDownLatch go = new CountDownLatch(1);
      List<Future<BlobInfo>> puts = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        long seed = 40 + i;
        puts.add(clients.submit(() -> bounded.put(pausing(seed, 100_000, 1_000, paused, go), NO_LIMIT)));
      }
      assertThat(paused.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(bounded.partBuffersInUse()).as("six slow 100 KB bodies under way").isZero();
      go.countDown();
      for (int i = 0; i < 6; i++) {
        assertThat(puts.get(i).get(30, TimeUnit.SECONDS).sha1Hex()).isEqualTo(TestContent.digests(40 + i, 100_000)[1]);
      }
      assertThat(bounded.partBuffersAllocated()).isZero();
    } finally {
      clients.shutdownNow();
      bounded.close();
    }
  }

  @Test
  void anUploadBeyondTheBuffersAllUploadsMayHoldWaitsThenFailsAsAnOutage() throws Exception {
    S3BlobStore bounded = bounded(1, 300);
    ExecutorService clients = Executors.newFixedThreadPool(1);
    try {
      CountDownLatch paused = new CountDownLatch(1);
      CountDownLatch go = new CountDownLatch(1);
      // holds the one part buffer: 1 MiB of a 12 MiB body, then nothing for a while
      Future<BlobInfo> slow = clients.submit(() -> bounded.put(pausing(50, 12 * MIB, MIB, paused, go), NO_LIMIT));
      assertThat(paused.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(bounded.partBuffersInUse()).isEqualTo(1);

      assertThatThrownBy(() -> bounded.put(TestContent.stream(51, 2 * MIB), NO_LIMIT))
          .isInstanceOf(S3PartBuffers.Busy.class)
          .satisfies(e -> assertThat(BlobStoreOutage.of(e)).hasValueSatisfying(
              m -> assertThat(m).contains("limit of uploads to the object store")));
      // a small body still goes: it needs no part buffer
      assertThat(bounded.put(TestContent.stream(52, 1_000), NO_LIMIT).size()).isEqualTo(1_000);

      go.countDown();
      assertThat(slow.get(60, TimeUnit.SECONDS).sha1Hex()).isEqualTo(TestContent.digests(50, 12 * MIB)[1]);
      assertThat(bounded.partBuffersInUse()).isZero();
      // one buffer for all: a large upload then sends one part at a time, and completes
      BlobInfo large = bounded.put(TestContent.stream(53, LARGE), NO_LIMIT);
      assertThat(large.sha1Hex()).isEqualTo(TestContent.digests(53, LARGE)[1]);
      assertThat(bounded.partBuffersAllocated()).isEqualTo(1);
      assertNoMultipartUploadsRemain();
    } finally {
      clients.shutdownNow();
      bounded.close();
    }
  }

  @Test
  void anUploadWaitingOnItsOwnSlowPartIsNotRefusedAsOverBudget() throws Exception {
    // S3 takes longer to take each part than the store waits for a free buffer: the one buffer
    // is this upload's own, out in a part, so the wait is S3's pace, not others' memory
    ExecutionInterceptor slowParts = new ExecutionInterceptor() {
      @Override
      public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
        if ("UploadPart".equals(attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME))) {
          try {
            Thread.sleep(400);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      }
    };
    S3BlobStore bounded = new S3BlobStore(settings,
        S3BlobStore.clientBuilder(settings, credentials(SECRET_KEY), slowParts).build(), 1, 100);
    try {
      BlobInfo info = bounded.put(TestContent.stream(54, 3 * PART + 17), NO_LIMIT);

      assertThat(info.sha1Hex()).isEqualTo(TestContent.digests(54, 3 * PART + 17)[1]);
      assertThat(bounded.partBuffersInUse()).isZero();
    } finally {
      bounded.close();
    }
  }

  @Test
  void sseS3IsRequestedOnSinglePutsAndMultipartUploads() throws IOException {
    S3Settings sse = settings(2).sse(S3Settings.Sse.S3).build();
    for (HeadObjectResponse head : headOfSmallAndLarge(sse)) {
      assertThat(head.serverSideEncryption()).isEqualTo(ServerSideEncryption.AES256);
    }
    // Like AWS S3 today, s3proxy reports AES256 even unasked: the request headers are the proof.
    assertThat(sent("PutObject")).singleElement()
        .satisfies(s -> assertThat(s.sse()).isEqualTo("AES256"));
    assertThat(sent("CreateMultipartUpload")).singleElement()
        .satisfies(s -> assertThat(s.sse()).isEqualTo("AES256"));
  }

  @Test
  void sseKmsWithKeyIdIsRequestedOnSinglePutsAndMultipartUploads() throws IOException {
    String keyId = "arn:aws:kms:us-east-1:111122223333:key/fhirbox-test";
    S3Settings sse = settings(2).kms(keyId).build();
    for (HeadObjectResponse head : headOfSmallAndLarge(sse)) {
      assertThat(head.serverSideEncryption()).isEqualTo(ServerSideEncryption.AWS_KMS);
      assertThat(head.ssekmsKeyId()).isEqualTo(keyId);
    }
  }

  /** Stores one single-part and one multipart blob with {@code sse}, and heads both. */
  private List<HeadObjectResponse> headOfSmallAndLarge(S3Settings sse) throws IOException {
    try (S3BlobStore encrypted = newStore(sse, SECRET_KEY)) {
      BlobInfo small = encrypted.put(TestContent.stream(30, 10), NO_LIMIT);
      BlobInfo large = encrypted.put(TestContent.stream(31, PART + 1), NO_LIMIT);
      assertThat(sent("CreateMultipartUpload")).hasSize(1);
      return List.of(small, large).stream()
          .map(info -> raw.headObject(b -> b.bucket(sse.bucket()).key(objectKey(info.key()))))
          .toList();
    }
  }

  @Test
  void sweepAbortsStaleMultipartUploads() throws IOException {
    raw.createMultipartUpload(b -> b.bucket(settings.bucket()).key(objectKey(BlobKey.random())));

    listAll();

    assertNoMultipartUploadsRemain();
  }

  /**
   * Every node sweeps at once: a stale multipart upload this sweep listed may be aborted by another
   * node's sweep (or completed by its owner) before this one looks at its parts and aborts it. That
   * upload is gone, which is what this sweep wanted; the pass goes on to the others.
   */
  @Test
  void sweepPassesOverAMultipartUploadAnotherNodeAbortedMeanwhile() throws IOException {
    String gone = objectKey(BlobKey.random());
    String goneId = raw.createMultipartUpload(b -> b.bucket(settings.bucket()).key(gone)).uploadId();
    raw.createMultipartUpload(b -> b.bucket(settings.bucket()).key(objectKey(BlobKey.random())));

    // the predicate runs between the listing and the look at each upload's parts
    AtomicBoolean aborted = new AtomicBoolean();
    store.listOlderThan(Instant.now().plusSeconds(7200), k -> { }, k -> {
      if (aborted.compareAndSet(false, true)) {
        raw.abortMultipartUpload(b -> b.bucket(settings.bucket()).key(gone).uploadId(goneId));
      }
      return false;
    });

    assertNoMultipartUploadsRemain();
  }

  @Test
  void sweepKeepsAMultipartUploadWhosePartsStillArrive() throws Exception {
    String key = objectKey(BlobKey.random());
    String uploadId = raw.createMultipartUpload(b -> b.bucket(settings.bucket()).key(key)).uploadId();
    Instant initiated = raw.listMultipartUploads(b -> b.bucket(settings.bucket())).uploads().get(0).initiated();
    Instant lastPart = uploadPartLaterThan(initiated, key, uploadId);

    // Begun before the cutoff, as a long upload is, but its newest part is not older than it.
    store.listOlderThan(lastPart, k -> { });
    assertThat(raw.listMultipartUploads(b -> b.bucket(settings.bucket())).uploads()).hasSize(1);

    store.listOlderThan(lastPart.plusMillis(1), k -> { });
    assertNoMultipartUploadsRemain();
  }

  @Test
  void sweepSparesAMultipartUploadThisStoreIsStillFeeding() throws Exception {
    ExecutorService client = Executors.newSingleThreadExecutor();
    try {
      CountDownLatch paused = new CountDownLatch(1);
      CountDownLatch go = new CountDownLatch(1);
      // one part sent, then the body stops: S3 sees nothing new until the next part is full
      Future<BlobInfo> slow = client.submit(() -> store.put(pausing(54, MULTIPART, PART + MIB, paused, go), NO_LIMIT));
      assertThat(paused.await(30, TimeUnit.SECONDS)).isTrue();
      Poll.until("part 1 stored", () -> raw.listMultipartUploads(b -> b.bucket(settings.bucket())).uploads()
          .stream().mapToInt(u -> raw.listParts(b -> b.bucket(settings.bucket()).key(u.key())
              .uploadId(u.uploadId())).parts().size()).sum(), parts -> parts == 1);

      // a cutoff past everything S3 holds, as after a grace period without a part
      store.listOlderThan(Instant.now().plusSeconds(7200), k -> { });
      assertThat(raw.listMultipartUploads(b -> b.bucket(settings.bucket())).uploads()).hasSize(1);

      go.countDown();
      assertThat(slow.get(60, TimeUnit.SECONDS).sha1Hex()).isEqualTo(TestContent.digests(54, MULTIPART)[1]);
      assertNoMultipartUploadsRemain();
    } finally {
      client.shutdownNow();
    }
  }

  /**
   * The object of a completed multipart upload is dated from the upload's start: its write lease
   * lasts until the unit of work that stored it (which commits its row) ends, not only the upload.
   */
  @Test
  void aCompletedUploadKeepsItsLeaseUntilItsUnitOfWorkEnds() throws IOException {
    Set<BlobKey> leased = ConcurrentHashMap.newKeySet();
    store.recordWritesIn(key -> {
      leased.add(key);
      return () -> leased.remove(key);
    });
    store.put(TestContent.stream(56, PART + 1), NO_LIMIT);
    assertThat(leased).as("outside a unit of work, the lease ends with the upload").isEmpty();

    BlobInfo held;
    try (HeldWrites.Unit unit = HeldWrites.begin()) {
      held = store.put(TestContent.stream(57, PART + 1), NO_LIMIT);
      HeldWrites.begin().close(); // a unit begun inside it ends nothing
      assertThat(leased).containsExactly(held.key());
    }
    assertThat(leased).isEmpty();
  }

  /**
   * Uploads part 1 of {@code uploadId} until the store dates it after {@code initiated} (the S3
   * server's clock may count whole seconds) and returns that date.
   */
  private Instant uploadPartLaterThan(Instant initiated, String key, String uploadId) throws Exception {
    return Poll.until("a part dated after " + initiated, () -> {
      raw.uploadPart(b -> b.bucket(settings.bucket()).key(key).uploadId(uploadId).partNumber(1),
          RequestBody.fromString("part"));
      return raw.listParts(b -> b.bucket(settings.bucket()).key(key).uploadId(uploadId))
          .parts().get(0).lastModified();
    }, dated -> dated.isAfter(initiated));
  }

  @Test
  void objectsOutsideThePrefixAreIgnored() throws IOException {
    raw.putObject(b -> b.bucket(settings.bucket()).key(BlobKey.random().value()),
        RequestBody.fromString("not ours"));
    raw.putObject(b -> b.bucket(settings.bucket()).key(settings.keyPrefix() + "not-a-key"),
        RequestBody.fromString("not ours"));

    assertThat(listAll()).isEmpty();
  }

  @Test
  void wrongSecretIsRefusedBySignatureCheck() throws IOException {
    S3Settings existing = S3Settings.builder(settings.bucket()).endpoint(endpoint)
        .pathStyle(true).partSizeBytes(PART).build();
    try (S3BlobStore forged = newStore(existing, "not-the-secret")) {
      assertThat(forged.isReachable()).isFalse();
      assertThatThrownBy(() -> forged.put(TestContent.stream(32, 10), NO_LIMIT))
          .isInstanceOf(IOException.class);
    }
  }

  @Test
  void missingBucketIsNotReachable() throws IOException {
    S3Settings missing = S3Settings.builder("no-such-bucket").endpoint(endpoint)
        .pathStyle(true).build();
    try (S3BlobStore absent = newStore(missing, SECRET_KEY)) {
      assertThat(absent.isReachable()).isFalse();
    }
  }

  @Test
  void readingFromAMissingBucketIsAnOutage() throws IOException {
    S3Settings missing = S3Settings.builder("no-such-bucket").endpoint(endpoint)
        .pathStyle(true).build();
    BlobKey key = BlobKey.random();
    try (S3BlobStore absent = newStore(missing, SECRET_KEY)) {
      assertThatThrownBy(() -> absent.open(key, 0)).isNotInstanceOf(NoSuchFileException.class)
          .satisfies(e -> assertThat(BlobStoreOutage.of(e)).contains("the object store's bucket does not exist"));
      assertThatThrownBy(() -> absent.size(key)).isNotInstanceOf(NoSuchFileException.class)
          .satisfies(e -> assertThat(BlobStoreOutage.of(e)).contains("the object store's bucket does not exist"));
    }
  }
}
