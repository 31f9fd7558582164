package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What download takes: a Binary's reference or URL, or a URL outside the FHIR base; nothing else. */
class DownloadArgumentTest {
  @TempDir
  static Path dataDir;
  @TempDir
  Path work;
  static TestServer server;
  static FhirboxClient client;
  static byte[] data = BinaryTransferTest.randomBytes(10_000);
  static String binaryId;
  static String patientId;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(dataDir);
    client = server.client();
    binaryId = client.createBinary(Upload.of(data, "application/octet-stream")).getIdElement().getIdPart();
    patientId = client.createResource(new Patient()).getIdElement().getIdPart();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void aReferenceOrFhirUrlThatIsNoBinaryIsRefusedBeforeAnyRequest() {
    Path target = work.resolve("out");
    for (String source : new String[] {"Patient/" + patientId, client.fhirBase() + "Patient/" + patientId,
        "Binary/" + binaryId + "/../../Patient/" + patientId}) {
      assertThatThrownBy(() -> client.download(source, target)).as(source)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("not a Binary reference or URL: '" + source + "'");
      assertThat(work).isEmptyDirectory();
    }
    assertThatThrownBy(() -> client.download("Patient/" + patientId, new ByteArrayOutputStream()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aBinarysReferenceAndUrlsStillDownload() throws Exception {
    String fhirBase = client.fhirBase().endsWith("/") ? client.fhirBase() : client.fhirBase() + "/";
    for (String source : new String[] {"Binary/" + binaryId, fhirBase + "Binary/" + binaryId,
        client.presignedUrl("Binary/" + binaryId, false)}) {
      Path target = work.resolve("b" + Math.abs(source.hashCode()));
      assertThat(client.download(source, target)).as(source).isEqualTo(data.length);
      assertThat(Files.readAllBytes(target)).isEqualTo(data);
    }
  }

  @Test
  void aTargetInADirectoryThatIsNotThereSaysSo() throws Exception {
    Path target = work.resolve("missing").resolve("x.bin");
    assertThatThrownBy(() -> client.download("Binary/" + binaryId, target))
        .isInstanceOf(FhirboxException.class).hasMessage("cannot write " + target + ": no such directory");

    Path file = Files.writeString(work.resolve("plain.txt"), "x");
    Path under = file.resolve("x.bin");
    assertThatThrownBy(() -> client.download("Binary/" + binaryId, under))
        .isInstanceOf(FhirboxException.class).hasMessage("cannot write " + under + ": not a directory");
  }

  @Test
  void aNullSourceIsNamed() {
    assertThatThrownBy(() -> client.download(null, work.resolve("x")))
        .isInstanceOf(NullPointerException.class).hasMessage("urlOrReference");
  }
}
