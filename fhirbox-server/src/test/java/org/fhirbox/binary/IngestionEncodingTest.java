package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPOutputStream;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Media;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Ingested content and content codings (RFC 9110 §8.4): the fetcher asks for none and decodes
 * none itself, so gzip an upstream sends anyway meets the same 100:1 expansion guard as an
 * upload with {@code Content-Encoding}. The bomb: 64 MiB of zeros, 64 KiB of gzip. And the
 * content type an ingested Binary gets: the writer's declared one, else the upstream's, else
 * {@code application/octet-stream}.
 */
class IngestionEncodingTest {
  private static final int BOMB_BYTES = 64 << 20;
  static Upstream upstream;
  static TestServer server;
  static TestClient http;
  static byte[] bomb;

  @BeforeAll
  static void start() throws Exception {
    upstream = new Upstream();
    server = TestServer.start(upstream.ingestSettings());
    http = server.client();
    bomb = gzippedZeros(BOMB_BYTES);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
    upstream.close();
  }

  private static byte[] gzippedZeros(int size) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] zeros = new byte[1 << 20];
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      for (int i = 0; i < size / zeros.length; i++) {
        gz.write(zeros);
      }
    }
    return out.toByteArray();
  }

  private static HttpResponse<String> importUrl(String url) {
    return http.send(http.request("fhir/R4/Binary/$import?url=" + URLEncoder.encode(url, StandardCharsets.UTF_8))
        .POST(HttpRequest.BodyPublishers.noBody()));
  }

  private static void sendGzip(com.sun.net.httpserver.HttpExchange ex) throws IOException {
    ex.getResponseHeaders().set("Content-Encoding", "gzip");
    Upstream.send(ex, 200, "application/octet-stream", bomb);
  }

  @Test
  void theFetcherAsksForNoContentCodingAndStoresAGzipFileAsServed() throws Exception {
    List<String> acceptEncodings = new CopyOnWriteArrayList<>();
    // as a server that compresses on request does: gzip when asked for, else the .gz file itself
    upstream.on("/files/negotiated.bin", ex -> {
      String accepted = String.join(",", ex.getRequestHeaders().getOrDefault("Accept-Encoding", List.of()));
      acceptEncodings.add(accepted);
      if (accepted.contains("gzip")) {
        sendGzip(ex);
      } else {
        Upstream.send(ex, 200, "application/gzip", bomb);
      }
    });
    HttpResponse<String> r = importUrl(upstream.origin() + "/files/negotiated.bin");

    assertThat(acceptEncodings).containsExactly("identity");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    Binary b = http.parse(r, Binary.class);
    assertThat(b.getContentType()).isEqualTo("application/gzip");
    HttpResponse<byte[]> raw = http.sendBytes(http.request("fhir/R4/Binary/" + b.getIdElement().getIdPart()).GET());
    assertThat(raw.body()).isEqualTo(bomb);
  }

  @Test
  void gzipSentUnaskedMeetsTheExpansionGuardOfUploads() throws Exception {
    upstream.on("/files/bomb.bin", IngestionEncodingTest::sendGzip);
    String url = upstream.origin() + "/files/bomb.bin";

    HttpResponse<String> r = importUrl(url);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(413);
    assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("expands more than 100:1");

    IngestionTest.createMedia(http, url, null);
    JsonNode job = IngestionTest.awaitJob(http, url, "failed");
    assertThat(job.get("lastError").asText()).contains("expands more than 100:1");
  }

  @Test
  void aContentCodingUploadsDoNotTakeIsRefusedNotStoredAsIfDecoded() throws Exception {
    upstream.on("/files/brotli.txt", ex -> {
      ex.getResponseHeaders().set("Content-Encoding", "br");
      Upstream.send(ex, 200, "text/plain", Upstream.content(1000, 20));
    });
    HttpResponse<String> r = importUrl(upstream.origin() + "/files/brotli.txt");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(415);
    assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("Content-Encoding 'br' is not supported");
  }

  @Test
  void anUpstreamWhoseContentCodingIsBrokenIsAnUpstreamFault() throws Exception {
    upstream.on("/files/not-gzip.bin", ex -> {
      ex.getResponseHeaders().set("Content-Encoding", "gzip");
      Upstream.send(ex, 200, "application/octet-stream", "this is not gzip".getBytes(StandardCharsets.US_ASCII));
    });
    upstream.on("/files/cut-gzip.bin", ex -> {
      ex.getResponseHeaders().set("Content-Encoding", "gzip");
      ByteArrayOutputStream gz = new ByteArrayOutputStream();
      try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
        out.write(Upstream.content(20_000, 62));
      }
      // random content, so the part sent stays far below the expansion guard's ratio
      Upstream.send(ex, 200, "application/octet-stream", java.util.Arrays.copyOf(gz.toByteArray(), 10_000));
    });
    for (String path : List.of("/files/not-gzip.bin", "/files/cut-gzip.bin")) {
      HttpResponse<String> r = importUrl(upstream.origin() + path);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
      assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
          .contains("the upstream's content is broken: the body is not valid gzip data");
    }
    String url = upstream.origin() + "/files/not-gzip.bin";
    IngestionTest.createMedia(http, url, null);
    JsonNode job = IngestionTest.awaitJob(http, url, "failed");
    assertThat(job.get("lastError").asText()).contains("the upstream's content is broken");
    assertThat(job.get("attempts").asInt()).isEqualTo(1);
  }

  @Test
  void anUpstreamContentTypeTooLongToKeepIsAnUpstreamFault() {
    upstream.serve("/files/long-type.txt", "text/plain; x=" + "a".repeat(300), new byte[] {1});
    HttpResponse<String> r = importUrl(upstream.origin() + "/files/long-type.txt");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
    assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("the upstream's Content-Type has 314 characters; at most 255 are stored");
  }

  @Test
  void anUpstreamContentTypeOutsidePrintableAsciiIsAnUpstreamFault() {
    // obs-text is allowed in a header, but not in a Binary's contentType
    upstream.serve("/files/latin-type.txt", "text/pl\u00e4in", new byte[] {1});
    HttpResponse<String> r = importUrl(upstream.origin() + "/files/latin-type.txt");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
    assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("the upstream's Content-Type must be printable ASCII");
  }

  /**
   * Content-Type is a singleton field (RFC 9110 §5.3, §8.3): lines that disagree leave the type
   * unknown, so the fetch fails as the upstream's fault rather than storing the first line's type
   * (a second line the deny list would refuse among them). Lines that agree are one type.
   */
  @Test
  void anUpstreamContentTypeOnLinesThatDisagreeIsAnUpstreamFault() {
    upstream.on("/files/two-types.txt", ex -> {
      ex.getResponseHeaders().add("Content-Type", "text/plain");
      ex.getResponseHeaders().add("Content-Type", "application/x-msdownload");
      Upstream.send(ex, 200, null, new byte[] {1});
    });
    HttpResponse<String> r = importUrl(upstream.origin() + "/files/two-types.txt");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
    assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("the upstream sent Content-Type on more than one line with different values");
    upstream.on("/files/same-types.txt", ex -> {
      ex.getResponseHeaders().add("Content-Type", "text/plain");
      ex.getResponseHeaders().add("Content-Type", "text/plain");
      Upstream.send(ex, 200, null, new byte[] {1});
    });
    assertThat(importUrl(upstream.origin() + "/files/same-types.txt").statusCode()).isEqualTo(201);
  }

  /**
   * Content-Encoding is a list (RFC 9110 §8.4): codings on two lines are one list, applied in
   * order, never the first line alone (which would store still-encoded bytes as decoded).
   */
  @Test
  void contentCodingsOnTwoLinesAreOneList() {
    upstream.on("/files/two-codings.txt", ex -> {
      ex.getResponseHeaders().add("Content-Encoding", "identity");
      ex.getResponseHeaders().add("Content-Encoding", "br");
      Upstream.send(ex, 200, "text/plain", Upstream.content(100, 21));
    });
    HttpResponse<String> r = importUrl(upstream.origin() + "/files/two-codings.txt");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(415);
    assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("'identity, br' is not supported");
  }

  private static HttpResponse<String> importUrl(String url, String contentType) {
    return http.send(http.request("fhir/R4/Binary/$import?url=" + URLEncoder.encode(url, StandardCharsets.UTF_8)
        + "&contentType=" + URLEncoder.encode(contentType, StandardCharsets.UTF_8))
        .POST(HttpRequest.BodyPublishers.noBody()));
  }

  /** The Media's Attachment once its job is done, and the content type of the Binary it names. */
  private static String[] ingestedTypes(String path, String declared) throws Exception {
    String url = upstream.origin() + path;
    Media m = IngestionTest.createMedia(http, url, declared);
    String binaryId = IngestionTest.awaitJob(http, url, "done").get("binary").asText().substring("Binary/".length());
    Binary b = http.parse(http.get("fhir/R4/Binary/" + binaryId), Binary.class);
    return new String[] {IngestionTest.read(http, m).getContent().getContentType(), b.getContentType()};
  }

  /**
   * The writer's Attachment.contentType says what the content is (FHIR R4 datatypes.html#Attachment):
   * the Binary fetched for it takes that type, whatever the upstream labels it (an object store's
   * {@code binary/octet-stream}, say), so the Attachment and its Binary agree. Without one, or with
   * {@code application/octet-stream}, which says only that the type is not known, both take the upstream's.
   */
  @Test
  void anIngestedBinaryTakesTheDeclaredContentTypeElseTheUpstreams() throws Exception {
    upstream.serve("/files/declared.pdf", "binary/octet-stream", Upstream.content(500, 30));
    assertThat(ingestedTypes("/files/declared.pdf", "application/pdf"))
        .containsExactly("application/pdf", "application/pdf");
    upstream.serve("/files/undeclared.png", "image/png", Upstream.content(500, 31));
    assertThat(ingestedTypes("/files/undeclared.png", null)).containsExactly("image/png", "image/png");
    upstream.serve("/files/unknown.mp4", "video/mp4", Upstream.content(500, 35));
    assertThat(ingestedTypes("/files/unknown.mp4", "application/octet-stream")).containsExactly("video/mp4", "video/mp4");
  }

  /** {@code $import}'s contentType is a declaration as an Attachment's is: it wins over the upstream's. */
  @Test
  void importKeepsTheDeclaredContentType() throws Exception {
    upstream.serve("/files/import-declared.pdf", "text/plain", Upstream.content(500, 32));
    HttpResponse<String> r = importUrl(upstream.origin() + "/files/import-declared.pdf", "application/pdf");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(http.parse(r, Binary.class).getContentType()).isEqualTo("application/pdf");
    HttpResponse<String> unknown = importUrl(upstream.origin() + "/files/import-declared.pdf",
        "application/octet-stream");
    assertThat(unknown.statusCode()).as(unknown.body()).isEqualTo(201);
    assertThat(http.parse(unknown, Binary.class).getContentType()).isEqualTo("text/plain");

    // one no Binary may have is the caller's mistake, refused before anything is fetched
    int before = upstream.hits("/files/import-declared.pdf");
    HttpResponse<String> bad = importUrl(upstream.origin() + "/files/import-declared.pdf", "pdf");
    assertThat(bad.statusCode()).as(bad.body()).isEqualTo(400);
    OperationOutcome oo = http.parse(bad, OperationOutcome.class);
    assertThat(oo.getIssueFirstRep().getDiagnostics()).contains("contentType must be a MIME type");
    assertThat(oo.getIssueFirstRep().getExpression().get(0).getValue()).isEqualTo("contentType");
    assertThat(upstream.hits("/files/import-declared.pdf")).isEqualTo(before);
  }

  /**
   * An empty or absent Content-Type leaves the type unknown, which a recipient may take as
   * {@code application/octet-stream} (RFC 9110 §8.3): stored so, not refused, unless the writer
   * declared a type, which then wins.
   */
  @Test
  void anEmptyOrAbsentUpstreamContentTypeIsOctetStreamUnlessOneWasDeclared() throws Exception {
    upstream.on("/files/empty-type.bin", ex -> {
      ex.getResponseHeaders().set("Content-Type", "");
      Upstream.send(ex, 200, null, Upstream.content(500, 33));
    });
    upstream.on("/files/no-type.bin", ex -> Upstream.send(ex, 200, null, Upstream.content(500, 34)));
    for (String path : List.of("/files/empty-type.bin", "/files/no-type.bin")) {
      HttpResponse<String> r = importUrl(upstream.origin() + path);
      assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(201);
      assertThat(http.parse(r, Binary.class).getContentType()).as(path).isEqualTo("application/octet-stream");
      HttpResponse<String> declared = importUrl(upstream.origin() + path, "image/png");
      assertThat(declared.statusCode()).as(path + ": " + declared.body()).isEqualTo(201);
      assertThat(http.parse(declared, Binary.class).getContentType()).as(path).isEqualTo("image/png");
    }
    assertThat(ingestedTypes("/files/empty-type.bin", null))
        .containsExactly("application/octet-stream", "application/octet-stream");
  }
}
