package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A local file that cannot be read or written is named with the reason, and found before any request. */
class LocalFileErrorsTest {
  @TempDir
  static Path dataDir;
  @TempDir
  Path work;
  static TestServer server;
  static FhirboxClient client;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(dataDir);
    client = server.client();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static String binaryCount() {
    String bundle = client.sendJson("GET", "fhir/R4/Binary?_summary=count", null);
    return bundle.replaceAll("(?s).*\"total\"\\s*:\\s*(\\d+).*", "$1");
  }

  /**
   * A file that exists but cannot be opened for reading: chmod 000 where that binds (not root),
   * else a write-only kernel attribute, which nobody can open for reading; empty when neither is at hand.
   */
  static Optional<Path> unreadableFile(Path dir) throws IOException {
    Path file = Files.writeString(dir.resolve("secret.jpg"), "x");
    if (file.toFile().setReadable(false, false) && !Files.isReadable(file)) {
      return Optional.of(file);
    }
    try (Stream<Path> found = Files.find(Path.of("/sys/devices"), 4,
        (p, a) -> a.isRegularFile() && p.getFileName().toString().equals("rescan"))) {
      return found.filter(p -> {
        try (var in = Files.newInputStream(p)) {
          return false;
        } catch (IOException denied) {
          return true;
        }
      }).findFirst();
    } catch (IOException | SecurityException none) {
      return Optional.empty();
    }
  }

  @Test
  void aDirectoryToUploadFailsBeforeAnyRequestNamingTheReason() throws Exception {
    Path dir = Files.createDirectory(work.resolve("photos"));
    Path states = work.resolve("states");
    FhirboxClient resumable = client.newBuilder()
        .resumableUploads(ResumableUploads.DEFAULT.withThreshold(0).withStateDirectory(states)).build();
    String before = binaryCount();

    assertThatThrownBy(() -> client.createBinary(dir, null, "image/jpeg"))
        .isInstanceOf(FhirboxException.class).hasMessage("cannot read " + dir + ": is a directory");
    assertThatThrownBy(() -> client.uploadViaUrl(Upload.of(dir, "image/jpeg")))
        .isInstanceOf(FhirboxException.class).hasMessage("cannot read " + dir + ": is a directory");
    assertThatThrownBy(() -> resumable.createBinary(Upload.of(dir, "image/jpeg")))
        .isInstanceOf(FhirboxException.class).hasMessage("cannot read " + dir + ": is a directory");

    Path missing = work.resolve("gone.jpg");
    assertThatThrownBy(() -> client.createBinary(missing, null, "image/jpeg"))
        .isInstanceOf(FhirboxException.class).hasMessage("cannot read " + missing + ": no such file");

    assertThat(binaryCount()).isEqualTo(before);
    assertThat(states).doesNotExist();
  }

  @Test
  void aFileThatCannotBeReadFailsBeforeAnyRequestSayingPermissionDenied() throws Exception {
    Optional<Path> unreadable = unreadableFile(work);
    assumeTrue(unreadable.isPresent(), "no unreadable file can be made here");
    Path file = unreadable.get();
    Path states = work.resolve("states");
    FhirboxClient resumable = client.newBuilder()
        .resumableUploads(ResumableUploads.DEFAULT.withThreshold(0).withStateDirectory(states)).build();
    String before = binaryCount();

    assertThatThrownBy(() -> client.createBinary(file, null, "image/jpeg"))
        .isInstanceOf(FhirboxException.class).hasMessage("cannot read " + file + ": permission denied");
    assertThatThrownBy(() -> resumable.createBinary(Upload.of(file, "image/jpeg")))
        .isInstanceOf(FhirboxException.class).hasMessage("cannot read " + file + ": permission denied");

    assertThat(binaryCount()).isEqualTo(before);
    assertThat(states).doesNotExist();
  }
}
