package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.fhirbox.auth.Scopes;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.SmartApp;
import org.fhirbox.testing.TestBytes;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.Tus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * tus 1.0.0 at {@code /fhir/R4/Binary/$upload}, rule by rule, over HTTP against a server on files
 * and H2: the core protocol, each extension, what the Binary becomes, and fhirbox's own rules
 * (credentials, ownership, the checks of a raw upload).
 */
class TusProtocolTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final long MAX = 4L << 20;
  static TestServer server;
  static Tus tus;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(Map.of("FHIRBOX_MAX_BINARY_BYTES", Long.toString(MAX)));
    tus = new Tus(server.client());
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static String hex(String algorithm, byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(b));
  }

  static byte[] raw(TestClient c, String binaryVersion) {
    HttpResponse<byte[]> r = c.sendBytes(c.request("fhir/R4/" + binaryVersion).header("Accept", "*/*").GET());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  static JsonNode json(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body());
  }

  /** Every answer but the protocol's successes is an OperationOutcome; every one says Tus-Resumable. */
  static void assertOutcome(HttpResponse<String> r, int status) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("Tus-Resumable")).contains("1.0.0");
    assertThat(json(r).get("resourceType").asText()).isEqualTo("OperationOutcome");
  }

  @Test
  void anIdOfAnotherFormIs404WithoutRepeatingIt() throws Exception {
    String odd = server.fhirBase() + "/Binary/$upload/";
    for (String id : List.of("probe-" + "x".repeat(200), "0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef")) {
      HttpResponse<String> patched = tus.patch(odd + id, 0, new byte[4]);
      assertOutcome(patched, 404);
      assertThat(patched.body()).doesNotContain(id).contains("32 hexadecimal digits");
      HttpResponse<String> deleted = tus.delete(odd + id);
      assertOutcome(deleted, 404);
      assertThat(deleted.body()).doesNotContain(id);
      assertThat(tus.head(odd + id).statusCode()).isEqualTo(404);
    }
    // an id of the right form that names no upload is looked for, and not found
    HttpResponse<String> unknown = tus.patch(odd + "0123456789abcdef0123456789abcdef", 0, new byte[4]);
    assertOutcome(unknown, 404);
    assertThat(unknown.body()).contains("no upload");
  }

  @Test
  void optionsAdvertisesTheProtocolWithoutCredentials() {
    TestClient anonymous = new TestClient(server.baseUrl());
    HttpResponse<String> r = anonymous.send(anonymous.request(Tus.CREATE)
        .method("OPTIONS", HttpRequest.BodyPublishers.noBody()));

    assertThat(r.statusCode()).isEqualTo(204);
    assertThat(r.headers().firstValue("Tus-Version")).contains("1.0.0");
    assertThat(r.headers().firstValue("Tus-Resumable")).contains("1.0.0");
    assertThat(r.headers().firstValue("Tus-Extension").orElseThrow().split(","))
        .containsExactlyInAnyOrder("creation", "creation-with-upload", "creation-defer-length", "termination",
            "expiration", "checksum");
    assertThat(r.headers().firstValue("Tus-Max-Size")).contains(Long.toString(MAX));
    assertThat(r.headers().firstValue("Tus-Checksum-Algorithm").orElseThrow().split(","))
        .containsExactlyInAnyOrder("sha1", "sha256");
  }

  @Test
  void piecesOfAnySizeBecomeABinaryWithItsDigestsNamedInContentLocation() throws Exception {
    assertThat(server.client().putJson("fhir/R4/Patient/tus-p1", "{\"resourceType\":\"Patient\",\"id\":\"tus-p1\"}")
        .statusCode()).isIn(200, 201);
    byte[] content = TestBytes.random(3_000_001, 1);
    HttpResponse<String> created = tus.create(content.length, Tus.metadata("filename", "scan.mp4",
        "filetype", "video/mp4", "securityContext", "Patient/tus-p1"));
    assertThat(created.statusCode()).isEqualTo(201);
    String url = created.headers().firstValue("Location").orElseThrow();
    assertThat(url).startsWith(server.fhirBase() + "/Binary/$upload/");
    assertThat(created.headers().firstValue("Upload-Expires")).isPresent();
    assertThat(created.headers().firstValue("Content-Location")).isEmpty();

    HttpResponse<String> head = tus.head(url);
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.headers().firstValue("Upload-Offset")).contains("0");
    assertThat(head.headers().firstValue("Upload-Length")).contains(Long.toString(content.length));
    assertThat(head.headers().firstValue("Cache-Control")).contains("no-store");
    assertThat(head.headers().firstValue("Upload-Metadata")).contains(Tus.metadata("filename", "scan.mp4",
        "filetype", "video/mp4", "securityContext", "Patient/tus-p1"));

    byte[] first = Arrays.copyOfRange(content, 0, 1);
    assertThat(tus.patch(url, 0, first).statusCode()).isEqualTo(204);
    HttpResponse<String> last = tus.send(url, content, 1, 1_000_000);

    String version = Tus.binaryVersion(last);
    assertThat(version).matches("Binary/[^/]+/_history/1");
    assertThat(raw(server.client(), version)).isEqualTo(content);
    HttpResponse<String> again = tus.head(url);
    assertThat(again.headers().firstValue("Upload-Offset")).contains(Long.toString(content.length));
    assertThat(again.headers().firstValue("Content-Location")).contains(server.fhirBase() + "/" + version);

    String id = Tus.binaryId(last);
    JsonNode binary = json(server.client().get("fhir/R4/Binary/" + id));
    assertThat(binary.get("contentType").asText()).isEqualTo("video/mp4");
    assertThat(binary.at("/securityContext/reference").asText()).isEqualTo("Patient/tus-p1");
    HttpResponse<byte[]> bytes = server.client().sendBytes(server.client().request("fhir/R4/Binary/" + id)
        .header("Accept", "*/*").GET());
    TestBytes.assertBlobEtag(bytes.headers());
    // size and SHA-1 as an Attachment that names the Binary is given them
    HttpResponse<String> media = server.client().postJson("fhir/R4/Media", "{\"resourceType\":\"Media\","
        + "\"status\":\"completed\",\"content\":{\"url\":\"Binary/" + id + "\"}}");
    assertThat(media.statusCode()).as(media.body()).isEqualTo(201);
    assertThat(json(media).at("/content/size").asLong()).isEqualTo(content.length);
    assertThat(json(media).at("/content/hash").asText())
        .isEqualTo(Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1").digest(content)));
    // a download keeps the file name
    HttpResponse<String> presigned = server.client().get("fhir/R4/Binary/" + id + "/$presigned-url?download=true");
    String signed = json(presigned).at("/parameter/0/valueUrl").asText();
    HttpResponse<byte[]> download = server.client().sendBytes(server.client().request(signed).GET());
    assertThat(download.headers().firstValue("Content-Disposition").orElseThrow()).contains("scan.mp4");
  }

  @Test
  void aWrongOffsetGets409AndChangesNothing() throws Exception {
    String url = tus.upload(10, null);
    assertThat(tus.patch(url, 0, new byte[4]).statusCode()).isEqualTo(204);

    assertOutcome(tus.patch(url, 0, new byte[4]), 409);
    assertOutcome(tus.patch(url, 6, new byte[4]), 409);

    assertThat(tus.offset(url)).isEqualTo(4);
  }

  @Test
  void anotherTusVersionGets412WithTheVersionsSpoken() throws Exception {
    HttpResponse<String> other = server.client().send(server.client().request(Tus.CREATE)
        .header("Tus-Resumable", "0.2.2").header("Upload-Length", "5").POST(HttpRequest.BodyPublishers.noBody()));
    assertOutcome(other, 412);
    assertThat(other.headers().firstValue("Tus-Version")).contains("1.0.0");

    String url = tus.upload(5, null);
    HttpResponse<String> none = server.client().send(server.client().request(url)
        .header("Content-Type", Tus.OCTETS).header("Upload-Offset", "0")
        .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(new byte[5])));
    assertOutcome(none, 412);
    assertThat(tus.offset(url)).isZero();
  }

  @Test
  void aPieceNotSentAsOffsetOctetStreamGets415() throws Exception {
    String url = tus.upload(5, null);
    HttpResponse<String> r = server.client().send(tus.request(url).header("Content-Type", "application/octet-stream")
        .header("Upload-Offset", "0").method("PATCH", HttpRequest.BodyPublishers.ofByteArray(new byte[5])));

    assertOutcome(r, 415);
    assertThat(tus.offset(url)).isZero();
  }

  @Test
  void aCodedPieceGets415AndStoresNothing() throws Exception {
    byte[] content = TestBytes.random(3000, 71);
    ByteArrayOutputStream zipped = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(zipped)) {
      gz.write(content);
    }
    byte[] gzip = zipped.toByteArray();
    String url = tus.upload(gzip.length, null);

    assertOutcome(tus.patch(url, 0, gzip, "Content-Encoding", "gzip"), 415);
    assertThat(tus.offset(url)).isZero();

    // nor with the creation: no upload is made
    HttpResponse<String> created = server.client().send(tus.request(Tus.CREATE)
        .header("Upload-Length", Integer.toString(gzip.length)).header("Content-Type", Tus.OCTETS)
        .header("Content-Encoding", "gzip").POST(HttpRequest.BodyPublishers.ofByteArray(gzip)));
    assertOutcome(created, 415);
    assertThat(created.headers().firstValue("Location")).isEmpty();

    // the same bytes without a coding are taken as they are
    assertThat(tus.patch(url, 0, gzip, "Content-Encoding", "identity").statusCode()).isEqualTo(204);
  }

  @Test
  void malformedHeadersGet400() throws Exception {
    assertOutcome(server.client().send(tus.request(Tus.CREATE).POST(HttpRequest.BodyPublishers.noBody())), 400);
    assertOutcome(server.client().send(tus.request(Tus.CREATE).header("Upload-Length", "-1")
        .POST(HttpRequest.BodyPublishers.noBody())), 400);
    assertOutcome(server.client().send(tus.request(Tus.CREATE).header("Upload-Defer-Length", "2")
        .POST(HttpRequest.BodyPublishers.noBody())), 400);
    assertOutcome(server.client().send(tus.request(Tus.CREATE).header("Upload-Length", "5")
        .header("Upload-Defer-Length", "1").POST(HttpRequest.BodyPublishers.noBody())), 400);
    assertOutcome(tus.create(5, "filename !!not-base64!!"), 400);
    assertOutcome(tus.create(5, "filename YQ==,filename Yg=="), 400);
    String url = tus.upload(5, null);
    HttpResponse<String> noOffset = server.client().send(tus.request(url).header("Content-Type", Tus.OCTETS)
        .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(new byte[5])));
    assertOutcome(noOffset, 400);
  }

  /** A tus header that carries one value, sent twice (whether or not the values differ), is ambiguous: 400. */
  @Test
  void aTusHeaderSentTwiceGets400NamingIt() throws Exception {
    byte[] five = TestBytes.random(5, 73);
    String url = tus.upload(10, null);
    assertRepeated(tus.patch(url, 0, five, "Upload-Offset", "5"), "Upload-Offset");
    assertRepeated(tus.patch(url, 0, five, "Upload-Checksum", Tus.checksum("sha1", five), "Upload-Checksum",
        Tus.checksum("sha256", new byte[5])), "Upload-Checksum");
    assertThat(tus.offset(url)).isZero();

    String deferred = tus.createDeferred(null).headers().firstValue("Location").orElseThrow();
    assertRepeated(tus.patch(deferred, 0, five, "Upload-Length", "5", "Upload-Length", "10"), "Upload-Length");
    assertThat(tus.offset(deferred)).isZero();
    assertThat(tus.head(deferred).headers().firstValue("Upload-Defer-Length")).contains("1");

    for (String[] twice : List.of(new String[] {"Upload-Length", "5", "Upload-Length", "10"},
        new String[] {"Upload-Defer-Length", "1", "Upload-Defer-Length", "1"},
        new String[] {"Upload-Length", "5", "Upload-Metadata", Tus.metadata("filename", "a.txt"), "Upload-Metadata",
            Tus.metadata("filetype", "text/plain")})) {
      HttpRequest.Builder b = tus.request(Tus.CREATE).POST(HttpRequest.BodyPublishers.noBody());
      for (int i = 0; i < twice.length; i += 2) {
        b.header(twice[i], twice[i + 1]);
      }
      HttpResponse<String> created = server.client().send(b);
      assertRepeated(created, twice[twice.length - 2]);
      assertThat(created.headers().firstValue("Location")).isEmpty();
    }
  }

  private static void assertRepeated(HttpResponse<String> r, String header) throws Exception {
    assertOutcome(r, 400);
    assertThat(json(r).at("/issue/0/diagnostics").asText()).contains(header).contains("more than once");
  }

  @Test
  void theWholeUploadCanComeWithTheCreation() throws Exception {
    byte[] content = TestBytes.random(70_000, 2);
    HttpResponse<String> r = server.client().send(tus.request(Tus.CREATE).header("Upload-Length", "70000")
        .header("Content-Type", Tus.OCTETS).header("Upload-Metadata", Tus.metadata("filetype", "image/png"))
        .POST(HttpRequest.BodyPublishers.ofByteArray(content)));

    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(r.headers().firstValue("Upload-Offset")).contains("70000");
    assertThat(raw(server.client(), Tus.binaryVersion(r))).isEqualTo(content);
  }

  @Test
  void aFirstPieceCanComeWithTheCreation() throws Exception {
    byte[] content = TestBytes.random(9000, 3);
    HttpResponse<String> r = server.client().send(tus.request(Tus.CREATE).header("Upload-Length", "9000")
        .header("Content-Type", Tus.OCTETS).POST(HttpRequest.BodyPublishers.ofByteArray(Arrays.copyOf(content, 4000))));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(r.headers().firstValue("Upload-Offset")).contains("4000");
    String url = r.headers().firstValue("Location").orElseThrow();

    HttpResponse<String> last = tus.send(url, content, 4000, 5000);

    byte[] stored = raw(server.client(), Tus.binaryVersion(last));
    assertThat(stored).isEqualTo(content);
    JsonNode binary = json(server.client().get("fhir/R4/" + Tus.binaryVersion(last)));
    assertThat(binary.get("contentType").asText()).isEqualTo("application/octet-stream");
  }

  @Test
  void aDeferredLengthIsDeclaredByALaterPiece() throws Exception {
    byte[] content = TestBytes.random(5000, 4);
    HttpResponse<String> created = tus.createDeferred(Tus.metadata("contentType", "text/plain"));
    assertThat(created.statusCode()).isEqualTo(201);
    String url = created.headers().firstValue("Location").orElseThrow();
    assertThat(tus.patch(url, 0, Arrays.copyOf(content, 3000)).statusCode()).isEqualTo(204);
    HttpResponse<String> head = tus.head(url);
    assertThat(head.headers().firstValue("Upload-Defer-Length")).contains("1");
    assertThat(head.headers().firstValue("Upload-Length")).isEmpty();

    HttpResponse<String> last = tus.patch(url, 3000, Arrays.copyOfRange(content, 3000, 5000),
        "Upload-Length", "5000");

    assertThat(last.statusCode()).as(last.body()).isEqualTo(204);
    assertThat(raw(server.client(), Tus.binaryVersion(last))).isEqualTo(content);
    assertThat(tus.head(url).headers().firstValue("Upload-Length")).contains("5000");
  }

  @Test
  void aLengthDeclaredWithAnEmptyPieceCompletesTheUpload() throws Exception {
    byte[] content = TestBytes.random(2500, 5);
    String url = tus.createDeferred(null).headers().firstValue("Location").orElseThrow();
    assertThat(tus.patch(url, 0, content).statusCode()).isEqualTo(204);

    HttpResponse<String> last = tus.patch(url, 2500, new byte[0], "Upload-Length", "2500");

    assertThat(last.statusCode()).as(last.body()).isEqualTo(204);
    assertThat(raw(server.client(), Tus.binaryVersion(last))).isEqualTo(content);
    assertThat(tus.patch(url, 2500, new byte[0]).statusCode()).as("a repeated last piece").isEqualTo(204);
    assertOutcome(tus.patch(url, 2500, new byte[0], "Upload-Length", "2600"), 400);
  }

  @Test
  void bytesOfUnknownLengthAfterTheLastPieceAreRefused() throws Exception {
    byte[] content = TestBytes.random(2500, 6);
    String url = tus.upload(content.length, null);
    HttpResponse<String> last = tus.patch(url, 0, content);
    assertThat(last.statusCode()).isEqualTo(204);

    HttpResponse<String> more = server.client().send(tus.request(url).header("Content-Type", Tus.OCTETS)
        .header("Upload-Offset", "2500").method("PATCH", HttpRequest.BodyPublishers.ofInputStream(
            () -> new ByteArrayInputStream(new byte[100]))));

    assertThat(more.statusCode()).as("bytes beyond a finished upload are not acknowledged").isEqualTo(409);
    assertOutcome(more, more.statusCode());
    assertThat(tus.offset(url)).isEqualTo(2500);
    assertThat(raw(server.client(), Tus.binaryVersion(last))).isEqualTo(content);
  }

  @Test
  void contentTypeWinsOverFiletypeInTheMetadata() throws Exception {
    byte[] content = "a,b\n1,2\n".getBytes();
    String url = tus.upload(content.length, Tus.metadata("filetype", "image/png", "contentType", "text/csv"));

    HttpResponse<String> last = tus.patch(url, 0, content);

    assertThat(last.statusCode()).as(last.body()).isEqualTo(204);
    String version = Tus.binaryVersion(last);
    assertThat(json(server.client().get("fhir/R4/" + version)).get("contentType").asText()).isEqualTo("text/csv");
    HttpResponse<byte[]> raw = server.client().sendBytes(server.client().request("fhir/R4/" + version)
        .header("Accept", "*/*").GET());
    assertThat(raw.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/csv"));
    assertThat(raw.body()).isEqualTo(content);
  }

  @Test
  void anEmptyUploadIsAnEmptyBinaryAtOnce() throws Exception {
    HttpResponse<String> r = tus.create(0, Tus.metadata("filetype", "text/plain"));

    assertThat(r.statusCode()).isEqualTo(201);
    assertThat(raw(server.client(), Tus.binaryVersion(r))).isEmpty();
  }

  @Test
  void terminationDeletesTheUploadAndItsBytes() throws Exception {
    List<Path> before = partFiles();
    String url = tus.upload(100, null);
    assertThat(tus.patch(url, 0, new byte[40]).statusCode()).isEqualTo(204);
    List<Path> files = new ArrayList<>(partFiles());
    files.removeAll(before);
    Path file = files.get(0);
    assertThat(file).hasSize(40);

    HttpResponse<String> deleted = tus.delete(url);

    assertThat(deleted.statusCode()).isEqualTo(204);
    assertThat(deleted.headers().firstValue("Tus-Resumable")).contains("1.0.0");
    assertThat(tus.head(url).statusCode()).isEqualTo(404);
    assertOutcome(tus.patch(url, 40, new byte[10]), 404);
    assertThat(file).doesNotExist();
  }

  /** The temporary files of unfinished uploads on this server. */
  static List<Path> partFiles() throws Exception {
    try (Stream<Path> files = Files.list(server.dataDir().resolve("blobs").resolve("tmp"))) {
      return files.filter(p -> p.toString().endsWith(".tus")).toList();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"sha1", "sha256"})
  void aPieceNotMatchingItsChecksumGets460AndIsDiscarded(String algorithm) throws Exception {
    byte[] content = TestBytes.random(6000, 6);
    String url = tus.upload(6000, null);
    byte[] first = Arrays.copyOf(content, 2000);
    assertThat(tus.patch(url, 0, first, "Upload-Checksum", Tus.checksum("sha1", first)).statusCode()).isEqualTo(204);
    byte[] second = Arrays.copyOfRange(content, 2000, 6000);
    byte[] corrupted = second.clone();
    corrupted[1234] ^= 1;

    assertOutcome(tus.patch(url, 2000, corrupted, "Upload-Checksum", Tus.checksum(algorithm, second)), 460);
    assertThat(tus.offset(url)).isEqualTo(2000);
    assertOutcome(tus.patch(url, 2000, second, "Upload-Checksum", "md5 " + Base64.getEncoder().encodeToString(
        new byte[16])), 400);
    assertThat(tus.offset(url)).isEqualTo(2000);

    HttpResponse<String> last = tus.patch(url, 2000, second, "Upload-Checksum", Tus.checksum(algorithm, second));
    assertThat(last.statusCode()).isEqualTo(204);
    assertThat(raw(server.client(), Tus.binaryVersion(last))).isEqualTo(content);
  }

  @Test
  void binaryIdMakesTheUploadANewVersionOfThatBinary() throws Exception {
    String id = TestClient.createdId(server.client().postBytes("fhir/R4/Binary", "text/plain", "v1".getBytes()));
    byte[] content = TestBytes.random(3000, 7);

    String url = tus.upload(3000, Tus.metadata("binaryId", id, "filetype", "text/csv"));
    HttpResponse<String> last = tus.send(url, content, 0, 3000);

    assertThat(Tus.binaryVersion(last)).isEqualTo("Binary/" + id + "/_history/2");
    assertThat(raw(server.client(), "Binary/" + id)).isEqualTo(content);
    assertThat(new String(raw(server.client(), "Binary/" + id + "/_history/1"))).isEqualTo("v1");
    assertOutcome(tus.create(10, Tus.metadata("binaryId", "no-such-binary")), 404);
  }

  @Test
  void aBinaryDeletedWhileItsNewVersionIsUploadedStaysDeleted() throws Exception {
    String id = TestClient.createdId(server.client().postBytes("fhir/R4/Binary", "text/plain", "v1".getBytes()));
    byte[] content = TestBytes.random(3000, 8);
    String url = tus.upload(3000, Tus.metadata("binaryId", id, "filetype", "text/csv"));
    assertThat(tus.patch(url, 0, Arrays.copyOf(content, 1500)).statusCode()).isEqualTo(204);
    assertThat(server.client().delete("fhir/R4/Binary/" + id).statusCode()).isIn(200, 204);

    assertOutcome(tus.patch(url, 1500, Arrays.copyOfRange(content, 1500, 3000)), 404);

    assertThat(server.client().rawBinaryStatus(id)).isEqualTo(410);
    assertThat(tus.head(url).statusCode()).isEqualTo(404);
    assertThat(server.client().rawBinaryStatus(id)).isEqualTo(410);
  }

  @Test
  void theChecksOfARawUploadApplyAtCreation() throws Exception {
    assertOutcome(tus.create(10, Tus.metadata("filetype", "application/x-msdownload")), 400);
    assertOutcome(tus.create(10, Tus.metadata("filename", "setup.EXE ")), 400);
    assertOutcome(tus.create(10, Tus.metadata("securityContext", "Patient/nobody-here")), 400);
    assertOutcome(tus.create(10, Tus.metadata("filetype", "text/plain\r\nX-Evil: 1")), 400);
    assertOutcome(tus.create(MAX + 1, null), 413);
    assertThat(partFilesOf(() -> tus.create(MAX + 1, null))).isEqualTo(0);
  }

  /** How many temporary upload files a request left behind. */
  static long partFilesOf(Runnable request) throws Exception {
    long before = partFiles().size();
    request.run();
    return partFiles().size() - before;
  }

  @Test
  void theSizeLimitHoldsMidStream() throws Exception {
    HttpResponse<String> deferred = tus.createDeferred(null);
    String url = deferred.headers().firstValue("Location").orElseThrow();
    assertThat(tus.patch(url, 0, new byte[(int) MAX - 10]).statusCode()).isEqualTo(204);

    assertOutcome(tus.patch(url, MAX - 10, new byte[20]), 413);
    assertThat(tus.offset(url)).isEqualTo(MAX - 10);
    assertOutcome(tus.patch(url, MAX - 10, new byte[10], "Upload-Length", Long.toString(MAX + 1)), 413);

    String declared = tus.upload(100, null);
    assertOutcome(tus.patch(declared, 0, new byte[101]), 413);
    assertThat(tus.offset(declared)).isZero();
    // a body of unknown length is counted as it arrives
    HttpResponse<String> chunked = server.client().send(tus.request(declared).header("Content-Type", Tus.OCTETS)
        .header("Upload-Offset", "0").method("PATCH", HttpRequest.BodyPublishers.ofInputStream(
            () -> new java.io.ByteArrayInputStream(new byte[150]))));
    assertOutcome(chunked, 413);
    assertThat(tus.offset(declared)).isZero();
  }

  @Test
  void anUploadIsItsClientsAlone() throws Exception {
    ProjectClients clients = new ProjectClients(server);
    ProjectClients.Credentials owner = clients.create("tus-a", "system/Binary.cruds", false);
    Tus mine = new Tus(clients.bearer(owner));
    String url = mine.upload(10, null);
    assertThat(mine.patch(url, 0, new byte[3]).statusCode()).isEqualTo(204);

    Tus otherProject = new Tus(clients.client("tus-b", "system/Binary.cruds"));
    assertThat(otherProject.head(url).statusCode()).isEqualTo(404);
    assertOutcome(otherProject.patch(url, 3, new byte[3]), 404);
    assertOutcome(otherProject.delete(url), 404);
    Tus sameProjectOtherClient = new Tus(clients.client("tus-a", "system/Binary.cruds"));
    assertThat(sameProjectOtherClient.head(url).statusCode()).isEqualTo(404);
    Tus readOnly = new Tus(clients.client("tus-a", "system/Binary.rs"));
    assertOutcome(readOnly.create(10, null), 403);
    TestClient anonymous = new TestClient(server.baseUrl());
    assertOutcome(anonymous.send(anonymous.request(url).header("Tus-Resumable", "1.0.0")
        .header("Content-Type", Tus.OCTETS).header("Upload-Offset", "3")
        .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(new byte[3]))), 401);

    // the owner, with a token fetched anew, goes on
    Tus again = new Tus(clients.bearer(owner));
    assertThat(again.patch(url, 3, new byte[7]).statusCode()).isEqualTo(204);
    assertThat(mine.offset(url)).isEqualTo(10);
  }

  @Test
  void clientsWithoutPatchSendItAsAnOverride() throws Exception {
    String url = tus.upload(4, null);
    HttpResponse<String> r = server.client().send(tus.request(url).header("X-HTTP-Method-Override", "PATCH")
        .header("Content-Type", Tus.OCTETS).header("Upload-Offset", "0")
        .POST(HttpRequest.BodyPublishers.ofByteArray("abcd".getBytes())));

    assertThat(r.statusCode()).isEqualTo(204);
    assertThat(new String(raw(server.client(), Tus.binaryVersion(r)))).isEqualTo("abcd");
  }

  @Test
  void browsersMayUseTheTusHeadersFromAnotherOrigin() {
    TestClient browser = server.client().withHeader("Origin", "https://app.example.org");
    HttpResponse<String> preflight = browser.send(browser.request(Tus.CREATE + "/x")
        .header("Access-Control-Request-Method", "PATCH")
        .header("Access-Control-Request-Headers", "tus-resumable,upload-offset,content-type")
        .method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
    assertThat(preflight.statusCode()).isEqualTo(204);
    assertThat(preflight.headers().firstValue("Access-Control-Allow-Methods").orElseThrow()).contains("PATCH");
    assertThat(preflight.headers().firstValue("Access-Control-Allow-Headers").orElseThrow())
        .contains("Tus-Resumable", "Upload-Offset", "Upload-Length", "Upload-Metadata", "Upload-Checksum",
            "Upload-Defer-Length", "X-HTTP-Method-Override");

    HttpResponse<String> created = new Tus(browser).create(3, null);
    assertThat(created.statusCode()).isEqualTo(201);
    assertThat(created.headers().firstValue("Access-Control-Expose-Headers").orElseThrow())
        .contains("Location", "Upload-Offset", "Upload-Length", "Upload-Expires", "Content-Location",
            "Tus-Resumable", "Tus-Version", "Tus-Extension", "Tus-Max-Size", "Tus-Checksum-Algorithm");
  }

  @Test
  void anUploadFinishedUnderAPatientLimitGetsTheLaunchPatientAsItsSecurityContext() throws Exception {
    String a = TestClient.createdId(server.client().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    String scope = "user/Binary.cruds patient/Binary.cruds";
    var auth = server.server().auth();
    var app = auth.clients().find(auth.clients().create("default", scope, false).clientId()).orElseThrow();
    var user = SmartApp.user(server, "default", "tus-launch@example.org", "Practitioner/tus-launch", scope);
    // one person signed in twice to the same app: the second time launched for Patient a
    String url = new Tus(server.client().withHeader("Authorization", "Bearer " + auth.tokens().issue(app,
        Scopes.parse("user/Binary.c"), Optional.of(user.id()), Optional.empty()).accessToken())).upload(5, null);
    HttpResponse<String> last = new Tus(server.client().withHeader("Authorization", "Bearer " + auth.tokens()
        .issue(app, Scopes.parse("patient/Binary.c"), Optional.of(user.id()), Optional.of(a)).accessToken()))
        .patch(url, 0, "scans".getBytes());

    assertThat(last.statusCode()).as(last.body()).isEqualTo(204);
    assertThat(json(server.client().get("fhir/R4/" + Tus.binaryVersion(last))).at("/securityContext/reference")
        .asText()).isEqualTo("Patient/" + a);
  }

  @Test
  void theCommitIsAuditedAsARawUploadIs() throws Exception {
    String url = tus.upload(5, null);
    HttpResponse<String> last = tus.patch(url, 0, "audit".getBytes());
    String id = Tus.binaryId(last);

    JsonNode events = Poll.until("the audit event of Binary/" + id, () -> json(server.client()
        .get("fhir/R4/AuditEvent?entity=Binary/" + id)).path("entry"), e -> e.size() > 0);
    assertThat(events.get(0).at("/resource/action").asText()).isEqualTo("C");
    assertThat(events.get(0).at("/resource/entity/0/what/reference").asText())
        .isEqualTo("Binary/" + id + "/_history/1");
  }

  @Test
  void capabilityStatementListsTheUploadOperation() throws Exception {
    JsonNode cs = json(new TestClient(server.baseUrl()).get("fhir/R4/metadata"));
    boolean listed = false;
    for (JsonNode r : cs.at("/rest/0/resource")) {
      if (r.get("type").asText().equals("Binary")) {
        for (JsonNode op : r.path("operation")) {
          listed |= op.get("name").asText().equals("upload");
        }
      }
    }
    assertThat(listed).isTrue();
  }
}
