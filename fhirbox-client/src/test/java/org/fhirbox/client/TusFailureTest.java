package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.hl7.fhir.r4.model.Binary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Resumable uploads against a tus peer: which failures are waited for and which end the upload. */
class TusFailureTest {
  private static final RetryPolicy QUICK = new RetryPolicy(10, Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofSeconds(1));

  @TempDir
  Path work;
  @RegisterExtension
  final PeerServer peer = PeerServer.started();
  private final AtomicLong offset = new AtomicLong();
  private final AtomicInteger heads = new AtomicInteger();
  /** What the last piece's answer names the Binary by, relative to the peer's root. */
  private String contentLocation = "fhir/R4/Binary/B1/_history/1";

  private FhirboxClient client(RetryPolicy tusRetries, Path stateDirectory) {
    return FhirboxClient.builder().baseUrl(peer.root()).basicAuth("test-admin", "s3cret")
        .retryPolicy(new RetryPolicy(1, Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofSeconds(1)))
        .resumableUploads(ResumableUploads.DEFAULT.withThreshold(0).withChunkSize(1000).withRetries(tusRetries)
            .withStateDirectory(stateDirectory))
        .build();
  }

  private static void answer(HttpExchange ex, int status, long uploadOffset) throws IOException {
    ex.getResponseHeaders().set("Tus-Resumable", "1.0.0");
    ex.getResponseHeaders().set("Upload-Offset", Long.toString(uploadOffset));
    ex.sendResponseHeaders(status, -1);
  }

  /**
   * A tus server for a 3000-byte file: PATCHes go through {@code onPatch} first (which may answer
   * itself and return false), HEADs through {@code onHead}; the last piece names Binary/B1.
   */
  private void serveTus(Path file, ExchangeTest onPatch, ExchangeTest onHead) {
    peer.on("/fhir/R4/Binary/$upload", ex -> {
      switch (ex.getRequestMethod()) {
        case "POST" -> {
          ex.getResponseHeaders().set("Location", peer.root() + "fhir/R4/Binary/$upload/u1");
          answer(ex, 201, 0);
        }
        case "HEAD" -> {
          heads.incrementAndGet();
          if (onHead.proceed(ex)) {
            answer(ex, 200, offset.get());
          }
        }
        case "PATCH" -> {
          if (onPatch.proceed(ex)) {
            long now = offset.addAndGet(peer.seen.get(peer.seen.size() - 1).body().length());
            if (now >= 3000) {
              ex.getResponseHeaders().set("Content-Location", peer.root() + contentLocation);
            }
            answer(ex, 204, now);
          }
        }
        default -> answer(ex, 405, 0);
      }
    });
    peer.on("/fhir/R4/Binary/B1", ex -> PeerServer.send(ex, 200, "application/fhir+json",
        "{\"resourceType\":\"Binary\",\"id\":\"B1\",\"contentType\":\"application/octet-stream\"}"));
  }

  /** Looks at a request; false when it answered it itself. */
  interface ExchangeTest {
    boolean proceed(HttpExchange ex) throws IOException;
  }

  private Path file() throws IOException {
    // ASCII, so that the body the peer records as a string has as many chars as bytes
    return Files.writeString(work.resolve("big.bin"), "x".repeat(3000));
  }

  /** A creation answered with a body that never ends: read up to 64 KiB and closed, not read on for ever. */
  @Test
  void aCreationWhoseAnswerNeverEndsGoesOnToThePieces() throws Exception {
    peer.on("/fhir/R4/Binary/B1", ex -> PeerServer.send(ex, 200, "application/fhir+json",
        "{\"resourceType\":\"Binary\",\"id\":\"B1\",\"contentType\":\"application/octet-stream\"}"));
    peer.on("/fhir/R4/Binary/$upload", ex -> {
      if (!ex.getRequestMethod().equals("POST")) {
        ex.getResponseHeaders().set("Content-Location", peer.root() + contentLocation);
        answer(ex, 204, 10);
        return;
      }
      ex.getResponseHeaders().set("Location", peer.root() + "fhir/R4/Binary/$upload/u1");
      ex.getResponseHeaders().set("Tus-Resumable", "1.0.0");
      ex.getResponseHeaders().set("Upload-Offset", "0");
      PeerServer.sendEndless(ex, 201);
    });
    Path small = Files.writeString(work.resolve("small.bin"), "x".repeat(10));

    Binary b = assertTimeoutPreemptively(Duration.ofSeconds(20),
        () -> client(QUICK, null).uploadResumably(Upload.of(small, "application/octet-stream")));

    assertThat(b.getIdElement().getIdPart()).isEqualTo("B1");
    assertThat(peer.seen("/fhir/R4/Binary/$upload/u1")).extracting(PeerServer.Seen::method).containsExactly("PATCH");
  }

  @Test
  void aContentLocationWithAQueryStillNamesTheBinaryAndVersion() throws Exception {
    contentLocation = "fhir/R4/Binary/B1/_history/1?_format=json";
    serveTus(file(), ex -> true, ex -> true);

    Binary b = client(QUICK, null).uploadResumably(Upload.of(file(), "application/octet-stream"));

    assertThat(b.getIdElement().getIdPart()).isEqualTo("B1");
    assertThat(peer.seen("/fhir/R4/Binary/B1/_history/1")).as("the version named is read").hasSize(1);
  }

  @Test
  void aMalformedContentLocationAfterTheLastPieceIsTheServersFaultAndNamesTheBinaryWhenItCan() throws Exception {
    contentLocation = "fhir/R4/Binary/B1/_history/not%20a%20version";
    serveTus(file(), ex -> true, ex -> true);

    Binary b = client(QUICK, null).uploadResumably(Upload.of(file(), "application/octet-stream"));

    assertThat(b.getIdElement().getIdPart()).as("the Binary exists: its current version is read").isEqualTo("B1");
    assertThat(peer.seen("/fhir/R4/Binary/B1")).hasSize(1);
  }

  @Test
  void aContentLocationNamingNoValidBinaryIdFailsAsTheServersFault() throws Exception {
    contentLocation = "fhir/R4/Binary/B%201/_history/1";
    serveTus(file(), ex -> true, ex -> true);

    assertThatThrownBy(() -> client(QUICK, null).uploadResumably(Upload.of(file(), "application/octet-stream")))
        .isInstanceOf(FhirboxException.class)
        .hasMessageContaining("every byte")
        .hasMessageContaining("malformed Content-Location");
  }

  @Test
  void anEmptyFileWhoseCreationsAnswerIsLostIsNotCreatedAgain() throws Exception {
    AtomicInteger posts = new AtomicInteger();
    peer.on("/fhir/R4/Binary/$upload", ex -> {
      // an empty upload is complete at once: its creation commits the Binary and names it
      int n = posts.incrementAndGet();
      if (n == 1) {
        throw new IOException("losing the answer on purpose");
      }
      ex.getResponseHeaders().set("Location", peer.root() + "fhir/R4/Binary/$upload/u" + n);
      ex.getResponseHeaders().set("Content-Location", peer.root() + "fhir/R4/Binary/B" + n + "/_history/1");
      answer(ex, 201, 0);
    });
    Path empty = Files.write(work.resolve("empty.bin"), new byte[0]);

    assertThatThrownBy(() -> client(QUICK, work.resolve("states"))
        .uploadResumably(Upload.of(empty, "application/octet-stream")))
        .isInstanceOf(FhirboxException.class)
        .hasMessageContaining("may have made a Binary");

    assertThat(posts).as("the creation, which made a Binary, is not sent again").hasValue(1);
  }

  @Test
  void aFileDeletedMidUploadEndsItAtOnceWithoutAskingTheServer() throws Exception {
    Path file = file();
    serveTus(file, ex -> {
      Files.deleteIfExists(file);
      return true;
    }, ex -> true);

    assertThatThrownBy(() -> client(QUICK, null).createBinary(Upload.of(file, "application/octet-stream")))
        .isInstanceOf(FhirboxException.class)
        .hasMessageContaining("cannot read");

    assertThat(heads).as("a local failure is not waited for").hasValue(0);
  }

  @Test
  void anInterruptedUploadResumedWhileTheServerRestartsWaitsForIt() throws Exception {
    Path file = file();
    Path states = work.resolve("states");
    AtomicInteger patches = new AtomicInteger();
    AtomicInteger unavailable = new AtomicInteger(3);
    serveTus(file, ex -> {
      if (patches.incrementAndGet() == 2) {
        answer(ex, 503, offset.get()); // the first run gives up here, after one piece
        return false;
      }
      return true;
    }, ex -> {
      if (unavailable.getAndDecrement() > 0) {
        answer(ex, 503, 0); // restarting: more 503s than the client's own retries cover
        return false;
      }
      return true;
    });
    assertThatThrownBy(() -> client(RetryPolicy.NONE, states).createBinary(Upload.of(file, "application/octet-stream")))
        .isInstanceOfSatisfying(FhirboxException.class, e -> assertThat(e.status()).isEqualTo(503));
    BinaryTransferTest.Recorder progress = new BinaryTransferTest.Recorder();

    Binary b = client(QUICK, states).createBinary(Upload.of(file, "application/octet-stream").withProgress(progress));

    assertThat(b.getIdElement().getIdPart()).isEqualTo("B1");
    assertThat(heads).hasValue(4);
    assertThat(progress.calls.get(0)[0]).as("goes on from the server's offset").isEqualTo(1000);
  }

  private FhirboxClient clientAs(String clientId, Path stateDirectory) {
    return client(QUICK, stateDirectory).newBuilder().basicAuth(clientId, "s3cret").build();
  }

  /** The first run gives up after one piece (a 503 to the second PATCH); its upload is kept. */
  private void giveUpAfterOnePiece(Path file, Path states) {
    AtomicInteger patches = new AtomicInteger();
    serveTus(file, ex -> {
      if (patches.incrementAndGet() == 2) {
        answer(ex, 503, offset.get());
        return false;
      }
      return true;
    }, ex -> true);
    assertThatThrownBy(() -> client(RetryPolicy.NONE, states).createBinary(Upload.of(file, "application/octet-stream")))
        .isInstanceOf(FhirboxException.class);
  }

  @Test
  void anUploadKeptByOneClientIsNotContinuedByAnother() throws Exception {
    Path file = file();
    Path states = work.resolve("states");
    giveUpAfterOnePiece(file, states);
    offset.set(0); // the server's new upload, which the same URL stands for in this peer

    Binary b = clientAs("another-client", states).createBinary(Upload.of(file, "application/octet-stream"));

    assertThat(b.getIdElement().getIdPart()).isEqualTo("B1");
    assertThat(heads).as("the kept upload was not asked for").hasValue(0);
    assertThat(peer.seen("/fhir/R4/Binary/$upload").stream().filter(s -> s.method().equals("POST")))
        .as("a new upload was created").hasSize(2);
  }

  @Test
  void aKeptUrlOutsideTheFhirBaseIsNotSentTheCredentials() throws Exception {
    Path file = file();
    Path states = work.resolve("states");
    giveUpAfterOnePiece(file, states);
    try (PeerServer elsewhere = PeerServer.started(); Stream<Path> kept = Files.list(states)) {
      elsewhere.on("/", ex -> answer(ex, 404, 0));
      Path state = kept.findFirst().orElseThrow();
      Files.writeString(state, elsewhere.root() + "fhir/R4/Binary/$upload/u1\n");
      offset.set(0);

      Binary b = client(QUICK, states).createBinary(Upload.of(file, "application/octet-stream"));

      assertThat(b.getIdElement().getIdPart()).isEqualTo("B1");
      assertThat(elsewhere.seen).as("nothing went to the URL outside the FHIR base").isEmpty();
    }
  }

  @Test
  void aServerThatAcceptsPiecesWithoutStoringThemEndsTheUpload() throws Exception {
    Path file = file();
    AtomicInteger patches = new AtomicInteger();
    serveTus(file, ex -> {
      patches.incrementAndGet();
      answer(ex, 204, 0); // a success that stored nothing
      return false;
    }, ex -> true);
    RetryPolicy three = new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofSeconds(1));

    assertThatThrownBy(() -> client(three, null).createBinary(Upload.of(file, "application/octet-stream")))
        .isInstanceOf(FhirboxException.class)
        .hasMessageContaining("offset stayed at 0");

    assertThat(patches).as("the first piece and three retries").hasValue(4);
  }

  @Test
  void anOffsetBeyondTheContentFailsAsTheServersFault() throws Exception {
    Path file = file();
    serveTus(file, ex -> {
      answer(ex, 204, 5000); // more than the 3000 bytes there are
      return false;
    }, ex -> true);

    assertThatThrownBy(() -> client(QUICK, null).createBinary(Upload.of(file, "application/octet-stream")))
        .isInstanceOf(FhirboxException.class)
        .hasMessageContaining("Upload-Offset of 5000 for an upload of 3000 bytes");
  }
}
