package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.Media;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class BinaryTransferTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();
  @TempDir
  Path work;

  static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return b;
  }

  static byte[] sha256(byte[] data) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(data);
  }

  private byte[] downloadBytes(String ref) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    fhirbox.client().download(ref, out);
    return out.toByteArray();
  }

  /** Records progress calls and checks they only grow. */
  static final class Recorder implements ProgressListener {
    final List<long[]> calls = new ArrayList<>();

    @Override
    public synchronized void onProgress(long done, long total) {
      calls.add(new long[] {done, total});
    }

    synchronized void assertMonotonicEndingAt(long total) {
      assertThat(calls).isNotEmpty();
      for (int i = 1; i < calls.size(); i++) {
        assertThat(calls.get(i)[0]).isGreaterThanOrEqualTo(calls.get(i - 1)[0]);
      }
      long[] last = calls.get(calls.size() - 1);
      assertThat(last[0]).isEqualTo(total);
      assertThat(last[1]).isEqualTo(total);
    }
  }

  @Test
  void bytesUploadAndDownloadUnchanged() throws Exception {
    byte[] data = randomBytes(200_000);
    Binary b = fhirbox.client().createBinary(data, "blob.bin", "application/octet-stream");
    assertThat(b.getIdElement().getIdPart()).isNotBlank();
    assertThat(b.getContentType()).isEqualTo("application/octet-stream");

    assertThat(sha256(downloadBytes("Binary/" + b.getIdElement().getIdPart()))).isEqualTo(sha256(data));
  }

  @Test
  void fileUploadStreamsWithProgressAndDownloadsToFile() throws Exception {
    byte[] data = randomBytes(3_000_000);
    Path source = Files.write(work.resolve("scan.pdf"), data);
    Recorder up = new Recorder();
    Binary b = fhirbox.client().createBinary(Upload.of(source, "application/pdf").withProgress(up));
    up.assertMonotonicEndingAt(data.length);

    Recorder down = new Recorder();
    Path target = work.resolve("out/scan-copy.pdf");
    Files.createDirectories(target.getParent());
    long n = fhirbox.client().download(fhirbox.client().fhirBase() + "Binary/" + b.getIdElement().getIdPart(), target, down);
    assertThat(n).isEqualTo(data.length);
    assertThat(sha256(Files.readAllBytes(target))).isEqualTo(sha256(data));
    down.assertMonotonicEndingAt(data.length);
    assertThat(Files.list(target.getParent())).containsExactly(target);
  }

  @Test
  void streamOfUnknownLengthIsSentChunked() throws Exception {
    byte[] data = randomBytes(1_500_000);
    Recorder up = new Recorder();
    InputStream in = new ByteArrayInputStream(data);
    Binary b = fhirbox.client().createBinary(Upload.of(in, -1, "video/mp4").withFilename("clip.mp4").withProgress(up));
    up.assertMonotonicEndingAt(data.length);
    assertThat(up.calls.get(0)[1]).isEqualTo(-1);
    assertThat(sha256(downloadBytes("Binary/" + b.getIdElement().getIdPart()))).isEqualTo(sha256(data));
  }

  @Test
  void streamOfKnownLengthUploads() throws Exception {
    byte[] data = randomBytes(70_000);
    Binary b = fhirbox.client().createBinary(new ByteArrayInputStream(data), data.length, "x.png", "image/png");
    assertThat(b.getContentType()).isEqualTo("image/png");
    String versioned = "Binary/" + b.getIdElement().getIdPart() + "/_history/" + b.getMeta().getVersionId();
    assertThat(sha256(downloadBytes(versioned))).isEqualTo(sha256(data));
  }

  /** JSON and XML files are content like any other (R4 binary.html#rest), FHIR-typed ones too. */
  @Test
  void jsonAndXmlFilesUploadAsTheyAre() throws Exception {
    byte[] json = "{\"resourceType\":\"Bundle\",\"type\":\"document\"}".getBytes(StandardCharsets.UTF_8);
    Binary b = fhirbox.client().createBinary(json, "doc.json", "application/json");
    assertThat(b.getContentType()).isEqualTo("application/json");
    assertThat(downloadBytes("Binary/" + b.getIdElement().getIdPart())).isEqualTo(json);
    byte[] cda = "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"/>".getBytes(StandardCharsets.UTF_8);
    Attachment a = fhirbox.client().createAttachment(cda, "cda.xml", "text/xml");
    assertThat(a.getContentType()).isEqualTo("text/xml");
    assertThat(downloadBytes(a.getUrl())).isEqualTo(cda);
    Attachment fhir = fhirbox.client().createAttachment(json, "bundle.json", "application/fhir+json");
    assertThat(downloadBytes(fhir.getUrl())).isEqualTo(json);
  }

  @Test
  void attachmentCarriesSizeHashTypeTitleAndUrl() throws Exception {
    byte[] data = randomBytes(12_345);
    Attachment a = fhirbox.client().createAttachment(data, "photo.jpg", "image/jpeg");
    assertThat(a.getContentType()).isEqualTo("image/jpeg");
    assertThat(a.getTitle()).isEqualTo("photo.jpg");
    assertThat(a.getSize()).isEqualTo(data.length);
    assertThat(a.getHash()).isEqualTo(MessageDigest.getInstance("SHA-1").digest(data));
    assertThat(FhirboxClient.binaryId(a.getUrl())).isPresent();
    assertThat(sha256(downloadBytes(a.getUrl()))).isEqualTo(sha256(data));
  }

  @Test
  void aFileUploadedWithoutAFilenameKeepsTheFilesOwnName() throws Exception {
    Path scan = Files.write(work.resolve("knee-scan.pdf"), randomBytes(2_000));

    Attachment a = fhirbox.client().createAttachment(scan, null, "application/pdf");
    Binary b = fhirbox.client().createBinary(scan, null, "application/pdf");

    assertThat(a.getTitle()).isEqualTo("knee-scan.pdf");
    assertThat(fhirbox.client().contentFilename("Binary/" + b.getIdElement().getIdPart())).contains("knee-scan.pdf");
  }

  @Test
  void attachmentFromFileUsesTheFileContent() throws Exception {
    byte[] data = randomBytes(50_000);
    Path file = Files.write(work.resolve("report.pdf"), data);
    Attachment a = fhirbox.client().createAttachment(file, "report.pdf", "application/pdf");
    assertThat(a.getSize()).isEqualTo(data.length);
    assertThat(a.getHash()).isEqualTo(MessageDigest.getInstance("SHA-1").digest(data));

    Patient p = fhirbox.client().createResource(new Patient().addPhoto(a));
    String url = fhirbox.client().readResource(Patient.class, p.getIdElement().getIdPart()).getPhotoFirstRep().getUrl();
    assertThat(FhirboxClient.binaryId(url)).isEqualTo(FhirboxClient.binaryId(a.getUrl()));
  }

  @Test
  void mediaPointsAtItsUploadWhichNamesItAsSecurityContext() throws Exception {
    byte[] data = randomBytes(40_000);
    Patient patient = fhirbox.client().createResource(new Patient());
    Media media = fhirbox.client().createMedia(new Media().setSubject(new Reference(patient)), data, "wound.jpg", "image/jpeg");

    String mediaId = media.getIdElement().getIdPart();
    Media stored = fhirbox.client().readResource(Media.class, mediaId);
    assertThat(stored.getStatus()).isEqualTo(Media.MediaStatus.COMPLETED);
    assertThat(stored.getContent().getContentType()).isEqualTo("image/jpeg");
    assertThat(stored.getContent().getTitle()).isEqualTo("wound.jpg");
    String binaryId = FhirboxClient.binaryId(stored.getContent().getUrl()).orElseThrow();
    Binary binary = fhirbox.client().readResource(Binary.class, binaryId);
    assertThat(binary.getSecurityContext().getReference()).isEqualTo("Media/" + mediaId);
    assertThat(sha256(downloadBytes(stored.getContent().getUrl()))).isEqualTo(sha256(data));
  }

  @Test
  void aBlankSecurityContextIsRefusedRatherThanUploadingWithoutOne() {
    // an unset variable would otherwise leave the Binary unguarded, where its absence was not meant
    for (String blank : new String[] {"", "  "}) {
      assertThatThrownBy(() -> Upload.of(new byte[] {1}, "text/plain").withSecurityContext(blank)).as("'" + blank + "'")
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("securityContext is blank");
    }
    Binary none = fhirbox.client().createBinary(Upload.of(new byte[] {1}, "text/plain").withSecurityContext(null));
    assertThat(none.hasSecurityContext()).as("null: no securityContext").isFalse();
  }

  @Test
  void documentReferenceLinksItsFirstContent() throws Exception {
    byte[] data = randomBytes(9_000);
    DocumentReference doc = fhirbox.client().createDocumentReference(new DocumentReference(),
        Upload.of(data, "application/pdf").withFilename("discharge.pdf"));
    Attachment a = fhirbox.client().readResource(DocumentReference.class, doc.getIdElement().getIdPart())
        .getContentFirstRep().getAttachment();
    String binaryId = FhirboxClient.binaryId(a.getUrl()).orElseThrow();
    assertThat(fhirbox.client().readResource(Binary.class, binaryId).getSecurityContext().getReference())
        .isEqualTo("DocumentReference/" + doc.getIdElement().getIdPart());
    assertThat(a.getSize()).isEqualTo(data.length);
    assertThat(sha256(downloadBytes(a.getUrl()))).isEqualTo(sha256(data));
  }

  @Test
  void aMediaWhoseUploadIsRefusedIsDeletedAndTheRefusalThrown() {
    Patient patient = fhirbox.client().createResource(new Patient());
    String subject = "Patient/" + patient.getIdElement().getIdPart();
    // an extension the server's deny list refuses (400) once the Media exists
    Upload refused = Upload.of(randomBytes(1_000), "application/octet-stream").withFilename("tool.exe");

    assertThatThrownBy(() -> fhirbox.client().createMedia(new Media().setSubject(new Reference(subject)), refused))
        .isInstanceOfSatisfying(FhirboxException.class, e -> {
          assertThat(e.status()).isEqualTo(400);
          assertThat(e.operationOutcome()).isNotNull();
        });
    assertThat(fhirbox.client().search(Media.class, "subject=" + subject).toList())
        .as("no Media in preparation is left in the patient's record").isEmpty();
  }

  @Test
  void aDocumentReferenceWhoseUploadIsRefusedIsDeletedAndTheRefusalThrown() {
    Patient patient = fhirbox.client().createResource(new Patient());
    String subject = "Patient/" + patient.getIdElement().getIdPart();
    Upload refused = Upload.of(randomBytes(1_000), "application/octet-stream").withFilename("setup.msi");

    assertThatThrownBy(() -> fhirbox.client().createDocumentReference(
        new DocumentReference().setSubject(new Reference(subject)), refused))
        .isInstanceOfSatisfying(FhirboxException.class, e -> assertThat(e.status()).isEqualTo(400));
    assertThat(fhirbox.client().search(DocumentReference.class, "subject=" + subject).toList()).isEmpty();
  }

  @Test
  void aStreamForAMediaThatCannotBeCreatedIsClosed() {
    AtomicBoolean closed = new AtomicBoolean();
    InputStream in = new ByteArrayInputStream(randomBytes(500)) {
      @Override
      public void close() {
        closed.set(true);
      }
    };
    FhirboxClient anonymous = FhirboxClient.builder().baseUrl(fhirbox.server().baseUrl()).build();

    assertThatThrownBy(() -> anonymous.createMedia(new Media(), Upload.of(in, 500, "image/jpeg")))
        .isInstanceOfSatisfying(FhirboxException.class, e -> assertThat(e.status()).isEqualTo(401));
    assertThat(closed).as("the stream was closed although the Media was refused").isTrue();
  }

  @Test
  void anEmptyFileUploadsEveryWay() throws Exception {
    Path empty = Files.write(work.resolve("empty.txt"), new byte[0]);
    FhirboxClient resuming = fhirbox.client().newBuilder()
        .resumableUploads(ResumableUploads.DEFAULT.withThreshold(0)).build();
    List<Binary> made = new ArrayList<>();

    made.add(fhirbox.client().createBinary(empty, "empty.txt", "text/plain"));
    made.add(fhirbox.client().createBinary(Upload.of(new ByteArrayInputStream(new byte[0]), 0, "text/plain")));
    made.add(fhirbox.client().uploadViaUrl(Upload.of(empty, "text/plain")));
    made.add(resuming.createBinary(Upload.of(empty, "text/plain")));

    for (Binary b : made) {
      assertThat(downloadBytes("Binary/" + b.getIdElement().getIdPart())).isEmpty();
    }
    Attachment a = fhirbox.client().createAttachment(empty, "empty.txt", "text/plain");
    assertThat(a.getSize()).isZero();
  }
}
