package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.TimeZone;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Query values a client gets slightly wrong: {@code _summary=count} on a read, a time zone's
 * {@code +} left unescaped in a URL, and an {@code _id} that no resource can have.
 */
class QueryValueChecksTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  private static TimeZone jvmZone;

  /** A server whose JVM is not on UTC: a date read without its zone would be read in this one. */
  @BeforeAll
  static void awayFromUtc() {
    jvmZone = TimeZone.getDefault();
    TimeZone.setDefault(TimeZone.getTimeZone("Asia/Tokyo"));
  }

  @AfterAll
  static void backToTheJvmZone() {
    TimeZone.setDefault(jvmZone);
  }

  static TestClient http() {
    return fhirbox.http();
  }

  private static void assertBadRequest(String path, String diagnostic) {
    HttpResponse<String> r = http().get("fhir/R4/" + path);
    assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(400);
    assertThat(r.body()).contains("OperationOutcome").contains(diagnostic);
  }

  @Test
  void summaryCountOnAReadOrHistoryIsRefusedWhileASearchCountsWithIt() {
    String id = http().create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"SummaryCountRead\"}]}");

    assertBadRequest("Patient/" + id + "?_summary=count", "_summary=count counts the matches of a search");
    assertBadRequest("Patient/" + id + "/_history/1?_summary=count", "_summary=count counts the matches of a search");
    // a history keeps no count of its versions, so it is refused there too rather than listing them all
    assertBadRequest("Patient/" + id + "/_history?_summary=count", "_summary=count");
    assertThat(http().postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"request\":"
        + "{\"method\":\"GET\",\"url\":\"Patient/" + id + "/_history?_summary=count\"}}]}").body())
        .contains("\"status\":\"400");
    Bundle counted = http().parse(http().get("fhir/R4/Patient?_id=" + id + "&_summary=count"), Bundle.class);
    assertThat(counted.getTotal()).isEqualTo(1);
    assertThat(counted.getEntry()).isEmpty();
  }

  @Test
  void aTimeZonesPlusSentUnescapedIsReadAsPlusInSinceLastUpdatedAndDates() {
    Instant before = Instant.now().minus(1, ChronoUnit.MINUTES);
    String id = http().create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"plus\"},"
        + "\"effectiveDateTime\":\"2026-01-01T00:30:00+01:00\"}");
    // sent raw, as a hand-typed URL does: form decoding makes each '+' a space
    String since = OffsetDateTime.ofInstant(before, ZoneOffset.ofHours(1))
        .format(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss")) + "+01:00";

    HttpResponse<String> history = http().get("fhir/R4/Observation/" + id + "/_history?_since=" + since);
    assertThat(history.statusCode()).as(history.body()).isEqualTo(200);
    assertThat(http().parse(history, Bundle.class).getEntry()).hasSize(1);
    assertThat(http().foundIds("Observation?_id=" + id + "&_lastUpdated=gt" + since)).containsExactly(id);
    assertThat(http().foundIds("Observation?_id=" + id + "&date=2026-01-01T00:30:00+01:00")).containsExactly(id);
    assertThat(http().foundIds("Observation?_id=" + id + "&date=lt2026-01-01T00:30:00+01:00")).isEmpty();
    // the escaped form means the same
    assertThat(http().foundIds("Observation?_id=" + id + "&date=2026-01-01T00:30:00%2B01:00")).containsExactly(id);
    // a space anywhere else is no time zone
    assertBadRequest("Observation?date=2026-01-01%20T00:30:00", "is not a date");
  }

  @Test
  void aTimeZoneOffsetBeyondFourteenHoursIsRefusedAsAStoredDateTimeWouldBe() {
    String id = http().create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"zone\"},"
        + "\"effectiveDateTime\":\"2024-01-01T10:00:00+14:00\"}");
    // R4 datatypes.html#dateTime: Z or an offset from -14:00 to +14:00; a write refuses +15:00 too
    assertThat(http().postJson("fhir/R4/Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\","
        + "\"code\":{\"text\":\"zone\"},\"effectiveDateTime\":\"2024-01-01T10:00:00+15:00\"}").statusCode())
        .isEqualTo(400);
    assertBadRequest("Observation?date=2024-01-01T10:00:00%2B15:00", "is not a date");
    assertBadRequest("Observation?date=ge2024-01-01T10:00:00-14:01", "is not a date");
    assertBadRequest("Observation?date=2024-01-01T10:00:00%2B13:60", "is not a date");
    assertBadRequest("Observation?date=2024-01-01T10:00%2B99:00", "is not a date");
    assertBadRequest("Observation?_lastUpdated=gt2024-01-01T10:00:00%2B14:30", "is not a date");
    assertBadRequest("Observation/" + id + "/_history?_since=2024-01-01T10:00:00%2B15:00", "must be an instant");
    // the outermost offsets are taken
    assertThat(http().foundIds("Observation?_id=" + id + "&date=2024-01-01T10:00:00%2B14:00")).containsExactly(id);
    assertThat(http().foundIds("Observation?_id=" + id + "&date=gt2024-01-01T10:00:00-14:00")).isEmpty();
    assertThat(http().foundIds("Observation?_id=" + id + "&date=lt2024-01-01T10:00:00%2B13:59")).containsExactly(id);
  }

  @Test
  void aMalformedIdIsRefusedWhereverASearchTakesIt() {
    String patient = http().create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"MalformedIdSearch\"}]}");
    String tooLong = "a".repeat(65);

    assertBadRequest("Patient?_id=bad%20id!", "'bad id!' is not a valid FHIR id");
    assertBadRequest("Patient?_id=" + patient + "," + tooLong, "is not a valid FHIR id");
    assertBadRequest("Observation?subject:Patient._id=bad%20id!", "'bad id!' is not a valid FHIR id");
    assertBadRequest("Patient?_has:Observation:subject:_id=bad%20id!", "'bad id!' is not a valid FHIR id");
    assertBadRequest("Patient/" + patient + "/Observation?_id=bad%20id!", "'bad id!' is not a valid FHIR id");
    assertBadRequest("Patient/" + patient + "/*?_id=bad%20id!", "'bad id!' is not a valid FHIR id");
    // a well-formed id that names nothing is no error: it finds nothing
    assertThat(http().foundIds("Patient?_id=no-such-patient")).isEmpty();
    assertThat(http().foundIds("Patient?_id=" + "a".repeat(64) + "," + patient)).containsExactly(patient);
  }
}
