package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.Tus;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Binary content whose media type is a JSON or XML one (R4 binary.html#rest): it is stored as it
 * is, unless the body is itself a FHIR Binary resource; and a Binary read as JSON goes back as it came.
 */
class BinaryTypedContentTest {
  static final long MAX_JSON = 64 * 1024;
  static TestServer server;
  static TestClient http;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(Map.of("FHIRBOX_MAX_JSON_BYTES", Long.toString(MAX_JSON)));
    http = server.client();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static HttpResponse<String> send(String method, String path, String contentType, byte[] body) {
    return http.send(http.request(path).header("Content-Type", contentType)
        .method(method, HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  private static HttpResponse<byte[]> raw(String id) {
    return http.sendBytes(http.request("fhir/R4/Binary/" + id).header("Accept", "*/*"));
  }

  /** Posts {@code body} as {@code contentType}, expects it stored as it is, and returns the Binary's id. */
  private static String storedAsIs(String contentType, byte[] body) {
    HttpResponse<String> r = send("POST", "fhir/R4/Binary", contentType, body);
    String id = TestClient.createdId(r);
    assertThat(http.parse(r, Binary.class).getContentType()).isEqualTo(contentType);
    HttpResponse<byte[]> down = raw(id);
    assertThat(down.statusCode()).isEqualTo(200);
    assertThat(down.body()).isEqualTo(body);
    assertThat(down.headers().firstValue("Content-Type").orElseThrow()).startsWith(contentType);
    return id;
  }

  @Test
  void aCdaDocumentAsXmlIsStoredAsItIs() {
    byte[] cda = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ClinicalDocument xmlns=\"urn:hl7-org:v3\">"
        + "<title>Discharge summary</title></ClinicalDocument>").getBytes(StandardCharsets.UTF_8);
    storedAsIs("text/xml", cda);
    storedAsIs("application/xml", cda);
  }

  @Test
  void anArbitraryJsonDocumentIsStoredAsItIs() {
    storedAsIs("application/json", "{\"a\":1,\"list\":[true,null]}".getBytes(StandardCharsets.UTF_8));
    storedAsIs("text/json", "[1, 2, 3]".getBytes(StandardCharsets.UTF_8));
    // an update takes such content too
    String id = storedAsIs("application/json", "{\"v\":1}".getBytes(StandardCharsets.UTF_8));
    byte[] next = "{ \"v\" : 2 }".getBytes(StandardCharsets.UTF_8);
    HttpResponse<String> put = send("PUT", "fhir/R4/Binary/" + id, "application/json", next);
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    assertThat(raw(id).body()).isEqualTo(next);
  }

  @Test
  void aFhirDocumentBundleIsStoredAsItIs() {
    byte[] bundle = ("{\"resourceType\":\"Bundle\",\"type\":\"document\",\"entry\":[{\"resource\":"
        + "{\"resourceType\":\"Composition\",\"status\":\"final\"}}]}").getBytes(StandardCharsets.UTF_8);
    storedAsIs("application/fhir+json", bundle);
    storedAsIs("application/fhir+xml", ("<Bundle xmlns=\"http://hl7.org/fhir\"><type value=\"document\"/></Bundle>")
        .getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aFhirBinaryResourceIsStillParsedWhateverItsJsonOrXmlType() {
    byte[] content = "the bytes".getBytes(StandardCharsets.UTF_8);
    String data = Base64.getEncoder().encodeToString(content);
    String json = "{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\",\"data\":\"" + data + "\"}";
    String xml = "<Binary xmlns=\"http://hl7.org/fhir\"><contentType value=\"text/plain\"/><data value=\""
        + data + "\"/></Binary>";
    for (Map.Entry<String, String> sent : Map.of("application/json", json, "application/fhir+json", json,
        "application/fhir+xml", xml, "text/xml", xml).entrySet()) {
      HttpResponse<String> r = http.send(http.request("fhir/R4/Binary").header("Content-Type", sent.getKey())
          .header("Accept", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(sent.getValue())));
      String id = TestClient.createdId(r);
      assertThat(http.parse(r, Binary.class).getContentType()).as(sent.getKey()).isEqualTo("text/plain");
      assertThat(raw(id).body()).as(sent.getKey()).isEqualTo(content);
    }
  }

  /**
   * Raw XML content is no FHIR body: with no Accept it is answered in JSON, also when a
   * conditional create matches before the body is read; a FHIR Binary resource in XML is answered in XML.
   */
  @Test
  void rawXmlIsAnsweredInJsonAndABinaryResourceInXmlInXml() {
    byte[] note = "<note>raw</note>".getBytes(StandardCharsets.UTF_8);
    HttpResponse<String> raw = send("POST", "fhir/R4/Binary", "text/xml", note);
    assertThat(raw.headers().firstValue("Content-Type").orElseThrow()).as(raw.body()).startsWith("application/fhir+json");
    HttpResponse<String> matched = http.send(http.request("fhir/R4/Binary").header("Content-Type", "text/xml")
        .header("If-None-Exist", "_id=" + TestClient.createdId(raw)).POST(HttpRequest.BodyPublishers.ofByteArray(note)));
    assertThat(matched.statusCode()).as(matched.body()).isEqualTo(200);
    assertThat(matched.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/fhir+json");
    HttpResponse<String> resource = send("POST", "fhir/R4/Binary", "application/fhir+xml", ("<Binary xmlns=\"http:"
        + "//hl7.org/fhir\"><contentType value=\"text/plain\"/><data value=\"aGk=\"/></Binary>").getBytes(StandardCharsets.UTF_8));
    assertThat(resource.statusCode()).as(resource.body()).isEqualTo(201);
    assertThat(resource.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/fhir+xml");
    // a PATCH of a Binary (which is refused) carries a FHIR body: its answer follows its XML
    HttpResponse<String> patched = send("PATCH", "fhir/R4/Binary/" + TestClient.createdId(raw), "application/fhir+xml",
        "<Parameters xmlns=\"http://hl7.org/fhir\"/>".getBytes(StandardCharsets.UTF_8));
    assertThat(patched.statusCode()).as(patched.body()).isBetween(400, 499);
    assertThat(patched.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/fhir+xml");
  }

  @Test
  void aFhirTypeOfAnotherVersionIsRefusedAndNotStoredAsContent() {
    HttpResponse<String> r = send("POST", "fhir/R4/Binary", "application/fhir+json; fhirVersion=5.0",
        "{\"resourceType\":\"Bundle\",\"type\":\"document\"}".getBytes(StandardCharsets.UTF_8));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(415);
  }

  @Test
  void aJsonFileLargerThanTheJsonLimitIsStored() {
    StringBuilder big = new StringBuilder("{\"rows\":[");
    for (int i = 0; big.length() < 3 * MAX_JSON; i++) {
      big.append(i == 0 ? "" : ",").append("{\"n\":").append(i).append(",\"name\":\"row ").append(i).append("\"}");
    }
    big.append("]}");
    storedAsIs("application/json", big.toString().getBytes(StandardCharsets.UTF_8));
    // sent without a length (chunked) too
    byte[] body = big.toString().getBytes(StandardCharsets.UTF_8);
    HttpResponse<String> r = http.send(http.request("fhir/R4/Binary").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(body))));
    assertThat(raw(TestClient.createdId(r)).body()).isEqualTo(body);
  }

  @Test
  void aConditionalCreateOfJsonContentFindsItsMatchOrStoresTheContent() {
    byte[] doc = "{\"doc\":\"x\"}".getBytes(StandardCharsets.UTF_8);
    String id = storedAsIs("application/json", doc);
    HttpResponse<String> again = http.send(http.request("fhir/R4/Binary").header("Content-Type", "application/json")
        .header("If-None-Exist", "_id=" + id).POST(HttpRequest.BodyPublishers.ofByteArray(doc)));
    assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
    assertThat(again.headers().firstValue("Location").orElseThrow()).contains("/Binary/" + id + "/");
    HttpResponse<String> none = http.send(http.request("fhir/R4/Binary").header("Content-Type", "application/json")
        .header("If-None-Exist", "_id=nothing-like-it").POST(HttpRequest.BodyPublishers.ofByteArray(doc)));
    assertThat(raw(TestClient.createdId(none)).body()).isEqualTo(doc);
  }

  @Test
  void jsonContentKeepsItsSecurityContextHeader() throws Exception {
    assertThat(http.putJson("fhir/R4/Patient/tc1", "{\"resourceType\":\"Patient\",\"id\":\"tc1\"}").statusCode())
        .isIn(200, 201);
    HttpResponse<String> r = http.send(http.request("fhir/R4/Binary").header("Content-Type", "application/json")
        .header("X-Security-Context", "Patient/tc1").POST(HttpRequest.BodyPublishers.ofString("{\"k\":1}")));
    assertThat(http.parse(r, Binary.class).getSecurityContext().getReference()).isEqualTo("Patient/tc1");
    assertThat(raw(TestClient.createdId(r)).headers().firstValue("X-Security-Context")).hasValue("Patient/tc1");
  }

  /** The {@code url} the server adds to Binary JSON is ignored when that JSON comes back. */
  @Test
  void aBinaryReadAsJsonGoesBackUnchanged() throws Exception {
    byte[] content = "kept".getBytes(StandardCharsets.UTF_8);
    String id = TestClient.createdId(send("POST", "fhir/R4/Binary", "text/plain", content));
    HttpResponse<String> read = http.get("fhir/R4/Binary/" + id);
    assertThat(read.body()).contains("\"url\"");
    HttpResponse<String> put = http.putJson("fhir/R4/Binary/" + id, read.body());
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    assertThat(raw(id).body()).isEqualTo(content);

    String entry = http.get("fhir/R4/Binary/" + id).body();
    String tx = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":" + entry
        + ",\"request\":{\"method\":\"PUT\",\"url\":\"Binary/" + id + "\"}}]}";
    HttpResponse<String> done = http.postJson("fhir/R4", tx);
    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    assertThat(http.parse(done, Bundle.class).getEntryFirstRep().getResponse().getStatus()).startsWith("200");
    assertThat(raw(id).body()).isEqualTo(content);
    assertThat(new ObjectMapper().readTree(http.get("fhir/R4/Binary/" + id).body()).get("meta").get("versionId")
        .asText()).isEqualTo("3");
  }

  /** HAPI's generic client ranks FHIR XML and JSON equally: the answer is JSON, which carries the url. */
  @Test
  void equallyRankedFhirTypesAreAnsweredInJson() {
    String id = TestClient.createdId(send("POST", "fhir/R4/Binary", "text/plain", new byte[] {1, 2}));
    HttpResponse<String> r = http.send(http.request("fhir/R4/Binary/" + id).header("Accept",
        "application/fhir+xml;q=1.0, application/fhir+json;q=1.0, application/xml+fhir;q=0.9, "
            + "application/json+fhir;q=0.9").GET());
    assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/fhir+json");
    assertThat(r.body()).contains("\"url\"");
    HttpResponse<String> xml = http.send(http.request("fhir/R4/Binary/" + id)
        .header("Accept", "application/fhir+xml, application/fhir+json;q=0.9").GET());
    assertThat(xml.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/fhir+xml");
  }

  /**
   * Binary.contentType is 1..1 in R4: a Binary resource without it is 400 as JSON, as XML and in a
   * Bundle, where raw content without a Content-Type is still stored as application/octet-stream.
   */
  @Test
  void aBinaryResourceWithoutContentTypeIsRefused() {
    String json = "{\"resourceType\":\"Binary\",\"data\":\"aGk=\"}";
    String xml = "<Binary xmlns=\"http://hl7.org/fhir\"><data value=\"aGk=\"/></Binary>";
    String existing = TestClient.createdId(send("POST", "fhir/R4/Binary", "text/plain", "hi".getBytes()));
    for (HttpResponse<String> r : new HttpResponse[] {
        send("POST", "fhir/R4/Binary", "application/fhir+json", json.getBytes(StandardCharsets.UTF_8)),
        send("POST", "fhir/R4/Binary", "application/fhir+xml", xml.getBytes(StandardCharsets.UTF_8)),
        send("PUT", "fhir/R4/Binary/" + existing, "application/fhir+json",
            ("{\"resourceType\":\"Binary\",\"id\":\"" + existing + "\"}").getBytes(StandardCharsets.UTF_8)),
        send("POST", "fhir/R4", "application/fhir+json", ("{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
            + "\"entry\":[{\"resource\":" + json + ",\"request\":{\"method\":\"POST\",\"url\":\"Binary\"}}]}")
            .getBytes(StandardCharsets.UTF_8))}) {
      assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
      assertThat(r.body()).contains("Binary.contentType");
    }
    HttpResponse<String> batch = send("POST", "fhir/R4", "application/fhir+json", ("{\"resourceType\":\"Bundle\","
        + "\"type\":\"batch\",\"entry\":[{\"resource\":" + json + ",\"request\":{\"method\":\"POST\","
        + "\"url\":\"Binary\"}}]}").getBytes(StandardCharsets.UTF_8));
    assertThat(http.parse(batch, Bundle.class).getEntryFirstRep().getResponse().getStatus()).as(batch.body())
        .startsWith("400");
    Binary kept = http.parse(http.send(http.request("fhir/R4/Binary/" + existing)
        .header("Accept", "application/fhir+json")), Binary.class);
    assertThat(kept.getMeta().getVersionId()).isEqualTo("1");
    assertThat(kept.getContentType()).isEqualTo("text/plain");

    HttpResponse<String> raw = http.send(http.request("fhir/R4/Binary").POST(HttpRequest.BodyPublishers.ofString("hi")));
    assertThat(raw.statusCode()).as(raw.body()).isEqualTo(201);
    assertThat(http.parse(raw, Binary.class).getContentType()).isEqualTo("application/octet-stream");
  }

  /**
   * R4 binds Binary.contentType to BCP 13 MIME types: a value that is no RFC 9110 media-type
   * (type/subtype, then ;name=value parameters) is refused whichever way it comes, and nothing is stored.
   */
  @Test
  void aContentTypeThatIsNoMediaTypeIsRefusedOnEveryWritePath() throws Exception {
    long before = server.blobFiles(true);
    for (String type : List.of("not a type", "text", "text/", "/plain", "text /plain", "image/png, image/jpeg",
        "text/plain; charset", "text/plain; charset=", "text/plain; charset=\"utf-8", "text/plain; =utf-8",
        "text/plain charset=utf-8", "text/pl@in", "*/*", "text/*", "*/plain")) {
      HttpResponse<String> raw = send("POST", "fhir/R4/Binary", type, "hi".getBytes(StandardCharsets.UTF_8));
      assertThat(raw.statusCode()).as(type + ": " + raw.body()).isEqualTo(400);
      assertThat(raw.body()).contains("must be a MIME type");
      String json = "{\"resourceType\":\"Binary\",\"contentType\":\"" + type.replace("\"", "\\\"") + "\",\"data\":\"aGk=\"}";
      HttpResponse<String> resource = send("POST", "fhir/R4/Binary", "application/fhir+json",
          json.getBytes(StandardCharsets.UTF_8));
      assertThat(resource.statusCode()).as(type + ": " + resource.body()).isEqualTo(400);
      assertThat(resource.body()).contains("Binary.contentType must be a MIME type");
      HttpResponse<String> tus = new Tus(http).create(2, Tus.metadata("filetype", type));
      assertThat(tus.statusCode()).as(type + ": " + tus.body()).isEqualTo(400);
      assertThat(tus.body()).contains("must be a MIME type");
    }
    assertThat(server.blobFiles(true)).isEqualTo(before);
    for (String type : List.of("image/svg+xml", "text/plain;", "text/plain ; charset=\"utf-8\"; ;format=flowed",
        "application/vnd.example+json;v=\"a\\\"b\"", "application/x-my_type.1")) {
      assertThat(storedAsIs(type, "hi".getBytes(StandardCharsets.UTF_8))).isNotBlank();
    }
  }

  /** Content-Type is no list (RFC 9110 §5.3, §8.3): field lines that disagree are refused, not the first taken. */
  @Test
  void aBodyWithTwoDifferentContentTypesIsRefused() throws Exception {
    long before = server.blobFiles(true);
    HttpResponse<String> raw = http.send(http.request("fhir/R4/Binary").header("Content-Type", "image/png")
        .header("Content-Type", "text/html").POST(HttpRequest.BodyPublishers.ofString("<b>hi</b>")));
    assertThat(raw.statusCode()).as(raw.body()).isEqualTo(400);
    assertThat(raw.body()).contains("Content-Type");
    assertThat(server.blobFiles(true)).isEqualTo(before);
    HttpResponse<String> resource = http.send(http.request("fhir/R4/Patient")
        .header("Content-Type", "application/fhir+json").header("Content-Type", "application/fhir+xml")
        .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\"}")));
    assertThat(resource.statusCode()).as(resource.body()).isEqualTo(400);
    assertThat(resource.body()).contains("Content-Type");
    HttpResponse<String> same = http.send(http.request("fhir/R4/Binary").header("Content-Type", "text/plain")
        .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("hi")));
    assertThat(same.statusCode()).as(same.body()).isEqualTo(201);
    assertThat(http.parse(same, Binary.class).getContentType()).isEqualTo("text/plain");
  }
}
