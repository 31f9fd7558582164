package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.fhirbox.testing.UnreadableFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A local file that cannot be read or written is named with the reason, and found before any request. */
class LocalFileErrorsTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();
  @TempDir
  Path work;

  private static String binaryCount() {
    String bundle = fhirbox.client().sendJson("GET", "fhir/R4/Binary?_summary=count", null);
    return bundle.replaceAll("(?s).*\"total\"\\s*:\\s*(\\d+).*", "$1");
  }

  @Test
  void aDirectoryToUploadFailsBeforeAnyRequestNamingTheReason() throws Exception {
    Path dir = Files.createDirectory(work.resolve("photos"));
    Path states = work.resolve("states");
    FhirboxClient resumable = fhirbox.client().newBuilder()
        .resumableUploads(ResumableUploads.DEFAULT.withThreshold(0).withStateDirectory(states)).build();
    String before = binaryCount();

    assertThatThrownBy(() -> fhirbox.client().createBinary(dir, null, "image/jpeg"))
        .isInstanceOf(FhirboxException.class).hasMessage("cannot read " + dir + ": is a directory");
    assertThatThrownBy(() -> fhirbox.client().uploadViaUrl(Upload.of(dir, "image/jpeg")))
        .isInstanceOf(FhirboxException.class).hasMessage("cannot read " + dir + ": is a directory");
    assertThatThrownBy(() -> resumable.createBinary(Upload.of(dir, "image/jpeg")))
        .isInstanceOf(FhirboxException.class).hasMessage("cannot read " + dir + ": is a directory");

    Path missing = work.resolve("gone.jpg");
    assertThatThrownBy(() -> fhirbox.client().createBinary(missing, null, "image/jpeg"))
        .isInstanceOf(FhirboxException.class).hasMessage("cannot read " + missing + ": no such file");

    assertThat(binaryCount()).isEqualTo(before);
    assertThat(states).doesNotExist();
  }

  @Test
  void aFileThatCannotBeReadFailsBeforeAnyRequestSayingPermissionDenied() throws Exception {
    Path file = UnreadableFiles.make(work);
    Path states = work.resolve("states");
    FhirboxClient resumable = fhirbox.client().newBuilder()
        .resumableUploads(ResumableUploads.DEFAULT.withThreshold(0).withStateDirectory(states)).build();
    String before = binaryCount();

    assertThatThrownBy(() -> fhirbox.client().createBinary(file, null, "image/jpeg"))
        .isInstanceOf(FhirboxException.class).hasMessage("cannot read " + file + ": permission denied");
    assertThatThrownBy(() -> resumable.createBinary(Upload.of(file, "image/jpeg")))
        .isInstanceOf(FhirboxException.class).hasMessage("cannot read " + file + ": permission denied");

    assertThat(binaryCount()).isEqualTo(before);
    assertThat(states).doesNotExist();
  }

  @Test
  void aNullUploadIsNamedOnEveryUploadMethod() {
    FhirboxClient client = fhirbox.client();
    assertThatThrownBy(() -> client.createBinary(null)).isInstanceOf(NullPointerException.class).hasMessage("upload");
    assertThatThrownBy(() -> client.uploadResumably(null)).isInstanceOf(NullPointerException.class).hasMessage("upload");
    assertThatThrownBy(() -> client.uploadViaUrl(null)).isInstanceOf(NullPointerException.class).hasMessage("upload");
    assertThatThrownBy(() -> client.createAttachment((Upload) null)).isInstanceOf(NullPointerException.class)
        .hasMessage("upload");
  }
}
