package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client's credentials never leave its FHIR base. A link the server answers (a search's next
 * page, a tus upload's Location) is followed only under it: a network-path reference
 * ({@code //host/path}, RFC 3986 §4.2) names another host although it is no absolute URL. A
 * download redirected to another host (a presigned bucket URL) goes there without them.
 */
class ForeignLinkTest {
  @TempDir
  Path work;
  @RegisterExtension
  final PeerServer peer = PeerServer.started();

  /** The peer under another name than the client's base uses: another origin to the client. */
  private String elsewhere() {
    return "//localhost:" + java.net.URI.create(peer.root()).getPort() + "/elsewhere/";
  }

  @Test
  void aDownloadRedirectedToAnotherHostGoesThereWithoutTheCredentials() throws Exception {
    byte[] data = BinaryTransferTest.randomBytes(10_000);
    peer.on("/fhir/R4/Binary/b1", ex -> {
      ex.getResponseHeaders().set("Location", "http:" + elsewhere() + "bucket/b1?X-Amz-Signature=abc");
      ex.sendResponseHeaders(307, -1);
    });
    peer.on("/elsewhere/bucket/b1", ex -> {
      ex.sendResponseHeaders(200, data.length);
      ex.getResponseBody().write(data);
    });

    long n = peer.client(1).download("Binary/b1", work.resolve("b1.bin"));

    assertThat(n).isEqualTo(data.length);
    assertThat(Files.readAllBytes(work.resolve("b1.bin"))).isEqualTo(data);
    assertThat(peer.seen("/fhir/R4/Binary/b1")).singleElement()
        .satisfies(s -> assertThat(s.authorization()).startsWith("Basic "));
    assertThat(peer.seen("/elsewhere/bucket/b1")).singleElement()
        .satisfies(s -> assertThat(s.authorization()).isNull());
  }

  @Test
  void aNextLinkToAnotherHostIsRefusedWithoutSendingTheCredentials() {
    peer.on("/fhir/R4/Patient", ex -> PeerServer.send(ex, 200, "application/fhir+json",
        "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"link\":[{\"relation\":\"next\",\"url\":\""
            + elsewhere() + "Patient?page=2\"}],\"entry\":[{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p\"},"
            + "\"search\":{\"mode\":\"match\"}}]}"));
    peer.on("/elsewhere/", ex -> PeerServer.send(ex, 200, "application/fhir+json",
        "{\"resourceType\":\"Bundle\",\"type\":\"searchset\"}"));

    assertThatThrownBy(() -> peer.client(1).search(Patient.class, "name=ada").toList())
        .isInstanceOf(FhirboxException.class)
        .hasMessageContaining("outside its FHIR base");
    assertThat(peer.seen).noneMatch(s -> s.path().startsWith("/elsewhere/"));
  }

  @Test
  void aResumableUploadWhoseLocationNamesAnotherHostSendsItNothing() throws Exception {
    peer.on("/fhir/R4/Binary/$upload", ex -> {
      ex.getResponseHeaders().set("Location", elsewhere() + "up/1");
      ex.getResponseHeaders().set("Upload-Offset", "0");
      ex.getResponseHeaders().set("Tus-Resumable", "1.0.0");
      PeerServer.send(ex, 201, "text/plain", "");
    });
    peer.on("/elsewhere/", ex -> PeerServer.send(ex, 204, "text/plain", ""));
    Path file = Files.write(work.resolve("scan.bin"), new byte[100]);

    assertThatThrownBy(() -> peer.client(1).uploadResumably(Upload.of(file, "application/octet-stream")))
        .isInstanceOf(FhirboxException.class)
        .hasMessageContaining("outside its FHIR base");
    assertThat(peer.seen).noneMatch(s -> s.path().startsWith("/elsewhere/"));
  }
}
