package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirbox.testing.TestBytes.random;
import static org.fhirbox.testing.TestBytes.sha256;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestClock;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Presigned direct uploads in server mode: {@code $upload-url}, then a PUT without credentials. */
class DirectUploadTest {
  static final TestClock CLOCK = new TestClock();
  static TestServer server;
  static TestClient http;
  /** No Authorization header: the signed URL is the only credential. */
  static final HttpClient ANONYMOUS = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(Map.of("FHIRBOX_MAX_BINARY_BYTES", Long.toString(1 << 20)), CLOCK);
    http = server.client();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  record Issued(String binary, String url, String method, Map<String, String> headers) {}

  static Issued issue(String contentType, long size, String sha256, String... more) {
    HttpResponse<String> r = requestUrl(contentType, size, sha256, more);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Parameters p = http.parse(r, Parameters.class);
    Map<String, String> headers = new LinkedHashMap<>();
    p.getParameter("headers").getPart().forEach(part -> headers.put(part.getName(), part.getValue().primitiveValue()));
    return new Issued(((Reference) p.getParameter("binary").getValue()).getReference(),
        p.getParameter("url").getValue().primitiveValue(), p.getParameter("method").getValue().primitiveValue(),
        headers);
  }

  static HttpResponse<String> requestUrl(String contentType, long size, String sha256, String... more) {
    Parameters in = new Parameters();
    if (contentType != null) {
      in.addParameter("contentType", contentType);
    }
    in.addParameter().setName("size").setValue(new IntegerType((int) size));
    if (sha256 != null) {
      in.addParameter("sha256", sha256);
    }
    for (int i = 0; i < more.length; i += 2) {
      in.addParameter(more[i], more[i + 1]);
    }
    return http.postJson("fhir/R4/Binary/$upload-url", http.json(in));
  }

  static HttpResponse<String> put(Issued issued, byte[] body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(issued.url()))
        .PUT(HttpRequest.BodyPublishers.ofByteArray(body));
    issued.headers().forEach(b::header);
    return ANONYMOUS.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A body without Content-Length (chunked), so only the bytes themselves can tell its size. */
  static HttpResponse<String> putChunked(Issued issued, byte[] body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(issued.url()))
        .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)));
    issued.headers().forEach(b::header);
    return ANONYMOUS.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static String diagnostics(HttpResponse<String> r) {
    return http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics();
  }

  static long blobCount() throws IOException {
    return server.blobFiles(false);
  }

  @Test
  void presignedPutCreatesTheReservedBinaryWithoutCredentials() throws Exception {
    byte[] bytes = random(70_000, 1);
    Issued issued = issue("image/png", bytes.length, sha256(bytes), "filename", "scan.png");
    assertThat(issued.method()).isEqualTo("PUT");
    assertThat(issued.headers()).containsExactly(Map.entry("Content-Type", "image/png"));
    assertThat(issued.url()).startsWith(server.baseUrl() + "storage/upload/" + issued.binary().substring(7) + "?");
    assertThat(http.get("fhir/R4/" + issued.binary()).statusCode()).as("nothing exists before the PUT").isEqualTo(404);

    HttpResponse<String> r = put(issued, bytes);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(r.headers().firstValue("Location")).hasValue(server.fhirBase() + "/" + issued.binary() + "/_history/1");

    HttpResponse<byte[]> raw = http.sendBytes(http.request("fhir/R4/" + issued.binary()).GET());
    assertThat(raw.statusCode()).isEqualTo(200);
    assertThat(raw.body()).isEqualTo(bytes);
    assertThat(raw.headers().firstValue("Content-Type")).hasValue("image/png");
    Binary json = http.parse(http.get("fhir/R4/" + issued.binary()), Binary.class);
    assertThat(json.getContentType()).isEqualTo("image/png");
    // the signed file name is kept for downloads, as a raw upload's ?_filename= is
    String download = http.parse(http.get("fhir/R4/" + issued.binary() + "/$presigned-url?download=true"),
        Parameters.class).getParameter("url").getValue().primitiveValue();
    assertThat(send(HttpRequest.newBuilder(URI.create(download))).headers().firstValue("Content-Disposition"))
        .hasValueSatisfying(d -> assertThat(d).contains("scan.png"));
  }

  @Test
  void aSecondPutIsAConflictAndKeepsTheFirstBytes() throws Exception {
    byte[] bytes = "first".getBytes(StandardCharsets.UTF_8);
    Issued issued = issue("text/plain", bytes.length, null);
    assertThat(put(issued, bytes).statusCode()).isEqualTo(201);
    long blobs = blobCount();

    HttpResponse<String> again = put(issued, "other".getBytes(StandardCharsets.UTF_8));
    assertThat(again.statusCode()).isEqualTo(409);
    assertThat(diagnostics(again)).contains("can be used once");
    assertThat(blobCount()).isEqualTo(blobs);
    assertThat(http.sendBytes(http.request("fhir/R4/" + issued.binary()).GET()).body()).isEqualTo(bytes);
  }

  @Test
  void ofTwoRacingPutsExactlyOneCommits() throws Exception {
    byte[] bytes = random(200_000, 8);
    Issued issued = issue("application/octet-stream", bytes.length, sha256(bytes));
    long blobs = blobCount();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<HttpResponse<String>> a = pool.submit(() -> put(issued, bytes));
      Future<HttpResponse<String>> b = pool.submit(() -> put(issued, bytes));
      assertThat(List.of(a.get().statusCode(), b.get().statusCode())).containsExactlyInAnyOrder(201, 409);
    } finally {
      pool.shutdown();
    }
    assertThat(blobCount()).as("the loser's blob is gone").isEqualTo(blobs + 1);
    assertThat(http.sendBytes(http.request("fhir/R4/" + issued.binary()).GET()).body()).isEqualTo(bytes);
  }

  @Test
  void aBodyOfAnotherSizeIsRefusedAndNothingIsStored() throws Exception {
    byte[] bytes = random(5000, 2);
    Issued issued = issue("application/octet-stream", bytes.length, null);
    long blobs = blobCount();

    HttpResponse<String> declared = put(issued, random(4999, 2));
    assertThat(declared.statusCode()).isEqualTo(400);
    assertThat(diagnostics(declared)).contains("Content-Length is 4999");
    HttpResponse<String> longer = putChunked(issued, random(5001, 2));
    assertThat(longer.statusCode()).isEqualTo(400);
    assertThat(diagnostics(longer)).contains("longer than the declared size");
    HttpResponse<String> shorter = putChunked(issued, random(4000, 2));
    assertThat(shorter.statusCode()).isEqualTo(400);
    assertThat(diagnostics(shorter)).contains("4000 bytes, not the declared 5000");

    assertThat(blobCount()).isEqualTo(blobs);
    assertThat(http.get("fhir/R4/" + issued.binary()).statusCode()).isEqualTo(404);
    assertThat(putChunked(issued, bytes).statusCode()).as("the URL was not used up").isEqualTo(201);
  }

  @Test
  void bytesWhoseSha256IsNotTheDeclaredOneAreRefused() throws Exception {
    byte[] bytes = random(3000, 3);
    Issued issued = issue("application/octet-stream", bytes.length, sha256(bytes));
    long blobs = blobCount();
    byte[] other = bytes.clone();
    other[1500] ^= 1;

    HttpResponse<String> r = put(issued, other);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(diagnostics(r)).contains("SHA-256");
    assertThat(blobCount()).isEqualTo(blobs);
    assertThat(http.get("fhir/R4/" + issued.binary()).statusCode()).isEqualTo(404);
  }

  @Test
  void aSha256MayBeGivenInBase64AsS3Carries() throws Exception {
    byte[] bytes = random(100, 9);
    String b64 = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(bytes));
    Issued issued = issue("application/octet-stream", bytes.length, b64);
    assertThat(put(issued, bytes).statusCode()).isEqualTo(201);
  }

  @Test
  void aDeclaredSha1IsSignedAndCheckedBeforeAnythingIsStored() throws Exception {
    byte[] bytes = random(4000, 12);
    byte[] sha1 = MessageDigest.getInstance("SHA-1").digest(bytes);
    Issued issued = issue("application/octet-stream", bytes.length, null, "sha1",
        HexFormat.of().formatHex(sha1));
    assertThat(issued.url()).contains("&Sha1=" + HexFormat.of().formatHex(sha1));
    long blobs = blobCount();

    byte[] other = bytes.clone();
    other[10] ^= 1;
    HttpResponse<String> wrong = put(issued, other);
    assertThat(wrong.statusCode()).isEqualTo(400);
    assertThat(diagnostics(wrong)).contains("another SHA-1 than the declared one").contains("nothing was stored");
    assertThat(blobCount()).isEqualTo(blobs);
    assertThat(http.get("fhir/R4/" + issued.binary()).statusCode()).isEqualTo(404);

    Issued dropped = new Issued(issued.binary(), issued.url().replaceFirst("&Sha1=[0-9a-f]+", ""), "PUT",
        issued.headers());
    assertThat(put(dropped, other).statusCode()).as("the SHA-1 is part of the signature").isEqualTo(403);

    HttpResponse<String> r = put(issued, bytes);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(http.sendBytes(http.request("fhir/R4/" + issued.binary()).GET()).body()).isEqualTo(bytes);
    Issued withBoth = issue("application/octet-stream", bytes.length, sha256(bytes), "sha1",
        Base64.getEncoder().encodeToString(sha1));
    assertThat(put(withBoth, bytes).statusCode()).as("both digests, the SHA-1 in base64 as Attachment.hash has it")
        .isEqualTo(201);
  }

  @Test
  void aSha1ThatIsNoSha1GetsNoUrl() {
    HttpResponse<String> r = requestUrl("application/octet-stream", 10, null, "sha1", "abc");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(diagnostics(r)).contains("sha1 must be 40 hexadecimal digits or 20 bytes in base64");
  }

  @Test
  void deniedContentTypesAndFileNamesGetNoUrl() {
    HttpResponse<String> byType = requestUrl("application/x-msdownload", 10, null);
    assertThat(byType.statusCode()).isEqualTo(400);
    HttpResponse<String> byName = requestUrl("application/octet-stream", 10, null, "filename", "setup.exe");
    assertThat(byName.statusCode()).isEqualTo(400);
    assertThat(diagnostics(byName)).contains(".exe");
  }

  @Test
  void theSignedSecurityContextGuardsTheUploadedBinary() throws Exception {
    assertThat(requestUrl("text/plain", 3, null, "securityContext", "Patient/nobody").statusCode()).isEqualTo(400);
    String patient = TestClient.createdId(http.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    Issued issued = issue("text/plain", 3, null, "securityContext", "Patient/" + patient);
    assertThat(issued.url()).contains("Context=Patient%2F" + patient);
    assertThat(put(issued, "abc".getBytes(StandardCharsets.UTF_8)).statusCode()).isEqualTo(201);
    Binary json = http.parse(http.get("fhir/R4/" + issued.binary()), Binary.class);
    assertThat(json.getSecurityContext().getReference()).isEqualTo("Patient/" + patient);
    Issued otherContext = new Issued(issued.binary(), issued.url().replace("Context=Patient%2F" + patient,
        "Context=Patient%2Fsomeone-else"), "PUT", issued.headers());
    assertThat(put(otherContext, "abc".getBytes(StandardCharsets.UTF_8)).statusCode()).isEqualTo(403);
  }

  @Test
  void declarationsOutsideTheLimitsGetNoUrl() {
    HttpResponse<String> tooLarge = requestUrl("text/plain", (1 << 20) + 1, null);
    assertThat(tooLarge.statusCode()).isEqualTo(413);
    HttpResponse<String> tooLong = requestUrl("text/plain", 10, null, "expiresIn", "3601");
    assertThat(tooLong.statusCode()).isEqualTo(400);
    assertThat(diagnostics(tooLong)).contains("expiresIn");
    HttpResponse<String> noSize = http.postJson("fhir/R4/Binary/$upload-url",
        "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"contentType\",\"valueString\":\"text/plain\"}]}");
    assertThat(noSize.statusCode()).isEqualTo(400);
    HttpResponse<String> badSha = requestUrl("text/plain", 10, "abc");
    assertThat(badSha.statusCode()).isEqualTo(400);
    HttpResponse<String> anonymous = send(HttpRequest.newBuilder(URI.create(server.fhirBase() + "/Binary/$upload-url"))
        .header("Content-Type", "application/fhir+json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Parameters\"}")));
    assertThat(anonymous.statusCode()).isEqualTo(401);
  }

  /** {@code $upload-url} for 10 bytes of text/plain whose {@code name} parameter is written as {@code value}. */
  static HttpResponse<String> requestUrlWith(String name, String value) {
    String size = name.equals("size") ? value : "\"valueInteger\":10";
    String more = name.equals("size") ? "" : ",{\"name\":\"" + name + "\"," + value + "}";
    return http.postJson("fhir/R4/Binary/$upload-url", "{\"resourceType\":\"Parameters\",\"parameter\":["
        + "{\"name\":\"contentType\",\"valueString\":\"text/plain\"},{\"name\":\"size\"," + size + "}" + more + "]}");
  }

  @Test
  void aSizeOrExpiryNotWrittenAsAnIntegerIsRefused() {
    for (String name : List.of("size", "expiresIn")) {
      for (String value : List.of("\"valueDecimal\":5.0", "\"valueDecimal\":2.5", "\"valueString\":\"1e3\"",
          "\"valueString\":\"5.0\"", "\"valueString\":\"05\"", "\"valueString\":\" 5\"")) {
        HttpResponse<String> r = requestUrlWith(name, value);
        assertThat(r.statusCode()).as(name + " " + value + ": " + r.body()).isEqualTo(400);
        assertThat(diagnostics(r)).as(value).contains(name, "integer");
      }
    }
  }

  @Test
  void aSizeOrExpiryWrittenAsAnR4IntegerIsRead() {
    // R4 integer: [0]|[-+]?[1-9][0-9]*, the form of valueInteger (and of a valueString or a
    // valueDecimal that carries a whole number, as a size beyond 2^31 does)
    assertThat(requestUrlWith("expiresIn", "\"valueString\":\"+60\"").statusCode()).isEqualTo(200);
    assertThat(requestUrlWith("expiresIn", "\"valueDecimal\":60").statusCode()).isEqualTo(200);
    HttpResponse<String> large = requestUrlWith("size", "\"valueDecimal\":3000000000");
    assertThat(large.statusCode()).as("read, and over the limit").isEqualTo(413);
  }

  @Test
  void aCallerWhoMayNotCreateBinariesGetsNoUrl() {
    TestClient reader = new ProjectClients(server).client("readers", "system/Binary.read");
    HttpResponse<String> r = reader.postJson("fhir/R4/Binary/$upload-url", http.json(new Parameters()
        .addParameter("contentType", "text/plain").addParameter("size", "3")));
    assertThat(r.statusCode()).isEqualTo(403);
  }

  @Test
  void aChangedUrlOrContentTypeIsRefused() throws Exception {
    byte[] bytes = random(10, 4);
    Issued issued = issue("text/plain", bytes.length, null);
    Issued bigger = new Issued(issued.binary(), issued.url().replace("Size=10", "Size=11"), "PUT", issued.headers());
    assertThat(put(bigger, random(11, 4)).statusCode()).isEqualTo(403);
    Issued otherType = new Issued(issued.binary(), issued.url().replace("Type=text%2Fplain", "Type=text%2Fhtml"),
        "PUT", Map.of("Content-Type", "text/html"));
    assertThat(put(otherType, bytes).statusCode()).isEqualTo(403);
    String otherId = issued.url().replaceFirst("/storage/upload/[^?]+", "/storage/upload/another-id");
    assertThat(put(new Issued(issued.binary(), otherId, "PUT", issued.headers()), bytes).statusCode())
        .isEqualTo(403);
    HttpResponse<String> wrongHeader = put(new Issued(issued.binary(), issued.url(), "PUT",
        Map.of("Content-Type", "text/html")), bytes);
    assertThat(wrongHeader.statusCode()).isEqualTo(400);
    assertThat(diagnostics(wrongHeader)).contains("Content-Type: text/plain");
    assertThat(put(issued, bytes).statusCode()).isEqualTo(201);
  }

  @Test
  void aPutUrlRefusesOtherMethodsAndStoresNothing() throws Exception {
    byte[] bytes = random(500, 10);
    Issued issued = issue("application/octet-stream", bytes.length, sha256(bytes));
    long blobs = blobCount();

    HttpResponse<String> get = send(HttpRequest.newBuilder(URI.create(issued.url())).GET());
    assertThat(get.statusCode()).as(get.body()).isEqualTo(405);
    assertThat(diagnostics(get)).contains("GET").contains("PUT");
    assertThat(get.headers().firstValue("Allow")).hasValue("PUT");
    HttpResponse<String> post = send(HttpRequest.newBuilder(URI.create(issued.url()))
        .header("Content-Type", "application/octet-stream").POST(HttpRequest.BodyPublishers.ofByteArray(bytes)));
    assertThat(post.statusCode()).as(post.body()).isEqualTo(405);
    assertThat(diagnostics(post)).contains("takes the bytes with PUT");
    assertThat(post.headers().firstValue("Allow")).hasValue("PUT");
    // Naming a blob would make it a confirmation URL, whose signature covers POST instead of PUT.
    HttpResponse<String> asConfirmation = send(HttpRequest.newBuilder(
        URI.create(issued.url() + "&Blob=" + "a".repeat(32))).POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(asConfirmation.statusCode()).as(asConfirmation.body()).isEqualTo(403);
    assertThat(diagnostics(asConfirmation)).contains("signature does not match");
    HttpResponse<String> twice = put(new Issued(issued.binary(), issued.url() + "&Size=1", "PUT",
        issued.headers()), bytes);
    assertThat(twice.statusCode()).as(twice.body()).isEqualTo(403);
    assertThat(diagnostics(twice)).contains("Size more than once");

    assertThat(blobCount()).isEqualTo(blobs);
    assertThat(http.get("fhir/R4/" + issued.binary()).statusCode()).as("nothing stored").isEqualTo(404);
    assertThat(put(issued, bytes).statusCode()).as("the URL was not used up").isEqualTo(201);
    assertThat(http.sendBytes(http.request("fhir/R4/" + issued.binary()).GET()).body()).isEqualTo(bytes);
  }

  @Test
  void anExpiredUrlIsGoneAndLeavesNothing() throws Exception {
    byte[] bytes = random(10, 5);
    Issued issued = issue("text/plain", bytes.length, null, "expiresIn", "60");
    long blobs = blobCount();
    CLOCK.advance(Duration.ofSeconds(61));
    HttpResponse<String> r = put(issued, bytes);
    assertThat(r.statusCode()).isEqualTo(410);
    assertThat(blobCount()).isEqualTo(blobs);
    assertThat(http.get("fhir/R4/" + issued.binary()).statusCode()).isEqualTo(404);
  }

  /**
   * An ordinary signed URL (no share link) is a bearer credential for its version until it expires,
   * at most 1.1 × FHIRBOX_SIGNED_URL_TTL after it was made: a delete of the Binary does not end it.
   */
  @Test
  void anOrdinarySignedUrlOutlivesADeleteUntilItExpires() {
    String id = TestClient.createdId(http.postBytes("fhir/R4/Binary", "text/plain", "kept".getBytes()));
    String url = http.parse(http.get("fhir/R4/Binary/" + id + "/$presigned-url"), Parameters.class)
        .getParameter("url").getValue().primitiveValue();
    assertThat(url).doesNotContain("Share=");
    long left = Long.parseLong(url.replaceFirst(".*[?&]Expires=(\\d+).*", "$1")) - CLOCK.instant().getEpochSecond();
    assertThat(left).as("TTL 3600 s, rounded up to a tenth of it").isBetween(3600L, 3960L);
    assertThat(http.delete("fhir/R4/Binary/" + id).statusCode()).isEqualTo(200);
    CLOCK.advance(Duration.ofSeconds(left - 1));
    HttpResponse<String> served = send(HttpRequest.newBuilder(URI.create(url)));
    assertThat(served.statusCode()).isEqualTo(200);
    assertThat(served.body()).isEqualTo("kept");
    CLOCK.advance(Duration.ofSeconds(1));
    HttpResponse<String> expired = send(HttpRequest.newBuilder(URI.create(url)));
    assertThat(expired.statusCode()).isEqualTo(410);
    assertThat(http.parse(expired, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains("expired");
  }

  /**
   * Under a clock that stands still, two versions share their one-second Last-Modified: on the
   * unversioned URL an If-Range date must not validate a range of the newer one (RFC 9110 §13.1.5
   * takes a date only as a strong validator), or a resumed download would splice the two; the
   * entity tag tells them apart, and a version's own URL, whose bytes never change, takes the date.
   */
  @Test
  void anIfRangeDateOnTheUnversionedUrlSendsTheWholeContent() {
    String id = TestClient.createdId(http.postBytes("fhir/R4/Binary", "text/plain", "aaaaaaaa".getBytes()));
    String path = "fhir/R4/Binary/" + id;
    HttpResponse<byte[]> first = http.sendBytes(http.request(path).header("Accept", "*/*"));
    String lastModified = first.headers().firstValue("Last-Modified").orElseThrow();
    HttpResponse<String> put = http.send(http.request(path).header("Content-Type", "text/plain")
        .PUT(HttpRequest.BodyPublishers.ofString("bbbbbbbb")));
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);

    HttpResponse<byte[]> byDate = http.sendBytes(http.request(path).header("Accept", "*/*")
        .header("Range", "bytes=4-").header("If-Range", lastModified));
    assertThat(byDate.headers().firstValue("Last-Modified")).as("the same second").hasValue(lastModified);
    assertThat(byDate.statusCode()).isEqualTo(200);
    assertThat(new String(byDate.body(), StandardCharsets.UTF_8)).isEqualTo("bbbbbbbb");
    HttpResponse<byte[]> byTag = http.sendBytes(http.request(path).header("Accept", "*/*")
        .header("Range", "bytes=4-").header("If-Range", first.headers().firstValue("ETag").orElseThrow()));
    assertThat(byTag.statusCode()).isEqualTo(200);
    HttpResponse<byte[]> current = http.sendBytes(http.request(path).header("Accept", "*/*")
        .header("Range", "bytes=4-").header("If-Range", byDate.headers().firstValue("ETag").orElseThrow()));
    assertThat(current.statusCode()).isEqualTo(206);
    HttpResponse<byte[]> version = http.sendBytes(http.request(path + "/_history/2").header("Accept", "*/*")
        .header("Range", "bytes=4-").header("If-Range", lastModified));
    assertThat(version.statusCode()).as("a version's own URL").isEqualTo(206);
    assertThat(new String(version.body(), StandardCharsets.UTF_8)).isEqualTo("bbbb");
  }

  /**
   * The same standing clock: on the unversioned URL a one-second date cannot tell the two versions
   * apart (RFC 9110 §8.8.2.2: a date is a weak validator unless known to be strong). So an
   * If-Modified-Since with the older version's Last-Modified gets the newer bytes, not a 304 that
   * would keep the older ones in the client's cache, and an If-Unmodified-Since with it is 412, not a
   * range of the newer bytes resumed onto the older ones; a later date still gets its 304, and a
   * version's own URL, whose bytes never change, takes either date. While there is one version, its
   * own date validates on the unversioned URL too.
   */
  @Test
  void aDateOnTheUnversionedUrlDoesNotHideANewerVersionOfTheSameSecond() {
    String id = TestClient.createdId(http.postBytes("fhir/R4/Binary", "text/plain", "aaaaaaaa".getBytes()));
    String path = "fhir/R4/Binary/" + id;
    String lastModified = http.sendBytes(http.request(path).header("Accept", "*/*"))
        .headers().firstValue("Last-Modified").orElseThrow();
    // while the Binary has one version, no other can have come before it in that second
    assertThat(http.sendBytes(http.request(path).header("Accept", "*/*").header("If-Modified-Since", lastModified))
        .statusCode()).as("the only version, its own date").isEqualTo(304);
    HttpResponse<byte[]> first = http.sendBytes(http.request(path).header("Accept", "*/*")
        .header("Range", "bytes=4-").header("If-Unmodified-Since", lastModified));
    assertThat(first.statusCode()).as("the only version, its own date").isEqualTo(206);
    assertThat(new String(first.body(), StandardCharsets.UTF_8)).isEqualTo("aaaa");
    HttpResponse<String> put = http.send(http.request(path).header("Content-Type", "text/plain")
        .PUT(HttpRequest.BodyPublishers.ofString("bbbbbbbb")));
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);

    HttpResponse<byte[]> sinceDate = http.sendBytes(http.request(path).header("Accept", "*/*")
        .header("If-Modified-Since", lastModified));
    assertThat(sinceDate.headers().firstValue("Last-Modified")).as("the same second").hasValue(lastModified);
    assertThat(sinceDate.statusCode()).isEqualTo(200);
    assertThat(new String(sinceDate.body(), StandardCharsets.UTF_8)).isEqualTo("bbbbbbbb");
    HttpResponse<byte[]> resumed = http.sendBytes(http.request(path).header("Accept", "*/*")
        .header("Range", "bytes=4-").header("If-Unmodified-Since", lastModified));
    assertThat(resumed.statusCode()).isEqualTo(412);
    String nextSecond = StorageResponder.IMF_FIXDATE.format(
        StorageResponder.IMF_FIXDATE.parse(lastModified, Instant::from).plusSeconds(1));
    assertThat(http.sendBytes(http.request(path).header("Accept", "*/*").header("If-Modified-Since", nextSecond))
        .statusCode()).as("a later date").isEqualTo(304);

    assertThat(http.sendBytes(http.request(path + "/_history/2").header("Accept", "*/*")
        .header("If-Modified-Since", lastModified)).statusCode()).as("a version's own URL").isEqualTo(304);
    HttpResponse<byte[]> version = http.sendBytes(http.request(path + "/_history/1").header("Accept", "*/*")
        .header("Range", "bytes=4-").header("If-Unmodified-Since", lastModified));
    assertThat(version.statusCode()).as("a version's own URL").isEqualTo(206);
    assertThat(new String(version.body(), StandardCharsets.UTF_8)).isEqualTo("aaaa");
  }

  @Test
  void medplumsUploadUrlStoresTheNextVersionOfAnExistingBinaryOnce() throws Exception {
    // As Medplum's own test of the operation: a Binary without content, then its upload URL.
    String id = TestClient.createdId(http.postJson("fhir/R4/Binary",
        "{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\"}"));
    HttpResponse<String> r = http.get("fhir/R4/Binary/" + id + "/$presigned-url?upload=true");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).contains("\"valueUri\"");
    String url = http.parse(r, Parameters.class).getParameterFirstRep().getValue().primitiveValue();
    Issued issued = new Issued("Binary/" + id, url, "PUT", Map.of("Content-Type", "text/plain"));

    HttpResponse<String> put = put(issued, "foo bar baz quux".getBytes(StandardCharsets.UTF_8));
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    assertThat(put.headers().firstValue("ETag")).hasValue("W/\"2\"");
    assertThat(new String(http.sendBytes(http.request("fhir/R4/Binary/" + id).GET()).body(), StandardCharsets.UTF_8))
        .isEqualTo("foo bar baz quux");
    assertThat(put(issued, "again".getBytes(StandardCharsets.UTF_8)).statusCode()).isEqualTo(409);
    assertThat(new String(http.sendBytes(http.request("fhir/R4/Binary/" + id).GET()).body(), StandardCharsets.UTF_8))
        .isEqualTo("foo bar baz quux");
  }

  @Test
  void medplumsUploadUrlNeedsBinaryUpdate() {
    TestClient creator = new ProjectClients(server).client("creators", "system/Binary.cr");
    String id = TestClient.createdId(creator.postJson("fhir/R4/Binary",
        "{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\"}"));
    assertThat(creator.get("fhir/R4/Binary/" + id + "/$presigned-url?upload=true").statusCode()).isEqualTo(403);
    assertThat(http.get("fhir/R4/Binary/" + id + "/$presigned-url?upload=true").statusCode())
        .as("another project's Binary").isEqualTo(404);
  }

  @Test
  void medplumsUploadUrlNeedsReadAccessToTheVersionItReplaces() throws Exception {
    ProjectClients.ChartedBinary charted = new ProjectClients(server).chartedBinary("replacing",
        "fhir/R4/Binary?_filename=result-jane-doe.pdf", "application/pdf", "%PDF-1.7".getBytes(StandardCharsets.UTF_8));
    TestClient clinician = charted.clinician();
    TestClient binariesOnly = charted.binariesOnly();
    String patient = charted.patient();
    String id = charted.binaryId();

    HttpResponse<String> r = binariesOnly.get("fhir/R4/Binary/" + id + "/$presigned-url?upload=true");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
    assertThat(diagnostics(r)).startsWith("no read access to Binary/" + id);
    assertThat(r.body()).doesNotContain(patient, "result-jane-doe", "application/pdf");
    assertThat(clinician.get("fhir/R4/Binary/" + id + "/$presigned-url?upload=true").statusCode()).isEqualTo(200);
  }

  @Test
  void aParameterNamedTwiceGetsNoUrl() {
    HttpResponse<String> r = http.postJson("fhir/R4/Binary/$upload-url", "{\"resourceType\":\"Parameters\","
        + "\"parameter\":[{\"name\":\"size\",\"valueInteger\":5},{\"name\":\"size\",\"valueInteger\":6}]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(diagnostics(r)).contains("'size'", "more than once");
  }

  @Test
  void aContentTypeThatNoHeaderCanCarryGetsNoUrl() {
    // the PUT must send the signed type as its Content-Type, and reads serve it as one
    for (String type : List.of("text/plain\r\nX-Injected: 1", "text/pl\u00e4in")) {
      HttpResponse<String> r = requestUrl(type, 3, null);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
      assertThat(diagnostics(r)).contains("contentType", "printable ASCII");
    }
  }

  @Test
  void aFileNameIsCountedInCharactersNotUtf16Units() throws Exception {
    String name = "\ud83d\ude00".repeat(251) + ".txt"; // 255 characters, 506 UTF-16 units
    Issued issued = issue("text/plain", 3, null, "filename", name);
    assertThat(put(issued, "abc".getBytes(StandardCharsets.UTF_8)).statusCode()).isEqualTo(201);
    HttpResponse<String> refused = requestUrl("text/plain", 3, null, "filename", "\ud83d\ude00" + name);
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
    assertThat(diagnostics(refused)).contains("has 256 characters; at most 255");
  }

  @Test
  void presignedUrlFlagsAreTrueOrFalse() {
    String id = TestClient.createdId(http.postJson("fhir/R4/Binary",
        "{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\",\"data\":\"aGk=\"}"));
    // upload=1 answered with a download URL would leave its client PUTting to a URL that takes no PUT
    for (String query : List.of("upload=1", "upload=yes", "upload=TRUE", "thumbnail=1")) {
      HttpResponse<String> r = http.get("fhir/R4/Binary/" + id + "/$presigned-url?" + query);
      assertThat(r.statusCode()).as(query + ": " + r.body()).isEqualTo(400);
      assertThat(diagnostics(r)).contains(query.substring(0, query.indexOf('=')), "true or false");
    }
    assertThat(http.get("fhir/R4/Binary/" + id + "/$presigned-url?upload=false").statusCode()).isEqualTo(200);
  }

  static HttpResponse<String> send(HttpRequest.Builder b) {
    try {
      return ANONYMOUS.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
