package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.hl7.fhir.r4.model.Binary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * An {@code $upload-url} answer the client cannot act on (a malformed URL, a header the HTTP
 * client may not set) is the server's fault: a FhirboxException, never echoing the URL's signature.
 * One it can act on, whose answer has a body without end, goes on once that answer's status is read.
 */
class UploadUrlAnswerTest {
  @TempDir
  Path work;
  @RegisterExtension
  final PeerServer peer = PeerServer.started();

  private void answer(String url, String headerName) {
    peer.on("/fhir/R4/Binary/$upload-url", ex -> PeerServer.send(ex, 200, "application/fhir+json",
        "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"url\",\"valueUrl\":\"" + url
            + "\"},{\"name\":\"binary\",\"valueReference\":{\"reference\":\"Binary/B1\"}},{\"name\":\"method\","
            + "\"valueCode\":\"PUT\"},{\"name\":\"headers\",\"part\":[{\"name\":\"" + headerName
            + "\",\"valueString\":\"x\"}]}]}"));
  }

  private Path pdf() throws Exception {
    return Files.write(work.resolve("scan.pdf"), BinaryTransferTest.randomBytes(100));
  }

  /** The upload URL's answer has a body that never ends: read up to 64 KiB and closed, not read on for ever. */
  @Test
  void anUploadWhoseAnswerNeverEndsGoesOnOnceItsStatusIsRead() throws Exception {
    answer(peer.root() + "storage/upload/B1?Signature=s1gnature", "Content-Type");
    peer.on("/storage/upload/B1", ex -> PeerServer.sendEndless(ex, 200));
    peer.on("/fhir/R4/Binary/B1", ex -> PeerServer.send(ex, 200, "application/fhir+json",
        "{\"resourceType\":\"Binary\",\"id\":\"B1\",\"contentType\":\"application/pdf\"}"));

    Binary b = assertTimeoutPreemptively(Duration.ofSeconds(20),
        () -> peer.client(1).uploadViaUrl(Upload.of(pdf(), "application/pdf")));

    assertThat(b.getIdElement().getIdPart()).isEqualTo("B1");
    assertThat(peer.seen("/storage/upload/B1")).hasSize(1);
  }

  @Test
  void aMalformedUploadUrlIsTheServersFaultAndItsSignatureIsNotShown() throws Exception {
    answer("http://bad host/upload/B1?Signature=s1gnature", "Content-Type");

    assertThatThrownBy(() -> peer.client(1).uploadViaUrl(Upload.of(pdf(), "application/pdf")))
        .isInstanceOf(FhirboxException.class)
        .hasMessageContaining("upload URL")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("s1gnature"))
        .hasNoCause();
  }

  @Test
  void anUploadUrlThatIsNoHttpUrlIsTheServersFault() throws Exception {
    answer("ftp://elsewhere.example/upload/B1?Signature=s1gnature", "Content-Type");

    assertThatThrownBy(() -> peer.client(1).uploadViaUrl(Upload.of(pdf(), "application/pdf")))
        .isInstanceOf(FhirboxException.class)
        .hasMessageContaining("upload URL")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("s1gnature"));
  }

  @Test
  void aHeaderTheHttpClientMayNotSetIsTheServersFaultAndNamed() throws Exception {
    answer(peer.root() + "storage/upload/B1?Signature=s1gnature", "Host");

    assertThatThrownBy(() -> peer.client(1).uploadViaUrl(Upload.of(pdf(), "application/pdf")))
        .isInstanceOf(FhirboxException.class)
        .hasMessageContaining("Host")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("s1gnature"));
    assertThat(peer.seen("/storage/upload/B1")).as("nothing is sent").isEmpty();
  }
}
