package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.fhirbox.signing.SigningKeys;
import org.fhirbox.signing.StorageUrlSigner;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Write-time normalisation and read-time signing of Attachment URLs, over HTTP, on every path. */
class SignedAttachmentTest {
  static final String KEYS = "k1:" + Base64.getEncoder().encodeToString(new byte[32]);
  static TestServer server;
  static TestClient http;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(Map.of("FHIRBOX_SIGNING_KEYS", KEYS, "FHIRBOX_BASE_URL_ALIASES",
        "https://fhir.example.org/"));
    http = server.client();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static Binary upload(String text) {
    HttpResponse<String> r = http.postBytes("fhir/R4/Binary", "text/plain", text.getBytes(StandardCharsets.UTF_8));
    assertThat(r.statusCode()).isEqualTo(201);
    return http.parse(r, Binary.class);
  }

  static String id(Binary b) {
    return b.getIdElement().getIdPart();
  }

  static String patientWithPhoto(String url) {
    return "{\"resourceType\":\"Patient\",\"photo\":[{\"url\":\"" + url + "\"}]}";
  }

  static String signedPrefix(String binaryId, int version) {
    return server.baseUrl() + "storage/" + binaryId + "/" + version + "?Expires=";
  }

  static String body(String url) {
    HttpResponse<String> r = http.send(http.request(url));
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  @Test
  void binaryJsonCarriesItsSignedUrlOnCreateAndRead() {
    Binary b = upload("hello");
    HttpResponse<String> created = http.postBytes("fhir/R4/Binary", "text/plain", "x".getBytes());
    assertThat(created.body()).contains("\"url\":\"" + server.baseUrl() + "storage/");
    String json = http.get("fhir/R4/Binary/" + id(b)).body();
    String url = json.replaceAll(".*\"url\":\"([^\"]+)\".*", "$1");
    assertThat(url).startsWith(signedPrefix(id(b), 1));
    assertThat(body(url)).isEqualTo("hello");
  }

  @Test
  void everyReadPathSignsAttachments() {
    Binary b = upload("every path");
    String bid = id(b);
    HttpResponse<String> created = http.postJson("fhir/R4/Patient", patientWithPhoto("Binary/" + bid));
    Patient p = http.parse(created, Patient.class);
    String pid = p.getIdElement().getIdPart();
    assertThat(p.getPhotoFirstRep().getUrl()).as("create response").startsWith(signedPrefix(bid, 1));

    p.setActive(true);
    p.getPhotoFirstRep().setUrl("Binary/" + bid);
    Patient updated = http.parse(http.putJson("fhir/R4/Patient/" + pid, http.json(p)), Patient.class);
    assertThat(updated.getPhotoFirstRep().getUrl()).as("update response").startsWith(signedPrefix(bid, 1));

    List<String> urls = List.of(
        http.parse(http.get("fhir/R4/Patient/" + pid), Patient.class).getPhotoFirstRep().getUrl(),
        http.parse(http.get("fhir/R4/Patient/" + pid + "/_history/1"), Patient.class).getPhotoFirstRep().getUrl(),
        photo(http.parse(http.get("fhir/R4/Patient/" + pid + "/_history"), Bundle.class)),
        photo(http.parse(http.get("fhir/R4/Patient/_history?_count=1000"), Bundle.class)),
        photo(http.parse(http.get("fhir/R4/_history?_count=1000"), Bundle.class)),
        photo(http.parse(http.get("fhir/R4/Patient?_id=" + pid), Bundle.class)),
        photo(http.parse(http.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":"
            + "[{\"request\":{\"method\":\"GET\",\"url\":\"Patient/" + pid + "\"}}]}"), Bundle.class)),
        photo(http.parse(http.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":"
            + "[{\"resource\":" + patientWithPhoto("Binary/" + bid)
            + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}"), Bundle.class)));
    assertThat(urls).allSatisfy(u -> assertThat(u).startsWith(signedPrefix(bid, 1)));
    // Stable: every read within the window gives the identical URL.
    assertThat(urls.stream().distinct()).hasSize(1);
    assertThat(body(urls.get(0))).isEqualTo("every path");
  }

  private static String photo(Bundle bundle) {
    return bundle.getEntry().stream().map(Bundle.BundleEntryComponent::getResource)
        .filter(r -> r instanceof Patient pt && pt.hasPhoto()).map(r -> ((Patient) r).getPhotoFirstRep().getUrl())
        .findFirst().orElseThrow();
  }

  @Test
  void ourUrlFormsAreStoredAsBinaryReferencesWithSizeAndHash() {
    Binary b = upload("normalise me");
    String bid = id(b);
    String signed = http.get("fhir/R4/Binary/" + bid).body().replaceAll(".*\"url\":\"([^\"]+)\".*", "$1");
    for (String url : List.of("Binary/" + bid, server.fhirBase() + "/Binary/" + bid,
        "https://fhir.example.org/fhir/R4/Binary/" + bid, signed,
        signed.replace(server.baseUrl(), "https://fhir.example.org/"),
        // scheme and host are case-insensitive (RFC 3986 §6.2.2.1): the same URLs
        "HTTPS://FHIR.Example.ORG/fhir/R4/Binary/" + bid, signed.replace(server.baseUrl(), "HTTPS://FHIR.EXAMPLE.ORG/"),
        server.fhirBase().toUpperCase(Locale.ROOT).replace("/FHIR/R4", "/fhir/R4") + "/Binary/" + bid)) {
      HttpResponse<String> r = http.send(http.request("fhir/R4/Patient").header("Content-Type", "application/fhir+json")
          .header("Prefer", "return=minimal").POST(HttpRequest.BodyPublishers.ofString(patientWithPhoto(url))));
      assertThat(r.statusCode()).as(url).isEqualTo(201);
      String stored = storedPhoto(r.headers().firstValue("Location").orElseThrow());
      assertThat(stored).as(url).isEqualTo("Binary/" + bid);
    }
  }

  @Test
  void aSignedThumbnailUrlIsNoAttachmentUrl() {
    String bid = id(upload("thumbnail"));
    String thumbnail = http.parse(http.get("fhir/R4/Binary/" + bid + "/$presigned-url?thumbnail=true"),
        Parameters.class).getParameter("url").getValue().primitiveValue();
    assertThat(thumbnail).startsWith(server.baseUrl() + "storage/" + bid + "/1/thumbnail?");
    for (String url : List.of(thumbnail, thumbnail.replace(server.baseUrl(), "https://fhir.example.org/"),
        thumbnail.replace(server.baseUrl(), "/"))) {
      HttpResponse<String> r = http.postJson("fhir/R4/Patient", patientWithPhoto(url));
      assertThat(r.statusCode()).as(url).isEqualTo(400);
      assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).as(url)
          .isEqualTo("Attachment.url is a thumbnail URL of this server, which is not the content of Binary/" + bid
              + "/_history/1: name the Binary (Binary/{id}) or its content URL");
    }
  }

  /** What was stored, seen through a client without Binary read access (so nothing is signed). */
  private static String storedPhoto(String location) {
    String json = http.get(location).body();
    Patient p = TestServer.FHIR.newJsonParser().parseResource(Patient.class, json);
    Attachment a = p.getPhotoFirstRep();
    assertThat(a.getSize()).isEqualTo(12);
    assertThat(a.getHash()).isNotEmpty();
    assertThat(a.getContentType()).isEqualTo("text/plain");
    String url = a.getUrl();
    return url.startsWith(server.baseUrl() + "storage/")
        ? "Binary/" + url.substring((server.baseUrl() + "storage/").length()).split("/")[0] : url;
  }

  @Test
  void nestedContainedAndExtensionAttachmentsAreNormalisedAndSigned() {
    Binary b = upload("nested");
    String bid = id(b);
    String doc = """
        {"resourceType":"DocumentReference","status":"current",
         "contained":[{"resourceType":"Media","id":"m1","status":"completed",
                       "content":{"url":"%s/Binary/%s"}}],
         "extension":[{"url":"http://example.org/ext","valueAttachment":{"url":"Binary/%s"}}],
         "content":[{"attachment":{"url":"Binary/%s"}}]}""".formatted(server.fhirBase(), bid, bid, bid);
    DocumentReference d = http.parse(http.postJson("fhir/R4/DocumentReference", doc), DocumentReference.class);
    assertThat(d.getContentFirstRep().getAttachment().getUrl()).startsWith(signedPrefix(bid, 1));
    assertThat(((Attachment) d.getExtension().get(0).getValue()).getUrl()).startsWith(signedPrefix(bid, 1));
    org.hl7.fhir.r4.model.Media m = (org.hl7.fhir.r4.model.Media) d.getContained().get(0);
    assertThat(m.getContent().getUrl()).startsWith(signedPrefix(bid, 1));
    assertThat(m.getContent().getSize()).isEqualTo(6);
  }

  @Test
  void rereadingAResourceFollowsItsBinaryThroughUpdatesAndDeletion() {
    Binary b = upload("v1");
    String bid = id(b);
    String pid = http.parse(http.postJson("fhir/R4/Patient", patientWithPhoto("Binary/" + bid)), Patient.class)
        .getIdElement().getIdPart();
    String first = http.parse(http.get("fhir/R4/Patient/" + pid), Patient.class).getPhotoFirstRep().getUrl();
    assertThat(first).startsWith(signedPrefix(bid, 1));
    assertThat(http.parse(http.get("fhir/R4/Patient/" + pid), Patient.class).getPhotoFirstRep().getUrl())
        .as("stable within the signing window").isEqualTo(first);

    // the Patient's version is unchanged, but its unpinned attachment now means Binary version 2
    assertThat(http.send(http.request("fhir/R4/Binary/" + bid).header("Content-Type", "text/plain")
        .PUT(HttpRequest.BodyPublishers.ofString("v2"))).statusCode()).isEqualTo(200);
    String second = http.parse(http.get("fhir/R4/Patient/" + pid), Patient.class).getPhotoFirstRep().getUrl();
    assertThat(second).startsWith(signedPrefix(bid, 2));
    assertThat(body(second)).isEqualTo("v2");

    assertThat(http.delete("fhir/R4/Binary/" + bid).statusCode()).isEqualTo(200);
    assertThat(http.parse(http.get("fhir/R4/Patient/" + pid), Patient.class).getPhotoFirstRep().getUrl())
        .isEqualTo("Binary/" + bid);
  }

  /**
   * Once its Binary is deleted, a resource that attaches it is read with {@code Binary/{id}} and can
   * still be written back as read, with other changes (a client's read-modify-write): the update
   * keeps what its current version names. Naming the deleted Binary anew is still 400.
   */
  @Test
  void aResourceWhoseBinaryWasDeletedCanBeWrittenBackAsRead() {
    String bid = id(upload("soon gone"));
    String pid = http.parse(http.postJson("fhir/R4/Patient", patientWithPhoto("Binary/" + bid)), Patient.class)
        .getIdElement().getIdPart();
    String other = http.parse(http.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"), Patient.class)
        .getIdElement().getIdPart();
    assertThat(http.delete("fhir/R4/Binary/" + bid).statusCode()).isEqualTo(200);

    Patient read = http.parse(http.get("fhir/R4/Patient/" + pid), Patient.class);
    assertThat(read.getPhotoFirstRep().getUrl()).isEqualTo("Binary/" + bid);
    read.addName().setFamily("Renamed");
    HttpResponse<String> back = http.putJson("fhir/R4/Patient/" + pid, http.json(read));
    assertThat(back.statusCode()).as(back.body()).isEqualTo(200);
    Patient stored = http.parse(back, Patient.class);
    assertThat(stored.getNameFirstRep().getFamily()).isEqualTo("Renamed");
    assertThat(stored.getPhotoFirstRep().getUrl()).isEqualTo("Binary/" + bid);
    assertThat(stored.getPhotoFirstRep().getSize()).isEqualTo(9);

    for (HttpResponse<String> anew : List.of(http.postJson("fhir/R4/Patient", patientWithPhoto("Binary/" + bid)),
        http.putJson("fhir/R4/Patient/" + other, patientWithPhoto("Binary/" + bid).replace("{", "{\"id\":\"" + other
            + "\",")))) {
      assertThat(anew.statusCode()).as(anew.body()).isEqualTo(400);
      assertThat(anew.body()).contains("Binary/" + bid + ", which does not exist");
    }
  }

  /**
   * A resource written while its unpinned Binary had one version, read after a new version: the
   * Attachment describes the bytes its URL serves, and the resource read can be written back as
   * it is (a client's read-modify-write), which then stores the new version's figures.
   */
  @Test
  void aResourceReadAfterItsBinaryChangedDescribesTheNewBytesAndCanBeWrittenBack() throws Exception {
    String bid = id(upload("first bytes"));
    String pid = http.parse(http.postJson("fhir/R4/Patient", patientWithPhoto("Binary/" + bid)), Patient.class)
        .getIdElement().getIdPart();
    assertThat(http.send(http.request("fhir/R4/Binary/" + bid).header("Content-Type", "text/plain")
        .PUT(HttpRequest.BodyPublishers.ofString("the second bytes"))).statusCode()).isEqualTo(200);

    HttpResponse<String> read = http.get("fhir/R4/Patient/" + pid);
    Attachment photo = http.parse(read, Patient.class).getPhotoFirstRep();
    assertThat(photo.getUrl()).startsWith(signedPrefix(bid, 2));
    assertThat(body(photo.getUrl())).isEqualTo("the second bytes");
    assertThat(photo.getSize()).isEqualTo(16);
    assertThat(photo.getHashElement().getValueAsString()).isEqualTo(sha1Base64("the second bytes"));
    Attachment searched = http.parse(http.get("fhir/R4/Patient?_id=" + pid), Bundle.class).getEntryFirstRep()
        .getResource() instanceof Patient p ? p.getPhotoFirstRep() : null;
    assertThat(searched).isNotNull();
    assertThat(searched.getSize()).as("in a search's Bundle").isEqualTo(16);

    HttpResponse<String> back = http.send(http.request("fhir/R4/Patient/" + pid)
        .header("Content-Type", "application/fhir+json").PUT(HttpRequest.BodyPublishers.ofString(read.body())));
    assertThat(back.statusCode()).as(back.body()).isEqualTo(200);
    Attachment stored = http.parse(back, Patient.class).getPhotoFirstRep();
    assertThat(stored.getSize()).isEqualTo(16);
    assertThat(stored.getUrl()).startsWith(signedPrefix(bid, 2));
    assertThat(http.parse(http.get("fhir/R4/Patient/" + pid + "/_history/1"), Patient.class).getPhotoFirstRep()
        .getSize()).as("an older version of the resource names the Binary unpinned too").isEqualTo(16);
  }

  @Test
  void attachmentsWrittenAfterABinaryChangesDescribeItsNewVersion() throws Exception {
    Binary b = upload("old bytes");
    String bid = id(b);
    Attachment before = http.parse(http.postJson("fhir/R4/Patient", patientWithPhoto("Binary/" + bid)), Patient.class)
        .getPhotoFirstRep();
    assertThat(before.getSize()).isEqualTo(9);
    assertThat(before.getHashElement().getValueAsString()).isEqualTo(sha1Base64("old bytes"));

    assertThat(http.send(http.request("fhir/R4/Binary/" + bid).header("Content-Type", "text/csv")
        .PUT(HttpRequest.BodyPublishers.ofString("the new bytes"))).statusCode()).isEqualTo(200);
    Attachment after = http.parse(http.postJson("fhir/R4/Patient", patientWithPhoto("Binary/" + bid)), Patient.class)
        .getPhotoFirstRep();
    assertThat(after.getSize()).isEqualTo(13);
    assertThat(after.getContentType()).isEqualTo("text/csv");
    assertThat(after.getHashElement().getValueAsString()).isEqualTo(sha1Base64("the new bytes"));
    assertThat(after.getUrl()).startsWith(signedPrefix(bid, 2));
    // the old version's figures still stand for an attachment pinned to it
    Attachment pinned = http.parse(http.postJson("fhir/R4/Patient", patientWithPhoto("Binary/" + bid + "/_history/1")),
        Patient.class).getPhotoFirstRep();
    assertThat(pinned.getSize()).isEqualTo(9);
    assertThat(pinned.getHashElement().getValueAsString()).isEqualTo(sha1Base64("old bytes"));

    assertThat(http.delete("fhir/R4/Binary/" + bid).statusCode()).isEqualTo(200);
    HttpResponse<String> gone = http.postJson("fhir/R4/Patient", patientWithPhoto("Binary/" + bid));
    assertThat(gone.statusCode()).isEqualTo(400);
    assertThat(http.parse(gone, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("Binary/" + bid, "does not exist");
  }

  private static String sha1Base64(String text) throws Exception {
    return Base64.getEncoder().encodeToString(java.security.MessageDigest.getInstance("SHA-1")
        .digest(text.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void versionPinnedAttachmentKeepsServingItsOwnBytes() {
    Binary b = upload("first bytes");
    String bid = id(b);
    Patient p = http.parse(http.postJson("fhir/R4/Patient", patientWithPhoto("Binary/" + bid + "/_history/1")),
        Patient.class);
    HttpResponse<String> upd = http.send(http.request("fhir/R4/Binary/" + bid).header("Content-Type", "text/plain")
        .PUT(HttpRequest.BodyPublishers.ofString("second bytes")));
    assertThat(upd.statusCode()).isEqualTo(200);
    String pinned = http.parse(http.get("fhir/R4/Patient/" + p.getIdElement().getIdPart()), Patient.class)
        .getPhotoFirstRep().getUrl();
    assertThat(pinned).startsWith(signedPrefix(bid, 1));
    assertThat(body(pinned)).isEqualTo("first bytes");

    // Echoing the signed URL of the old version back keeps the pin; the current one does not pin.
    Patient echo = http.parse(http.postJson("fhir/R4/Patient", patientWithPhoto(pinned)), Patient.class);
    assertThat(echo.getPhotoFirstRep().getUrl()).startsWith(signedPrefix(bid, 1));
    Patient unpinned = http.parse(http.postJson("fhir/R4/Patient", patientWithPhoto("Binary/" + bid)), Patient.class);
    assertThat(unpinned.getPhotoFirstRep().getUrl()).startsWith(signedPrefix(bid, 2));
    assertThat(body(unpinned.getPhotoFirstRep().getUrl())).isEqualTo("second bytes");
  }

  @Test
  void contradictingSizeOrHashAndMissingBinariesAreRejected() {
    Binary b = upload("twelve bytes");
    String bid = id(b);
    HttpResponse<String> size = http.postJson("fhir/R4/Patient",
        "{\"resourceType\":\"Patient\",\"photo\":[{\"url\":\"Binary/" + bid + "\",\"size\":99}]}");
    assertThat(size.statusCode()).isEqualTo(400);
    assertThat(http.parse(size, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains("size");
    HttpResponse<String> hash = http.postJson("fhir/R4/Patient",
        "{\"resourceType\":\"Patient\",\"photo\":[{\"url\":\"Binary/" + bid + "\",\"hash\":\"AAAA\"}]}");
    assertThat(hash.statusCode()).isEqualTo(400);
    HttpResponse<String> missing = http.postJson("fhir/R4/Patient", patientWithPhoto("Binary/nope"));
    assertThat(missing.statusCode()).isEqualTo(400);
    // R4 datatypes.html#Attachment: with data and url both, the url SHALL point to the same content
    String otherData = Base64.getEncoder().encodeToString("other bytes!".getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> data = http.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\",\"photo\":[{"
        + "\"contentType\":\"text/plain\",\"data\":\"" + otherData + "\",\"url\":\"Binary/" + bid + "\"}]}");
    assertThat(data.statusCode()).as(data.body()).isEqualTo(400);
    assertThat(http.parse(data, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains("Attachment.data");
    String sameData = Base64.getEncoder().encodeToString("twelve bytes".getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> same = http.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\",\"photo\":[{"
        + "\"contentType\":\"text/plain\",\"data\":\"" + sameData + "\",\"url\":\"Binary/" + bid + "\"}]}");
    assertThat(same.statusCode()).as(same.body()).isEqualTo(201);
    HttpResponse<String> external = http.postJson("fhir/R4/Patient", patientWithPhoto("https://cdn.example.org/x.jpg"));
    assertThat(http.parse(external, Patient.class).getPhotoFirstRep().getUrl()).isEqualTo("https://cdn.example.org/x.jpg");
  }

  @Test
  void presignedUrlOperationAndDownloadDisposition() {
    HttpResponse<String> r = http.postBytes("fhir/R4/Binary?_filename=report.pdf", "application/pdf", "%PDF".getBytes());
    String bid = http.parse(r, Binary.class).getIdElement().getIdPart();
    Parameters p = http.parse(http.get("fhir/R4/Binary/" + bid + "/$presigned-url"), Parameters.class);
    String url = p.getParameter("url").getValue().primitiveValue();
    assertThat(url).startsWith(signedPrefix(bid, 1));
    Parameters dl = http.parse(http.get("fhir/R4/Binary/" + bid + "/$presigned-url?download=true"), Parameters.class);
    HttpResponse<String> download = http.send(http.request(dl.getParameter("url").getValue().primitiveValue()));
    assertThat(download.headers().firstValue("Content-Disposition").orElseThrow())
        .startsWith("attachment").contains("report.pdf");
    // an empty download is a download too, unlike other empty parameters, which are as if absent
    Parameters empty = http.parse(http.get("fhir/R4/Binary/" + bid + "/$presigned-url?download="), Parameters.class);
    assertThat(http.send(http.request(empty.getParameter("url").getValue().primitiveValue())).headers()
        .firstValue("Content-Disposition").orElseThrow()).startsWith("attachment").contains("report.pdf");
    String notShared = http.parse(http.get("fhir/R4/Binary/" + bid + "/$presigned-url?expiresIn=&thumbnail=&upload="),
        Parameters.class).getParameter("url").getValue().primitiveValue();
    assertThat(notShared).as("an empty expiresIn is as if absent").startsWith(signedPrefix(bid, 1));
    // download=false is no download: a URL as without it, served inline under the file's own name
    String notDownloaded = http.parse(http.get("fhir/R4/Binary/" + bid + "/$presigned-url?download=false"),
        Parameters.class).getParameter("url").getValue().primitiveValue();
    assertThat(notDownloaded).startsWith(signedPrefix(bid, 1)).doesNotContain("Download=");
    assertThat(http.send(http.request(notDownloaded)).headers().firstValue("Content-Disposition").orElseThrow())
        .startsWith("inline").contains("report.pdf").doesNotContain("false");
  }

  @Test
  void aFileThatAnAttachmentCallsAPdfButIsServedAsADownloadIsRefusedToAFrame() {
    HttpResponse<String> r = http.postBytes("fhir/R4/Binary?_filename=summary.pdf.html", "text/html",
        "<html><p>not a pdf</p></html>".getBytes(StandardCharsets.UTF_8));
    String bid = http.parse(r, Binary.class).getIdElement().getIdPart();
    String doc = http.postJson("fhir/R4/DocumentReference", "{\"resourceType\":\"DocumentReference\","
        + "\"status\":\"current\",\"content\":[{\"attachment\":{\"url\":\"Binary/" + bid
        + "\",\"contentType\":\"application/pdf\"}}]}").body();
    String url = doc.replaceAll(".*\"url\":\"([^\"]+)\".*", "$1");
    assertThat(url).startsWith(signedPrefix(bid, 1));

    // a page previewing the "PDF" in a frame would otherwise download the HTML file unasked
    HttpResponse<String> framed = http.send(http.request(url).header("Sec-Fetch-Dest", "iframe"));
    assertThat(framed.statusCode()).isEqualTo(403);
    assertThat(framed.body()).doesNotContain("not a pdf");
    assertThat(http.parse(framed, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("(text/html) is served only as a download").contains("Sec-Fetch-Dest: iframe");
    HttpResponse<String> opened = http.send(http.request(url).header("Sec-Fetch-Dest", "document"));
    assertThat(opened.statusCode()).isEqualTo(200);
    assertThat(opened.headers().firstValue("Content-Disposition").orElseThrow()).startsWith("attachment");
  }

  @Test
  void aVersionHasItsOwnPresignedUrl() {
    Binary b = upload("first");
    assertThat(http.send(http.request("fhir/R4/Binary/" + id(b)).header("Content-Type", "text/plain")
        .PUT(HttpRequest.BodyPublishers.ofString("second"))).statusCode()).isEqualTo(200);
    String old = http.parse(http.get("fhir/R4/Binary/" + id(b) + "/_history/1/$presigned-url?download=true"),
        Parameters.class).getParameter("url").getValue().primitiveValue();
    assertThat(old).startsWith(signedPrefix(id(b), 1));
    assertThat(body(old)).isEqualTo("first");
    String current = http.parse(http.get("fhir/R4/Binary/" + id(b) + "/$presigned-url"), Parameters.class)
        .getParameter("url").getValue().primitiveValue();
    assertThat(body(current)).isEqualTo("second");

    HttpResponse<String> missing = http.get("fhir/R4/Binary/" + id(b) + "/_history/9/$presigned-url");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.body()).contains("OperationOutcome");
    HttpResponse<String> upload = http.get("fhir/R4/Binary/" + id(b) + "/_history/1/$presigned-url?upload=true");
    assertThat(upload.statusCode()).isEqualTo(400);
    assertThat(upload.body()).contains("upload=true");
    assertThat(http.get("fhir/R4/Binary/" + id(b) + "/_history/1/$nothing").statusCode()).isEqualTo(404);
    assertThat(http.send(http.request("fhir/R4/Binary/" + id(b) + "/_history/1/$presigned-url")
        .DELETE()).statusCode()).isEqualTo(405);
    assertThat(http.send(http.request("fhir/R4/Binary/" + id(b)).DELETE()).statusCode()).isEqualTo(200);
    assertThat(http.get("fhir/R4/Binary/" + id(b) + "/_history/3/$presigned-url").statusCode())
        .as("the deletion").isEqualTo(410);
  }

  @Test
  void badMissingAndExpiredSignaturesAreRefusedWithOperationOutcomes() throws Exception {
    Binary b = upload("secret content");
    String url = http.get("fhir/R4/Binary/" + id(b)).body().replaceAll(".*\"url\":\"([^\"]+)\".*", "$1");
    HttpResponse<String> tampered = http.send(http.request(url.replace("/1?", "/2?")));
    assertThat(tampered.statusCode()).isEqualTo(403);
    assertThat(tampered.body()).doesNotContain("secret content").contains("OperationOutcome");
    String unsigned = url.substring(0, url.indexOf('?'));
    TestClient anonymous = new TestClient(server.baseUrl());
    HttpResponse<String> missing = anonymous.send(anonymous.request(unsigned));
    assertThat(missing.statusCode()).isEqualTo(401);
    HttpResponse<String> missingWithCredentials = http.send(http.request(unsigned));
    assertThat(missingWithCredentials.statusCode()).as("no credentials open it: not to be sent again with new ones")
        .isEqualTo(403);
    assertThat(missingWithCredentials.headers().firstValue("WWW-Authenticate")).isEmpty();
    assertThat(missingWithCredentials.body()).contains("needs the Expires, KeyId and Signature parameters")
        .doesNotContain("secret content");
    StorageUrlSigner past = new StorageUrlSigner(SigningKeys.parse(KEYS), Duration.ofSeconds(60),
        Clock.fixed(Instant.now().minus(Duration.ofHours(2)), ZoneOffset.UTC));
    HttpResponse<String> expired = http.send(http.request(past.sign(server.baseUrl(), id(b), "1", null)));
    assertThat(expired.statusCode()).isEqualTo(410);
    assertThat(http.parse(expired, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains("expired");
  }

  @Test
  void aSignedUrlNamingAParameterTwiceIsRefused() {
    Binary b = upload("twice-named content");
    String url = http.get("fhir/R4/Binary/" + id(b)).body().replaceAll(".*\"url\":\"([^\"]+)\".*", "$1");
    String expires = url.replaceAll(".*[?&]Expires=([0-9]+).*", "$1");
    String signature = url.replaceAll(".*[?&]Signature=([^&]+).*", "$1");
    for (String extra : List.of("&Expires=" + (Long.parseLong(expires) + 86_400), "&Signature=" + signature,
        "&KeyId=k1", "&Expires=" + expires)) {
      HttpResponse<String> r = http.send(http.request(url + extra));
      assertThat(r.statusCode()).as(extra).isEqualTo(403);
      assertThat(r.body()).as(extra).doesNotContain("twice-named content").contains("more than once");
    }
    assertThat(body(url)).isEqualTo("twice-named content");
  }

  @Test
  void corsPreflightAndExposedHeaders() {
    HttpResponse<String> pre = http.send(http.request("storage/x/1").header("Origin", "https://app.example.org")
        .header("Access-Control-Request-Method", "GET").header("Access-Control-Request-Headers", "range")
        .method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
    assertThat(pre.statusCode()).isEqualTo(204);
    assertThat(pre.headers().firstValue("Access-Control-Allow-Origin")).hasValue("*");
    assertThat(pre.headers().firstValue("Access-Control-Allow-Headers").orElseThrow())
        .contains("Range", "Authorization", "X-Security-Context", "X-Medplum");
    Binary b = upload("cors");
    String url = http.get("fhir/R4/Binary/" + id(b)).body().replaceAll(".*\"url\":\"([^\"]+)\".*", "$1");
    HttpResponse<String> get = http.send(http.request(url).header("Origin", "https://app.example.org"));
    assertThat(get.headers().firstValue("Access-Control-Expose-Headers").orElseThrow())
        .contains("Content-Range", "Accept-Ranges", "ETag", "Content-Disposition", "Location");
  }
}
