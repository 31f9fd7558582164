package org.fhirbox.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.fhirbox.client.FhirboxClient;
import org.fhirbox.client.Upload;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;

/**
 * Saving a resource with an uploaded Attachment after the resource changed during the upload:
 * read again and saved with it, or, when that fails for good, an error that names the Binary.
 */
class AttachmentSaveTest extends ServerFixture {

  private static FhirboxClient client() {
    return FhirboxClient.builder().baseUrl(server.baseUrl())
        .basicAuth(TestServer.ADMIN_ID, TestServer.ADMIN_SECRET).build();
  }

  private static AttachmentPath photo(FhirboxClient client) {
    return AttachmentPath.resolve(client.fhirContext(), "Patient", "photo");
  }

  @Test
  void aResourceChangedDuringTheUploadIsReadAgainAndSavedWithTheAttachment() {
    FhirboxClient client = client();
    String id = client.createResource(new Patient()).getIdElement().getIdPart();
    Patient readBeforeUpload = client.readResource(Patient.class, id);
    Patient changed = client.readResource(Patient.class, id);
    client.updateResource(changed.setActive(true)); // someone else's save while the upload ran
    Attachment a = client.createAttachment(Upload.of(new byte[] {1, 2, 3}, "image/png"));

    Patient saved = (Patient) AttachmentSave.save(client, ResourceRef.parse("Patient/" + id), photo(client),
        readBeforeUpload, a, AttachmentSave.ATTEMPTS);

    assertThat(saved.getActive()).as("the other save is kept").isTrue();
    assertThat(saved.getPhoto()).hasSize(1);
    assertThat(FhirboxClient.binaryId(saved.getPhotoFirstRep().getUrl())).isEqualTo(FhirboxClient.binaryId(a.getUrl()));
    assertThat(saved.getMeta().getVersionId()).isEqualTo("3");
  }

  @Test
  void aSaveThatFailsForGoodNamesTheUploadedBinary() {
    FhirboxClient client = client();
    String id = client.createResource(new Patient()).getIdElement().getIdPart();
    Patient readBeforeUpload = client.readResource(Patient.class, id);
    client.updateResource(client.readResource(Patient.class, id).setActive(true));
    Attachment a = client.createAttachment(Upload.of(new byte[] {4, 5, 6}, "image/png"));
    String binary = "Binary/" + FhirboxClient.binaryId(a.getUrl()).orElseThrow();

    assertThatThrownBy(() -> AttachmentSave.save(client, ResourceRef.parse("Patient/" + id), photo(client),
        readBeforeUpload, a, 1))
        .isInstanceOf(AttachmentSave.NotAttached.class)
        .hasMessageContaining("uploaded " + binary + " but could not save it into Patient/" + id)
        .hasMessageContaining("412");
  }
}
