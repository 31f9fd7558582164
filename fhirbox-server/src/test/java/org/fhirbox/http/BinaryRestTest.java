package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirbox.testing.TestBytes.random;
import static org.fhirbox.testing.TestBytes.sha256;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.fhirbox.binary.OrphanSweeper;
import org.fhirbox.testing.AheadClock;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestBytes;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.Tus;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Binary over HTTP (FHIR R4 binary.html#rest): raw upload and download, versions, limits. */
class BinaryRestTest {
  static TestServer server;
  static TestClient http;
  /** The sweeper test moves the server's clock on. */
  static final AheadClock clock = new AheadClock();

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(Map.of("FHIRBOX_MAX_BINARY_BYTES", Long.toString(2L << 20),
        "FHIRBOX_ORPHAN_GRACE", "1200"), clock);
    http = server.client();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static Binary upload(byte[] body, String contentType, String query) {
    HttpResponse<String> r = http.postBytes("fhir/R4/Binary" + query, contentType, body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return http.parse(r, Binary.class);
  }

  HttpResponse<byte[]> raw(String path) {
    return http.sendBytes(http.request(path).header("Accept", "*/*"));
  }

  @Test
  void aBlankSecurityContextHeaderIsRefusedRatherThanTakenForNone() {
    // "X-Security-Context: $CTX" with CTX unset would otherwise store a Binary nobody meant unguarded
    int before = http.parse(http.get("fhir/R4/Binary?_summary=count"), Bundle.class).getTotal();
    for (String blank : List.of("", " ")) {
      HttpResponse<String> r = http.send(http.request("fhir/R4/Binary").header("Content-Type", "text/plain")
          .header("X-Security-Context", blank).POST(HttpRequest.BodyPublishers.ofString("unguarded?")));

      assertThat(r.statusCode()).as("'" + blank + "'").isEqualTo(400);
      assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
          .contains("X-Security-Context is empty");
    }
    assertThat(http.parse(http.get("fhir/R4/Binary?_summary=count"), Bundle.class).getTotal()).isEqualTo(before);
  }

  @Test
  void rawUploadRoundTripsBytesAndHeaders() throws Exception {
    byte[] body = random(300_000, 1);
    assertThat(http.putJson("fhir/R4/Patient/p1", "{\"resourceType\":\"Patient\",\"id\":\"p1\"}").statusCode())
        .isIn(200, 201);
    HttpResponse<String> created = http.send(http.request("fhir/R4/Binary?_filename=scan.pdf")
        .header("Content-Type", "application/pdf").header("X-Security-Context", "Patient/p1")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    assertThat(created.statusCode()).isEqualTo(201);
    assertThat(created.body()).doesNotContain("\"data\"");
    Binary b = http.parse(created, Binary.class);
    assertThat(b.getContentType()).isEqualTo("application/pdf");
    assertThat(b.getSecurityContext().getReference()).isEqualTo("Patient/p1");
    assertThat(created.headers().firstValue("ETag")).hasValue("W/\"1\"");

    HttpResponse<byte[]> down = raw("fhir/R4/Binary/" + b.getIdElement().getIdPart());
    assertThat(down.statusCode()).isEqualTo(200);
    assertThat(sha256(down.body())).isEqualTo(sha256(body));
    assertThat(down.headers().firstValue("Content-Type")).hasValue("application/pdf");
    assertThat(down.headers().firstValue("Content-Length")).hasValue("300000");
    assertThat(down.headers().firstValue("X-Security-Context")).hasValue("Patient/p1");
    assertThat(down.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
    assertThat(down.headers().firstValue("ETag")).isPresent();
    assertThat(down.headers().firstValue("Last-Modified")).isPresent();
    assertThat(down.headers().firstValue("Content-Disposition").orElseThrow()).contains("scan.pdf");
  }

  static String diagnostics(HttpResponse<String> r) {
    return http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics();
  }

  /**
   * New bytes over a Binary follow its securityContext (FHIR R4 binary.html#security): a writer
   * that may not read the current version gets the answer a read gets, on every path that replaces
   * them, and a new version whose request names no securityContext keeps the current one.
   */
  @Test
  void replacingABinarysBytesNeedsReadAccessAndKeepsItsSecurityContext() throws Exception {
    ProjectClients.ChartedBinary charted = new ProjectClients(server).chartedBinary("replace-bytes",
        "fhir/R4/Binary", "text/plain", "v1".getBytes(StandardCharsets.UTF_8));
    TestClient clinician = charted.clinician();
    TestClient binariesOnly = charted.binariesOnly();
    String patient = charted.patient();
    String id = charted.binaryId();

    HttpResponse<String> refused = binariesOnly.send(binariesOnly.request("fhir/R4/Binary/" + id)
        .header("Content-Type", "text/plain").PUT(HttpRequest.BodyPublishers.ofString("not theirs")));
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(403);
    assertThat(binariesOnly.parse(refused, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .startsWith("no read access to Binary/" + id);
    HttpResponse<String> resumable = new Tus(binariesOnly).create(2, Tus.metadata("binaryId", id));
    assertThat(resumable.statusCode()).as(resumable.body()).isEqualTo(403);
    assertThat(clinician.sendBytes(clinician.request("fhir/R4/Binary/" + id).header("Accept", "*/*")).body())
        .isEqualTo("v1".getBytes(StandardCharsets.UTF_8));

    HttpResponse<String> kept = clinician.send(clinician.request("fhir/R4/Binary/" + id)
        .header("Content-Type", "text/plain").PUT(HttpRequest.BodyPublishers.ofString("v2")));
    assertThat(kept.statusCode()).as(kept.body()).isEqualTo(200);
    assertThat(clinician.parse(kept, Binary.class).getSecurityContext().getReference())
        .isEqualTo("Patient/" + patient);
    Tus tus = new Tus(clinician);
    HttpResponse<String> last = tus.patch(tus.upload(2, Tus.metadata("binaryId", id)), 0, "v3".getBytes());
    assertThat(last.statusCode()).as(last.body()).isEqualTo(204);
    assertThat(clinician.parse(clinician.get("fhir/R4/" + Tus.binaryVersion(last)), Binary.class)
        .getSecurityContext().getReference()).isEqualTo("Patient/" + patient);
  }

  /**
   * A FHIR JSON update that carries data replaces a Binary's bytes as a raw PUT does: single or as
   * a transaction entry, a writer that may not read the current version gets the answer a read
   * gets, and the content stays as it was.
   */
  @Test
  void jsonUpdateWithDataNeedsReadAccessToTheCurrentVersion() throws Exception {
    ProjectClients.ChartedBinary charted = new ProjectClients(server).chartedBinary("json-replace",
        "fhir/R4/Binary", "text/plain", "v1".getBytes(StandardCharsets.UTF_8));
    TestClient clinician = charted.clinician();
    TestClient binariesOnly = charted.binariesOnly();
    String patient = charted.patient();
    String id = charted.binaryId();
    String body = "{\"resourceType\":\"Binary\",\"id\":\"" + id + "\",\"contentType\":\"text/plain\","
        + "\"data\":\"" + Base64.getEncoder().encodeToString("not theirs".getBytes(StandardCharsets.UTF_8)) + "\"}";

    HttpResponse<String> single = binariesOnly.putJson("fhir/R4/Binary/" + id, body);
    assertThat(single.statusCode()).as(single.body()).isEqualTo(403);
    assertThat(binariesOnly.parse(single, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .startsWith("no read access to Binary/" + id);
    HttpResponse<String> bundled = binariesOnly.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":"
        + "\"transaction\",\"entry\":[{\"resource\":" + body + ",\"request\":{\"method\":\"PUT\",\"url\":"
        + "\"Binary/" + id + "\"}}]}");
    assertThat(bundled.statusCode()).as(bundled.body()).isEqualTo(403);
    assertThat(clinician.sendBytes(clinician.request("fhir/R4/Binary/" + id).header("Accept", "*/*")).body())
        .isEqualTo("v1".getBytes(StandardCharsets.UTF_8));

    HttpResponse<String> reader = clinician.putJson("fhir/R4/Binary/" + id, body);
    assertThat(reader.statusCode()).as(reader.body()).isEqualTo(200);
  }

  /**
   * A Binary whose securityContext names a deleted resource can no longer be read by anyone; a
   * caller without a patient limit that may read the resource a new securityContext names moves it
   * there, with new bytes, as it did before that resource was deleted.
   */
  @Test
  void aNewSecurityContextMovesABinaryOffADeletedResource() throws Exception {
    TestClient admin = new ProjectClients(server).client("moved-context", "system/*.cruds");
    String old = TestClient.createdId(admin.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    String now = TestClient.createdId(admin.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    String id = admin.createBinary("fhir/R4/Binary", "text/plain", "Patient/" + old,
        "v1".getBytes(StandardCharsets.UTF_8));
    assertThat(admin.delete("fhir/R4/Patient/" + old).statusCode()).isIn(200, 204);

    HttpResponse<String> moved = admin.send(admin.request("fhir/R4/Binary/" + id).header("Content-Type", "text/plain")
        .header("X-Security-Context", "Patient/" + now).PUT(HttpRequest.BodyPublishers.ofString("v2")));
    assertThat(moved.statusCode()).as(moved.body()).isEqualTo(200);
    assertThat(admin.parse(moved, Binary.class).getSecurityContext().getReference()).isEqualTo("Patient/" + now);
    assertThat(admin.sendBytes(admin.request("fhir/R4/Binary/" + id).header("Accept", "*/*")).body())
        .isEqualTo("v2".getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void fhirAcceptGivesTheBinaryJsonWithoutData() {
    Binary b = upload(random(1000, 2), "image/png", "");
    HttpResponse<String> json = http.get("fhir/R4/Binary/" + b.getIdElement().getIdPart());
    assertThat(json.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/fhir+json");
    assertThat(json.body()).contains("\"resourceType\":\"Binary\"").contains("\"contentType\":\"image/png\"")
        .doesNotContain("\"data\"");
    HttpResponse<String> viaFormat = http.send(http.request("fhir/R4/Binary/" + b.getIdElement().getIdPart()
        + "?_format=json").header("Accept", "*/*"));
    assertThat(viaFormat.body()).contains("\"resourceType\":\"Binary\"");
    // one URL, two representations by Accept (RFC 9110 §12.5.5), and its date as IMF-fixdate (§5.6.7)
    assertThat(json.headers().allValues("Vary")).contains("Accept");
    assertThat(raw("fhir/R4/Binary/" + b.getIdElement().getIdPart()).headers().allValues("Vary")).contains("Accept");
    assertThat(json.headers().firstValue("Last-Modified").orElseThrow())
        .matches("[A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT");
  }

  @Test
  void theContentOrItsFhirFormFollowTheAcceptQualities() {
    String id = upload("plain words".getBytes(StandardCharsets.UTF_8), "text/plain", "").getIdElement().getIdPart();
    Map<String, String> expected = new java.util.LinkedHashMap<>();
    expected.put("application/fhir+json;q=0, */*", "text/plain");
    expected.put("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
        "text/plain");
    expected.put("application/fhir+json;q=0.9, */*;q=0.8", "application/fhir+json");
    expected.put("application/fhir+json, */*;q=0.1", "application/fhir+json");
    expected.put("application/json, text/plain, */*", "application/fhir+json");
    expected.forEach((accept, type) -> {
      HttpResponse<String> r = http.send(http.request("fhir/R4/Binary/" + id).header("Accept", accept).GET());
      assertThat(r.headers().firstValue("Content-Type").orElseThrow()).as(accept).startsWith(type);
    });
  }

  @Test
  void aStoredTypeThatABrowserWouldReadAsAnotherIsServedAsOctets() {
    // a comma in a quoted parameter is a media type (RFC 9110 §5.6.4) that a browser may still split
    Binary b = upload(random(100, 20), "image/png;x=\",text/html\"", "");
    HttpResponse<byte[]> got = raw("fhir/R4/Binary/" + b.getIdElement().getIdPart());
    assertThat(got.statusCode()).isEqualTo(200);
    assertThat(got.headers().firstValue("Content-Type")).hasValue("application/octet-stream");
  }

  @Test
  void missingContentTypeIsStoredAsOctetStream() {
    HttpResponse<String> r = http.send(http.request("fhir/R4/Binary")
        .POST(HttpRequest.BodyPublishers.ofByteArray(random(10, 3))));
    assertThat(r.statusCode()).isEqualTo(201);
    assertThat(http.parse(r, Binary.class).getContentType()).isEqualTo("application/octet-stream");
  }

  @Test
  void gzipAndDeflateBodiesAreStoredDecoded() throws Exception {
    byte[] body = "hello, compressed world\n".repeat(1000).getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
      out.write(body);
    }
    HttpResponse<String> r = http.send(http.request("fhir/R4/Binary").header("Content-Type", "text/plain")
        .header("Content-Encoding", "gzip").POST(HttpRequest.BodyPublishers.ofByteArray(gz.toByteArray())));
    assertThat(r.statusCode()).isEqualTo(201);
    byte[] back = raw("fhir/R4/Binary/" + http.parse(r, Binary.class).getIdElement().getIdPart()).body();
    assertThat(back).isEqualTo(body);
    HttpResponse<String> bad = http.send(http.request("fhir/R4/Binary").header("Content-Type", "text/plain")
        .header("Content-Encoding", "gzip").POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    assertThat(bad.statusCode()).isEqualTo(400);
  }

  @Test
  void eachVersionKeepsItsOwnBytes() {
    Binary b = upload("version one".getBytes(StandardCharsets.UTF_8), "text/plain", "");
    String id = b.getIdElement().getIdPart();
    HttpResponse<String> upd = http.send(http.request("fhir/R4/Binary/" + id).header("Content-Type", "text/plain")
        .PUT(HttpRequest.BodyPublishers.ofString("version two")));
    assertThat(upd.statusCode()).isEqualTo(200);
    assertThat(new String(raw("fhir/R4/Binary/" + id).body(), StandardCharsets.UTF_8)).isEqualTo("version two");
    assertThat(new String(raw("fhir/R4/Binary/" + id + "/_history/1").body(), StandardCharsets.UTF_8))
        .isEqualTo("version one");
  }

  @Test
  void aBinaryJsonWithoutDataAndNoBytesToKeepIsRefused() {
    String fresh = "{\"resourceType\":\"Binary\",\"id\":\"nodata1\",\"contentType\":\"text/plain\"}";
    HttpResponse<String> created = http.putJson("fhir/R4/Binary/nodata1", fresh);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(400);
    assertThat(created.body()).contains("OperationOutcome").contains("no content to keep");

    String id = upload(random(100, 19), "text/plain", "").getIdElement().getIdPart();
    assertThat(http.delete("fhir/R4/Binary/" + id).statusCode()).isEqualTo(200);
    HttpResponse<String> afterDelete = http.putJson("fhir/R4/Binary/" + id,
        "{\"resourceType\":\"Binary\",\"id\":\"" + id + "\",\"contentType\":\"text/plain\"}");
    assertThat(afterDelete.statusCode()).as(afterDelete.body()).isEqualTo(400);
    assertThat(http.get("fhir/R4/Binary/" + id).statusCode()).as("still deleted").isEqualTo(410);
  }

  /**
   * The content's strong ETag names the blob the bytes were stored in: the same on every read and
   * on a version that keeps the bytes (a JSON update without data), another one for bytes stored
   * again, even the same bytes, and for the old version's bytes as before; a conditional GET with
   * it answers 304, a Range request under If-Range with it 206.
   */
  @Test
  void theContentEtagNamesTheStoredBlob() {
    byte[] body = random(5000, 9);
    String id = upload(body, "application/pdf", "").getIdElement().getIdPart();
    String etag = raw("fhir/R4/Binary/" + id).headers().firstValue("ETag").orElseThrow();
    assertThat(etag).matches(TestBytes.BLOB_ETAG);
    assertThat(raw("fhir/R4/Binary/" + id).headers().firstValue("ETag")).as("read again").hasValue(etag);

    HttpResponse<String> keep = http.putJson("fhir/R4/Binary/" + id,
        "{\"resourceType\":\"Binary\",\"id\":\"" + id + "\",\"contentType\":\"application/pdf\"}");
    assertThat(keep.statusCode()).as(keep.body()).isEqualTo(200);
    HttpResponse<byte[]> v2 = raw("fhir/R4/Binary/" + id + "/_history/2");
    assertThat(v2.body()).isEqualTo(body);
    assertThat(v2.headers().firstValue("ETag")).as("a version that keeps the bytes").hasValue(etag);
    // the same bytes served as another type are another representation: a cache must not keep the old one
    HttpResponse<String> retyped = http.putJson("fhir/R4/Binary/" + id,
        "{\"resourceType\":\"Binary\",\"id\":\"" + id + "\",\"contentType\":\"text/plain\"}");
    assertThat(retyped.statusCode()).as(retyped.body()).isEqualTo(200);
    HttpResponse<byte[]> fresh = http.sendBytes(http.request("fhir/R4/Binary/" + id).header("Accept", "*/*")
        .header("If-None-Match", etag));
    assertThat(fresh.statusCode()).isEqualTo(200);
    assertThat(fresh.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/plain");
    assertThat(fresh.headers().firstValue("ETag").orElseThrow()).matches(TestBytes.BLOB_ETAG).isNotEqualTo(etag)
        .startsWith(etag.substring(0, 33));

    HttpResponse<String> again = http.send(http.request("fhir/R4/Binary/" + id).header("Content-Type", "application/pdf")
        .PUT(HttpRequest.BodyPublishers.ofByteArray(body)));
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(again.body()).contains("\"versionId\":\"4\"");
    HttpResponse<byte[]> v3 = raw("fhir/R4/Binary/" + id);
    assertThat(v3.body()).isEqualTo(body);
    assertThat(v3.headers().firstValue("ETag").orElseThrow()).as("the same bytes stored again")
        .matches(TestBytes.BLOB_ETAG).isNotEqualTo(etag);
    assertThat(raw("fhir/R4/Binary/" + id + "/_history/1").headers().firstValue("ETag")).hasValue(etag);

    HttpResponse<byte[]> cached = http.sendBytes(http.request("fhir/R4/Binary/" + id + "/_history/1")
        .header("Accept", "*/*").header("If-None-Match", etag));
    assertThat(cached.statusCode()).isEqualTo(304);
    HttpResponse<byte[]> part = http.sendBytes(http.request("fhir/R4/Binary/" + id + "/_history/1")
        .header("Accept", "*/*").header("Range", "bytes=0-9").header("If-Range", etag));
    assertThat(part.statusCode()).isEqualTo(206);
    assertThat(part.body()).isEqualTo(Arrays.copyOf(body, 10));
  }

  /** Lost content is data loss: GET and HEAD agree on a 500 that names it, raw and signed alike. */
  @Test
  void aBinaryWhoseBlobIsGoneAnswersTheSameErrorToGetAndHead() throws Exception {
    HttpResponse<String> created = http.postBytes("fhir/R4/Binary", "application/pdf", random(2000, 11));
    String id = TestClient.createdId(created);
    String signed = new ObjectMapper().readTree(created.body()).get("url").asText();
    String path = "fhir/R4/Binary/" + id;
    String key = raw(path).headers().firstValue("ETag").orElseThrow().substring(1, 33);
    Files.delete(server.dataDir().resolve("blobs").resolve(key.substring(0, 2)).resolve(key.substring(2, 4))
        .resolve(key));

    // its thumbnail too: the lost blob is no "not an image" 422
    String thumbnail = new ObjectMapper().readTree(http.get(path + "/$presigned-url?thumbnail=true").body())
        .at("/parameter/0/valueUrl").asText();
    HttpResponse<byte[]> thumb = raw(thumbnail);
    assertThat(thumb.statusCode()).as(new String(thumb.body(), StandardCharsets.UTF_8)).isEqualTo(500);
    assertThat(new String(thumb.body(), StandardCharsets.UTF_8))
        .contains("the stored content of Binary/" + id + " version 1 is missing");

    for (String target : List.of(path, signed)) {
      HttpResponse<byte[]> get = raw(target);
      HttpResponse<byte[]> head = http.sendBytes(http.request(target).header("Accept", "*/*")
          .method("HEAD", HttpRequest.BodyPublishers.noBody()));
      assertThat(get.statusCode()).as(target).isEqualTo(500);
      assertThat(head.statusCode()).as(target).isEqualTo(500);
      OperationOutcome oo = TestServer.FHIR.newJsonParser().parseResource(OperationOutcome.class,
          new String(get.body(), StandardCharsets.UTF_8));
      assertThat(oo.getIssueFirstRep().getCode().toCode()).isEqualTo("exception");
      assertThat(oo.getIssueFirstRep().getDiagnostics())
          .isEqualTo("the stored content of Binary/" + id + " version 1 is missing");
    }
  }

  /** Content cut short on the disk is data loss too: GET and HEAD agree on a 500 that names it. */
  @Test
  void aBinaryWhoseBlobWasCutShortAnswersTheSameErrorToGetAndHead() throws Exception {
    HttpResponse<String> created = http.postBytes("fhir/R4/Binary", "application/pdf", random(2000, 12));
    String id = TestClient.createdId(created);
    String path = "fhir/R4/Binary/" + id;
    String key = raw(path).headers().firstValue("ETag").orElseThrow().substring(1, 33);
    try (java.nio.channels.FileChannel file = java.nio.channels.FileChannel.open(server.dataDir().resolve("blobs")
        .resolve(key.substring(0, 2)).resolve(key.substring(2, 4)).resolve(key), java.nio.file.StandardOpenOption.WRITE)) {
      file.truncate(1000);
    }

    HttpResponse<byte[]> get = raw(path);
    HttpResponse<byte[]> head = http.sendBytes(http.request(path).header("Accept", "*/*")
        .method("HEAD", HttpRequest.BodyPublishers.noBody()));

    assertThat(get.statusCode()).isEqualTo(500);
    assertThat(head.statusCode()).isEqualTo(500);
    OperationOutcome oo = TestServer.FHIR.newJsonParser().parseResource(OperationOutcome.class,
        new String(get.body(), StandardCharsets.UTF_8));
    assertThat(oo.getIssueFirstRep().getCode().toCode()).isEqualTo("exception");
    assertThat(oo.getIssueFirstRep().getDiagnostics())
        .isEqualTo("the stored content of Binary/" + id + " version 1 is damaged: 1000 of its 2000 bytes are left");
  }

  @Test
  void fhirJsonBinaryDataIsDecodedIntoTheBlobStoreAndNotKeptInJson() {
    byte[] content = random(5000, 4);
    String json = "{\"resourceType\":\"Binary\",\"contentType\":\"image/jpeg\",\"data\":\""
        + Base64.getEncoder().encodeToString(content) + "\"}";
    HttpResponse<String> r = http.postJson("fhir/R4/Binary", json);
    assertThat(r.statusCode()).isEqualTo(201);
    assertThat(r.body()).doesNotContain("\"data\"");
    String id = http.parse(r, Binary.class).getIdElement().getIdPart();
    assertThat(raw("fhir/R4/Binary/" + id).body()).isEqualTo(content);
  }

  @Test
  void tooLargeBodyGives413AndStoresNothing() throws Exception {
    long before = blobCount();
    // Sent without a length (chunked), so the limit is found while the body streams in; the rest
    // of it is read and discarded before the answer. A declared Content-Length over the limit is
    // answered before any of the body is read: HostileRequestTest sends that over a raw socket.
    byte[] body = random(3 << 20, 5);
    HttpResponse<String> r = http.send(http.request("fhir/R4/Binary")
        .header("Content-Type", "application/octet-stream")
        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(body))));
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains("limit");
    assertThat(blobCount()).isEqualTo(before);
  }

  @Test
  void fileNamesAreJudgedAsTheDownloadersFileSystemSavesThem() throws Exception {
    long blobsBefore = blobCount();
    for (String name : java.util.List.of("setup.exe.", "setup.exe ", "setup.exe::$DATA", "SETUP.EXE. .",
        "setup.ex\u200be", "notes.txt:run.exe")) {
      HttpResponse<String> r = http.postBytes("fhir/R4/Binary?_filename="
          + java.net.URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20"),
          "application/octet-stream", random(10, 11));
      assertThat(r.statusCode()).as(name).isEqualTo(400);
      assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).as(name)
          .contains("'.exe'");
    }
    assertThat(blobCount()).isEqualTo(blobsBefore);

    Binary ok = upload(random(10, 12), "application/octet-stream", "?_filename=setup.exe.txt");
    String id = ok.getIdElement().getIdPart();
    for (String name : java.util.List.of("setup.exe.", "setup.exe ", "setup.exe::$DATA")) {
      HttpResponse<String> r = http.get("fhir/R4/Binary/" + id + "/$presigned-url?download="
          + java.net.URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20"));
      assertThat(r.statusCode()).as(name).isEqualTo(400);
      assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).as(name)
          .contains("'.exe'");
    }
    assertThat(http.get("fhir/R4/Binary/" + id + "/$presigned-url?download=true").statusCode()).isEqualTo(200);
  }

  @Test
  void executableContentIsRefused() {
    HttpResponse<String> byType = http.postBytes("fhir/R4/Binary", "application/x-msdownload", random(10, 6));
    assertThat(byType.statusCode()).isEqualTo(400);
    assertThat(http.parse(byType, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("deny list", "executable content");
    HttpResponse<String> byName = http.postBytes("fhir/R4/Binary?_filename=setup.EXE", "application/octet-stream",
        random(10, 7));
    assertThat(byName.statusCode()).isEqualTo(400);
    assertThat(http.parse(byName, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains(".exe", "deny list", "executable content");
  }

  @Test
  void anOperatorsOwnDenyListEntryIsNotCalledExecutable() throws Exception {
    // media types are case-insensitive (RFC 9110 §8.3.1): an entry matches in any case
    try (TestServer own = TestServer.start(Map.of("FHIRBOX_BINARY_DENY_TYPES", "Text/Plain",
        "FHIRBOX_BINARY_DENY_EXTENSIONS", "TXT"))) {
      for (HttpResponse<String> r : List.of(own.client().postBytes("fhir/R4/Binary", "text/plain", random(10, 8)),
          own.client().postBytes("fhir/R4/Binary?_filename=notes.txt", "image/png", random(10, 9)))) {
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).as(r.body())
            .contains("not accepted", "deny list").doesNotContain("executable");
      }
    }
  }

  @Test
  void clientThatDisconnectsMidUploadLeavesNoBinaryAndNoBlob() throws Exception {
    long blobsBefore = blobCount();
    int binariesBefore = binaryTotal();
    URI base = URI.create(server.baseUrl());
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      OutputStream out = s.getOutputStream();
      String auth = http.request("x").build().headers().firstValue("Authorization").orElse("");
      out.write(("POST /fhir/R4/Binary HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\n"
          + (auth.isEmpty() ? "" : "Authorization: " + auth + "\r\n")
          + "Content-Length: 1000000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(random(100_000, 8));
      out.flush();
    }
    Poll.until("the aborted upload's temporary file removed", () -> tmpParts() == 0);
    assertThat(blobCount()).isEqualTo(blobsBefore);
    assertThat(binaryTotal()).isEqualTo(binariesBefore);
  }

  @Test
  void sweeperRemovesOrphanedBlobsButKeepsReferencedOnes() throws Exception {
    Binary kept = upload(random(100, 9), "text/plain", "");
    Path orphan = server.dataDir().resolve("blobs/aa/bb/aabb" + "0".repeat(28));
    Files.createDirectories(orphan.getParent());
    Files.write(orphan, random(50, 10));
    OrphanSweeper sweeper = server.server().sweeper();
    clock.advance(Duration.ofSeconds(1201)); // past the grace of 20 minutes since the orphan was written

    sweeper.sweep();
    assertThat(orphan).as("first seen unreferenced: kept until the next pass").exists();
    assertThat(sweeper.sweep()).as("a second pass at once").isZero();
    assertThat(orphan).exists();

    clock.advance(OrphanSweeper.MIN_WATCH);
    assertThat(sweeper.sweep()).isGreaterThanOrEqualTo(1);
    assertThat(orphan).doesNotExist();
    assertThat(raw("fhir/R4/Binary/" + kept.getIdElement().getIdPart()).statusCode()).isEqualTo(200);
    assertThat(raw("fhir/R4/Binary/" + kept.getIdElement().getIdPart()).body()).isEqualTo(random(100, 9));
  }

  private int binaryTotal() {
    return http.parse(http.get("fhir/R4/Binary?_summary=count"), Bundle.class).getTotal();
  }

  private long blobCount() throws IOException {
    return server.blobFiles(false);
  }

  private long tmpParts() throws IOException {
    try (Stream<Path> files = Files.list(server.dataDir().resolve("blobs/tmp"))) {
      return files.count();
    }
  }
}
