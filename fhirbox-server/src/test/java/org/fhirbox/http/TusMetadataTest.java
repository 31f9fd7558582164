package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.Tus;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code Upload-Metadata} (tus 1.0.0 creation) as a client sees it come back: the values fhirbox
 * makes part of the Binary are text, other keys keep any bytes, and a header without pairs is
 * not repeated by {@code HEAD}.
 */
class TusMetadataTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();
  private static Tus tus;

  @BeforeAll
  static void client() {
    tus = new Tus(fhirbox.http());
  }

  private static String base64(byte[] bytes) {
    return Base64.getEncoder().encodeToString(bytes);
  }

  /** {@code prefix} followed by the bytes of {@code text}. */
  private static byte[] bytes(byte[] prefix, String text) {
    byte[] t = text.getBytes(StandardCharsets.UTF_8);
    byte[] out = Arrays.copyOf(prefix, prefix.length + t.length);
    System.arraycopy(t, 0, out, prefix.length, t.length);
    return out;
  }

  @Test
  void aFileNameThatIsNotUtf8TextIsRefused() throws Exception {
    // 0xff is no UTF-8: decoded leniently the Binary's file name would be "\uFFFDscan.txt"
    HttpResponse<String> created = tus.create(4, "filename " + base64(bytes(new byte[] {(byte) 0xff}, "scan.txt")));

    assertThat(created.statusCode()).as(created.body()).isEqualTo(400);
    assertThat(created.headers().firstValue("Location")).isEmpty();
    assertThat(new ObjectMapper().readTree(created.body()).at("/issue/0/diagnostics").asText())
        .contains("filename").contains("UTF-8");
  }

  @Test
  void aFileNameIsCountedInCharactersNotUtf16Units() throws Exception {
    String name = "\ud83d\ude00".repeat(251) + ".txt"; // 255 characters, 506 UTF-16 units
    HttpResponse<String> kept = tus.create(4, "filename " + base64(name.getBytes(StandardCharsets.UTF_8)));
    assertThat(kept.statusCode()).as(kept.body()).isEqualTo(201);
    String url = kept.headers().firstValue("Location").orElseThrow();
    assertThat(tus.patch(url, 0, "abcd".getBytes(StandardCharsets.UTF_8)).statusCode()).isEqualTo(204);

    HttpResponse<String> refused = tus.create(4, "filename "
        + base64(("\ud83d\ude00" + name).getBytes(StandardCharsets.UTF_8)));
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
    assertThat(new ObjectMapper().readTree(refused.body()).at("/issue/0/diagnostics").asText())
        .contains("has 256 characters; at most 255");
  }

  @Test
  void aKeyFhirboxDoesNotReadMayHoldAnyBytesAndIsRepeatedAsSent() {
    String metadata = "filename " + base64("scan.txt".getBytes(StandardCharsets.UTF_8)) + ",thumb "
        + base64(new byte[] {(byte) 0xff, 0, (byte) 0x80});
    HttpResponse<String> created = tus.create(4, metadata);

    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String url = created.headers().firstValue("Location").orElseThrow();
    assertThat(tus.head(url).headers().firstValue("Upload-Metadata")).contains(metadata);
  }

  /**
   * A creation sent over a socket with {@code metadata} as these bytes (each char one byte, as
   * ISO-8859-1): Java's HTTP client would send a '?' for each byte beyond ASCII. The whole answer.
   */
  private static String createRaw(String metadata) throws Exception {
    URI base = URI.create(fhirbox.server().baseUrl());
    String auth = fhirbox.http().request("x").build().headers().firstValue("Authorization").orElseThrow();
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      OutputStream out = s.getOutputStream();
      out.write(("POST /fhir/R4/Binary/$upload HTTP/1.1\r\nHost: " + base.getAuthority() + "\r\nAuthorization: "
          + auth + "\r\nTus-Resumable: 1.0.0\r\nUpload-Length: 4\r\nUpload-Metadata: " + metadata
          + "\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  @Test
  void aKeyThatIsNotPrintableAsciiIsRefusedByItsPosition() throws Exception {
    // "naïve" as its UTF-8 bytes, "café" with é as the one byte 0xe9, and a key with a tab
    String utf8 = new String("naïve".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    for (String key : List.of(utf8, "caf\u00e9", "a\tb")) {
      String answer = createRaw(Tus.metadata("filename", "a.txt") + "," + key + " "
          + base64("x".getBytes(StandardCharsets.UTF_8)));

      assertThat(answer).as(key).startsWith("HTTP/1.1 400").doesNotContainIgnoringCase("\r\nLocation:");
      // the key itself is not repeated: the answer would carry the bytes it refuses
      assertThat(answer).contains("Upload-Metadata key 2 (counting from 1) is not printable ASCII")
          .doesNotContain(key);
    }
    assertThat(createRaw(Tus.metadata("filename", "a.txt", "thumb~1", "x"))).startsWith("HTTP/1.1 201");
  }

  @Test
  void aBlankUploadMetadataIsNotRepeatedAsAnEmptyHeader() {
    HttpResponse<String> created = fhirbox.http().send(tus.request(Tus.CREATE).header("Upload-Length", "4")
        .header("Upload-Metadata", " ").POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String url = created.headers().firstValue("Location").orElseThrow();

    HttpResponse<String> head = tus.head(url);

    assertThat(head.statusCode()).isEqualTo(200);
    // tus 1.0.0: Upload-Metadata holds one or more pairs; a client parsing "" finds a pair without a key
    assertThat(head.headers().allValues("Upload-Metadata")).isEmpty();
  }

  @Test
  void metadataTooLargeForTheRequestHeadersIsStillAnsweredAsTus() throws Exception {
    // refused by the HTTP server before any route sees it: tus 1.0.0 still wants Tus-Resumable
    HttpResponse<String> created = tus.create(4, "thumb " + base64(new byte[48 << 10]));

    assertThat(created.statusCode()).as(created.body()).isEqualTo(431);
    assertThat(created.headers().firstValue("Tus-Resumable")).hasValue("1.0.0");
    assertThat(new ObjectMapper().readTree(created.body()).path("resourceType").asText()).isEqualTo("OperationOutcome");
  }

  @Test
  void anIfMatchThatNoUploadAppliesIsRefusedRatherThanIgnored() throws Exception {
    HttpResponse<String> v1 = fhirbox.http().postBytes("fhir/R4/Binary", "text/plain",
        "v1".getBytes(StandardCharsets.UTF_8));
    String id = new ObjectMapper().readTree(v1.body()).get("id").asText();
    String binaryId = "binaryId " + base64(id.getBytes(StandardCharsets.UTF_8));

    // a client that means "only over version 1" would otherwise replace whatever version is current
    HttpResponse<String> created = tus.client().send(tus.request(Tus.CREATE).header("Upload-Length", "2")
        .header("Upload-Metadata", binaryId).header("If-Match", "W/\"1\"").POST(HttpRequest.BodyPublishers.noBody()));
    String url = tus.upload(2, binaryId);
    HttpResponse<String> piece = tus.patch(url, 0, "v2".getBytes(StandardCharsets.UTF_8), "If-Match", "W/\"1\"");

    assertThat(created.statusCode()).as(created.body()).isEqualTo(412);
    assertThat(created.headers().firstValue("Location")).isEmpty();
    assertThat(created.body()).contains("If-Match");
    assertThat(piece.statusCode()).as(piece.body()).isEqualTo(412);
    assertThat(tus.offset(url)).isZero();
  }

  @Test
  void aSecurityContextNotShapedAsAReferenceIsNamedAsSent() {
    HttpResponse<String> created = tus.create(4, Tus.metadata("securityContext", "Patient/../x"));

    assertThat(created.statusCode()).as(created.body()).isEqualTo(400);
    // the client sent no X-Security-Context header: a diagnostic naming only that one misleads it
    assertThat(created.body()).contains("securityContext", "Patient/123", "Patient/../x");
    assertThat(created.body()).doesNotContain("X-Security-Context must");
  }
  @Test
  void aSecurityContextKeyWithoutAValueIsRefusedRatherThanTakenForNone() {
    for (String metadata : List.of("securityContext", "securityContext ", "filename "
        + base64("a.txt".getBytes(StandardCharsets.UTF_8)) + ",securityContext")) {
      HttpResponse<String> created = tus.create(4, metadata);

      assertThat(created.statusCode()).as(metadata + ": " + created.body()).isEqualTo(400);
      assertThat(created.body()).contains("securityContext without a value");
      assertThat(created.headers().firstValue("Location")).isEmpty();
    }
  }
}
