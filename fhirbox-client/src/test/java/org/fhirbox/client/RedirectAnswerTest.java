package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The client follows no redirects (credentials must not go along), so a redirect is an error
 * that says where it pointed, never a success: a write answered 3xx stored nothing.
 */
class RedirectAnswerTest {
  @TempDir
  Path work;
  @RegisterExtension
  final PeerServer peer = PeerServer.started();

  private FhirboxClient client() {
    return peer.client(1);
  }

  private static void redirect(HttpExchange ex, int status, String location) throws IOException {
    ex.getResponseHeaders().set("Location", location);
    PeerServer.send(ex, status, "text/html", "");
  }

  @Test
  void aDirectUploadWhosePutIsRedirectedFailsInsteadOfReportingABinary() throws Exception {
    peer.on("/fhir/R4/Binary/$upload-url", ex -> PeerServer.send(ex, 200, "application/fhir+json",
        "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"url\",\"valueUrl\":\"" + peer.root()
            + "storage/upload/B1?Project=p&Signature=s\"},{\"name\":\"binary\",\"valueReference\":{\"reference\":"
            + "\"Binary/B1\"}},{\"name\":\"method\",\"valueCode\":\"PUT\"},{\"name\":\"headers\",\"part\":["
            + "{\"name\":\"Content-Type\",\"valueString\":\"application/pdf\"}]}]}"));
    peer.on("/storage/upload/B1", ex -> redirect(ex, 307, "https://elsewhere.example/upload/B1?Signature=secret"));
    peer.on("/fhir/R4/Binary/B1", ex -> PeerServer.send(ex, 404, "application/fhir+json",
        "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"not-found\"}]}"));
    Path pdf = Files.write(work.resolve("scan.pdf"), BinaryTransferTest.randomBytes(1000));

    assertThatThrownBy(() -> client().uploadViaUrl(Upload.of(pdf, "application/pdf")))
        .isInstanceOfSatisfying(FhirboxException.class, e -> {
          assertThat(e.status()).isEqualTo(307);
          assertThat(e.getMessage()).contains("https://elsewhere.example/upload/B1").doesNotContain("secret");
        });
  }

  @Test
  void aReadThatIsRedirectedSaysWhereTo() {
    peer.on("/fhir/R4/Patient/1", ex -> redirect(ex, 301, "https://127.0.0.1/fhir/R4/Patient/1"));

    assertThatThrownBy(() -> client().readResource(Patient.class, "1"))
        .isInstanceOfSatisfying(FhirboxException.class, e -> {
          assertThat(e.status()).isEqualTo(301);
          assertThat(e.getMessage()).contains("redirected to https://127.0.0.1/fhir/R4/Patient/1");
        });
    assertThat(peer.seen("/fhir/R4/Patient/1")).hasSize(1);
  }

  @Test
  void anHttpClientThatFollowsRedirectsIsRefused() {
    // the JDK's client sends a request's Authorization header on to wherever a redirect points,
    // another host too
    HttpClient following = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build();

    assertThatThrownBy(() -> FhirboxClient.builder().baseUrl(peer.root()).basicAuth("test-admin", "s3cret")
        .httpClient(following).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Redirect.NEVER");
    assertThat(peer.seen).isEmpty();
  }

  @Test
  void aDeleteThatIsRedirectedIsNoSuccess() {
    peer.on("/fhir/R4/Patient/1", ex -> redirect(ex, 308, "https://127.0.0.1/fhir/R4/Patient/1"));

    assertThatThrownBy(() -> client().deleteResource(Patient.class, "1"))
        .isInstanceOfSatisfying(FhirboxException.class, e -> assertThat(e.status()).isEqualTo(308));
  }
}
