package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.fhirbox.app.FhirboxServer;
import org.fhirbox.config.FhirboxConfig;
import org.fhirbox.testing.PageWalk;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Binary accesses become AuditEvents in the Binary's project, searchable by its admins. */
class AuditHttpTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final AtomicInteger PROJECTS = new AtomicInteger();

  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  /**
   * A project of its own on the class's server, so that what a test finds of the audit trail is
   * what it did: a client with {@code scope}, and an admin of the project.
   */
  private record Audited(String project, ProjectClients clients, ProjectClients.Credentials clientCred,
      TestClient client, ProjectClients.Credentials adminCred, TestClient admin) {
    static Audited project(String scope) {
      String project = nextName();
      ProjectClients clients = new ProjectClients(fhirbox.server());
      ProjectClients.Credentials clientCred = clients.create(project, scope, false);
      ProjectClients.Credentials adminCred = clients.create(project, "system/*.cruds", true);
      return new Audited(project, clients, clientCred, clients.bearer(clientCred), adminCred,
          clients.bearer(adminCred));
    }

    String clientId() {
      return clientCred.clientId();
    }

    static String nextName() {
      return "audited-" + PROJECTS.incrementAndGet();
    }
  }

  private static String upload(TestClient c, String text) throws Exception {
    return TestClient.createdId(c.postBytes("fhir/R4/Binary", "text/plain", text.getBytes(StandardCharsets.UTF_8)));
  }

  private static List<JsonNode> auditEvents(TestClient admin, String query) throws Exception {
    HttpResponse<String> r = admin.get("fhir/R4/AuditEvent?_count=50" + query);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    List<JsonNode> out = new ArrayList<>();
    JSON.readTree(r.body()).path("entry").forEach(e -> out.add(e.get("resource")));
    return out;
  }

  /** Polls (bounded: the audit writer runs in the background) until the events satisfy {@code done}. */
  private static List<JsonNode> awaitEvents(TestClient admin, String query, Predicate<List<JsonNode>> done)
      throws Exception {
    return Poll.until("audit events for " + query, () -> auditEvents(admin, query), done);
  }

  private static boolean has(List<JsonNode> events, String typeCode, String subtype, String clientId) {
    return events.stream().anyMatch(e -> matches(e, typeCode, subtype, clientId));
  }

  private static boolean matches(JsonNode e, String typeCode, String subtype, String clientId) {
    return e.at("/type/code").asText().equals(typeCode)
        && (subtype == null ? !e.has("subtype") : e.at("/subtype/0/code").asText().equals(subtype))
        && (clientId == null ? !e.at("/agent/0").has("altId") : e.at("/agent/0/altId").asText().equals(clientId));
  }

  private static JsonNode find(List<JsonNode> events, String typeCode, String subtype, String clientId) {
    return events.stream().filter(e -> matches(e, typeCode, subtype, clientId)).findFirst().orElseThrow();
  }

  @Test
  void aPresignedUploadIsAuditedForTheClientItsUrlWasIssuedTo() throws Exception {
    Audited audited = Audited.project("system/Binary.crs");
    TestClient uploader = audited.client();
    TestClient admin = audited.admin();
    HttpResponse<String> issued = uploader.postJson("fhir/R4/Binary/$upload-url", "{\"resourceType\":\"Parameters\","
        + "\"parameter\":[{\"name\":\"contentType\",\"valueString\":\"text/plain\"},"
        + "{\"name\":\"size\",\"valueInteger\":5}]}");
    assertThat(issued.statusCode()).as(issued.body()).isEqualTo(200);
    JsonNode params = JSON.readTree(issued.body()).path("parameter");
    String url = params.get(0).path("valueUrl").asText();
    String id = params.get(1).at("/valueReference/reference").asText().substring("Binary/".length());
    TestClient anonymous = new TestClient(fhirbox.server().baseUrl());
    HttpResponse<String> put = anonymous.send(anonymous.request(url).header("Content-Type", "text/plain")
        .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("hello")));
    assertThat(put.statusCode()).as(put.body()).isEqualTo(201);

    List<JsonNode> events = awaitEvents(admin, "&entity=Binary/" + id, e -> !e.isEmpty());

    JsonNode create = find(events, "rest", "create", audited.clientId());
    assertThat(create.get("action").asText()).isEqualTo("C");
    assertThat(create.at("/entity/0/what/reference").asText()).isEqualTo("Binary/" + id + "/_history/1");
    assertThat(create.at("/agent/0/network/address").asText()).isEqualTo("127.0.0.1");
    assertThat(create.at("/entity/0/detail/0/valueString").asText()).contains("presigned upload URL");
  }

  @Test
  void binaryAccessesAreAuditedAndOnlyAdminsSearchThem() throws Exception {
    Audited audited = Audited.project("system/Binary.crs");
    TestClient reader = audited.client();
    TestClient admin = audited.admin();
    String id = upload(reader, "audited bytes");

    HttpResponse<byte[]> raw = reader.sendBytes(reader.request("fhir/R4/Binary/" + id).GET());
    assertThat(raw.statusCode()).isEqualTo(200);
    // nor does the authenticated read's 304: the caller already holds the bytes
    assertThat(reader.sendBytes(reader.request("fhir/R4/Binary/" + id)
        .header("If-None-Match", raw.headers().firstValue("ETag").orElseThrow()).GET()).statusCode()).isEqualTo(304);
    HttpResponse<String> presigned = reader.get("fhir/R4/Binary/" + id + "/$presigned-url");
    String url = JSON.readTree(presigned.body()).at("/parameter/0/valueUrl").asText();
    TestClient anonymous = new TestClient(fhirbox.server().baseUrl());
    // A 304 sends no content: no download, so the Range request after it is the one recorded.
    HttpResponse<byte[]> notModified = anonymous.sendBytes(anonymous.request(url)
        .header("If-None-Match", raw.headers().firstValue("ETag").orElseThrow()).GET());
    assertThat(notModified.statusCode()).isEqualTo(304);
    HttpResponse<byte[]> download = anonymous.sendBytes(anonymous.request(url).header("Range", "bytes=0-3").GET());
    assertThat(download.statusCode()).isEqualTo(206);
    // A player's further Range requests on the same URL within a minute fold into that event.
    for (String range : List.of("bytes=4-7", "bytes=8-")) {
      assertThat(anonymous.sendBytes(anonymous.request(url).header("Range", range).GET()).statusCode())
          .isEqualTo(206);
    }
    assertThat(reader.get("fhir/R4/Binary/" + id).statusCode()).isEqualTo(200);

    String what = "Binary/" + id + "/_history/1";
    List<JsonNode> events = awaitEvents(admin, "&entity=Binary/" + id, e -> e.size() >= 5);
    assertThat(events).hasSize(5).allSatisfy(e -> {
      assertThat(e.at("/entity/0/what/reference").asText()).isEqualTo(what);
      assertThat(e.get("outcome").asText()).isEqualTo("0");
      assertThat(e.at("/agent/0/requestor").asBoolean()).isTrue();
      assertThat(e.at("/agent/0/network/address").asText()).isEqualTo("127.0.0.1");
      assertThat(e.has("recorded")).isTrue();
    });
    JsonNode create = find(events, "rest", "create", audited.clientId());
    assertThat(create.get("action").asText()).isEqualTo("C");
    assertThat(create.at("/agent/0/who/identifier/value").asText()).isEqualTo(audited.clientId());
    assertThat(create.at("/subtype/0/system").asText()).isEqualTo("http://hl7.org/fhir/restful-interaction");
    assertThat(find(events, "rest", "read", audited.clientId()).get("action").asText()).isEqualTo("R");
    assertThat(find(events, "rest", "operation", audited.clientId()).at("/entity/0/description").asText())
        .contains("$presigned-url");
    JsonNode downloaded = find(events, "110106", null, null);
    assertThat(downloaded.at("/type/system").asText()).isEqualTo("http://dicom.nema.org/resources/ontology/DCM");
    assertThat(downloaded.at("/entity/0/detail/0/valueString").asText()).isEqualTo("Range: bytes=0-3");
    assertThat(events.stream().filter(e -> e.at("/subtype/0/code").asText().equals("read"))).hasSize(2);

    // searchable like any resource, by the project's admins only
    assertThat(auditEvents(admin, "&type=rest&altid=" + audited.clientId())).hasSize(4);
    // and the client's token, issued by client_credentials, is an event of that client too
    assertThat(auditEvents(admin, "&type=110114&altid=" + audited.clientId())).hasSize(1);
    assertThat(auditEvents(admin, "&subtype=" + ProjectClients.enc("http://hl7.org/fhir/restful-interaction|create")))
        .hasSize(1);
    assertThat(reader.get("fhir/R4/AuditEvent?_count=50").statusCode()).isEqualTo(403);
    TestClient wideReader = audited.clients().client(audited.project(), "system/*.rs");
    assertThat(wideReader.get("fhir/R4/AuditEvent?_count=50").statusCode()).isEqualTo(403);
    HttpResponse<String> history = wideReader.get("fhir/R4/_history?_count=100");
    assertThat(history.statusCode()).isEqualTo(200);
    assertThat(history.body()).contains("Binary/" + id).doesNotContain("AuditEvent");
    // and never in another project (whose own admin's creation and token are its only events)
    TestClient otherAdmin = audited.clients().bearer(audited.clients().create(Audited.nextName(), "system/*.cruds",
        true));
    assertThat(auditEvents(otherAdmin, "&entity=Binary/" + id)).isEmpty();
    assertThat(auditEvents(otherAdmin, "&type=rest")).isEmpty();
    assertThat(fhirbox.server().server().audit().trail().orElseThrow().droppedCount()).isZero();
  }

  @Test
  void systemHistoryPagesNameNoAuditEventInTheirLinksForCallersWhoMayNotReadThem() throws Exception {
    Audited audited = Audited.project("system/*.rs");
    TestClient admin = audited.admin();
    String id = upload(admin, "audited bytes");
    assertThat(admin.get("fhir/R4/Binary/" + id).statusCode()).isEqualTo(200);
    awaitEvents(admin, "&entity=Binary/" + id, e -> e.size() >= 2);
    admin.create("{\"resourceType\":\"Patient\"}");
    TestClient wideReader = audited.client();
    // a page of one: one ending on an AuditEvent left out would otherwise name it in its next link
    PageWalk paged = PageWalk.of(wideReader, "fhir/R4/_history?_count=1");
    assertThat(paged.entries()).contains("Binary/" + id + "@1").noneMatch(e -> e.startsWith("AuditEvent/"));
    assertThat(paged.links()).noneMatch(l -> l.contains("AuditEvent"));
    assertThat(paged.entries()).containsExactlyElementsOf(PageWalk.of(wideReader, "fhir/R4/_history?_count=100")
        .entries());
  }

  @Test
  void aBinaryResourceReadIsAuditedAsIssuingASignedUrlOnlyWhenItsAnswerCarriesOne() throws Exception {
    Audited audited = Audited.project("system/Binary.crs");
    TestClient reader = audited.client();
    TestClient admin = audited.admin();
    String path = "fhir/R4/Binary/" + upload(reader, "audited bytes");
    // HEAD sends neither content nor a URL: nothing read, nothing issued, as for the raw content
    for (String head : List.of(path, path + "/$presigned-url")) {
      assertThat(reader.send(reader.request(head).header("Accept", "application/fhir+json")
          .method("HEAD", HttpRequest.BodyPublishers.noBody())).statusCode()).as(head).isEqualTo(200);
    }
    // FHIR forms without the signed url: XML, and subsets that leave it out
    for (String query : List.of("?_format=xml", "?_summary=text", "?_elements=securityContext")) {
      HttpResponse<String> r = reader.send(reader.request(path + query).header("Accept", "application/fhir+json")
          .GET());
      assertThat(r.statusCode()).as(query).isEqualTo(200);
      assertThat(r.body()).as(query).doesNotContain(fhirbox.server().baseUrl() + "storage/");
    }
    HttpResponse<String> withUrl = reader.send(reader.request(path + "?_elements=url")
        .header("Accept", "application/fhir+json").GET());
    assertThat(JSON.readTree(withUrl.body()).path("url").asText()).startsWith(fhirbox.server().baseUrl() + "storage/");

    String issued = "signed URL issued in Binary.url";
    // the last request's event written, so are those before it
    List<JsonNode> events = awaitEvents(admin, "&entity=" + path.substring("fhir/R4/".length()),
        e -> e.stream().anyMatch(a -> a.at("/entity/0/detail/0/valueString").asText().equals(issued)));
    assertThat(events.stream().filter(e -> e.at("/subtype/0/code").asText().equals("operation")))
        .as("a HEAD of $presigned-url issues no URL").isEmpty();
    List<JsonNode> reads = events.stream().filter(e -> e.at("/subtype/0/code").asText().equals("read")).toList();
    assertThat(reads).as("the GETs of the FHIR form; no HEAD").hasSize(4);
    assertThat(reads.stream().filter(e -> e.at("/entity/0/detail/0/valueString").asText().equals(issued)))
        .as("only the answer with a url issued one").hasSize(1);
  }

  /**
   * An event names a Range only when a range was sent (206): a Range the answer did not follow (an
   * If-Range that does not hold) sent the whole content, and a whole download after a range within
   * the same minute is an event of its own, so a file read whole never looks like a byte of it.
   */
  @Test
  void aDownloadSentWholeIsNotRecordedAsARange() throws Exception {
    Audited audited = Audited.project("system/Binary.crs");
    TestClient reader = audited.client();
    TestClient admin = audited.admin();
    String first = upload(reader, "the whole of it");
    String second = upload(reader, "all of this too");
    TestClient anonymous = new TestClient(fhirbox.server().baseUrl());
    String firstUrl = JSON.readTree(reader.get("fhir/R4/Binary/" + first + "/$presigned-url").body())
        .at("/parameter/0/valueUrl").asText();
    HttpResponse<byte[]> whole = anonymous.sendBytes(anonymous.request(firstUrl).header("Range", "bytes=0-0")
        .header("If-Range", "\"another\"").GET());
    assertThat(whole.statusCode()).isEqualTo(200);
    List<JsonNode> events = awaitEvents(admin, "&entity=Binary/" + first, e -> has(e, "110106", null, null));
    assertThat(find(events, "110106", null, null).at("/entity/0/detail").isMissingNode()).isTrue();

    String secondUrl = JSON.readTree(reader.get("fhir/R4/Binary/" + second + "/$presigned-url").body())
        .at("/parameter/0/valueUrl").asText();
    assertThat(anonymous.sendBytes(anonymous.request(secondUrl).header("Range", "bytes=0-0").GET()).statusCode())
        .isEqualTo(206);
    assertThat(anonymous.sendBytes(anonymous.request(secondUrl).GET()).statusCode()).isEqualTo(200);
    List<JsonNode> downloads = awaitEvents(admin, "&type=110106&entity=Binary/" + second, e -> e.size() >= 2);
    assertThat(downloads.stream().map(e -> e.at("/entity/0/detail/0/valueString").asText("")))
        .containsExactlyInAnyOrder("Range: bytes=0-0", "");

    // a range that is the whole content (bytes=0-) is a 206 with its Range, and a whole download all
    // the same: an event of its own, not folded into the minute's ranges
    String third = upload(reader, "every byte of it");
    String thirdUrl = JSON.readTree(reader.get("fhir/R4/Binary/" + third + "/$presigned-url").body())
        .at("/parameter/0/valueUrl").asText();
    for (String range : List.of("bytes=0-0", "bytes=0-")) {
      assertThat(anonymous.sendBytes(anonymous.request(thirdUrl).header("Range", range).GET()).statusCode())
          .isEqualTo(206);
    }
    List<JsonNode> thirds = awaitEvents(admin, "&type=110106&entity=Binary/" + third, e -> e.size() >= 2);
    assertThat(thirds.stream().map(e -> e.at("/entity/0/detail/0/valueString").asText("")))
        .containsExactlyInAnyOrder("Range: bytes=0-0", "Range: bytes=0-");
  }

  @Test
  void aDownloadTheClientCutsShortIsAuditedAllTheSame() throws Exception {
    Audited audited = Audited.project("system/Binary.crs");
    TestClient reader = audited.client();
    TestClient admin = audited.admin();
    byte[] video = new byte[32 << 20];
    new java.util.Random(3).nextBytes(video);
    String id = TestClient.createdId(reader.postBytes("fhir/R4/Binary", "video/mp4", video));
    String url = JSON.readTree(reader.get("fhir/R4/Binary/" + id + "/$presigned-url").body())
        .at("/parameter/0/valueUrl").asText();
    TestClient anonymous = new TestClient(fhirbox.server().baseUrl());
    // as a video player does on a seek: an open-ended range, read in part, then the connection closed
    for (java.net.http.HttpRequest.Builder request : List.of(
        reader.request("fhir/R4/Binary/" + id).header("Accept", "*/*").header("Range", "bytes=0-"),
        anonymous.request(url).header("Range", "bytes=0-"))) {
      HttpResponse<java.io.InputStream> r = anonymous.http().send(request.GET().build(),
          HttpResponse.BodyHandlers.ofInputStream());
      assertThat(r.statusCode()).isEqualTo(206);
      try (java.io.InputStream in = r.body()) {
        assertThat(in.readNBytes(1 << 20)).hasSize(1 << 20);
      }
    }

    List<JsonNode> events = awaitEvents(admin, "&entity=Binary/" + id,
        e -> has(e, "rest", "read", audited.clientId()) && has(e, "110106", null, null));
    assertThat(find(events, "110106", null, null).at("/entity/0/detail/0/valueString").asText())
        .isEqualTo("Range: bytes=0-");
  }

  @Test
  void deletesAreAuditedAndOnlyTheServerRecordsAsItself() throws Exception {
    Audited audited = Audited.project("system/Binary.cruds system/AuditEvent.c");
    TestClient writer = audited.client();
    TestClient admin = audited.admin();
    String one = upload(writer, "first");
    String two = upload(writer, "second");
    assertThat(writer.delete("fhir/R4/Binary/" + one).statusCode()).isEqualTo(200);
    HttpResponse<String> bundle = writer.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
        + "\"entry\":[{\"request\":{\"method\":\"DELETE\",\"url\":\"Binary/" + two + "\"}}]}");
    assertThat(bundle.statusCode()).as(bundle.body()).isEqualTo(200);

    for (String id : List.of(one, two)) {
      JsonNode deleted = find(awaitEvents(admin, "&entity=Binary/" + id, e -> has(e, "rest", "delete",
          audited.clientId())), "rest", "delete", audited.clientId());
      assertThat(deleted.get("action").asText()).isEqualTo("D");
      assertThat(deleted.at("/entity/0/what/reference").asText()).isEqualTo("Binary/" + id + "/_history/2");
      assertThat(deleted.at("/source/observer/identifier/system").asText()).isEqualTo("urn:fhirbox:audit-source");
    }

    // an app may record events of its own, but not as the server
    String own = "{\"resourceType\":\"AuditEvent\",\"type\":{\"code\":\"rest\"},\"recorded\":"
        + "\"2026-01-01T00:00:00Z\",\"agent\":[{\"requestor\":true}],\"source\":{\"site\":\"fhirbox\",\"observer\":"
        + "{\"display\":\"fhirbox\"}}}";
    assertThat(writer.postJson("fhir/R4/AuditEvent", own).statusCode()).isEqualTo(201);
    HttpResponse<String> forged = writer.postJson("fhir/R4/AuditEvent", own.replace("{\"display\":\"fhirbox\"}",
        "{\"display\":\"fhirbox\",\"identifier\":{\"system\":\"urn:fhirbox:audit-source\",\"value\":\"fhirbox\"}}"));
    assertThat(forged.statusCode()).as(forged.body()).isEqualTo(400);
    assertThat(forged.body()).contains("only fhirbox records AuditEvents as itself");
  }

  @Test
  void anAppsAuditEventMayNotNameTheServerAsAnAgentOrObserverInAnyForm() throws Exception {
    TestClient writer = Audited.project("system/AuditEvent.c").client();
    String own = "{\"resourceType\":\"AuditEvent\",\"type\":{\"code\":\"rest\"},\"recorded\":"
        + "\"2026-01-01T00:00:00Z\",\"agent\":[{\"requestor\":true,\"who\":{\"display\":\"app\"}}],"
        + "\"source\":{\"observer\":{\"display\":\"app\"}}}";
    assertThat(writer.postJson("fhir/R4/AuditEvent", own).statusCode()).isEqualTo(201);
    // the agent an ingestion job's event names is the server itself
    String asIngestion = own.replace("{\"display\":\"app\"}}]", "{\"display\":\"fhirbox ingestion\","
        + "\"identifier\":{\"system\":\"urn:fhirbox:audit-source\",\"value\":\"fhirbox\"}}}]");
    // a URN's scheme and namespace are case-insensitive (RFC 8141), and a stray space is no other system
    String observerCased = own.replace("{\"display\":\"app\"}}}", "{\"display\":\"app\",\"identifier\":"
        + "{\"system\":\"URN:FHIRBOX:audit-source\",\"value\":\"fhirbox\"}}}}");
    String observerSpaced = own.replace("{\"display\":\"app\"}}}", "{\"display\":\"app\",\"identifier\":"
        + "{\"system\":\"urn:fhirbox:audit-source \",\"value\":\"fhirbox\"}}}}");
    for (String forged : List.of(asIngestion, observerCased, observerSpaced)) {
      HttpResponse<String> r = writer.postJson("fhir/R4/AuditEvent", forged);
      assertThat(r.statusCode()).as(forged + " -> " + r.body()).isEqualTo(400);
      assertThat(r.body()).contains("only fhirbox records AuditEvents as itself");
    }
  }

  @Test
  void noCallerChangesOrDeletesAnAuditEventTheServerWrote() throws Exception {
    Audited audited = Audited.project("system/*.cruds");
    ProjectClients.Credentials adminCred = audited.adminCred();
    TestClient admin = audited.admin();
    String binary = upload(admin, "kept on record");
    JsonNode event = find(awaitEvents(admin, "&entity=Binary/" + binary, e -> has(e, "rest", "create",
        adminCred.clientId())), "rest", "create", adminCred.clientId());
    String id = event.get("id").asText();
    com.fasterxml.jackson.databind.node.ObjectNode edited = event.deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) edited.at("/source/observer")).remove("identifier");
    edited.remove("meta");
    edited.put("outcomeDesc", "nothing happened");
    String body = JSON.writeValueAsString(edited);

    List<HttpResponse<String>> refused = List.of(
        admin.delete("fhir/R4/AuditEvent/" + id),
        admin.putJson("fhir/R4/AuditEvent/" + id, body),
        admin.send(admin.request("fhir/R4/AuditEvent/" + id).header("Content-Type", "application/json-patch+json")
            .method("PATCH", java.net.http.HttpRequest.BodyPublishers.ofString(
                "[{\"op\":\"replace\",\"path\":\"/outcomeDesc\",\"value\":\"x\"}]"))),
        admin.delete("fhir/R4/AuditEvent?_id=" + id),
        admin.putJson("fhir/R4/AuditEvent?_id=" + id, body),
        admin.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
            + "{\"request\":{\"method\":\"DELETE\",\"url\":\"AuditEvent/" + id + "\"}}]}"),
        admin.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
            + "{\"resource\":" + body + ",\"request\":{\"method\":\"PUT\",\"url\":\"AuditEvent?_id=" + id
            + "\"}}]}"));
    for (HttpResponse<String> r : refused) {
      assertThat(r.statusCode()).as(r.request().method() + " " + r.request().uri() + ": " + r.body()).isEqualTo(403);
      assertThat(r.body()).contains("OperationOutcome").contains("the server recorded");
    }
    HttpResponse<String> batch = admin.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"batch\","
        + "\"entry\":[{\"request\":{\"method\":\"DELETE\",\"url\":\"AuditEvent/" + id + "\"}}]}");
    assertThat(batch.statusCode()).as(batch.body()).isEqualTo(200);
    assertThat(JSON.readTree(batch.body()).at("/entry/0/response/status").asText()).startsWith("403");

    HttpResponse<String> kept = admin.get("fhir/R4/AuditEvent/" + id);
    assertThat(kept.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(kept.body()).at("/meta/versionId").asText()).isEqualTo("1");
    assertThat(auditEvents(admin, "&entity=Binary/" + binary)).extracting(e -> e.get("id").asText()).contains(id);

    // an app's own AuditEvent is changed and deleted as before
    String own = "{\"resourceType\":\"AuditEvent\",\"type\":{\"code\":\"rest\"},\"recorded\":"
        + "\"2026-01-01T00:00:00Z\",\"agent\":[{\"requestor\":true}],\"source\":{\"observer\":"
        + "{\"display\":\"my app\"}}}";
    String ownId = TestClient.createdId(admin.postJson("fhir/R4/AuditEvent", own));
    HttpResponse<String> ownUpdated = admin.putJson("fhir/R4/AuditEvent/" + ownId,
        own.replace("{\"resourceType\":\"AuditEvent\",", "{\"resourceType\":\"AuditEvent\",\"id\":\"" + ownId + "\","));
    assertThat(ownUpdated.statusCode()).as(ownUpdated.body()).isEqualTo(200);
    assertThat(admin.delete("fhir/R4/AuditEvent/" + ownId).statusCode()).isEqualTo(200);
  }

  @Test
  void jsonAndBundleWritesAreAuditedAsCreateAndUpdate() throws Exception {
    TestClient admin = fhirbox.http();
    HttpResponse<String> created = admin.postJson("fhir/R4/Binary",
        "{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\",\"data\":\"aGk=\"}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String id = JSON.readTree(created.body()).get("id").asText();
    HttpResponse<String> updated = admin.putJson("fhir/R4/Binary/" + id,
        "{\"resourceType\":\"Binary\",\"id\":\"" + id + "\",\"contentType\":\"text/plain\",\"data\":\"aG8=\"}");
    assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
    HttpResponse<String> bundle = admin.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
        + "\"entry\":[{\"resource\":{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\",\"data\":\"eW8=\"},"
        + "\"request\":{\"method\":\"POST\",\"url\":\"Binary\"}}]}");
    assertThat(bundle.statusCode()).as(bundle.body()).isEqualTo(200);
    String bundled = JSON.readTree(bundle.body()).at("/entry/0/response/location").asText().split("/")[1];

    List<JsonNode> events = awaitEvents(admin, "&entity=Binary/" + id, e -> e.size() >= 2);
    assertThat(events).extracting(e -> e.get("action").asText() + " " + e.at("/entity/0/what/reference").asText())
        .containsExactlyInAnyOrder("C Binary/" + id + "/_history/1", "U Binary/" + id + "/_history/2");
    List<JsonNode> fromBundle = awaitEvents(admin, "&entity=Binary/" + bundled, e -> !e.isEmpty());
    assertThat(fromBundle).singleElement().satisfies(e -> {
      assertThat(e.get("action").asText()).isEqualTo("C");
      assertThat(e.at("/agent/0/altId").asText()).isEqualTo(TestServer.ADMIN_ID);
    });
  }

  @Test
  void theAddressTheTrustedProxySawIsAuditedNotOneTheCallerWrote() throws Exception {
    for (boolean trusted : new boolean[] {false, true}) {
      try (TestServer server = TestServer.start(Map.of("FHIRBOX_TRUST_PROXY", Boolean.toString(trusted)))) {
        TestClient admin = server.client();
        String id = upload(admin, "proxied");
        // the caller wrote 10.9.9.9 and a Forwarded header; the proxy appended 203.0.113.7
        assertThat(admin.sendBytes(admin.request("fhir/R4/Binary/" + id).header("X-Forwarded-For",
            "10.9.9.9, 203.0.113.7").header("Forwarded", "for=192.0.2.66").GET()).statusCode()).isEqualTo(200);
        List<JsonNode> events = awaitEvents(admin, "&entity=Binary/" + id, e -> e.size() >= 2);
        JsonNode read = find(events, "rest", "read", TestServer.ADMIN_ID);
        assertThat(read.at("/agent/0/network/address").asText()).isEqualTo(trusted ? "203.0.113.7" : "127.0.0.1");
      }
    }
  }

  @Test
  void queuedEventsAreWrittenOnShutdown(@TempDir Path dir) throws Exception {
    Map<String, String> settings = Map.of("FHIRBOX_PORT", "0", "FHIRBOX_BIND", "127.0.0.1",
        "FHIRBOX_DATA_DIR", dir.toString(), "FHIRBOX_BOOTSTRAP_CLIENT_ID", TestServer.ADMIN_ID,
        "FHIRBOX_BOOTSTRAP_CLIENT_SECRET", TestServer.ADMIN_SECRET);
    String auth = "Basic " + java.util.Base64.getEncoder().encodeToString(
        (TestServer.ADMIN_ID + ":" + TestServer.ADMIN_SECRET).getBytes(StandardCharsets.UTF_8));
    String id;
    int reads = 20;
    try (FhirboxServer first = new FhirboxServer(FhirboxConfig.of(settings), TestServer.FHIR).start()) {
      TestClient c = new TestClient(first.baseUrl()).withHeader("Authorization", auth);
      id = upload(c, "kept");
      for (int i = 0; i < reads; i++) {
        c.sendBytes(c.request("fhir/R4/Binary/" + id).GET());
      }
    }
    try (FhirboxServer second = new FhirboxServer(FhirboxConfig.of(settings), TestServer.FHIR).start()) {
      TestClient c = new TestClient(second.baseUrl()).withHeader("Authorization", auth);
      HttpResponse<String> r = c.send(c.request("fhir/R4/AuditEvent?_summary=count&entity=Binary/" + id)
          .header("Accept", "application/fhir+json").GET());
      assertThat(JSON.readTree(r.body()).get("total").asInt()).isEqualTo(reads + 1);
    }
  }

  @Test
  void auditOffRecordsNothing() throws Exception {
    try (TestServer server = TestServer.start(Map.of("FHIRBOX_AUDIT", "off"))) {
      TestClient admin = server.client();
      String id = upload(admin, "unaudited");
      assertThat(admin.sendBytes(admin.request("fhir/R4/Binary/" + id).GET()).statusCode()).isEqualTo(200);
      assertThat(server.server().audit().trail()).isEmpty();
      assertThat(auditEvents(admin, "")).isEmpty();
    }
  }

}
