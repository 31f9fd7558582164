package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** What a file download does with the files around its target: links, a locked part, a name taken meanwhile. */
class DownloadTargetTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();
  @TempDir
  Path work;
  static byte[] data = BinaryTransferTest.randomBytes(300_000);
  static String ref;

  @BeforeAll
  static void createBinary() {
    ref = "Binary/" + fhirbox.client().createBinary(Upload.of(data, "application/octet-stream")).getIdElement().getIdPart();
  }

  @Test
  void partAndSidecarFilesThatAreSymbolicLinksAreNotFollowed() throws Exception {
    Path victim = Files.writeString(work.resolve("victim.txt"), "keep me");
    Path target = work.resolve("scan.bin");
    Files.createSymbolicLink(work.resolve("scan.bin.part"), victim);
    Files.createSymbolicLink(work.resolve("scan.bin.part.validator.tmp"), victim);

    assertThat(fhirbox.client().download(ref, target)).isEqualTo(data.length);

    assertThat(Files.readString(victim)).isEqualTo("keep me");
    assertThat(Files.isSymbolicLink(target)).isFalse();
    assertThat(Files.readAllBytes(target)).isEqualTo(data);
    assertThat(work.resolve("scan.bin.part")).doesNotExist();
  }

  /**
   * A target whose name the file system takes (up to 255 bytes) but whose {@code .part},
   * {@code .part.validator} or its temporary file would be longer gets a shorter part name, the
   * same in every run, so that an interrupted download of it resumes too.
   */
  @Test
  void aTargetWithALongNameIsDownloadedAndAnInterruptedRunResumes() throws Exception {
    Path target = work.resolve("\u00e9".repeat(100) + "a".repeat(46) + ".bin"); // 250 bytes
    ProgressListener stop = (done, total) -> {
      if (done >= 100_000) {
        throw new IllegalStateException("stopped at " + done);
      }
    };
    assertThatThrownBy(() -> fhirbox.client().download(ref, target, stop)).hasMessageStartingWith("stopped at");
    assertThat(target).doesNotExist();
    try (var left = Files.list(work)) {
      assertThat(left.map(p -> p.getFileName().toString())).hasSize(2)
          .allMatch(n -> n.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= 236);
    }

    long[] first = {-1};
    long n = fhirbox.client().download(ref, target, (done, total) -> {
      if (first[0] < 0) {
        first[0] = done;
      }
    });

    assertThat(n).isEqualTo(data.length);
    assertThat(first[0]).isGreaterThanOrEqualTo(100_000);
    assertThat(Files.readAllBytes(target)).isEqualTo(data);
    try (var left = Files.list(work)) {
      assertThat(left).containsExactly(target);
    }
  }

  @Test
  void aTargetCreatedDuringTheDownloadIsNotReplacedWhenReplacingIsNotAllowed() throws Exception {
    Path target = work.resolve("picked.bin");
    AtomicBoolean created = new AtomicBoolean();
    ProgressListener meanwhile = (done, total) -> {
      if (done > 0 && created.compareAndSet(false, true)) {
        try {
          Files.writeString(target, "someone else's");
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
    };

    assertThatThrownBy(() -> fhirbox.client().downloadNew(ref, target, meanwhile))
        .isInstanceOf(FhirboxException.class)
        .hasMessageContaining("already exists")
        .hasCauseInstanceOf(FileAlreadyExistsException.class);

    assertThat(created).isTrue();
    assertThat(Files.readString(target)).isEqualTo("someone else's");
    assertThat(work.resolve("picked.bin.part")).doesNotExist();
    assertThat(work.resolve("picked.bin.part.validator")).doesNotExist();
  }

  @Test
  void aTargetThatIsADirectoryIsRefusedBeforeAnythingIsFetchedOrWritten() throws Exception {
    Path folder = Files.createDirectory(work.resolve("scans"));

    assertThatThrownBy(() -> fhirbox.client().download(ref, folder))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is a directory");

    assertThat(Files.isDirectory(folder)).isTrue();
    try (var left = Files.list(work)) {
      assertThat(left).containsExactly(folder);
    }
  }

  @Test
  void aTargetThatIsAPipeIsWrittenIntoAndStaysAPipe() throws Exception {
    // as /dev/null or /dev/stdout would be: a part moved onto it would put a regular file in its place
    Path fifo = work.resolve("fifo");
    assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
    CompletableFuture<byte[]> read = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      try (InputStream in = Files.newInputStream(fifo)) {
        read.complete(in.readAllBytes());
      } catch (IOException | RuntimeException e) {
        read.completeExceptionally(e);
      }
    });
    reader.setDaemon(true); // opening a pipe for reading waits for a writer, which a replaced pipe never gets
    reader.start();

    assertThat(fhirbox.client().download(ref, fifo)).isEqualTo(data.length);

    assertThat(read.get(30, TimeUnit.SECONDS)).isEqualTo(data);
    assertThat(Files.isRegularFile(fifo, LinkOption.NOFOLLOW_LINKS)).as("still a pipe").isFalse();
    try (var left = Files.list(work)) {
      assertThat(left).containsExactly(fifo);
    }
  }

  @Test
  void aDownloadToAFileOnAnInterruptedThreadSaysItWasInterruptedAndKeepsTheInterrupt() {
    Path target = work.resolve("scan.bin");
    Thread.currentThread().interrupt();
    Throwable failure;
    boolean kept;
    try {
      failure = org.assertj.core.api.Assertions.catchThrowable(() -> fhirbox.client().download(ref, target));
    } finally {
      kept = Thread.interrupted();
    }

    assertThat(failure).isInstanceOf(FhirboxException.class).hasMessageContaining("interrupted")
        .hasMessageNotContaining("cannot write");
    assertThat(kept).as("the interrupt is kept for the caller").isTrue();
    assertThat(target).doesNotExist();
  }

  @Test
  void anExistingTargetFailsADownloadThatNeverReplacesBeforeAnythingIsFetched() throws Exception {
    Path target = Files.writeString(work.resolve("taken.bin"), "someone else's");
    AtomicBoolean fetched = new AtomicBoolean();

    assertThatThrownBy(() -> fhirbox.client().downloadNew(ref, target, (done, total) -> fetched.set(true)))
        .isInstanceOf(FhirboxException.class)
        .hasMessageContaining("already exists")
        .hasCauseInstanceOf(FileAlreadyExistsException.class);

    assertThat(fetched).as("no byte of the content was fetched").isFalse();
    assertThat(Files.readString(target)).isEqualTo("someone else's");
    assertThat(work.resolve("taken.bin.part")).doesNotExist();
  }

  @Test
  void aNewTargetIsWrittenWhenReplacingIsNotAllowed() throws Exception {
    Path target = work.resolve("new.bin");
    assertThat(fhirbox.client().downloadNew(ref, target, ProgressListener.NONE)).isEqualTo(data.length);
    assertThat(Files.readAllBytes(target)).isEqualTo(data);
    assertThat(work.resolve("new.bin.part")).doesNotExist();
  }

  @Test
  void aPartLockedByAnotherDownloadFailsAtOnceAndIsLeftAsItIs() throws Exception {
    Path target = work.resolve("busy.bin");
    Path part = Files.writeString(work.resolve("busy.bin.part"), "in progress");
    try (FileChannel other = FileChannel.open(part, StandardOpenOption.WRITE); FileLock held = other.lock()) {
      assertThatThrownBy(() -> fhirbox.client().download(ref, target))
          .isInstanceOf(FhirboxException.class)
          .hasMessageContaining("locked by another download");
    }
    assertThat(Files.readString(part)).isEqualTo("in progress");
    assertThat(target).doesNotExist();
  }

  @Test
  void aRedirectFromAUrlSentWithoutCredentialsIntoTheFhirBaseIsFollowedWithoutThem() throws Exception {
    // an Attachment.url someone else wrote, on another host, that sends the reader to the FHIR API
    try (PeerServer other = PeerServer.started()) {
      other.on("/photo.jpg", ex -> {
        ex.getResponseHeaders().set("Location", fhirbox.client().fhirBase() + ref);
        ex.sendResponseHeaders(302, -1);
      });
      Path target = work.resolve("photo.jpg");

      assertThatThrownBy(() -> fhirbox.client().download(other.root() + "photo.jpg", target))
          .isInstanceOfSatisfying(FhirboxException.class, e -> assertThat(e.status()).isEqualTo(401));
      assertThat(other.seen("/photo.jpg")).singleElement().satisfies(s -> assertThat(s.authorization()).isNull());
      assertThat(target).doesNotExist();
    }
  }
}
