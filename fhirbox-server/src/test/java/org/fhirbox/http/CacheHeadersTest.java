package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What a browser's private cache may keep of {@code /fhir/R4} (RFC 9111): an authenticated answer
 * nothing, since that cache is keyed by URL and not by {@code Authorization}; and every answer that
 * depends on {@code Accept} says so in {@code Vary} (RFC 9110 §12.5.5); and which format such an
 * answer takes when {@code Accept} or {@code _format} refuse one.
 */
class CacheHeadersTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  private static final String PATIENT = "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Cache\"}]}";

  @Test
  void everyAuthenticatedFhirAnswerIsNotStoredAndVariesByAccept() {
    TestClient http = fhirbox.http();
    HttpResponse<String> created = http.postJson("fhir/R4/Patient", PATIENT);
    String id = TestClient.createdId(created);
    String binary = TestClient.createdId(http.postBytes("fhir/R4/Binary", "text/plain", "hello".getBytes()));
    List<HttpResponse<String>> answers = List.of(
        created,
        http.get("fhir/R4/Patient/" + id),
        http.get("fhir/R4/Patient/" + id + "/_history/1"),
        http.send(http.request("fhir/R4/Patient/" + id).header("Accept", "application/fhir+json")
            .method("HEAD", HttpRequest.BodyPublishers.noBody())),
        http.get("fhir/R4/Patient?_count=1"),
        http.get("fhir/R4/Patient/" + id + "/_history"),
        http.get("fhir/R4/_history?_count=1"),
        http.putJson("fhir/R4/Patient/" + id, PATIENT.replace("{", "{\"id\":\"" + id + "\",")),
        http.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"batch\"}"),
        http.get("fhir/R4/Binary/" + binary),
        http.get("fhir/R4/Binary/" + binary + "/$presigned-url"),
        http.get("fhir/R4/Patient/no-such-patient"),
        http.delete("fhir/R4/Patient/" + id));
    for (HttpResponse<String> r : answers) {
      String what = r.request().method() + " " + r.request().uri() + " -> " + r.statusCode();
      assertThat(r.statusCode()).as(what).isLessThan(500);
      assertThat(r.headers().allValues("Cache-Control")).as(what).containsExactly("no-store");
      assertThat(varied(r)).as(what).contains("accept");
    }
  }

  @Test
  void aRefusedCallerIsNotStoredEither() {
    HttpResponse<String> r = new TestClient(fhirbox.server().baseUrl()).get("fhir/R4/Patient");
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.headers().allValues("Cache-Control")).containsExactly("no-store");
    assertThat(varied(r)).contains("accept");
  }

  @Test
  void rawBinaryContentStaysPrivateAndRevalidatesWithItsEntityTag() {
    TestClient http = fhirbox.http();
    String binary = TestClient.createdId(http.postBytes("fhir/R4/Binary", "text/plain", "hello".getBytes()));
    HttpResponse<String> raw = http.send(http.request("fhir/R4/Binary/" + binary).header("Accept", "text/plain"));
    assertThat(raw.statusCode()).isEqualTo(200);
    assertThat(raw.body()).isEqualTo("hello");
    String cacheControl = String.join(",", raw.headers().allValues("Cache-Control")).toLowerCase(Locale.ROOT);
    assertThat(cacheControl).contains("private").doesNotContain("public");
    assertThat(varied(raw)).contains("accept");
    HttpResponse<String> again = http.send(http.request("fhir/R4/Binary/" + binary).header("Accept", "text/plain")
        .header("If-None-Match", raw.headers().firstValue("ETag").orElseThrow()));
    assertThat(again.statusCode()).isEqualTo(304);
    assertThat(again.headers().firstValue("Cache-Control").orElseThrow()).contains("private");
  }

  /**
   * If-None-Match and If-Match are lists, and a list may come as several field lines, which mean
   * what their values joined by commas mean (RFC 9110 §5.3): an entity tag on the second line counts
   * as one on the first, on the raw read and on a signed URL alike.
   */
  @Test
  void everyFieldLineOfAConditionalHeaderCounts() throws Exception {
    TestClient http = fhirbox.http();
    Stored stored = Stored.upload(http, "lines");
    String etag = stored.etag();
    for (String url : stored.urls()) {
      HttpResponse<String> cached = http.send(http.request(url).header("Accept", "text/plain")
          .header("If-None-Match", "\"other\"").header("If-None-Match", etag));
      assertThat(cached.statusCode()).as(url).isEqualTo(304);
      HttpResponse<String> matched = http.send(http.request(url).header("Accept", "text/plain")
          .header("If-Match", "\"other\"").header("If-Match", etag));
      assertThat(matched.statusCode()).as(url).isEqualTo(200);
      assertThat(matched.body()).isEqualTo("lines");
    }
  }

  /**
   * Range and If-Range are no lists: on two field lines they make one value that breaks their
   * grammar (RFC 9110 §5.3), which a cache or proxy may read otherwise than by its first line. An
   * If-Range that is no single validator does not hold (§13.1.5), so the whole content is sent
   * rather than bytes of another version; a Range of two lines is ignored (§14.2), on the raw read
   * and on a signed URL alike.
   */
  @Test
  void aRangeOrIfRangeOnTwoFieldLinesSendsTheWholeContent() throws Exception {
    TestClient http = fhirbox.http();
    Stored stored = Stored.upload(http, "0123456789");
    String etag = stored.etag();
    for (String url : stored.urls()) {
      HttpResponse<String> single = http.send(http.request(url).header("Accept", "text/plain")
          .header("Range", "bytes=0-1").header("If-Range", etag));
      assertThat(single.statusCode()).as(url).isEqualTo(206);
      HttpResponse<String> twoValidators = http.send(http.request(url).header("Accept", "text/plain")
          .header("Range", "bytes=0-1").header("If-Range", etag).header("If-Range", "\"other\""));
      assertThat(twoValidators.statusCode()).as(url).isEqualTo(200);
      assertThat(twoValidators.body()).isEqualTo("0123456789");
      HttpResponse<String> twoRanges = http.send(http.request(url).header("Accept", "text/plain")
          .header("Range", "bytes=0-1").header("Range", "bytes=5-6"));
      assertThat(twoRanges.statusCode()).as(url).isEqualTo(200);
      assertThat(twoRanges.body()).isEqualTo("0123456789");
      assertThat(twoRanges.headers().firstValue("Content-Range")).as(url).isEmpty();
    }
  }

  /**
   * Of empty content a suffix range ({@code bytes=-N}, N above 0) is satisfiable (RFC 9110 §14.1.2),
   * so it is no 416 (§15.5.17); no Content-Range can name zero bytes, so the answer is the whole
   * empty content (200, §14.2). A range from a first position still finds no byte there: 416.
   */
  @Test
  void aSuffixRangeOfEmptyContentGetsTheEmptyContent() throws Exception {
    TestClient http = fhirbox.http();
    Stored stored = Stored.upload(http, "");
    for (String url : stored.urls()) {
      HttpResponse<String> suffix = http.send(http.request(url).header("Accept", "text/plain")
          .header("Range", "bytes=-5"));
      assertThat(suffix.statusCode()).as(url).isEqualTo(200);
      assertThat(suffix.body()).as(url).isEmpty();
      assertThat(suffix.headers().firstValue("Content-Length")).as(url).contains("0");
      assertThat(suffix.headers().firstValue("Content-Range")).as(url).isEmpty();
      HttpResponse<String> withFirst = http.send(http.request(url).header("Accept", "text/plain")
          .header("Range", "bytes=0-"));
      assertThat(withFirst.statusCode()).as(url).isEqualTo(416);
      assertThat(withFirst.headers().firstValue("Content-Range")).as(url).contains("bytes */0");
      HttpResponse<String> zeroSuffix = http.send(http.request(url).header("Accept", "text/plain")
          .header("Range", "bytes=-0"));
      assertThat(zeroSuffix.statusCode()).as(url).isEqualTo(416);
    }
  }

  /** A signed URL's answer is fresh (RFC 9111 §5.2.2.1) no longer than its signature lasts. */
  @Test
  void aSignedAnswerIsFreshNoLongerThanItsUrl() throws Exception {
    TestClient http = fhirbox.http();
    HttpResponse<String> created = http.postBytes("fhir/R4/Binary", "text/plain", "fresh".getBytes());
    String signed = new ObjectMapper().readTree(created.body()).get("url").asText();
    Matcher expires = Pattern.compile("[?&]Expires=(\\d+)").matcher(signed);
    assertThat(expires.find()).isTrue();
    Instant end = Instant.ofEpochSecond(Long.parseLong(expires.group(1)));
    Instant before = Instant.now();
    HttpResponse<String> r = http.send(http.request(signed));
    assertThat(r.statusCode()).isEqualTo(200);
    Matcher maxAge = Pattern.compile("max-age=(\\d+)").matcher(r.headers().firstValue("Cache-Control").orElseThrow());
    assertThat(maxAge.find()).isTrue();
    assertThat(before.plusSeconds(Long.parseLong(maxAge.group(1)))).isBeforeOrEqualTo(end);
  }

  /**
   * A type with {@code q=0} is not acceptable (RFC 9110 §12.4.2), a wildcard beside it
   * notwithstanding: the answer is the other FHIR format, whatever the body's format, and 406 when
   * both are refused.
   */
  @Test
  void aFhirFormatRefusedWithQZeroIsNotTheAnswerUnderAWildcard() {
    TestClient http = fhirbox.http();
    String id = TestClient.createdId(http.postJson("fhir/R4/Patient", PATIENT));
    HttpResponse<String> notJson = http.send(http.request("fhir/R4/Patient/" + id)
        .header("Accept", "application/fhir+json;q=0, application/json;q=0, */*"));
    assertThat(notJson.headers().firstValue("Content-Type").orElseThrow()).as(notJson.body())
        .startsWith("application/fhir+xml");
    String xml = "<Patient xmlns=\"http://hl7.org/fhir\"><active value=\"true\"/></Patient>";
    HttpResponse<String> notXml = http.send(http.request("fhir/R4/Patient").header("Content-Type", "application/fhir+xml")
        .header("Accept", "application/fhir+xml;q=0, */*").POST(HttpRequest.BodyPublishers.ofString(xml)));
    assertThat(notXml.statusCode()).as(notXml.body()).isEqualTo(201);
    assertThat(notXml.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/fhir+json");
    HttpResponse<String> neither = http.send(http.request("fhir/R4/Patient/" + id)
        .header("Accept", "application/fhir+json;q=0, application/fhir+xml;q=0, */*"));
    assertThat(neither.statusCode()).as(neither.body()).isEqualTo(406);
  }

  /**
   * A {@code _format} naming another FHIR version is refused as an Accept naming it is (406, R4
   * http.html#version-parameter), rather than answered in R4 as if the version were not there.
   */
  @Test
  void aFormatParameterNamingAnotherFhirVersionIs406() {
    TestClient http = fhirbox.http();
    String id = TestClient.createdId(http.postJson("fhir/R4/Patient", PATIENT));
    HttpResponse<String> stu3 = http.get("fhir/R4/Patient/" + id + "?_format=application/fhir%2Bxml;fhirVersion=3.0");
    assertThat(stu3.statusCode()).as(stu3.body()).isEqualTo(406);
    assertThat(stu3.body()).contains("FHIR version 3.0");
    HttpResponse<String> r4 = http.get("fhir/R4/Patient/" + id + "?_format=application/fhir%2Bxml;fhirVersion=4.0");
    assertThat(r4.statusCode()).as(r4.body()).isEqualTo(200);
    assertThat(r4.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/fhir+xml");
  }

  @Test
  void theCapabilityStatementMayBeCachedButVariesByAccept() {
    HttpResponse<String> r = new TestClient(fhirbox.server().baseUrl()).get("fhir/R4/metadata");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().allValues("Cache-Control")).doesNotContain("no-store");
    assertThat(varied(r)).contains("accept");
  }

  /**
   * {@code _summary} and {@code _elements} subset the CapabilityStatement as any resource read
   * (R4 search.html#summary; HAPI FHIR's server does so too), rather than being ignored: a client
   * that asks for {@code fhirVersion} alone does not get the whole statement.
   */
  @Test
  void theCapabilityStatementTakesSummaryAndElements() {
    TestClient anonymous = new TestClient(fhirbox.server().baseUrl());
    int whole = anonymous.get("fhir/R4/metadata").body().length();
    HttpResponse<String> elements = anonymous.get("fhir/R4/metadata?_elements=fhirVersion");
    assertThat(elements.statusCode()).as(elements.body()).isEqualTo(200);
    assertThat(elements.body()).contains("\"fhirVersion\":\"4.0.1\"", "SUBSETTED").doesNotContain("\"rest\"");
    HttpResponse<String> summary = anonymous.get("fhir/R4/metadata?_summary=true");
    assertThat(summary.body()).contains("SUBSETTED", "\"fhirVersion\"");
    assertThat(summary.body().length()).isLessThan(whole);
    HttpResponse<String> count = anonymous.get("fhir/R4/metadata?_summary=count");
    assertThat(count.statusCode()).isEqualTo(400);
    assertThat(count.body()).as("the advice fits metadata, which has no id to search by")
        .contains("leave it out").doesNotContain("_id={id}");
  }

  /** A text Binary as stored: its id, the signed URL its answer named, and that URL's entity tag. */
  private record Stored(String binary, String signed, String etag) {
    static Stored upload(TestClient http, String text) throws Exception {
      HttpResponse<String> created = http.postBytes("fhir/R4/Binary", "text/plain", text.getBytes());
      String signed = new ObjectMapper().readTree(created.body()).get("url").asText();
      return new Stored(TestClient.createdId(created), signed,
          http.send(http.request(signed)).headers().firstValue("ETag").orElseThrow());
    }

    /** Its raw read and its signed URL. */
    List<String> urls() {
      return List.of("fhir/R4/Binary/" + binary, signed);
    }
  }

  /** The field names of every {@code Vary} field, lower case (a list, RFC 9110 §5.3). */
  static List<String> varied(HttpResponse<?> r) {
    return r.headers().allValues("Vary").stream().flatMap(v -> Arrays.stream(v.split(",")))
        .map(v -> v.strip().toLowerCase(Locale.ROOT)).toList();
  }
}
