package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class ReadmeExamplesTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();
  @TempDir
  Path work;

  @Test
  void readmeSnippetsWorkAgainstTheServer() throws Exception {
    FhirboxClient client = fhirbox.client();
    byte[] jpeg = BinaryTransferTest.randomBytes(30_000);
    Path photo = Files.write(work.resolve("photo.jpg"), jpeg);

    Attachment a = ReadmeExamples.uploadPhoto(client, photo);
    assertThat(a.getSize()).isEqualTo(jpeg.length);

    Patient p = ReadmeExamples.createPatientWithPhoto(client, photo);
    Path copy = work.resolve("copy.jpg");
    long n = ReadmeExamples.downloadPhoto(client, p.getIdElement().getIdPart(), copy);
    assertThat(n).isEqualTo(jpeg.length);
    assertThat(Files.readAllBytes(copy)).isEqualTo(jpeg);

    Patient upserted = ReadmeExamples.upsertAndPatch(client, new Patient().setActive(true).addIdentifier(
        new org.hl7.fhir.r4.model.Identifier().setSystem("urn:mrn").setValue("123")));
    assertThat(upserted.getActive()).isFalse();
    assertThat(upserted.getMeta().getVersionId()).isEqualTo("2");

    FhirboxClient built = ReadmeExamples.buildClient("id", "secret");
    assertThat(built.fhirBase()).isEqualTo("http://localhost:8103/fhir/R4/");
  }
}
