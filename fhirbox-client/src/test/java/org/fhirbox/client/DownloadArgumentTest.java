package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** What download takes: a Binary's reference or URL, or a URL outside the FHIR base; nothing else. */
class DownloadArgumentTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();
  @TempDir
  Path work;
  static byte[] data = BinaryTransferTest.randomBytes(10_000);
  static String binaryId;
  static String patientId;

  @BeforeAll
  static void createBinaryAndPatient() {
    binaryId = fhirbox.client().createBinary(Upload.of(data, "application/octet-stream")).getIdElement().getIdPart();
    patientId = fhirbox.client().createResource(new Patient()).getIdElement().getIdPart();
  }

  @Test
  void aReferenceOrFhirUrlThatIsNoBinaryIsRefusedBeforeAnyRequest() {
    Path target = work.resolve("out");
    for (String source : new String[] {"Patient/" + patientId, fhirbox.client().fhirBase() + "Patient/" + patientId,
        "Binary/" + binaryId + "/../../Patient/" + patientId}) {
      assertThatThrownBy(() -> fhirbox.client().download(source, target)).as(source)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("not a Binary reference or URL: '" + source + "'");
      assertThat(work).isEmptyDirectory();
    }
    assertThatThrownBy(() -> fhirbox.client().download("Patient/" + patientId, new ByteArrayOutputStream()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aBinarysReferenceAndUrlsStillDownload() throws Exception {
    String base = fhirbox.client().fhirBase();
    String fhirBase = base.endsWith("/") ? base : base + "/";
    for (String source : new String[] {"Binary/" + binaryId, fhirBase + "Binary/" + binaryId,
        fhirbox.client().presignedUrl("Binary/" + binaryId, false)}) {
      Path target = work.resolve("b" + Math.abs(source.hashCode()));
      assertThat(fhirbox.client().download(source, target)).as(source).isEqualTo(data.length);
      assertThat(Files.readAllBytes(target)).isEqualTo(data);
    }
  }

  @Test
  void aTargetInADirectoryThatIsNotThereSaysSo() throws Exception {
    Path target = work.resolve("missing").resolve("x.bin");
    assertThatThrownBy(() -> fhirbox.client().download("Binary/" + binaryId, target))
        .isInstanceOf(FhirboxException.class).hasMessage("cannot write " + target + ": no such directory");

    Path file = Files.writeString(work.resolve("plain.txt"), "x");
    Path under = file.resolve("x.bin");
    assertThatThrownBy(() -> fhirbox.client().download("Binary/" + binaryId, under))
        .isInstanceOf(FhirboxException.class).hasMessage("cannot write " + under + ": not a directory");
  }

  @Test
  void aNullStreamIsNamedBeforeAnythingIsFetched() {
    ProgressListener fetching = (done, total) -> {
      throw new AssertionError("fetched " + done + " bytes for a null stream");
    };
    assertThatThrownBy(() -> fhirbox.client().download("Binary/" + binaryId, (java.io.OutputStream) null, fetching))
        .isInstanceOf(NullPointerException.class).hasMessage("out");
  }

  @Test
  void aNullSourceIsNamed() {
    assertThatThrownBy(() -> fhirbox.client().download(null, work.resolve("x")))
        .isInstanceOf(NullPointerException.class).hasMessage("urlOrReference");
  }
}
