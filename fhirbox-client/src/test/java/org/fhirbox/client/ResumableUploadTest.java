package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Media;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files above the threshold go with tus: in pieces, over real HTTP to the real server, resuming by
 * themselves when the server goes away mid-upload and comes back, and, with a state directory,
 * continued by another client after a run that gave up.
 */
class ResumableUploadTest {
  private static final int SIZE = 6_000_000;
  private static final long CHUNK = 1 << 20;
  private static final RetryPolicy PATIENT =
      new RetryPolicy(40, Duration.ofMillis(50), Duration.ofMillis(500), Duration.ofSeconds(1));

  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();
  @TempDir
  Path work;

  private Path file() throws Exception {
    Path f = work.resolve("clip.mp4");
    Files.write(f, BinaryTransferTest.randomBytes(SIZE));
    return f;
  }

  /** Rewrites {@code file} in place with other bytes of the same size, as an editor saving over it would. */
  private static void rewrite(Path file, long seed) {
    byte[] other = new byte[SIZE];
    new Random(seed).nextBytes(other);
    try {
      Files.write(file, other);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static FhirboxClient resumable(TestServer server, ResumableUploads settings) {
    return server.client().newBuilder().resumableUploads(settings).build();
  }

  private static byte[] content(FhirboxClient client, Binary b) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    client.download("Binary/" + b.getIdElement().getIdPart(), out);
    return out.toByteArray();
  }

  private static long bytesIn(TestServer server) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create(server.baseUrl() + "metrics")).build(), HttpResponse.BodyHandlers.ofString());
    Matcher m = Pattern.compile("(?m)^fhirbox_bytes_in_total (\\S+)$").matcher(r.body());
    assertThat(m.find()).as(r.body()).isTrue();
    return (long) Double.parseDouble(m.group(1));
  }

  @Test
  void aFileAboveTheThresholdGoesInPiecesAndKeepsItsBytes() throws Exception {
    Path file = file();
    List<Long> seen = new CopyOnWriteArrayList<>();
    FhirboxClient client = resumable(fhirbox.server(), ResumableUploads.DEFAULT.withThreshold(SIZE).withChunkSize(CHUNK));
    Attachment a = client.createAttachment(Upload.of(file, "video/mp4")
        .withProgress((done, total) -> {
          assertThat(total).isEqualTo(SIZE);
          seen.add(done);
        }));

    String id = FhirboxClient.binaryId(a.getUrl()).orElseThrow();
    Binary b = client.readResource(Binary.class, id);
    assertThat(b.getContentType()).isEqualTo("video/mp4");
    assertThat(BinaryTransferTest.sha256(content(client, b))).isEqualTo(BinaryTransferTest.sha256(Files.readAllBytes(file)));
    assertThat(a.getSize()).isEqualTo(SIZE);
    assertThat(a.getTitle()).isEqualTo("clip.mp4");
    assertThat(seen).isSorted().last().isEqualTo((long) SIZE);
    Media m = client.createResource(new Media().setStatus(Media.MediaStatus.COMPLETED)
        .setContent(new Attachment().setUrl("Binary/" + id)));
    assertThat(m.getContent().getHash()).isEqualTo(java.security.MessageDigest.getInstance("SHA-1")
        .digest(Files.readAllBytes(file)));
  }

  @Test
  void aFileBelowTheThresholdGoesInOneRequest() throws Exception {
    Path file = file();
    FhirboxClient client = resumable(fhirbox.server(), ResumableUploads.DEFAULT.withThreshold(SIZE + 1L).withChunkSize(CHUNK));
    Attachment a = client.createAttachment(Upload.of(file, "video/mp4"));
    // only the one-request path measures the SHA-1 itself; a resumable upload leaves it to the server
    assertThat(a.getHash()).isNotNull();
  }

  @Test
  void anUploadGoesOnByItselfWhenTheServerStopsMidwayAndStartsAgain() throws Exception {
    Path file = file();
    Path data = work.resolve("data");
    AtomicReference<TestServer> current = new AtomicReference<>(TestServer.start(data));
    int port = current.get().port();
    AtomicBoolean stopped = new AtomicBoolean();
    AtomicReference<CompletableFuture<Void>> restart = new AtomicReference<>();
    try {
      FhirboxClient client = resumable(current.get(), ResumableUploads.DEFAULT.withThreshold(0).withChunkSize(CHUNK)
          .withRetries(PATIENT));
      Binary b = client.uploadResumably(Upload.of(file, "video/mp4").withProgress((done, total) -> {
        if (done >= SIZE / 2 && stopped.compareAndSet(false, true)) {
          restart.set(CompletableFuture.runAsync(() -> {
            try {
              current.get().close();
              current.set(TestServer.start(data, port));
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          }));
        }
      }));
      restart.get().join();

      assertThat(BinaryTransferTest.sha256(content(client, b))).isEqualTo(BinaryTransferTest.sha256(Files.readAllBytes(file)));
      assertThat(bytesIn(current.get())).as("bytes the restarted server received").isLessThan(SIZE * 3L / 4);
    } finally {
      current.get().close();
    }
  }

  @Test
  void aFileThatChangesWhileItIsSentStopsTheUpload() throws Exception {
    Path file = file();
    FhirboxClient client = resumable(fhirbox.server(), ResumableUploads.DEFAULT.withThreshold(0).withChunkSize(CHUNK));
    AtomicBoolean changed = new AtomicBoolean();

    assertThatThrownBy(() -> client.uploadResumably(Upload.of(file, "video/mp4").withProgress((done, total) -> {
      if (done >= SIZE / 2 && changed.compareAndSet(false, true)) {
        // rewritten in place: its first half, already sent, is other bytes now
        rewrite(file, 7);
      }
    }))).isInstanceOf(FhirboxException.class).hasMessageContaining("changed while it was uploaded");
  }

  @Test
  void aFileThatChangesWhileItIsSentInOnePostFailsTheUploadAndItsBinaryIsDeleted() throws Exception {
    Path file = file(); // under the resumable threshold: one POST
    AtomicBoolean changed = new AtomicBoolean();
    String before = fhirbox.client().searchBundle(Binary.class, "_summary=count").getTotal() + "";

    Throwable failure = catchThrowable(() -> fhirbox.client().createBinary(
        Upload.of(file, "video/mp4").withProgress((done, total) -> {
          if (done > 0 && done < SIZE && changed.compareAndSet(false, true)) {
            // rewritten in place: the rest of the body is read from the new bytes
            rewrite(file, 9);
          }
        })));

    assertThat(changed).isTrue();
    assertThat(failure).isInstanceOf(FhirboxException.class)
        .hasMessageContaining("changed while it was uploaded").hasMessageContaining("it was deleted");
    assertThat(fhirbox.client().searchBundle(Binary.class, "_summary=count").getTotal() + "").isEqualTo(before);
  }

  @Test
  void aFileThatChangesDuringItsLastPieceFailsTheUploadAndItsBinaryIsDeleted() throws Exception {
    Path file = file();
    FhirboxClient client = resumable(fhirbox.server(), ResumableUploads.DEFAULT.withThreshold(0).withChunkSize(CHUNK));
    AtomicBoolean changed = new AtomicBoolean();

    // the last byte has been read for the last PATCH, which the server then takes
    Throwable failure = catchThrowable(() -> client.uploadResumably(
        Upload.of(file, "video/mp4").withProgress((done, total) -> {
          if (done == SIZE && changed.compareAndSet(false, true)) {
            rewrite(file, 8);
          }
        })));

    assertThat(changed).isTrue();
    assertThat(failure).isInstanceOf(FhirboxException.class)
        .hasMessageContaining("changed while it was uploaded").hasMessageContaining("it was deleted");
    Matcher id = Pattern.compile("Binary/([A-Za-z0-9\\-.]+) ").matcher(failure.getMessage());
    assertThat(id.find()).isTrue();
    assertThatThrownBy(() -> client.readResource(Binary.class, id.group(1)))
        .isInstanceOf(FhirboxException.class)
        .satisfies(e -> assertThat(((FhirboxException) e).status()).isIn(404, 410));
  }

  /** A client, a port with the server's data, and resumable settings with a state directory. */
  private record GaveUp(FhirboxClient admin, int port, ResumableUploads settings) {}

  /** Uploads {@code file} with a state directory until its server stops half way; the client gives up. */
  private GaveUp giveUpHalfWay(Path file, Path data, Path state) throws Exception {
    AtomicBoolean stopped = new AtomicBoolean();
    TestServer first = TestServer.start(data);
    int port = first.port();
    ResumableUploads settings = ResumableUploads.DEFAULT.withThreshold(0).withChunkSize(CHUNK)
        .withStateDirectory(state);
    // the first server's bootstrap client is the one the data knows, whoever starts on it next
    FhirboxClient admin = first.client();
    FhirboxClient impatient = admin.newBuilder().resumableUploads(settings.withRetries(RetryPolicy.NONE)).build();
    try {
      assertThatThrownBy(() -> impatient.uploadResumably(Upload.of(file, "video/mp4").withProgress((done, total) -> {
        if (done >= SIZE / 2 && stopped.compareAndSet(false, true)) {
          CompletableFuture.runAsync(() -> {
            try {
              first.close();
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          });
        }
      }))).isInstanceOf(FhirboxException.class);
    } finally {
      first.close();
    }
    try (Stream<Path> kept = Files.list(state)) {
      assertThat(kept.toList()).hasSize(1);
    }
    return new GaveUp(admin, port, settings);
  }

  @Test
  void aStateDirectoryLetsAnotherClientContinueAnUploadThatGaveUp() throws Exception {
    Path file = file();
    Path data = work.resolve("data");
    Path state = work.resolve("state");
    GaveUp gaveUp = giveUpHalfWay(file, data, state);

    try (TestServer second = TestServer.start(data, gaveUp.port())) {
      List<Long> seen = new CopyOnWriteArrayList<>();
      FhirboxClient client = gaveUp.admin().newBuilder().resumableUploads(gaveUp.settings()).build();
      Binary b = client.uploadResumably(Upload.of(file, "video/mp4").withProgress((done, total) -> seen.add(done)));

      assertThat(seen.get(0)).as("the offset the second run started from").isGreaterThan(0L);
      assertThat(BinaryTransferTest.sha256(content(client, b))).isEqualTo(BinaryTransferTest.sha256(Files.readAllBytes(file)));
      assertThat(bytesIn(second)).isLessThan((long) SIZE);
      try (Stream<Path> kept = Files.list(state)) {
        assertThat(kept.toList()).as("the state of a finished upload").isEmpty();
      }
    }
  }

  @Test
  void aStateFileThatCannotBeWrittenLeavesNoTemporaryFile() throws Exception {
    Path state = work.resolve("state");
    String fingerprint = UploadStates.fingerprint("clip.mp4");
    // a directory where the state file goes: the temporary file is written, renaming it fails
    Files.createDirectories(state.resolve(fingerprint + ".tus").resolve("taken"));

    new UploadStates(state).keep(fingerprint, URI.create("http://localhost:8103/fhir/R4/$tus/1"));

    try (Stream<Path> left = Files.list(state)) {
      assertThat(left.map(p -> p.getFileName().toString())).containsExactly(fingerprint + ".tus");
    }
  }

  @Test
  void aFileReplacedByOtherBytesOfTheSameSizeAndTimeStartsAgain() throws Exception {
    Path file = file();
    FileTime modified = Files.getLastModifiedTime(file);
    Path data = work.resolve("data");
    GaveUp gaveUp = giveUpHalfWay(file, data, work.resolve("state"));
    // replaced as cp -p, rsync -a or tar x would: other bytes, the same size and modification time
    byte[] other = new byte[SIZE];
    new Random(42).nextBytes(other);
    assertThat(other).isNotEqualTo(Files.readAllBytes(file));
    Files.write(file, other);
    Files.setLastModifiedTime(file, modified);

    try (TestServer second = TestServer.start(data, gaveUp.port())) {
      List<Long> seen = new CopyOnWriteArrayList<>();
      FhirboxClient client = gaveUp.admin().newBuilder().resumableUploads(gaveUp.settings()).build();
      Binary b = client.uploadResumably(Upload.of(file, "video/mp4").withProgress((done, total) -> seen.add(done)));

      assertThat(seen.get(0)).as("not continued from the earlier bytes").isZero();
      assertThat(BinaryTransferTest.sha256(content(client, b))).isEqualTo(BinaryTransferTest.sha256(other));
    }
  }
}
