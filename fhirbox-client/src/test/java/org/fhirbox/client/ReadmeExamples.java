package org.fhirbox.client;

import java.nio.file.Path;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Patient;

/**
 * The Java SDK snippets of the README (section "Java SDK"), compiled with the build so they cannot rot;
 * {@link ReadmeExamplesTest} runs them against a real server. Keep the two in step.
 */
final class ReadmeExamples {
  private ReadmeExamples() {
  }

  // README: build a client
  static FhirboxClient buildClient(String clientId, String clientSecret) {
    FhirboxClient client = FhirboxClient.builder()
        .baseUrl("http://localhost:8103/")
        .clientCredentials(clientId, clientSecret)
        .build();
    return client;
  }

  // README: upload a file as an Attachment
  static Attachment uploadPhoto(FhirboxClient client, Path photo) {
    Attachment attachment = client.createAttachment(photo, "photo.jpg", "image/jpeg");
    // attachment.getUrl() is a signed URL (or Binary/{id}); size, hash and title are filled in
    return attachment;
  }

  // README: upload through a presigned URL
  static Binary uploadDirect(FhirboxClient client, Path scan) {
    Binary binary = client.uploadViaUrl(Upload.of(scan, "application/pdf").withSecurityContext("Patient/123"));
    return binary;
  }

  // README: a resumable upload
  static Binary uploadResumably(FhirboxClient client, Path video) {
    FhirboxClient resuming = client.newBuilder()
        .resumableUploads(ResumableUploads.DEFAULT.withThreshold(0)
            .withStateDirectory(Path.of(System.getProperty("user.home"), ".cache", "fhirbox", "uploads")))
        .build();
    Binary binary = resuming.createBinary(Upload.of(video, "video/mp4")
        .withProgress((done, total) -> System.err.printf("\r%d / %d bytes", done, total)));
    return binary;
  }

  // README: create a Patient with a photo
  static Patient createPatientWithPhoto(FhirboxClient client, Path photo) {
    Attachment attachment = client.createAttachment(photo, "photo.jpg", "image/jpeg");
    Patient patient = client.createResource(new Patient()
        .addName(new HumanName().setFamily("Chalmers").addGiven("Peter"))
        .addPhoto(attachment));
    return patient;
  }

  // README: download the photo again
  static long downloadPhoto(FhirboxClient client, String patientId, Path target) {
    Patient patient = client.readResource(Patient.class, patientId);
    String url = patient.getPhotoFirstRep().getUrl();
    long bytes = client.download(url, target,
        (done, total) -> System.err.printf("\r%d / %d bytes", done, total));
    return bytes;
  }

  // README: conditional writes and patches, as Medplum's client has them
  static Patient upsertAndPatch(FhirboxClient client, Patient patient) {
    Patient p = client.upsertResource(patient, "identifier=urn:mrn|123");
    Patient same = client.createResourceIfNoneExist(patient, "identifier=urn:mrn|123");
    p = client.patchResource(Patient.class, same.getIdElement().getIdPart(),
        "[{\"op\":\"replace\",\"path\":\"/active\",\"value\":false}]");
    return p;
  }
}
