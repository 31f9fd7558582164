package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.fhirbox.auth.AuthModule;
import org.fhirbox.auth.OAuthClient;
import org.fhirbox.config.FhirboxConfig;
import org.fhirbox.app.FhirboxServer;
import org.fhirbox.signing.StorageUrlSigner;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Media;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.UrlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Ingestion of external Attachment urls, end to end against an upstream on 127.0.0.1. */
class IngestionTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @RegisterExtension
  static final IngestionServer fhirbox = new IngestionServer(IngestionTest::settings);

  static Map<String, String> settings(Upstream up) {
    return Map.of(
        "FHIRBOX_INGEST_ALLOWED_URL_PREFIXES", up.origin() + "/files/," + up.origin() + "/private/",
        "FHIRBOX_INGEST_IGNORED_URL_PREFIXES", up.origin() + "/private/," + up.origin() + "/files/priv\u00e9/",
        "FHIRBOX_INGEST_POLL_MILLIS", "50",
        "FHIRBOX_INGEST_BACKOFF_MILLIS", "100",
        "FHIRBOX_INGEST_MAX_ATTEMPTS", "3",
        "FHIRBOX_INGEST_LEASE_SECONDS", "2");
  }

  static Media createMedia(TestClient client, String url, String contentType) {
    Media m = new Media();
    m.setStatus(Media.MediaStatus.COMPLETED);
    m.getContent().setUrl(url).setContentType(contentType).setTitle("clip");
    HttpResponse<String> r = client.postJson("fhir/R4/Media", client.json(m));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return client.parse(r, Media.class);
  }

  static Media read(TestClient client, Media m) {
    HttpResponse<String> r = client.get("fhir/R4/Media/" + m.getIdElement().getIdPart());
    assertThat(r.statusCode()).isEqualTo(200);
    return client.parse(r, Media.class);
  }

  /** The job of {@code url}, from the admin listing. */
  /** Serves {@code body} at {@code path} once {@code release} opens; {@code requested} opens as the fetch arrives. */
  static void serveHeld(Upstream upstream, String path, byte[] body, CountDownLatch requested, CountDownLatch release) {
    upstream.on(path, ex -> {
      requested.countDown();
      release.await(30, TimeUnit.SECONDS);
      Upstream.send(ex, 200, "application/octet-stream", body);
    });
  }

  static JsonNode job(TestClient client, String url) throws Exception {
    HttpResponse<String> r = client.get("admin/jobs");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    for (JsonNode j : JSON.readTree(r.body()).get("jobs")) {
      if (j.get("url").asText().equals(url)) {
        return j;
      }
    }
    return null;
  }

  static JsonNode awaitJob(TestClient client, String url, String state) throws Exception {
    return Poll.until("job for " + url + " reaching " + state, () -> job(client, url),
        j -> j != null && j.get("state").asText().equals(state));
  }

  static String sha1(byte[] b) throws Exception {
    return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1").digest(b));
  }

  @Test
  void externalUrlIsIngestedAndTheAttachmentRepointed() throws Exception {
    byte[] body = Upstream.content(300_000, 10);
    fhirbox.upstream().serve("/files/clip.mp4", "video/mp4", body);
    String url = fhirbox.upstream().origin() + "/files/clip.mp4";
    Media m = createMedia(fhirbox.http(), url, "application/octet-stream");
    assertThat(m.getContent().getUrl()).isEqualTo(url);

    JsonNode job = awaitJob(fhirbox.http(), url, "done");
    String binaryId = job.get("binary").asText().substring("Binary/".length());
    Media after = read(fhirbox.http(), m);
    assertThat(after.getMeta().getVersionId()).isEqualTo("2");
    assertThat(StorageUrlSigner.tryParse(after.getContent().getUrl()).orElseThrow().binaryId()).isEqualTo(binaryId);
    assertThat(after.getContent().getSize()).isEqualTo(body.length);
    assertThat(Base64.getEncoder().encodeToString(after.getContent().getHash())).isEqualTo(sha1(body));
    assertThat(after.getContent().getTitle()).isEqualTo("clip");

    HttpResponse<byte[]> raw = fhirbox.http().sendBytes(fhirbox.http().request(after.getContent().getUrl()).GET());
    assertThat(raw.statusCode()).isEqualTo(200);
    assertThat(raw.body()).isEqualTo(body);
    Binary binary = fhirbox.http().parse(fhirbox.http().get("fhir/R4/Binary/" + binaryId), Binary.class);
    assertThat(binary.getContentType()).isEqualTo("video/mp4");
    assertThat(binary.getSecurityContext().getReference()).isEqualTo("Media/" + m.getIdElement().getIdPart());
  }

  @Test
  void anIngestedBinaryIsAuditedAsCreatedByTheIngestion() throws Exception {
    fhirbox.upstream().serve("/files/audited.pdf", "application/pdf", Upstream.content(2000, 19));
    String url = fhirbox.upstream().origin() + "/files/audited.pdf";
    Media m = createMedia(fhirbox.http(), url, null);
    String binaryId = awaitJob(fhirbox.http(), url, "done").get("binary").asText().substring("Binary/".length());

    JsonNode events = Poll.until("the audit event of Binary/" + binaryId,
        () -> JSON.readTree(fhirbox.http().get("fhir/R4/AuditEvent?entity=Binary/" + binaryId).body()).path("entry"),
        e -> e.size() > 0);
    assertThat(events).hasSize(1);
    JsonNode event = events.get(0).get("resource");
    assertThat(event.get("action").asText()).isEqualTo("C");
    assertThat(event.at("/subtype/0/code").asText()).isEqualTo("create");
    assertThat(event.at("/entity/0/what/reference").asText()).isEqualTo("Binary/" + binaryId + "/_history/1");
    assertThat(event.at("/entity/1/what/reference").asText()).isEqualTo("Media/" + m.getIdElement().getIdPart());
    assertThat(event.at("/agent/0/who/display").asText()).isEqualTo("fhirbox ingestion");
    assertThat(event.at("/agent/0/who/identifier/system").asText()).isEqualTo("urn:fhirbox:audit-source");
    assertThat(event.at("/entity/0/detail/0/valueString").asText()).startsWith("ingestion job ");
  }

  @Test
  void transientFailureIsRetriedWithBackoff() throws Exception {
    byte[] body = Upstream.content(5000, 11);
    AtomicInteger calls = new AtomicInteger();
    fhirbox.upstream().on("/files/flaky.pdf", ex -> {
      if (calls.incrementAndGet() == 1) {
        Upstream.send(ex, 503, "text/plain", "busy".getBytes());
      } else {
        Upstream.send(ex, 200, "application/pdf", body);
      }
    });
    String url = fhirbox.upstream().origin() + "/files/flaky.pdf";
    createMedia(fhirbox.http(), url, null);
    JsonNode job = awaitJob(fhirbox.http(), url, "done");
    assertThat(job.get("attempts").asInt()).isEqualTo(2);
    assertThat(calls.get()).isEqualTo(2);
  }

  @Test
  void permanentFailureLeavesTheUrlAndIsVisibleToAdmins() throws Exception {
    String url = fhirbox.upstream().origin() + "/files/missing.png";
    Media m = createMedia(fhirbox.http(), url, "image/png");
    JsonNode job = awaitJob(fhirbox.http(), url, "failed");
    assertThat(job.get("lastError").asText()).contains("404");
    assertThat(job.get("attempts").asInt()).isEqualTo(1);
    assertThat(read(fhirbox.http(), m).getContent().getUrl()).isEqualTo(url);

    HttpResponse<String> failed = fhirbox.http().get("admin/jobs?state=failed");
    assertThat(JSON.readTree(failed.body()).get("jobs").findValuesAsText("url")).contains(url);
    HttpResponse<String> done = fhirbox.http().get("admin/jobs?state=done");
    assertThat(JSON.readTree(done.body()).get("jobs").findValuesAsText("url")).doesNotContain(url);
  }

  @Test
  void redirectToAForbiddenAddressIsRefused() throws Exception {
    fhirbox.upstream().on("/files/redirect", ex -> {
      ex.getResponseHeaders().set("Location", "http://169.254.169.254/latest/meta-data/");
      ex.sendResponseHeaders(302, -1);
    });
    String url = fhirbox.upstream().origin() + "/files/redirect";
    Media m = createMedia(fhirbox.http(), url, null);
    JsonNode job = awaitJob(fhirbox.http(), url, "failed");
    assertThat(job.get("lastError").asText()).contains("redirect to http://169.254.169.254");
    assertThat(read(fhirbox.http(), m).getContent().getUrl()).isEqualTo(url);
  }

  @Test
  void urlsOutsideThePolicySaveUnchangedWithoutAJob() throws Exception {
    fhirbox.upstream().serve("/private/a.txt", "text/plain", "secret".getBytes());
    fhirbox.upstream().serve("/elsewhere/b.txt", "text/plain", "other".getBytes());
    String ignored = fhirbox.upstream().origin() + "/private/a.txt";
    String unlisted = fhirbox.upstream().origin() + "/elsewhere/b.txt";
    Media a = createMedia(fhirbox.http(), ignored, null);
    Media b = createMedia(fhirbox.http(), unlisted, null);
    assertThat(a.getContent().getUrl()).isEqualTo(ignored);
    assertThat(b.getContent().getUrl()).isEqualTo(unlisted);
    assertThat(job(fhirbox.http(), ignored)).isNull();
    assertThat(job(fhirbox.http(), unlisted)).isNull();
    assertThat(fhirbox.upstream().hits("/private/a.txt") + fhirbox.upstream().hits("/elsewhere/b.txt")).isZero();
  }

  @Test
  void concurrentEditKeepingTheUrlIsPreservedAndRepointed() throws Exception {
    byte[] body = Upstream.content(2000, 12);
    CountDownLatch requested = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    serveHeld(fhirbox.upstream(), "/files/slow-keep.bin", body, requested, release);
    String url = fhirbox.upstream().origin() + "/files/slow-keep.bin";
    Media m = createMedia(fhirbox.http(), url, null);
    assertThat(requested.await(30, TimeUnit.SECONDS)).isTrue();
    Media edited = read(fhirbox.http(), m);
    edited.setStatus(Media.MediaStatus.ENTEREDINERROR);
    assertThat(fhirbox.http().putJson("fhir/R4/Media/" + m.getIdElement().getIdPart(), fhirbox.http().json(edited))
        .statusCode()).isEqualTo(200);
    release.countDown();

    awaitJob(fhirbox.http(), url, "done");
    Media after = read(fhirbox.http(), m);
    assertThat(after.getMeta().getVersionId()).isEqualTo("3");
    assertThat(after.getStatus()).isEqualTo(Media.MediaStatus.ENTEREDINERROR);
    assertThat(StorageUrlSigner.tryParse(after.getContent().getUrl())).isPresent();
  }

  @Test
  void concurrentEditChangingTheUrlWinsAndTheJobIsSkipped() throws Exception {
    CountDownLatch requested = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    serveHeld(fhirbox.upstream(), "/files/slow-change.bin", new byte[] {1, 2, 3}, requested, release);
    String url = fhirbox.upstream().origin() + "/files/slow-change.bin";
    Media m = createMedia(fhirbox.http(), url, null);
    assertThat(requested.await(30, TimeUnit.SECONDS)).isTrue();
    Media edited = read(fhirbox.http(), m);
    String replacement = "urn:example:not-fetched";
    edited.getContent().setUrl(replacement);
    assertThat(fhirbox.http().putJson("fhir/R4/Media/" + m.getIdElement().getIdPart(), fhirbox.http().json(edited))
        .statusCode()).isEqualTo(200);
    release.countDown();

    JsonNode job = awaitJob(fhirbox.http(), url, "skipped");
    assertThat(job.get("lastError").asText()).contains("changed");
    Media after = read(fhirbox.http(), m);
    assertThat(after.getMeta().getVersionId()).isEqualTo("2");
    assertThat(after.getContent().getUrl()).isEqualTo(replacement);

    // the Binary fetched for the old url is referenced by nothing: deleted, and audited as such
    String binaryId = job.get("binary").asText().substring("Binary/".length());
    HttpResponse<String> gone = fhirbox.http().get("fhir/R4/Binary/" + binaryId);
    assertThat(gone.statusCode()).as(gone.body()).isEqualTo(410);
    JsonNode events = Poll.until("the audit events of Binary/" + binaryId,
        () -> JSON.readTree(fhirbox.http().get("fhir/R4/AuditEvent?entity=Binary/" + binaryId).body()).path("entry"),
        e -> e.size() >= 2);
    JsonNode deleted = null;
    for (JsonNode e : events) {
      if (e.at("/resource/action").asText().equals("D")) {
        deleted = e.get("resource");
      }
    }
    assertThat(deleted).as(events.toString()).isNotNull();
    assertThat(deleted.at("/agent/0/who/display").asText()).isEqualTo("fhirbox ingestion");
    assertThat(deleted.at("/entity/0/what/reference").asText()).isEqualTo("Binary/" + binaryId + "/_history/2");
  }

  @Test
  void importFetchesSynchronouslyAndReturnsTheBinary() throws Exception {
    byte[] body = Upstream.content(40_000, 13);
    fhirbox.upstream().serve("/files/scan.tiff", "image/tiff", body);
    Parameters p = new Parameters();
    p.addParameter().setName("url").setValue(new UrlType(fhirbox.upstream().origin() + "/files/scan.tiff"));
    HttpResponse<String> r = fhirbox.http().postJson("fhir/R4/Binary/$import", fhirbox.http().json(p));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    Binary b = fhirbox.http().parse(r, Binary.class);
    assertThat(b.getContentType()).isEqualTo("image/tiff");
    HttpResponse<byte[]> raw = fhirbox.http().sendBytes(fhirbox.http().request("fhir/R4/Binary/"
        + b.getIdElement().getIdPart()).GET());
    assertThat(raw.body()).isEqualTo(body);

    HttpResponse<String> refused = fhirbox.http().send(fhirbox.http().request("fhir/R4/Binary/$import?url="
        + java.net.URLEncoder.encode(fhirbox.upstream().origin() + "/private/a.txt", "UTF-8"))
        .POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(fhirbox.http().parse(refused, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("ignore list");

    fhirbox.upstream().on("/files/broken", ex -> Upstream.send(ex, 500, "text/plain", "boom".getBytes()));
    HttpResponse<String> broken = fhirbox.http().send(fhirbox.http().request("fhir/R4/Binary/$import?url="
        + java.net.URLEncoder.encode(fhirbox.upstream().origin() + "/files/broken", "UTF-8"))
        .POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(broken.statusCode()).isEqualTo(502);
    assertThat(fhirbox.http().parse(broken, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("500");
  }

  @Test
  void anImportedFileIsNamedWithoutItsPathParametersWhereServersPutSessionIds() throws Exception {
    fhirbox.upstream().serve("/files/report.pdf;jsessionid=S3CRET", "application/pdf", Upstream.content(1_000, 14));
    HttpResponse<String> r = fhirbox.http().send(fhirbox.http().request("fhir/R4/Binary/$import?url="
        + URLEncoder.encode(fhirbox.upstream().origin() + "/files/report.pdf;jsessionid=S3CRET", "UTF-8"))
        .POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);

    HttpResponse<byte[]> raw = fhirbox.http().sendBytes(fhirbox.http().request("fhir/R4/Binary/"
        + fhirbox.http().parse(r, Binary.class).getIdElement().getIdPart()).GET());
    assertThat(raw.headers().firstValue("Content-Disposition").orElseThrow()).contains("filename=\"report.pdf\"")
        .doesNotContain("S3CRET");
  }

  @Test
  void importWithPatientScopesStoresTheBinaryInThePatientsCompartment() throws Exception {
    fhirbox.upstream().serve("/files/photo.txt", "text/plain", "a photo".getBytes(StandardCharsets.UTF_8));
    String a = TestClient.createdId(fhirbox.http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    String b = TestClient.createdId(fhirbox.http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    AuthModule auth = fhirbox.server().server().auth();
    OAuthClient client = auth.clients().find(auth.clients().create("default", "patient/*.cruds", false).clientId())
        .orElseThrow();
    TestClient asA = new TestClient(fhirbox.server().baseUrl()).withHeader("Authorization", "Bearer " + auth.tokens()
        .issue(client, client.allowedScopes(), Optional.empty(), Optional.of(a)).accessToken());
    String url = java.net.URLEncoder.encode(fhirbox.upstream().origin() + "/files/photo.txt", "UTF-8");

    HttpResponse<String> mine = asA.send(asA.request("fhir/R4/Binary/$import?url=" + url)
        .POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(mine.statusCode()).as(mine.body()).isEqualTo(201);
    assertThat(JSON.readTree(mine.body()).at("/securityContext/reference").asText()).isEqualTo("Patient/" + a);
    HttpResponse<String> theirs = asA.send(asA.request("fhir/R4/Binary/$import?url=" + url
        + "&securityContext=Patient/" + b).POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(theirs.statusCode()).as(theirs.body()).isEqualTo(403);
  }

  @Test
  void aWriterThatMayNotCreateBinariesGetsNoJobAndKeepsItsUrl() throws Exception {
    fhirbox.upstream().serve("/files/no-binary-create.txt", "text/plain", "kept".getBytes(StandardCharsets.UTF_8));
    String url = fhirbox.upstream().origin() + "/files/no-binary-create.txt";
    TestClient mediaOnly = new ProjectClients(fhirbox.server()).client("default", "system/Media.cru");
    Media m = createMedia(mediaOnly, url, "text/plain");
    assertThat(m.getContent().getUrl()).isEqualTo(url);
    // the job would be inserted in the write's transaction: none now means none ever
    assertThat(job(fhirbox.http(), url)).isNull();
    assertThat(read(fhirbox.http(), m).getContent().getUrl()).isEqualTo(url);
    // a transaction entry is judged alike
    String inBundle = fhirbox.upstream().origin() + "/files/no-binary-create-bundle.txt";
    HttpResponse<String> bundle = mediaOnly.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
        + "\"entry\":[{\"resource\":{\"resourceType\":\"Media\",\"status\":\"completed\",\"content\":{\"url\":\""
        + inBundle + "\"}},\"request\":{\"method\":\"POST\",\"url\":\"Media\"}}]}");
    assertThat(bundle.statusCode()).as(bundle.body()).isEqualTo(200);
    assertThat(job(fhirbox.http(), inBundle)).isNull();
    assertThat(fhirbox.upstream().hits("/files/no-binary-create.txt")).isZero();
    assertThat(fhirbox.upstream().hits("/files/no-binary-create-bundle.txt")).isZero();
  }

  @Test
  void aPatientScopedWriterGetsAJobOnlyWithPatientBinaryCreate() throws Exception {
    String a = TestClient.createdId(fhirbox.http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    String without = fhirbox.upstream().origin() + "/files/patient-without-binary.txt";
    String with = fhirbox.upstream().origin() + "/files/patient-with-binary.txt";
    fhirbox.upstream().serve("/files/patient-without-binary.txt", "text/plain", "a".getBytes(StandardCharsets.UTF_8));
    fhirbox.upstream().serve("/files/patient-with-binary.txt", "text/plain", "b".getBytes(StandardCharsets.UTF_8));
    createMediaOf(patientToken("patient/Media.cru", a), a, without);
    createMediaOf(patientToken("patient/Media.cru patient/Binary.c", a), a, with);
    assertThat(job(fhirbox.http(), without)).isNull();
    assertThat(job(fhirbox.http(), with)).isNotNull();
  }

  private static TestClient patientToken(String scope, String patient) {
    AuthModule auth = fhirbox.server().server().auth();
    OAuthClient client = auth.clients().find(auth.clients().create("default", scope, false).clientId())
        .orElseThrow();
    return new TestClient(fhirbox.server().baseUrl()).withHeader("Authorization", "Bearer " + auth.tokens()
        .issue(client, client.allowedScopes(), Optional.empty(), Optional.of(patient)).accessToken());
  }

  private static void createMediaOf(TestClient c, String patient, String url) {
    Media m = new Media();
    m.setStatus(Media.MediaStatus.COMPLETED);
    m.setSubject(new Reference("Patient/" + patient));
    m.getContent().setUrl(url).setContentType("text/plain");
    HttpResponse<String> r = c.postJson("fhir/R4/Media", c.json(m));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(c.parse(r, Media.class).getContent().getUrl()).isEqualTo(url);
  }

  private static HttpResponse<String> importUrl(String url) {
    return fhirbox.http().send(fhirbox.http().request("fhir/R4/Binary/$import?url="
        + java.net.URLEncoder.encode(url, java.nio.charset.StandardCharsets.UTF_8))
        .POST(HttpRequest.BodyPublishers.noBody()));
  }

  /**
   * An ignored prefix covers the spellings of its paths that servers commonly read as the same:
   * a non-ASCII character as written or as its UTF-8 escapes (RFC 3987 §3.1, what goes on the
   * wire either way), doubled slashes (which nginx and Apache merge) and path parameters (which
   * Tomcat and Jetty drop from a segment).
   */
  @Test
  void anIgnoredPrefixCoversTheSpellingsServersReadAsUnderIt() throws Exception {
    int before = fhirbox.upstream().rawPaths().size();
    for (String path : java.util.List.of("/files/priv%C3%A9/a.txt", "/files/priv\u00e9/a.txt", "//private/a.txt",
        "/private//a.txt", "/private;v=1/a.txt", "/files/priv%C3%A9;x/a.txt")) {
      HttpResponse<String> r = importUrl(fhirbox.upstream().origin() + path);
      assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(400);
      assertThat(fhirbox.http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).as(path)
          .contains("the URL is on the ignore list");
    }
    assertThat(fhirbox.upstream().rawPaths().subList(before, fhirbox.upstream().rawPaths().size())).isEmpty();
  }

  @Test
  void urlsThatLeaveTheAllowedPrefixAreRefusedWithoutARequest() throws Exception {
    fhirbox.upstream().serve("/elsewhere/secret.txt", "text/plain", "secret".getBytes());
    int before = fhirbox.upstream().rawPaths().size();
    for (String path : java.util.List.of("/files/../elsewhere/secret.txt", "/files/%2e%2e/elsewhere/secret.txt",
        "/files/..%2felsewhere/secret.txt", "/files/.%2e/elsewhere/secret.txt",
        // %32 and %46 are "2" and "F", so these are the double-encoded %252F and %252e%252e once decoded
        "/files/..%25%32%46elsewhere/secret.txt", "/files/%25%32%65%25%32%65/elsewhere/secret.txt")) {
      String url = fhirbox.upstream().origin() + path;
      HttpResponse<String> r = importUrl(url);
      assertThat(r.statusCode()).as(path).isEqualTo(400);
      assertThat(fhirbox.http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).as(path)
          .containsAnyOf("not on the allow list", "not fetched");
      Media m = createMedia(fhirbox.http(), url, null);
      assertThat(m.getContent().getUrl()).isEqualTo(url);
      assertThat(job(fhirbox.http(), url)).as(path).isNull();
    }
    assertThat(fhirbox.upstream().rawPaths().subList(before, fhirbox.upstream().rawPaths().size()))
        .noneMatch(p -> p.contains("elsewhere"));
  }

  @Test
  void importFetchesTheNormalisedUrl() throws Exception {
    byte[] body = Upstream.content(1000, 15);
    fhirbox.upstream().serve("/files/norm/~scan.png", "image/png", body);
    HttpResponse<String> r = importUrl(fhirbox.upstream().origin() + "/files/x/../norm/./%7Escan.png");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(fhirbox.upstream().rawPaths()).contains("/files/norm/~scan.png");
    assertThat(fhirbox.upstream().rawPaths()).noneMatch(p -> p.contains(".."));
  }

  @Test
  void ambiguousIpv4HostsGetA400NamingTheProblem() throws Exception {
    String port = fhirbox.upstream().origin().substring(fhirbox.upstream().origin().lastIndexOf(':'));
    for (String host : java.util.List.of("0177.0.0.1", "0x7f.0.0.1", "127.1", "2130706433", "127.000.0.1")) {
      String url = "http://" + host + port + "/files/x.txt";
      HttpResponse<String> r = importUrl(url);
      assertThat(r.statusCode()).as(host).isEqualTo(400);
      assertThat(fhirbox.http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).as(host)
          .contains("ambiguous IPv4 address");
      Media m = createMedia(fhirbox.http(), url, null);
      assertThat(m.getContent().getUrl()).isEqualTo(url);
      assertThat(job(fhirbox.http(), url)).as(host).isNull();
    }
  }

  @Test
  void defaultPolicyRefusesInternalAddressesAndDisabledProjectsGetNoJobs() throws Exception {
    try (TestServer plain = TestServer.start(Map.of("FHIRBOX_INGEST_DISABLED_PROJECTS", "default",
        "FHIRBOX_INGEST_POLL_MILLIS", "50"))) {
      TestClient c = plain.client();
      HttpResponse<String> r = c.send(c.request("fhir/R4/Binary/$import?url="
          + java.net.URLEncoder.encode("https://169.254.169.254/latest/meta-data/", "UTF-8"))
          .POST(HttpRequest.BodyPublishers.noBody()));
      assertThat(r.statusCode()).isEqualTo(400);
      assertThat(c.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains("does not resolve to a public address");

      String url = "https://cdn.example.invalid/clip.mp4";
      Media m = createMedia(c, url, "video/mp4");
      assertThat(m.getContent().getUrl()).isEqualTo(url);
      assertThat(job(c, url)).isNull();
    }
  }

  @Test
  void jobInterruptedByARestartCompletesOnTheNextServer() throws Exception {
    byte[] body = Upstream.content(200_000, 14);
    AtomicInteger calls = new AtomicInteger();
    CountDownLatch midFetch = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    fhirbox.upstream().on("/files/restart.bin", ex -> {
      if (calls.incrementAndGet() == 1) {
        ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
        ex.sendResponseHeaders(200, body.length);
        java.io.OutputStream out = ex.getResponseBody();
        out.write(body, 0, 1000);
        out.flush();
        midFetch.countDown();
        release.await(30, TimeUnit.SECONDS);
      } else {
        Upstream.send(ex, 200, "application/octet-stream", body);
      }
    });
    String url = fhirbox.upstream().origin() + "/files/restart.bin";
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("fhirbox-restart");
    Map<String, String> s = onDataDir(dir);
    FhirboxConfig config = FhirboxConfig.of(s);
    try {
      FhirboxServer first = new FhirboxServer(config, TestServer.FHIR).start();
      Media m;
      try {
        m = createMedia(admin(first), url, null);
        assertThat(midFetch.await(30, TimeUnit.SECONDS)).isTrue();
      } finally {
        first.close();
        release.countDown();
      }
      try (FhirboxServer second = new FhirboxServer(config, TestServer.FHIR).start()) {
        TestClient c = admin(second);
        JsonNode job = awaitJob(c, url, "done");
        assertThat(job.get("attempts").asInt()).isEqualTo(2);
        Media after = read(c, m);
        assertThat(after.getContent().getSize()).isEqualTo(body.length);
        assertThat(Base64.getEncoder().encodeToString(after.getContent().getHash())).isEqualTo(sha1(body));
        assertThat(calls.get()).isEqualTo(2);
      }
    } finally {
      TestServer.deleteTree(dir);
    }
  }

  @Test
  void jobsOfAProjectWhoseIngestionWasSwitchedOffAreNeitherFetchedNorRetried() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    CountDownLatch midFetch = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    fhirbox.upstream().on("/files/switched-off.bin", ex -> {
      calls.incrementAndGet();
      ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
      ex.sendResponseHeaders(200, 2000);
      ex.getResponseBody().write(new byte[100]);
      ex.getResponseBody().flush();
      midFetch.countDown();
      release.await(30, TimeUnit.SECONDS);
    });
    String url = fhirbox.upstream().origin() + "/files/switched-off.bin";
    String failedUrl = fhirbox.upstream().origin() + "/files/switched-off-missing.png";
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("fhirbox-switched-off");
    Map<String, String> s = onDataDir(dir);
    try {
      try (FhirboxServer first = new FhirboxServer(FhirboxConfig.of(s), TestServer.FHIR).start()) {
        createMedia(admin(first), failedUrl, "image/png");
        awaitJob(admin(first), failedUrl, "failed");
        createMedia(admin(first), url, null);
        assertThat(midFetch.await(30, TimeUnit.SECONDS)).isTrue();
      } finally {
        release.countDown();
      }
      // the same data, with ingestion switched off for the project: the job cut off by the restart
      // is skipped, not fetched again, and the failed one is not retried
      s.put("FHIRBOX_INGEST_DISABLED_PROJECTS", "default");
      try (FhirboxServer second = new FhirboxServer(FhirboxConfig.of(s), TestServer.FHIR).start()) {
        TestClient c = admin(second);
        JsonNode skipped = awaitJob(c, url, "skipped");
        assertThat(skipped.get("lastError").asText()).contains("FHIRBOX_INGEST_DISABLED_PROJECTS");
        assertThat(calls.get()).isEqualTo(1);
        String failedId = job(c, failedUrl).get("id").asText();
        HttpResponse<String> retry = c.postJson("admin/jobs/" + failedId + "/retry", "");
        assertThat(retry.statusCode()).as(retry.body()).isEqualTo(409);
        assertThat(retry.body()).contains("FHIRBOX_INGEST_DISABLED_PROJECTS");
        assertThat(job(c, failedUrl).get("state").asText()).isEqualTo("failed");
      }
    } finally {
      TestServer.deleteTree(dir);
    }
  }

  /** The settings of a server of this class's upstream on {@code dir}, for servers that follow one another there. */
  private static Map<String, String> onDataDir(java.nio.file.Path dir) {
    Map<String, String> s = new java.util.HashMap<>(settings(fhirbox.upstream()));
    s.put("FHIRBOX_PORT", "0");
    s.put("FHIRBOX_BIND", "127.0.0.1");
    s.put("FHIRBOX_DATA_DIR", dir.toString());
    s.put("FHIRBOX_BOOTSTRAP_CLIENT_ID", TestServer.ADMIN_ID);
    s.put("FHIRBOX_BOOTSTRAP_CLIENT_SECRET", TestServer.ADMIN_SECRET);
    return s;
  }

  private static TestClient admin(FhirboxServer s) {
    return new TestClient(s.baseUrl()).withHeader("Authorization", "Basic " + Base64.getEncoder()
        .encodeToString((TestServer.ADMIN_ID + ":" + TestServer.ADMIN_SECRET).getBytes()));
  }

  @Test
  void adminJobsRejectsUnknownStates() {
    assertThat(fhirbox.http().get("admin/jobs?state=bogus").statusCode()).isEqualTo(400);
  }
}
