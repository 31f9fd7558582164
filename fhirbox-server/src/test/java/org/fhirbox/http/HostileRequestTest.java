package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirbox.testing.TestBytes.random;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Hostile and broken requests over real HTTP: each gets a 4xx with a FHIR OperationOutcome, quickly,
 * leaves no blob behind and writes no ERROR log. Requests that an HTTP client library refuses to
 * send go over a raw socket.
 */
class HostileRequestTest {
  static TestServer server;
  static TestClient http;
  static String auth;
  private final ListAppender<ILoggingEvent> log = new ListAppender<>();

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(Map.of("FHIRBOX_MAX_JSON_BYTES", Long.toString(1L << 20),
        "FHIRBOX_INGEST_ALLOWED_URL_PREFIXES", "http://127.0.0.1:9/never/"));
    http = server.client();
    auth = http.request("x").build().headers().firstValue("Authorization").orElseThrow();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @BeforeEach
  void captureLog() {
    log.start();
    ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).addAppender(log);
  }

  @AfterEach
  void noErrorWasLogged() {
    ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).detachAppender(log);
    assertThat(log.list).filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.ERROR))
        .extracting(ILoggingEvent::getFormattedMessage).isEmpty();
  }

  @Test
  void badPercentEncodingInAQueryValueIs400() throws Exception {
    Raw r = raw("GET /fhir/R4/Patient?name=%zz HTTP/1.1\r\n", "");
    assertOutcome(r, 400, "name");
  }

  @Test
  void badPercentEncodingInAQueryNameIs400() throws Exception {
    Raw r = raw("GET /fhir/R4/Patient?%zz=1 HTTP/1.1\r\n", "");
    assertOutcome(r, 400, "%zz");
  }

  @Test
  void unknownCharsetOnAJsonBodyIsRefused() {
    HttpResponse<String> r = http.send(http.request("fhir/R4/Patient")
        .header("Content-Type", "application/fhir+json; charset=bogus-x")
        .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\"}")));
    assertOutcome(r, 415, "bogus-x");
  }

  @Test
  void batchEntryWithUrlSlashIsAnEntryError() {
    String batch = "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"request\":{\"method\":\"GET\","
        + "\"url\":\"/\"}}]}";
    HttpResponse<String> r = http.postJson("fhir/R4", batch);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Bundle b = http.parse(r, Bundle.class);
    assertThat(b.getEntryFirstRep().getResponse().getStatus()).startsWith("400");
    assertThat(((OperationOutcome) b.getEntryFirstRep().getResponse().getOutcome()).getIssueFirstRep()
        .getDiagnostics()).contains("request.url");

    HttpResponse<String> t = http.postJson("fhir/R4", batch.replace("batch", "transaction"));
    assertOutcome(t, 400, "request.url");
  }

  @Test
  void hugeFilenameIsRefusedBeforeTheBodyIsStored() throws Exception {
    long before = blobFiles();
    HttpResponse<String> r = http.postBytes("fhir/R4/Binary?_filename=" + "a".repeat(5000) + ".txt", "text/plain",
        random(200_000, 1));
    assertOutcome(r, 400, "_filename");
    assertThat(blobFiles()).isEqualTo(before);
  }

  @Test
  void hugeContentTypeIsRefusedBeforeTheBodyIsStored() throws Exception {
    long before = blobFiles();
    HttpResponse<String> r = http.postBytes("fhir/R4/Binary", "text/plain; x=" + "a".repeat(300),
        random(200_000, 2));
    assertOutcome(r, 400, "Content-Type");
    assertThat(blobFiles()).isEqualTo(before);
  }

  @Test
  void hugeAttachmentContentTypeToIngestIs400() {
    HttpResponse<String> r = http.postJson("fhir/R4/DocumentReference", "{\"resourceType\":\"DocumentReference\","
        + "\"status\":\"current\",\"content\":[{\"attachment\":{\"url\":\"http://127.0.0.1:9/never/a.pdf\","
        + "\"contentType\":\"application/pdf; x=" + "a".repeat(300) + "\"}}]}");
    assertOutcome(r, 400, "Attachment.contentType");

    // ingestion makes the Attachment's contentType the new Binary's: the rule of Binary.contentType applies
    HttpResponse<String> broken = http.postJson("fhir/R4/DocumentReference", "{\"resourceType\":\"DocumentReference\","
        + "\"status\":\"current\",\"content\":[{\"attachment\":{\"url\":\"http://127.0.0.1:9/never/a.pdf\","
        + "\"contentType\":\"application/pdf\\r\\nX-Injected: 1\"}}]}");
    assertOutcome(broken, 400, "Attachment.contentType");
    assertOutcome(broken, 400, "printable ASCII");
  }

  /**
   * Binary.contentType is a MIME type (RFC 9110 media-type, ASCII) and a FHIR code (no line
   * breaks): it is served as the Content-Type header and signed into upload URLs, so a JSON or XML
   * body, a PUT and a Bundle entry cannot store one no header can carry.
   */
  @Test
  void aBinaryContentTypeNoHeaderCanCarryIsRefusedOnEveryWritePath() throws Exception {
    long before = blobFiles();
    String id = TestClient.createdId(http.postJson("fhir/R4/Binary",
        "{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\",\"data\":\"aGk=\"}"));
    for (String type : java.util.List.of("text/plain\\r\\nX-Injected: 1", "text/pl\u00e4in", "text/plain\\n")) {
      String json = "{\"resourceType\":\"Binary\",\"contentType\":\"" + type + "\",\"data\":\"aGk=\"}";
      assertOutcome(http.postJson("fhir/R4/Binary", json), 400, "printable ASCII");
      assertOutcome(http.putJson("fhir/R4/Binary/" + id, json.replace("{", "{\"id\":\"" + id + "\",")), 400,
          "Binary.contentType");
      // without data a PUT keeps the bytes under the new type
      assertOutcome(http.putJson("fhir/R4/Binary/" + id, "{\"resourceType\":\"Binary\",\"id\":\"" + id
          + "\",\"contentType\":\"" + type + "\"}"), 400, "Binary.contentType");
      String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":" + json
          + ",\"request\":{\"method\":\"POST\",\"url\":\"Binary\"}}]}";
      assertOutcome(http.postJson("fhir/R4", bundle), 400, "printable ASCII");
    }
    String xml = "<Binary xmlns=\"http://hl7.org/fhir\"><contentType value=\"text/plain&#13;&#10;X-Injected: 1\"/>"
        + "<data value=\"aGk=\"/></Binary>";
    assertOutcome(http.send(http.request("fhir/R4/Binary").header("Content-Type", "application/fhir+xml")
        .header("Accept", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(xml))), 400,
        "printable ASCII");
    assertThat(http.get("fhir/R4/Binary/" + id).body()).contains("\"contentType\":\"text/plain\"");
    assertThat(blobFiles()).isEqualTo(before + 1);
  }

  @Test
  void aRawUploadsContentTypeOutsidePrintableAsciiIsRefused() throws Exception {
    // HTTP allows obs-text in a header value; a Binary's contentType is ASCII, whichever way it comes
    Raw r = rawBytes(("POST /fhir/R4/Binary HTTP/1.1\r\nHost: localhost\r\nAuthorization: " + auth
        + "\r\nContent-Type: text/pl\u00e4in\r\nContent-Length: 2\r\n\r\nhi").getBytes(StandardCharsets.ISO_8859_1),
        true);
    assertOutcome(r, 400, "printable ASCII");
  }

  /** A file name's limit is 255 characters as a user counts them: code points, not UTF-16 units. */
  @Test
  void aFileNameOf255EmojiIsKeptAnd256AreRefused() {
    String emoji = "\ud83d\ude00";
    HttpResponse<String> kept = http.postBytes("fhir/R4/Binary?_filename="
        + java.net.URLEncoder.encode(emoji.repeat(251) + ".txt", StandardCharsets.UTF_8), "text/plain", random(10, 4));
    assertThat(kept.statusCode()).as(kept.body()).isEqualTo(201);
    HttpResponse<String> refused = http.postBytes("fhir/R4/Binary?_filename="
        + java.net.URLEncoder.encode(emoji.repeat(252) + ".txt", StandardCharsets.UTF_8), "text/plain", random(10, 4));
    assertOutcome(refused, 400, "has 256 characters; at most 255");
  }

  @Test
  void truncatedGzipBinaryIs400() throws Exception {
    long before = blobFiles();
    byte[] gz = gzip(random(100_000, 3));
    byte[] half = java.util.Arrays.copyOf(gz, gz.length / 2);
    HttpResponse<String> r = http.send(http.request("fhir/R4/Binary").header("Content-Type", "image/png")
        .header("Content-Encoding", "gzip").POST(HttpRequest.BodyPublishers.ofByteArray(half)));
    assertOutcome(r, 400, "gzip");
    assertThat(blobFiles()).isEqualTo(before);
  }

  @Test
  void jsonBodyShorterThanItsContentLengthIs400() throws Exception {
    String json = "{\"resourceType\":\"Patient\"}";
    Raw r = raw("POST /fhir/R4/Patient HTTP/1.1\r\nContent-Type: application/fhir+json\r\nContent-Length: "
        + (json.length() + 50) + "\r\n", json);
    assertOutcome(r, 400, "body");
  }

  @Test
  void chunkedJsonBodyCutOffIs400() throws Exception {
    String json = "{\"resourceType\":\"Patient\"}";
    Raw r = raw("POST /fhir/R4/Patient HTTP/1.1\r\nContent-Type: application/fhir+json\r\n"
        + "Transfer-Encoding: chunked\r\n", Integer.toHexString(json.length() + 50) + "\r\n" + json);
    assertOutcome(r, 400, "body");
  }

  @Test
  void clientGoneMidBodyIsNotAnError() throws Exception {
    URI base = URI.create(server.baseUrl());
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.getOutputStream().write(("POST /fhir/R4/Patient HTTP/1.1\r\nHost: x\r\nAuthorization: " + auth
          + "\r\nContent-Type: application/fhir+json\r\nContent-Length: 1000\r\n\r\n{\"resourceType\":")
          .getBytes(StandardCharsets.US_ASCII));
    }
    awaitLog(e -> e.getFormattedMessage().contains("client"), 5_000);
    assertThat(log.list).filteredOn(e -> e.getFormattedMessage().contains("client"))
        .allMatch(e -> e.getLevel() == Level.INFO);
  }

  @Test
  void clientGoneMidDownloadIsLoggedAtInfo() throws Exception {
    HttpResponse<String> created = http.postBytes("fhir/R4/Binary", "application/octet-stream",
        random(48 << 20, 4));
    assertThat(created.statusCode()).isEqualTo(201);
    String id = http.parse(created, org.hl7.fhir.r4.model.Binary.class).getIdElement().getIdPart();
    URI base = URI.create(server.baseUrl());
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setReceiveBufferSize(4096);
      s.getOutputStream().write(("GET /fhir/R4/Binary/" + id + " HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n"
          + "Authorization: " + auth + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      s.getInputStream().readNBytes(1000);
      s.setSoLinger(true, 0);
    }
    awaitLog(e -> e.getFormattedMessage().contains("client"), 10_000);
    assertThat(log.list).filteredOn(e -> e.getFormattedMessage().contains("client")).isNotEmpty()
        .allMatch(e -> e.getLevel() == Level.INFO);
  }

  @Test
  void xmlNestedTenThousandDeepIs400() {
    String xml = "<Patient xmlns=\"http://hl7.org/fhir\">" + "<extension url=\"http://x\">".repeat(10_000)
        + "</extension>".repeat(10_000) + "</Patient>";
    HttpResponse<String> r = http.send(http.request("fhir/R4/Patient").header("Content-Type", "application/fhir+xml")
        .header("Accept", "application/fhir+json")
        .POST(HttpRequest.BodyPublishers.ofString(xml)));
    assertOutcome(r, 400, "");
    // counted as the JSON it becomes: past 1000 levels of objects and arrays, as a JSON body is
    assertThat(r.body()).contains("nesting depth exceeds 1000");
  }

  static String nestedExtensionsXml(int levels) {
    return "<Patient xmlns=\"http://hl7.org/fhir\">" + "<extension url=\"http://x\">".repeat(levels)
        + "<valueString value=\"a\"/>" + "</extension>".repeat(levels) + "</Patient>";
  }

  static String nestedExtensionsJson(int levels) {
    return "{\"resourceType\":\"Patient\"," + "\"extension\":[{\"url\":\"http://x\",".repeat(levels)
        + "\"valueString\":\"a\"" + "}]".repeat(levels) + "}";
  }

  @Test
  void xmlNestsAsDeepAsJsonAndNoDeeper() {
    // 499 extensions are 999 levels of JSON objects and arrays, 500 one more than Jackson reads or writes
    HttpResponse<String> deepest = http.send(http.request("fhir/R4/Patient")
        .header("Content-Type", "application/fhir+xml")
        .header("Accept", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(nestedExtensionsXml(499))));
    assertThat(deepest.statusCode()).as(deepest.body()).isEqualTo(201);
    assertThat(http.postJson("fhir/R4/Patient", nestedExtensionsJson(499)).statusCode()).isEqualTo(201);
    for (int levels : new int[] {500, 600, 3000}) {
      HttpResponse<String> xml = http.send(http.request("fhir/R4/Patient").header("Content-Type", "application/fhir+xml")
        .header("Accept", "application/fhir+json")
          .POST(HttpRequest.BodyPublishers.ofString(nestedExtensionsXml(levels))));
      assertOutcome(xml, 400, "nesting depth exceeds 1000");
      assertOutcome(http.postJson("fhir/R4/Patient", nestedExtensionsJson(levels)), 400, "nesting depth exceeds 1000");
    }
    String bundle = "<Bundle xmlns=\"http://hl7.org/fhir\"><type value=\"batch\"/><entry><resource>"
        + nestedExtensionsXml(600) + "</resource><request><method value=\"POST\"/><url value=\"Patient\"/>"
        + "</request></entry></Bundle>";
    HttpResponse<String> batch = http.send(http.request("fhir/R4").header("Content-Type", "application/fhir+xml")
        .header("Accept", "application/fhir+json")
        .POST(HttpRequest.BodyPublishers.ofString(bundle)));
    assertOutcome(batch, 400, "nesting depth exceeds 1000");
  }

  @Test
  void jsonNestedTenThousandDeepIs400() {
    String json = "{\"resourceType\":\"Patient\"," + "\"extension\":[{\"url\":\"http://x\",".repeat(10_000)
        + "\"valueString\":\"x\"" + "}]".repeat(10_000) + "}";
    HttpResponse<String> r = http.postJson("fhir/R4/Patient", json);
    assertOutcome(r, 400, "nesting depth");
  }

  @Test
  void twoHundredThousandEmptyStringsAre400ListingAtMostAHundredProblems() {
    String json = "{\"resourceType\":\"Patient\",\"name\":[{\"given\":["
        + String.join(",", java.util.Collections.nCopies(200_000, "\"\"")) + "]}]}";
    HttpResponse<String> r = http.postJson("fhir/R4/Patient", json);
    assertOutcome(r, 400, "empty string");
    OperationOutcome oo = http.parse(r, OperationOutcome.class);
    assertThat(oo.getIssue()).hasSize(101);
    assertThat(oo.getIssue().get(100).getDiagnostics()).contains("more than 100 problems");
    assertThat(http.get("fhir/R4/metadata").statusCode()).isEqualTo(200);
  }

  @Test
  void aHundredThousandSearchParametersAre400WithoutAnErrorLog() {
    StringBuilder form = new StringBuilder();
    for (int i = 0; i < 100_000; i++) {
      form.append("name=a&");
    }
    long start = System.nanoTime();
    HttpResponse<String> r = http.send(http.request("fhir/R4/Patient/_search")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(form.toString())));
    assertOutcome(r, 400, "parameters");
    assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(3_000);
  }

  @Test
  void aHundredThousandValuesInOneParameterAre400() {
    StringBuilder value = new StringBuilder("name=a");
    for (int i = 0; i < 100_000; i++) {
      value.append(",a").append(i);
    }
    HttpResponse<String> r = http.send(http.request("fhir/R4/Patient/_search")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(value.toString())));
    assertOutcome(r, 400, "values");
  }

  @Test
  void aHundredThousandParametersInTheUrlAre414() throws Exception {
    Raw r = raw("GET /fhir/R4/Patient?" + "name=a&".repeat(100_000) + " HTTP/1.1\r\n", "");
    assertOutcome(r, 414, "URI");
  }

  @Test
  void encodedSlashInThePathIs400() throws Exception {
    Raw r = raw("GET /fhir/R4/Patient/a%2Fb HTTP/1.1\r\n", "");
    assertOutcome(r, 400, "mbiguous");
  }

  @Test
  void anEncodedSlashInThePathOfAPutOrDeleteIsAnOutcomeToo() throws Exception {
    Raw put = raw("PUT /fhir/R4/Patient/a%2Fb HTTP/1.1\r\nContent-Type: application/fhir+json\r\n"
        + "Content-Length: 26\r\n", "{\"resourceType\":\"Patient\"}");
    assertOutcome(put, 400, "mbiguous");
    assertOutcome(raw("DELETE /fhir/R4/Patient/a%2Fb HTTP/1.1\r\n", ""), 400, "mbiguous");
  }

  @Test
  void aControlCharacterInAQueryValueOrPathIs400() throws Exception {
    assertOutcome(raw("GET /fhir/R4/Patient?name=a%00b HTTP/1.1\r\n", ""), 400, "U+0000");
    assertOutcome(raw("GET /fhir/R4/Patient?identifier=x%01 HTTP/1.1\r\n", ""), 400, "U+0001");
    assertOutcome(raw("GET /fhir/R4/Patient?na%00me=a HTTP/1.1\r\n", ""), 400, "U+0000");
    Raw path = raw("GET /fhir/R4/Patient/a%00b HTTP/1.1\r\n", "");
    assertThat(path.status()).as(path.body()).isEqualTo(400);
    assertOutcome(path, 400, "");
    // a tab, carriage return or line feed in a value is text, as in a FHIR string
    Raw tab = raw("GET /fhir/R4/Patient?name=a%09b HTTP/1.1\r\n", "");
    assertThat(tab.status()).as(tab.body()).isEqualTo(200);
  }

  @Test
  void tooLargeHeadersAre431() throws Exception {
    Raw r = raw("GET /fhir/R4/Patient HTTP/1.1\r\nX-Big: " + "a".repeat(40_000) + "\r\n", "");
    assertOutcome(r, 431, "");
  }

  /** The OAuth JSON endpoints answer even Jetty's own refusals as OAuth JSON; authorize as its page. */
  @Test
  void jettysRefusalsOnTheOAuthEndpointsAreOAuthJsonAndAPageForAuthorize() throws Exception {
    String form = "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n";
    assertOAuthJson(raw("POST /oauth2//token HTTP/1.1\r\n" + form, ""), 400);
    assertOAuthJson(raw("POST /oauth2/introspect HTTP/1.1\r\n" + form + "X-Big: " + "a".repeat(40_000) + "\r\n", ""),
        431);
    Raw page = raw("GET /oauth2//authorize?client_id=a HTTP/1.1\r\n", "");
    assertThat(page.status()).isEqualTo(400);
    assertThat(page.header("content-type")).as(page.body()).startsWith("text/html");
    assertThat(page.header("content-security-policy")).startsWith("default-src 'none'");
    // a URI too long to read is refused before its path is known: the answer every route gets
    assertOutcome(raw("POST /oauth2/token?" + "a=b&".repeat(100_000) + " HTTP/1.1\r\n" + form, ""), 414, "URI");
  }

  private static void assertOAuthJson(Raw r, int status) throws IOException {
    assertThat(r.status()).as(r.body()).isEqualTo(status);
    assertThat(r.header("content-type")).as(r.body()).startsWith("application/json");
    assertThat(r.header("cache-control")).isEqualTo("no-store");
    assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).get("error").asText())
        .isEqualTo("invalid_request");
  }

  @Test
  void garbledRequestLineIs400() throws Exception {
    Raw r = rawBytes("GET /fhir/R4/Patient HTTP/1.1 junk\r\n\r\n".getBytes(StandardCharsets.US_ASCII), false);
    assertOutcome(r, 400, "");
  }

  @Test
  void unknownHttpVersionIsAnOutcome() throws Exception {
    Raw r = rawBytes("GET /fhir/R4/metadata HTTP/7.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII), false);
    assertThat(r.status()).as(r.body()).isBetween(400, 505);
    assertOutcome(r, r.status(), "");
  }

  @Test
  void badChunkSyntaxIs400() throws Exception {
    Raw r = raw("POST /fhir/R4/Patient HTTP/1.1\r\nContent-Type: application/fhir+json\r\n"
        + "Transfer-Encoding: chunked\r\n", "zz\r\n{}\r\n0\r\n\r\n");
    assertOutcome(r, 400, "");
  }

  @Test
  void declaredBinaryLengthOverTheLimitIs413AtOnce() throws Exception {
    long start = System.nanoTime();
    Raw r = rawWithoutBody("POST /fhir/R4/Binary HTTP/1.1\r\nContent-Type: image/png\r\nContent-Length: "
        + (11L << 30) + "\r\n");
    assertOutcome(r, 413, "limit");
    assertThat(r.header("connection")).isEqualToIgnoringCase("close");
    assertThat(r.closed()).as("the connection is closed after the answer").isTrue();
    assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
  }

  @Test
  void declaredJsonLengthOverTheLimitIs413AtOnce() throws Exception {
    long start = System.nanoTime();
    Raw r = rawWithoutBody("POST /fhir/R4/Patient HTTP/1.1\r\nContent-Type: application/fhir+json\r\n"
        + "Content-Length: " + (2L << 20) + "\r\n");
    assertOutcome(r, 413, "limit");
    assertThat(r.closed()).as("the connection is closed after the answer").isTrue();
    assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
  }

  @Test
  void gzipBombIsRefusedEarly() throws Exception {
    long before = blobFiles();
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
      byte[] zeros = new byte[1 << 20];
      for (int i = 0; i < 256; i++) {
        out.write(zeros);
      }
    }
    long start = System.nanoTime();
    HttpResponse<String> r = http.send(http.request("fhir/R4/Binary").header("Content-Type", "image/png")
        .header("Content-Encoding", "gzip").POST(HttpRequest.BodyPublishers.ofByteArray(gz.toByteArray())));
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertOutcome(r, 413, "expands more than 100:1");
    assertThat(blobFiles()).isEqualTo(before);
    assertThat(millis).as("refused after the first MBs, not after 256 MiB").isLessThan(5_000);
  }

  @Test
  void compressibleGzipUploadStillWorks() throws Exception {
    byte[] text = "a line of a very repetitive log file\n".repeat(200_000).getBytes(StandardCharsets.UTF_8);
    HttpResponse<String> r = http.send(http.request("fhir/R4/Binary").header("Content-Type", "text/plain")
        .header("Content-Encoding", "gzip").POST(HttpRequest.BodyPublishers.ofByteArray(gzip(text))));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
  }

  // --- helpers

  record Raw(int status, Map<String, String> headers, String body, boolean closed) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  static void assertOutcome(HttpResponse<String> r, int status, String diagnostic) {
    assertOutcome(new Raw(r.statusCode(), Map.of("content-type", r.headers().firstValue("Content-Type").orElse("")),
        r.body(), false), status, diagnostic);
  }

  static void assertOutcome(Raw r, int status, String diagnostic) {
    assertThat(r.status()).as(r.body()).isEqualTo(status);
    assertThat(r.header("content-type")).as(r.body()).startsWith("application/fhir+json");
    OperationOutcome oo = TestServer.FHIR.newJsonParser().parseResource(OperationOutcome.class, r.body());
    assertThat(oo.getIssueFirstRep().getSeverity()).isEqualTo(OperationOutcome.IssueSeverity.ERROR);
    assertThat(oo.getIssueFirstRep().getDiagnostics()).contains(diagnostic);
  }

  /** Sends a request head (request line plus headers, Host and Authorization added) and a body, then half-closes. */
  static Raw raw(String head, String body) throws IOException {
    return rawBytes((head + "Host: localhost\r\nAuthorization: " + auth + "\r\n\r\n" + body)
        .getBytes(StandardCharsets.UTF_8), true);
  }

  /** Sends only the head and waits for the answer with the output still open. */
  static Raw rawWithoutBody(String head) throws IOException {
    return rawBytes((head + "Host: localhost\r\nAuthorization: " + auth + "\r\n\r\n")
        .getBytes(StandardCharsets.UTF_8), false);
  }

  /**
   * A server may answer a request it refuses before reading all of it, and close (RFC 9112
   * section 9.6); when that close reaches the client while it is still writing, the write fails
   * and the answer is lost with the connection. Such an exchange is sent again, at most twice:
   * every request here is refused, so nothing is done twice.
   */
  static Raw rawBytes(byte[] request, boolean halfClose) throws IOException {
    for (int attempt = 1; ; attempt++) {
      try {
        return rawBytesOnce(request, halfClose);
      } catch (SocketException e) {
        if (attempt == 3) {
          throw e;
        }
      }
    }
  }

  private static Raw rawBytesOnce(byte[] request, boolean halfClose) throws IOException {
    URI base = URI.create(server.baseUrl());
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      InputStream answer = s.getInputStream();
      // in slices, stopping once an answer has begun: the rest would only be refused unread
      for (int off = 0; off < request.length && answer.available() == 0; off += 16_384) {
        out.write(request, off, Math.min(16_384, request.length - off));
        out.flush();
      }
      if (halfClose) {
        s.shutdownOutput();
      }
      InputStream in = s.getInputStream();
      String statusLine = line(in);
      Map<String, String> headers = new LinkedHashMap<>();
      for (String h = line(in); !h.isEmpty(); h = line(in)) {
        int colon = h.indexOf(':');
        headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
      }
      int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
      String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
      boolean closed;
      try {
        closed = in.read() < 0;
      } catch (IOException e) {
        closed = true;
      }
      return new Raw(Integer.parseInt(statusLine.split(" ")[1]), headers, body, closed);
    }
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0 && c != '\n') {
      if (c != '\r') {
        sb.append((char) c);
      }
    }
    return sb.toString();
  }

  private void awaitLog(java.util.function.Predicate<ILoggingEvent> match, long millis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + millis;
    while (log.list.stream().noneMatch(match) && System.currentTimeMillis() < deadline) {
      Thread.sleep(20);
    }
  }

  static byte[] gzip(byte[] data) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
      out.write(data);
    }
    return bytes.toByteArray();
  }

  private long blobFiles() throws IOException {
    return server.blobFiles(true);
  }
}
