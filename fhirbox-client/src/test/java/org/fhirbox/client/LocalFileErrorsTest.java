package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.fhirbox.testing.UnreadableFiles;
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
    Path file = UnreadableFiles.make(work);
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
