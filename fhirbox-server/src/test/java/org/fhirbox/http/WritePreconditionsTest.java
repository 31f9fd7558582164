package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code If-None-Match} and {@code If-Unmodified-Since} on update, conditional update, patch and
 * delete (RFC 9110 §13.1.2, §13.1.4), evaluated in the order of §13.2.2: a precondition that
 * fails is 412 and writes nothing.
 */
class WritePreconditionsTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  private static final String LONG_AGO = "Sun, 06 Nov 1994 08:49:37 GMT";

  static TestClient http() {
    return fhirbox.http();
  }

  private static String body(String id, String family) {
    return "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"identifier\":[{\"system\":\"urn:wp\",\"value\":\""
        + id + "\"}],\"name\":[{\"family\":\"" + family + "\"}]}";
  }

  private static String created(String family) {
    HttpResponse<String> r = http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\""
        + family + "\"}]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    String id = TestClient.createdId(r);
    // the identifier lets a conditional update find it
    assertThat(http().putJson("fhir/R4/Patient/" + id, body(id, family)).statusCode()).isEqualTo(200);
    return id;
  }

  private static HttpResponse<String> put(String path, String json, String... headers) {
    return http().send(http().request("fhir/R4/" + path).header("Content-Type", "application/fhir+json")
        .headers(headers).PUT(HttpRequest.BodyPublishers.ofString(json)));
  }

  private static String version(String id) {
    HttpResponse<String> r = http().get("fhir/R4/Patient/" + id);
    return r.statusCode() == 200 ? http().parse(r, Patient.class).getMeta().getVersionId() : "gone";
  }

  @Test
  void updateWithIfNoneMatchStarIs412WhenTheResourceExistsAndCreatesItWhenAbsent() {
    String id = created("Star");
    HttpResponse<String> exists = put("Patient/" + id, body(id, "Overwritten"), "If-None-Match", "*");
    assertThat(exists.statusCode()).as(exists.body()).isEqualTo(412);
    assertThat(exists.body()).contains("\"resourceType\":\"OperationOutcome\"", "If-None-Match");
    assertThat(version(id)).isEqualTo("2");

    HttpResponse<String> absent = put("Patient/wp-new-1", body("wp-new-1", "New"), "If-None-Match", "*");
    assertThat(absent.statusCode()).as(absent.body()).isEqualTo(201);
    assertThat(version("wp-new-1")).isEqualTo("1");
  }

  @Test
  void ifNoneMatchNamingTheCurrentVersionIs412AndAnotherVersionPasses() {
    String id = created("Tag");
    HttpResponse<String> current = put("Patient/" + id, body(id, "Again"), "If-None-Match", "W/\"1\", W/\"2\"");
    assertThat(current.statusCode()).as(current.body()).isEqualTo(412);
    HttpResponse<String> other = put("Patient/" + id, body(id, "Again"), "If-None-Match", "W/\"1\"");
    assertThat(other.statusCode()).as(other.body()).isEqualTo(200);
    assertThat(version(id)).isEqualTo("3");
    assertThat(put("Patient/" + id, body(id, "Again"), "If-None-Match", "version-3").statusCode()).isEqualTo(400);
  }

  @Test
  void deleteAfterTheResourceChangedSinceIfUnmodifiedSinceIs412() {
    String id = created("Since");
    HttpResponse<String> stale = http().send(http().request("fhir/R4/Patient/" + id)
        .header("If-Unmodified-Since", LONG_AGO).DELETE());
    assertThat(stale.statusCode()).as(stale.body()).isEqualTo(412);
    assertThat(stale.body()).contains("If-Unmodified-Since");
    assertThat(version(id)).isEqualTo("2");

    String lastModified = http().get("fhir/R4/Patient/" + id).headers().firstValue("Last-Modified").orElseThrow();
    HttpResponse<String> fresh = http().send(http().request("fhir/R4/Patient/" + id)
        .header("If-Unmodified-Since", lastModified).DELETE());
    assertThat(fresh.statusCode()).as(fresh.body()).isEqualTo(200);
    assertThat(version(id)).isEqualTo("gone");
  }

  @Test
  void ifMatchTakesPrecedenceOverIfUnmodifiedSince() {
    String id = created("Precedence");
    HttpResponse<String> r = put("Patient/" + id, body(id, "Matched"), "If-Match", "W/\"2\"",
        "If-Unmodified-Since", LONG_AGO);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    String later = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC).plusDays(1));
    HttpResponse<String> unmodified = put("Patient/" + id, body(id, "Later"), "If-Unmodified-Since", later);
    assertThat(unmodified.statusCode()).as(unmodified.body()).isEqualTo(200);
    HttpResponse<String> modified = put("Patient/" + id, body(id, "Stale"), "If-Unmodified-Since", LONG_AGO);
    assertThat(modified.statusCode()).as(modified.body()).isEqualTo(412);
    assertThat(version(id)).isEqualTo("4");
  }

  @Test
  void patchHonoursIfNoneMatchAndIfUnmodifiedSince() {
    String id = created("Patched");
    for (String[] header : new String[][] {{"If-None-Match", "*"}, {"If-Unmodified-Since", LONG_AGO}}) {
      HttpResponse<String> r = http().send(http().request("fhir/R4/Patient/" + id)
          .header("Content-Type", "application/json-patch+json").header(header[0], header[1])
          .method("PATCH", HttpRequest.BodyPublishers.ofString("[{\"op\":\"replace\",\"path\":\"/name/0/family\","
              + "\"value\":\"Changed\"}]")));
      assertThat(r.statusCode()).as(header[0] + ": " + r.body()).isEqualTo(412);
    }
    assertThat(version(id)).isEqualTo("2");
  }

  @Test
  void aRawBinaryPutWithIfNoneMatchStarIs412WhenTheBinaryExists() {
    HttpResponse<String> created = http().postBytes("fhir/R4/Binary", "text/plain", "first".getBytes());
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String id = TestClient.createdId(created);
    HttpResponse<String> r = http().send(http().request("fhir/R4/Binary/" + id).header("Content-Type", "text/plain")
        .header("If-None-Match", "*").PUT(HttpRequest.BodyPublishers.ofString("second")));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(412);
    assertThat(http().send(http().request("fhir/R4/Binary/" + id).header("Accept", "text/plain")).body())
        .isEqualTo("first");
  }

  @Test
  void conditionalUpdateAndDeleteHonourThemForTheirMatch() {
    String id = created("Conditional");
    HttpResponse<String> update = put("Patient?identifier=urn:wp%7C" + id, body(id, "Over"), "If-None-Match", "*");
    assertThat(update.statusCode()).as(update.body()).isEqualTo(412);
    HttpResponse<String> delete = http().send(http().request("fhir/R4/Patient?identifier=urn:wp%7C" + id)
        .header("If-Unmodified-Since", LONG_AGO).DELETE());
    assertThat(delete.statusCode()).as(delete.body()).isEqualTo(412);
    assertThat(version(id)).isEqualTo("2");

    HttpResponse<String> none = put("Patient?identifier=urn:wp%7Cwp-none-1", body("wp-none-1", "Fresh"),
        "If-None-Match", "*");
    assertThat(none.statusCode()).as(none.body()).isEqualTo(201);
  }

  private static HttpResponse<String> get(String path, String... headers) {
    HttpRequest.Builder b = http().request("fhir/R4/" + path);
    return http().send(headers.length == 0 ? b.GET() : b.headers(headers).GET());
  }

  @Test
  void ifMatchAndIfUnmodifiedSinceHoldOnReadsToo() {
    String id = created("Reader");
    assertThat(get("Patient/" + id, "If-Match", "W/\"1\"").statusCode()).isEqualTo(412);
    assertThat(get("Patient/" + id, "If-Match", "W/\"2\"").statusCode()).isEqualTo(200);
    assertThat(get("Patient/" + id, "If-Match", "W/\"1\", W/\"2\"").statusCode()).isEqualTo(200);
    assertThat(get("Patient/" + id, "If-Match", "*").statusCode()).isEqualTo(200);
    assertThat(http().send(http().request("fhir/R4/Patient/" + id).header("If-Match", "W/\"1\"")
        .method("HEAD", HttpRequest.BodyPublishers.noBody())).statusCode()).isEqualTo(412);
    assertThat(get("Patient/" + id + "/_history/1", "If-Match", "W/\"1\"").statusCode()).isEqualTo(200);
    assertThat(get("Patient/" + id, "If-Unmodified-Since", LONG_AGO).statusCode()).isEqualTo(412);

    String bin = http().createBinary("fhir/R4/Binary", "text/plain", "Patient/" + id, "one".getBytes());
    HttpResponse<byte[]> raw = http().sendBytes(http().request("fhir/R4/Binary/" + bin).GET());
    String strong = raw.headers().firstValue("ETag").orElseThrow();
    assertThat(http().sendBytes(http().request("fhir/R4/Binary/" + bin).header("If-Match", strong).GET())
        .statusCode()).isEqualTo(200);
    assertThat(http().sendBytes(http().request("fhir/R4/Binary/" + bin).header("If-Match", "W/\"1\"").GET())
        .statusCode()).isEqualTo(200);
    assertThat(http().sendBytes(http().request("fhir/R4/Binary/" + bin).header("If-Match", "W/\"7\"").GET())
        .statusCode()).isEqualTo(412);
    assertThat(http().sendBytes(http().request("fhir/R4/Binary/" + bin).header("If-Unmodified-Since", LONG_AGO)
        .GET()).statusCode()).isEqualTo(412);
  }

  @Test
  void ifMatchTakesAListAndARawBinarysContentEntityTag() {
    String id = created("Listed");
    HttpResponse<String> listed = put("Patient/" + id, body(id, "Listed2"), "If-Match", "W/\"1\", W/\"2\"");
    assertThat(listed.statusCode()).as(listed.body()).isEqualTo(200);
    HttpResponse<String> stale = put("Patient/" + id, body(id, "Listed3"), "If-Match", "W/\"1\", W/\"2\"");
    assertThat(stale.statusCode()).as(stale.body()).isEqualTo(412);
    assertThat(version(id)).isEqualTo("3");

    String bin = http().createBinary("fhir/R4/Binary", "text/plain", "Patient/" + id, "one".getBytes());
    String strong = http().sendBytes(http().request("fhir/R4/Binary/" + bin).GET()).headers().firstValue("ETag")
        .orElseThrow();
    HttpResponse<String> raw = http().send(http().request("fhir/R4/Binary/" + bin).header("Content-Type", "text/plain")
        .header("If-Match", strong).PUT(HttpRequest.BodyPublishers.ofString("two")));
    assertThat(raw.statusCode()).as(raw.body()).isEqualTo(200);
    HttpResponse<String> again = http().send(http().request("fhir/R4/Binary/" + bin)
        .header("Content-Type", "text/plain").header("If-Match", strong).PUT(HttpRequest.BodyPublishers.ofString("3")));
    assertThat(again.statusCode()).as(again.body()).isEqualTo(412);
    HttpResponse<String> del = http().send(http().request("fhir/R4/Patient/" + id)
        .header("If-Match", "W/\"9\", W/\"3\"").DELETE());
    assertThat(del.statusCode()).as(del.body()).isEqualTo(200);
  }
}
