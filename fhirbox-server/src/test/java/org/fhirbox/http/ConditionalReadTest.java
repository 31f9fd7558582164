package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.CapabilityStatement.CapabilityStatementRestResourceComponent;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Conditional read (FHIR R4 http.html#cread): a read or vread with {@code If-None-Match} naming
 * the version, or {@code If-Modified-Since} not before it, is 304 without a body, as HAPI FHIR's
 * client {@code ifVersionMatches(...).returnNull()} expects; anything else reads.
 */
class ConditionalReadTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  static TestClient http() {
    return fhirbox.http();
  }

  private static HttpResponse<String> get(String path, String header, String value) {
    return http().send(http().request("fhir/R4/" + path).header(header, value));
  }

  @Test
  void aReadNamingTheCurrentVersionIs304AndAnOlderOneReads() {
    String id = TestClient.createdId(http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    http().putJson("fhir/R4/Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"active\":true}");

    HttpResponse<String> same = get("Patient/" + id, "If-None-Match", "W/\"2\"");
    assertThat(same.statusCode()).as(same.body()).isEqualTo(304);
    assertThat(same.body()).isEmpty();
    assertThat(same.headers().firstValue("ETag")).hasValue("W/\"2\"");
    // RFC 9110 §8.6: a 304's Content-Length, if any, is that of the 200 it stands for, never 0
    int full = http().get("fhir/R4/Patient/" + id).body().length();
    same.headers().firstValue("Content-Length").ifPresent(length -> assertThat(length)
        .isEqualTo(Integer.toString(full)));

    HttpResponse<String> older = get("Patient/" + id, "If-None-Match", "W/\"1\"");
    assertThat(older.statusCode()).isEqualTo(200);
    assertThat(older.body()).contains("\"active\":true");

    assertThat(get("Patient/" + id + "/_history/1", "If-None-Match", "W/\"1\"").statusCode()).isEqualTo(304);
    assertThat(get("Patient/" + id, "If-None-Match", "*").statusCode()).isEqualTo(304);
    assertThat(get("Patient/" + id, "If-None-Match", "W/\"1\", W/\"2\"").statusCode()).isEqualTo(304);
    HttpResponse<String> head = http().send(http().request("fhir/R4/Patient/" + id)
        .header("If-None-Match", "W/\"2\"").method("HEAD", HttpRequest.BodyPublishers.noBody()));
    assertThat(head.statusCode()).isEqualTo(304);
  }

  @Test
  void aReadModifiedSinceItsLastModifiedIs200AndOtherwise304() {
    HttpResponse<String> created = http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}");
    String id = TestClient.createdId(created);
    String lastModified = created.headers().firstValue("Last-Modified").orElseThrow();

    HttpResponse<String> unchanged = get("Patient/" + id, "If-Modified-Since", lastModified);
    assertThat(unchanged.statusCode()).as(unchanged.body()).isEqualTo(304);
    assertThat(unchanged.headers().firstValue("Last-Modified")).hasValue(lastModified);

    assertThat(get("Patient/" + id, "If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT").statusCode())
        .isEqualTo(200);
    // RFC 9110 §13.1.3: If-Modified-Since is ignored beside If-None-Match
    HttpResponse<String> both = http().send(http().request("fhir/R4/Patient/" + id)
        .header("If-None-Match", "W/\"7\"").header("If-Modified-Since", lastModified));
    assertThat(both.statusCode()).isEqualTo(200);
    // a date that is no HTTP date is ignored, as RFC 9110 §13.1.3 has it
    assertThat(get("Patient/" + id, "If-Modified-Since", "yesterday").statusCode()).isEqualTo(200);
    // and so is a field of two dates, on two lines (§13.1.3: more than one member), on every read path
    String binary = TestClient.createdId(http().postBytes("fhir/R4/Binary", "text/plain", new byte[] {1, 2}));
    for (String path : List.of("fhir/R4/Patient/" + id, "fhir/R4/Binary/" + binary)) {
      HttpResponse<String> twoDates = http().send(http().request(path).header("Accept", "*/*")
          .header("If-Modified-Since", lastModified).header("If-Modified-Since", lastModified));
      assertThat(twoDates.statusCode()).as(path).isEqualTo(200);
      HttpResponse<String> twoPast = http().send(http().request(path).header("Accept", "*/*")
          .header("If-Unmodified-Since", "Sat, 01 Jan 2000 00:00:00 GMT")
          .header("If-Unmodified-Since", "Sat, 01 Jan 2000 00:00:00 GMT"));
      assertThat(twoPast.statusCode()).as(path).isEqualTo(200);
    }
  }

  /**
   * A date field whose value is more than an HTTP-date (two dates on one line, text after the date)
   * is no valid HTTP-date and is ignored (RFC 9110 §13.1.3, §13.1.4), rather than read up to where
   * a date ends: not 304, nor 412, on every read path.
   */
  @Test
  void aDateFieldThatIsMoreThanOneHttpDateIsIgnored() {
    HttpResponse<String> created = http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}");
    String id = TestClient.createdId(created);
    String lastModified = created.headers().firstValue("Last-Modified").orElseThrow();
    String past = "Sat, 01 Jan 2000 00:00:00 GMT";
    String binary = TestClient.createdId(http().postBytes("fhir/R4/Binary", "text/plain", new byte[] {1, 2}));
    for (String path : List.of("fhir/R4/Patient/" + id, "fhir/R4/Binary/" + binary)) {
      for (String suffix : List.of(", " + lastModified, " and later", "x")) {
        HttpResponse<String> modified = http().send(http().request(path).header("Accept", "*/*")
            .header("If-Modified-Since", lastModified + suffix));
        assertThat(modified.statusCode()).as(path + " " + suffix).isEqualTo(200);
        HttpResponse<String> unmodified = http().send(http().request(path).header("Accept", "*/*")
            .header("If-Unmodified-Since", past + suffix.replace(lastModified, past)));
        assertThat(unmodified.statusCode()).as(path + " " + suffix).isEqualTo(200);
      }
      // the three forms RFC 9110 §5.6.7 has a recipient accept still count
      for (String old : List.of(past, "Saturday, 01-Jan-00 00:00:00 GMT", "Sat Jan  1 00:00:00 2000")) {
        assertThat(http().send(http().request(path).header("Accept", "*/*").header("If-Unmodified-Since", old))
            .statusCode()).as(path + " " + old).isEqualTo(412);
      }
    }
  }

  /**
   * If-Modified-Since is read in each of the three forms of an HTTP-date (RFC 9110 §5.6.7:
   * IMF-fixdate, RFC 850's, asctime's); an RFC 850 year of two digits is of this century unless that
   * is more than 50 years ahead, then of the one before; dates before 1970 count as any other.
   */
  @Test
  void ifModifiedSinceIsReadInEachFormOfAnHttpDate() {
    HttpResponse<String> created = http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}");
    String id = TestClient.createdId(created);
    String path = "Patient/" + id;
    ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.SECONDS);
    for (ZonedDateTime later : List.of(now.plusDays(1), now.plusYears(49))) {
      for (String form : httpDates(later)) {
        assertThat(get(path, "If-Modified-Since", form).statusCode()).as(form).isEqualTo(304);
      }
    }
    for (String form : httpDates(now.minusYears(20))) {
      assertThat(get(path, "If-Modified-Since", form).statusCode()).as(form).isEqualTo(200);
    }
    ZonedDateTime moon = ZonedDateTime.of(1969, 7, 20, 20, 17, 40, 0, ZoneOffset.UTC);
    for (String form : List.of(httpDates(moon).get(0), httpDates(moon).get(2),
        // 51 years ahead, in RFC 850's two digits, is a date of the last century
        httpDates(now.plusYears(51).plusDays(1)).get(1))) {
      assertThat(get(path, "If-Modified-Since", form).statusCode()).as(form).isEqualTo(200);
    }
    // a date before 1970 fails If-Unmodified-Since rather than being ignored
    assertThat(get(path, "If-Unmodified-Since", "Sun, 20 Jul 1969 20:17:40 GMT").statusCode()).isEqualTo(412);
    // RFC 9110 §5.6.7: second 60 is a leap second, the instant after :59
    String leap = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy 23:59:60 'GMT'", Locale.US).format(now.plusDays(1));
    assertThat(get(path, "If-Modified-Since", leap).statusCode()).as(leap).isEqualTo(304);
    // still no HTTP-date: a one-digit day, an hour of 24, the 30th of February, a zone other than GMT
    for (String no : List.of("Mon, 7 Dec 2099 00:00:00 GMT", "Mon, 07 Dec 2099 24:00:00 GMT",
        "Tue, 30 Feb 2099 00:00:00 GMT", "Mon, 07 Dec 2099 00:00:00 +0000", "Monday, 07-Dec-99 00:00:00 UTC",
        "Mon Dec 7 00:00:00 2099")) {
      assertThat(get(path, "If-Modified-Since", no).statusCode()).as(no).isEqualTo(200);
    }
  }

  /**
   * An HTTP-date is case-sensitive (RFC 9110 §5.6.7): a day name, month or zone in other case is in
   * none of its three forms, so such an If-Modified-Since is ignored as any other that is no date.
   */
  @Test
  void anHttpDateInOtherCaseIsNone() {
    String path = "Patient/" + TestClient.createdId(http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    assertThat(get(path, "If-Modified-Since", "Mon, 07 Dec 2099 00:00:00 GMT").statusCode()).isEqualTo(304);
    for (String no : List.of("mon, 07 Dec 2099 00:00:00 GMT", "Mon, 07 DEC 2099 00:00:00 GMT",
        "Mon, 07 Dec 2099 00:00:00 gmt", "MONDAY, 07-Dec-70 00:00:00 GMT", "Monday, 07-dec-70 00:00:00 GMT",
        "mon Dec  7 00:00:00 2099", "Mon DEC  7 00:00:00 2099")) {
      assertThat(get(path, "If-Modified-Since", no).statusCode()).as(no).isEqualTo(200);
    }
    // If-Unmodified-Since alike: a date in other case does not stop the read
    assertThat(get(path, "If-Unmodified-Since", "sat, 01 jan 2000 00:00:00 gmt").statusCode()).isEqualTo(200);
  }

  /** {@code at} as IMF-fixdate, RFC 850 date and asctime date (RFC 9110 §5.6.7). */
  static List<String> httpDates(ZonedDateTime at) {
    return List.of(DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).format(at),
        DateTimeFormatter.ofPattern("EEEE, dd-MMM-yy HH:mm:ss 'GMT'", Locale.US).format(at),
        DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US).format(at));
  }

  /**
   * meta.lastUpdated is the server's instant, to the millisecond and with a time zone, whatever the
   * client sent in it: the same instant as Last-Modified and history's response.lastModified.
   */
  @Test
  void metaLastUpdatedIsTheServersInstantWhateverTheClientSent() {
    Pattern millis = Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d)");
    String id = TestClient.createdId(http().postJson("fhir/R4/Patient",
        "{\"resourceType\":\"Patient\",\"meta\":{\"lastUpdated\":\"2000-01-01T00:00:00+05:00\"}}"));
    for (String sent : List.of("2000-01-01", "2000-01-01T00:00:00Z", "2000-01-01T00:00:00.123456+14:00")) {
      HttpResponse<String> put = http().putJson("fhir/R4/Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\""
          + id + "\",\"meta\":{\"lastUpdated\":\"" + sent + "\"},\"name\":[{\"text\":\"" + sent + "\"}]}");
      assertThat(put.statusCode()).as(put.body()).isIn(200, 201);
    }
    String tx = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":"
        + "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"meta\":{\"lastUpdated\":\"2000-01\"},\"active\":true},"
        + "\"request\":{\"method\":\"PUT\",\"url\":\"Patient/" + id + "\"}}]}";
    assertThat(http().postJson("fhir/R4", tx).statusCode()).isEqualTo(200);

    Bundle history = http().parse(http().get("fhir/R4/Patient/" + id + "/_history"), Bundle.class);
    assertThat(history.getEntry()).hasSize(5);
    for (Bundle.BundleEntryComponent e : history.getEntry()) {
      String version = e.getResource().getMeta().getVersionId();
      HttpResponse<String> read = http().get("fhir/R4/Patient/" + id + "/_history/" + version);
      Patient p = http().parse(read, Patient.class);
      String text = p.getMeta().getLastUpdatedElement().getValueAsString();
      assertThat(text).as("version " + version).matches(millis);
      assertThat(p.getMeta().getLastUpdated()).isEqualTo(e.getResponse().getLastModified());
      assertThat(e.getResource().getMeta().getLastUpdatedElement().getValueAsString()).isEqualTo(text);
      assertThat(p.getMeta().getLastUpdated().toInstant().truncatedTo(ChronoUnit.SECONDS)).isEqualTo(
          DateTimeFormatter.RFC_1123_DATE_TIME.parse(read.headers().firstValue("Last-Modified").orElseThrow(),
              Instant::from));
      assertThat(p.getMeta().getLastUpdated().toInstant()).isAfter(Instant.parse("2026-01-01T00:00:00Z"));
    }
  }

  /**
   * A signed Attachment URL expires, and an Attachment naming a Binary describes its current
   * version: such a resource is read whole each time, as is a Binary as FHIR JSON (its url).
   */
  @Test
  void aResourceWithASignedAttachmentUrlAndABinaryAreReadWhole() {
    String binary = TestClient.createdId(http().postBytes("fhir/R4/Binary", "text/plain", "hello".getBytes()));
    String doc = TestClient.createdId(http().postJson("fhir/R4/DocumentReference", """
        {"resourceType":"DocumentReference","status":"current",
         "content":[{"attachment":{"contentType":"text/plain","url":"Binary/%s"}}]}""".formatted(binary)));

    HttpResponse<String> read = get("DocumentReference/" + doc, "If-None-Match", "W/\"1\"");
    assertThat(read.statusCode()).isEqualTo(200);
    assertThat(read.body()).contains("/storage/");
    HttpResponse<String> json = http().send(http().request("fhir/R4/Binary/" + binary)
        .header("Accept", "application/fhir+json").header("If-None-Match", "W/\"1\""));
    assertThat(json.statusCode()).isEqualTo(200);
  }

  @Test
  void aReadOfADeletedResourceIsStill410() {
    String id = TestClient.createdId(http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    http().send(http().request("fhir/R4/Patient/" + id).DELETE());
    assertThat(get("Patient/" + id, "If-None-Match", "W/\"1\"").statusCode()).isEqualTo(410);
  }

  @Test
  void theCapabilityStatementSaysReadsAreConditionalAndUpdatesVersionAware() {
    CapabilityStatement cs = http().parse(http().get("fhir/R4/metadata"), CapabilityStatement.class);
    for (CapabilityStatementRestResourceComponent r : cs.getRestFirstRep().getResource()) {
      assertThat(r.getConditionalRead()).as(r.getType()).isEqualTo(CapabilityStatement.ConditionalReadStatus.FULLSUPPORT);
      assertThat(r.getVersioning()).as(r.getType())
          .isEqualTo(CapabilityStatement.ResourceVersionPolicy.VERSIONEDUPDATE);
    }
  }
}
