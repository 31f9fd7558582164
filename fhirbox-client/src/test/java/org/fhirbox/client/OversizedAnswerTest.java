package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.function.ThrowingSupplier;

/**
 * A server that misbehaves, or a host that is not the server, answers with a JSON body longer than
 * the client reads into memory: the call fails soon with a {@link FhirboxException} that names the
 * request and the limit, rather than reading on until the memory is gone. Downloads stream, and no
 * such limit applies to them. A body the client does not read (a delete's, a retried or redirected
 * answer's) is read up to 64 KiB and then closed, so one that never ends cannot hold the call.
 */
class OversizedAnswerTest {
  private static final Duration SOON = Duration.ofSeconds(60);
  private static final String PATIENT_START = "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"text\":{\"status\":"
      + "\"generated\",\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">";
  private static final String PATIENT_END = "</div>\"}}";

  @RegisterExtension
  final PeerServer peer = PeerServer.started();

  /** Answers {@code path} with {@code start} and then text without end (chunked), until the client hangs up. */
  private void serveEndless(String path, String contentType, String start) {
    peer.on(path, ex -> {
      ex.getResponseHeaders().set("Content-Type", contentType);
      ex.sendResponseHeaders(200, 0);
      byte[] chunk = "a".repeat(64 * 1024).getBytes(StandardCharsets.US_ASCII);
      OutputStream out = ex.getResponseBody();
      try {
        out.write(start.getBytes(StandardCharsets.UTF_8));
        for (long sent = 0; sent < 1L << 40; sent += chunk.length) {
          out.write(chunk);
        }
      } catch (IOException e) {
        // the client hung up, as it should
      }
    });
  }

  private FhirboxClient client(long maxResponseBody) {
    return peer.client(1).newBuilder().maxResponseBody(maxResponseBody).build();
  }

  private static FhirboxException refused(Runnable call) {
    return assertTimeoutPreemptively(SOON, () -> catchThrowableOfType(call::run, FhirboxException.class));
  }

  @Test
  void aResourceWhoseBodyNeverEndsFailsAtTheLimit() {
    serveEndless("/fhir/R4/Patient/p1", "application/fhir+json", PATIENT_START);

    FhirboxException e = refused(() -> client(1 << 20).readResource(Patient.class, "p1"));

    assertThat(e).as("the exception").isNotNull();
    assertThat(e.status()).isZero();
    assertThat(e.getMessage()).contains("GET /fhir/R4/Patient/p1", "longer than the 1048576 bytes",
        "maxResponseBody");
  }

  /** The Content-Length of an answer to HEAD is the GET's body's (RFC 9110 §8.6), not one to read. */
  @Test
  void aHeadAnswerNamingALongBodyIsNoBody() {
    peer.on("/admin/jobs", ex -> {
      ex.getResponseHeaders().set("Content-Type", "application/json");
      ex.getResponseHeaders().set("Content-Length", Integer.toString(64 << 20));
      ex.sendResponseHeaders(200, -1);
      ex.close();
    });

    String answer = assertTimeoutPreemptively(SOON, () -> client(1024).sendJson("HEAD", "admin/jobs", null));

    assertThat(answer).isEmpty();
  }

  /** A whole, valid Patient one byte over the default limit: refused by its Content-Length, before it is read. */
  @Test
  void aBodyLongerThanTheDefault64MiBIsRefusedByItsContentLength() {
    byte[] body = new byte[(64 << 20) + 1];
    byte[] start = PATIENT_START.getBytes(StandardCharsets.UTF_8);
    byte[] end = PATIENT_END.getBytes(StandardCharsets.UTF_8);
    Arrays.fill(body, (byte) 'a');
    System.arraycopy(start, 0, body, 0, start.length);
    System.arraycopy(end, 0, body, body.length - end.length, end.length);
    peer.on("/fhir/R4/Patient/p1", ex -> {
      ex.getResponseHeaders().set("Content-Type", "application/fhir+json");
      ex.sendResponseHeaders(200, body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      } catch (IOException e) {
        // the client hung up, as it should
      }
    });

    FhirboxException e = refused(() -> peer.client(1).readResource(Patient.class, "p1"));

    assertThat(e).as("the exception").isNotNull();
    assertThat(e.getMessage()).contains("a body of 67108865 bytes (its Content-Length), more than the 67108864 bytes");
  }

  @Test
  void theAdminApiAndTheTokenEndpointAreLimitedToo() {
    serveEndless("/admin/clients", "application/json", "{\"clients\":[");
    FhirboxException admin = refused(() -> client(1 << 16).sendJson("GET", "admin/clients", null));
    assertThat(admin).as("the admin API's exception").isNotNull();
    assertThat(admin.getMessage()).contains("GET /admin/clients", "longer than the 65536 bytes");

    serveEndless("/oauth2/token", "application/json", "{\"access_token\":\"");
    FhirboxClient tokens = FhirboxClient.builder().baseUrl(peer.root()).clientCredentials("c", "s")
        .retryPolicy(RetryPolicy.NONE).maxResponseBody(1 << 16).build();
    FhirboxException token = refused(() -> tokens.readResource(Patient.class, "p1"));
    assertThat(token).as("the token endpoint's exception").isNotNull();
    assertThat(token.getMessage()).contains("POST /oauth2/token", "longer than the 65536 bytes");
  }

  /** Fails (rather than hangs) when the client reads an endless body to its end, as it once did. */
  private static <T> T returnsSoon(ThrowingSupplier<T> call) {
    return assertTimeoutPreemptively(Duration.ofSeconds(20), call);
  }

  @Test
  void aDeleteWhoseAnswerNeverEndsReturnsOnceItsStatusIsRead() {
    peer.on("/fhir/R4/Patient/p1", ex -> PeerServer.sendEndless(ex, 200));

    returnsSoon(() -> {
      peer.client(1).deleteResource(Patient.class, "p1");
      return null;
    });

    assertThat(peer.seen("/fhir/R4/Patient/p1")).extracting(PeerServer.Seen::method).containsExactly("DELETE");
  }

  @Test
  void aRetriedOrRedirectedAnswerWhoseBodyNeverEndsIsLeftUnread() {
    AtomicInteger reads = new AtomicInteger();
    peer.on("/fhir/R4/Patient/p1", ex -> {
      if (reads.incrementAndGet() == 1) {
        PeerServer.sendEndless(ex, 503);
      } else {
        PeerServer.send(ex, 200, "application/fhir+json", "{\"resourceType\":\"Patient\",\"id\":\"p1\"}");
      }
    });
    peer.on("/fhir/R4/Patient/moved", ex -> {
      ex.getResponseHeaders().set("Location", peer.root() + "elsewhere");
      PeerServer.sendEndless(ex, 302);
    });

    Patient p = returnsSoon(() -> peer.client(2).readResource(Patient.class, "p1"));
    FhirboxException redirected = returnsSoon(
        () -> catchThrowableOfType(() -> peer.client(1).readResource(Patient.class, "moved"), FhirboxException.class));

    assertThat(p.getIdElement().getIdPart()).isEqualTo("p1");
    assertThat(reads).hasValue(2);
    assertThat(redirected).as("the redirect's exception").isNotNull();
    assertThat(redirected.status()).isEqualTo(302);
  }

  @Test
  void aDownloadLongerThanTheLimitStreamsWhole() {
    byte[] data = BinaryTransferTest.randomBytes(300_000);
    peer.on("/storage/", ex -> {
      ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
      ex.sendResponseHeaders(200, 0);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(data);
      }
    });
    ByteArrayOutputStream got = new ByteArrayOutputStream();

    long n = client(1024).download(peer.root() + "storage/abc-123/1?Expires=1700000000&Signature=c2ln", got);

    assertThat(n).isEqualTo(data.length);
    assertThat(got.toByteArray()).isEqualTo(data);
  }
}
