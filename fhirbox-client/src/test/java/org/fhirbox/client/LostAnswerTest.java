package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Media;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A write whose answer is lost is sent again; when the first attempt was carried out, the repeat
 * conflicts with it (409, 412). The client then checks what is stored instead of failing a write
 * that worked.
 */
class LostAnswerTest {
  @TempDir
  Path work;
  @RegisterExtension
  final PeerServer peer = PeerServer.started();

  private FhirboxClient client() {
    return peer.client(3);
  }

  /** The connection closes before an answer: the handler ran (the body was read), the client never hears. */
  private static IOException loseTheAnswer() {
    return new IOException("losing the answer on purpose");
  }

  private static String outcome(String code, String diagnostics) {
    return "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"" + code
        + "\",\"diagnostics\":\"" + diagnostics + "\"}]}";
  }

  /** fhirbox's own upload URL: the first PUT is stored (its answer as {@code first} says), a second is 409. */
  private AtomicInteger serveUploadUrl(boolean loseFirstAnswer, boolean binaryExists) {
    AtomicInteger puts = new AtomicInteger();
    peer.on("/fhir/R4/Binary/$upload-url", ex -> PeerServer.send(ex, 200, "application/fhir+json",
        "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"url\",\"valueUrl\":\"" + peer.root()
            + "storage/upload/B1?Project=p&Signature=s\"},{\"name\":\"binary\",\"valueReference\":{\"reference\":"
            + "\"Binary/B1\"}},{\"name\":\"method\",\"valueCode\":\"PUT\"},{\"name\":\"headers\",\"part\":["
            + "{\"name\":\"Content-Type\",\"valueString\":\"application/pdf\"}]}]}"));
    peer.on("/storage/upload/B1", ex -> {
      if (puts.incrementAndGet() == 1) {
        if (loseFirstAnswer) {
          throw loseTheAnswer();
        }
      }
      PeerServer.send(ex, 409, "application/fhir+json", outcome("conflict", "Binary/B1 already exists"));
    });
    peer.on("/fhir/R4/Binary/B1", ex -> {
      if (binaryExists) {
        PeerServer.send(ex, 200, "application/fhir+json",
            "{\"resourceType\":\"Binary\",\"id\":\"B1\",\"contentType\":\"application/pdf\"}");
      } else {
        PeerServer.send(ex, 404, "application/fhir+json", outcome("not-found", "Binary/B1 is not known"));
      }
    });
    return puts;
  }

  private Path pdf() throws IOException {
    return Files.write(work.resolve("scan.pdf"), BinaryTransferTest.randomBytes(10_000));
  }

  @Test
  void aDirectUploadWhosePutWasStoredButItsAnswerLostSucceeds() throws Exception {
    AtomicInteger puts = serveUploadUrl(true, true);

    Binary b = client().uploadViaUrl(Upload.of(pdf(), "application/pdf"));

    assertThat(b.getIdElement().getIdPart()).isEqualTo("B1");
    assertThat(puts).hasValue(2);
  }

  @Test
  void aConflictToARepeatedPutWithoutTheBinaryStillFails() throws Exception {
    serveUploadUrl(true, false);

    assertThatThrownBy(() -> client().uploadViaUrl(Upload.of(pdf(), "application/pdf")))
        .isInstanceOfSatisfying(FhirboxException.class, e -> assertThat(e.status()).isEqualTo(409));
  }

  @Test
  void aConflictToTheFirstPutFailsWithoutLookingForTheBinary() throws Exception {
    serveUploadUrl(false, true);

    assertThatThrownBy(() -> client().uploadViaUrl(Upload.of(pdf(), "application/pdf")))
        .isInstanceOfSatisfying(FhirboxException.class, e -> assertThat(e.status()).isEqualTo(409));
    assertThat(peer.seen("/fhir/R4/Binary/B1")).isEmpty();
  }

  /**
   * A single PUT straight to the bucket, signed with {@code If-None-Match: *}: the first is
   * stored, its answer lost, and the bucket answers the repeat 412 (the object exists). The
   * completion, which checks the object, decides; here it creates the Binary.
   */
  @Test
  void aBucketPutWhoseAnswerWasLostAndWhoseRepeatFindsTheObjectGoesOnToTheCompletion() throws Exception {
    peer.on("/fhir/R4/Binary/$upload-url", ex -> PeerServer.send(ex, 200, "application/fhir+json",
        "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"url\",\"valueUrl\":\"" + peer.root()
            + "bucket/key?X-Amz-Signature=s\"},{\"name\":\"binary\",\"valueReference\":{\"reference\":"
            + "\"Binary/B2\"}},{\"name\":\"method\",\"valueCode\":\"PUT\"},{\"name\":\"headers\",\"part\":["
            + "{\"name\":\"Content-Type\",\"valueString\":\"application/pdf\"},"
            + "{\"name\":\"If-None-Match\",\"valueString\":\"*\"}]},"
            + "{\"name\":\"complete\",\"part\":[{\"name\":\"url\",\"valueUrl\":\"" + peer.root()
            + "storage/upload/B2?Blob=k&Signature=s\"}]}]}"));
    AtomicInteger puts = new AtomicInteger();
    peer.on("/bucket/key", ex -> {
      if (puts.incrementAndGet() == 1) {
        throw loseTheAnswer();
      }
      PeerServer.send(ex, 412, "application/xml", "<Error><Code>PreconditionFailed</Code>"
          + "<Message>At least one of the pre-conditions you specified did not hold</Message></Error>");
    });
    peer.on("/storage/upload/B2", ex -> PeerServer.send(ex, 201, "application/fhir+json",
        outcome("informational", "Binary/B2 created")));
    peer.on("/fhir/R4/Binary/B2", ex -> PeerServer.send(ex, 200, "application/fhir+json",
        "{\"resourceType\":\"Binary\",\"id\":\"B2\",\"contentType\":\"application/pdf\"}"));

    Binary b = client().uploadViaUrl(Upload.of(pdf(), "application/pdf"));

    assertThat(b.getIdElement().getIdPart()).isEqualTo("B2");
    assertThat(puts).hasValue(2);
    assertThat(peer.seen("/storage/upload/B2")).hasSize(1);
  }

  /** {@code path} stores the first PUT (its answer lost) and answers 412 to the repeat; a GET returns {@code stored}. */
  private AtomicInteger serveConditionalPut(String path, String stored) {
    AtomicInteger puts = new AtomicInteger();
    peer.on(path, ex -> {
      if (ex.getRequestMethod().equals("GET")) {
        PeerServer.send(ex, 200, "application/fhir+json", stored);
      } else if (puts.incrementAndGet() == 1) {
        throw loseTheAnswer();
      } else {
        PeerServer.send(ex, 412, "application/fhir+json", outcome("conflict", "the resource is at version 2, not 1"));
      }
    });
    return puts;
  }

  private static Patient inactivePatientAtVersion1() {
    Patient p = new Patient();
    p.setId("p1");
    p.getMeta().setVersionId("1");
    p.setActive(false);
    return p;
  }

  /**
   * A raw {@code POST /Binary} whose answer is lost may have stored the Binary: sent again, it
   * would store a second one, so it fails instead, for bytes, files and streams alike.
   */
  @Test
  void aBinaryUploadWhoseAnswerWasLostIsNotSentAgain() throws Exception {
    peer.on("/fhir/R4/Binary", ex -> {
      throw loseTheAnswer();
    });
    Path pdf = pdf();

    assertThatThrownBy(() -> client().createBinary(BinaryTransferTest.randomBytes(1000), "a.pdf", "application/pdf"))
        .isInstanceOfSatisfying(FhirboxException.class, e -> assertThat(e.status()).isZero());
    assertThatThrownBy(() -> client().createAttachment(pdf, "scan.pdf", "application/pdf"))
        .isInstanceOfSatisfying(FhirboxException.class, e -> assertThat(e.status()).isZero());
    assertThatThrownBy(() -> client().createBinary(new java.io.ByteArrayInputStream(new byte[1000]), -1, "b.pdf",
        "application/pdf")).isInstanceOfSatisfying(FhirboxException.class, e -> assertThat(e.status()).isZero());

    assertThat(peer.seen("/fhir/R4/Binary")).as("one POST per upload, none sent again").hasSize(3);
  }

  @Test
  void aConditionalUpdateWhoseAnswerWasLostSucceedsWhenTheServerHoldsWhatWasSent() {
    AtomicInteger puts = serveConditionalPut("/fhir/R4/Patient/p1",
        "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"versionId\":\"2\"},\"active\":false}");

    Patient updated = client().updateResource(inactivePatientAtVersion1());

    assertThat(updated.getMeta().getVersionId()).isEqualTo("2");
    assertThat(puts).hasValue(2);
    assertThat(peer.seen("/fhir/R4/Patient/p1")).filteredOn(r -> r.method().equals("PUT")).hasSize(2);
  }

  @Test
  void aConditionalUpdateStillFailsWhenSomeoneElseChangedTheResource() {
    serveConditionalPut("/fhir/R4/Patient/p1",
        "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"versionId\":\"2\"},\"active\":true}");

    assertThatThrownBy(() -> client().updateResource(inactivePatientAtVersion1()))
        .isInstanceOfSatisfying(FhirboxException.class, e -> assertThat(e.status()).isEqualTo(412));
  }

  @Test
  void aStoredAttachmentMatchesDespiteTheServersUrlFormAndFilledHash() {
    serveConditionalPut("/fhir/R4/Media/m1", "{\"resourceType\":\"Media\",\"id\":\"m1\",\"meta\":{\"versionId\":\"2\"},"
        + "\"status\":\"completed\",\"content\":{\"contentType\":\"image/jpeg\",\"url\":\"" + peer.root()
        + "storage/B1/1?Expires=1700000600&KeyId=k1&Signature=bmV3\",\"size\":3,\"hash\":\"qUqP5cyxm6YcTAhz05Hph5gvu9M=\","
        + "\"title\":\"wound.jpg\"}}");
    Media m = new Media().setStatus(Media.MediaStatus.COMPLETED);
    m.setId("m1");
    m.getMeta().setVersionId("1");
    m.setContent(new Attachment().setContentType("image/jpeg").setTitle("wound.jpg").setSize(3)
        .setUrl(peer.root() + "storage/B1/1?Expires=1700000000&KeyId=k1&Signature=b2xk"));

    Media updated = client().updateResource(m);

    assertThat(updated.getMeta().getVersionId()).isEqualTo("2");
  }
}
