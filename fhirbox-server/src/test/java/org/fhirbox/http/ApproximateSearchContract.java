package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestClock;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The {@code ap} prefix (R4 search.html#prefix: "the recommended value for the approximation is
 * 10% of the stated value (or for a date, 10% of the gap between now and the date)"): a date's
 * own range widened on each side by a tenth of the gap between now and that range, and a number
 * within a tenth of itself, each at its edges. The server's clock stands at 2026-04-12T00:00Z, 100
 * days after 2026-01-01 ends and 100 days before 2026-07-21 begins. Subclasses supply the database.
 */
abstract class ApproximateSearchContract {
  private static final Instant NOW = Instant.parse("2026-04-12T00:00:00Z");
  private final TestClock clock = new TestClock(NOW);
  private TestServer server;
  private TestClient http;

  /** Server settings naming the database. */
  protected abstract Map<String, String> settings();

  @BeforeEach
  void start() throws Exception {
    server = TestServer.start(settings(), clock);
    http = server.client();
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  private String patient(String set, String birthDate) {
    return http.create("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:ap\",\"value\":\"" + set
        + "\"}],\"birthDate\":\"" + birthDate + "\"}");
  }

  private String observation(String subject, String effective) {
    return http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"ap\"},"
        + "\"subject\":{\"reference\":\"Patient/" + subject + "\"}," + effective + "}");
  }

  @Test
  void aPastDateIsWidenedByATenthOfItsGapToNow() {
    // 2026-01-01 ends 100 days before now: 10 days either side, 2025-12-22 to the end of 2026-01-11
    patient("past", "2025-12-21");
    String first = patient("past", "2025-12-22");
    String same = patient("past", "2026-01-01");
    String last = patient("past", "2026-01-11");
    patient("past", "2026-01-12");

    assertThat(http.foundIds("Patient?identifier=urn:ap%7Cpast&birthdate=ap2026-01-01"))
        .containsExactlyInAnyOrder(first, same, last);
  }

  @Test
  void theEdgesAreToTheMillisecondAndARangeNeedOnlyOverlap() {
    observation("edges", "\"effectiveDateTime\":\"2025-12-21T23:59:59.999Z\"");
    String first = observation("edges", "\"effectiveDateTime\":\"2025-12-22T00:00:00Z\"");
    String last = observation("edges", "\"effectiveDateTime\":\"2026-01-11T23:59:59.999Z\"");
    observation("edges", "\"effectiveDateTime\":\"2026-01-12T00:00:00Z\"");
    String overlapping = observation("edges", "\"effectivePeriod\":{\"start\":\"2025-11-01\",\"end\":"
        + "\"2025-12-22T00:00:00Z\"}");

    assertThat(http.foundIds("Observation?subject=Patient/edges&date=ap2026-01-01"))
        .containsExactlyInAnyOrder(first, last, overlapping);
  }

  @Test
  void aFutureDateIsWidenedByATenthOfItsGapFromNow() {
    // 2026-07-21 begins 100 days after now: 2026-07-11 to the end of 2026-07-31
    patient("future", "2026-07-10");
    String first = patient("future", "2026-07-11");
    String last = patient("future", "2026-07-31");
    patient("future", "2026-08-01");

    assertThat(http.foundIds("Patient?identifier=urn:ap%7Cfuture&birthdate=ap2026-07-21"))
        .containsExactlyInAnyOrder(first, last);
  }

  @Test
  void aDateThatHoldsNowIsItsOwnRangeAndLastUpdatedTakesApToo() {
    String april = patient("now", "2026-04-30");
    patient("now", "2026-05-01");
    patient("now", "2026-03-31");

    assertThat(http.foundIds("Patient?identifier=urn:ap%7Cnow&birthdate=ap2026-04")).containsExactly(april);
    assertThat(http.foundIds("Patient?identifier=urn:ap%7Cnow&_lastUpdated=ap2026-04-12")).hasSize(3);
    assertThat(http.foundIds("Patient?identifier=urn:ap%7Cnow&_lastUpdated=ap2025-04")).isEmpty();
  }

  @Test
  void numbersAndQuantitiesAreWithinATenthOfTheValueBothEndsIncluded() {
    observation("numbers", "\"valueQuantity\":{\"value\":89.99,\"unit\":\"mg\"}");
    String low = observation("numbers", "\"valueQuantity\":{\"value\":90,\"unit\":\"mg\"}");
    String high = observation("numbers", "\"valueQuantity\":{\"value\":110,\"unit\":\"mg\"}");
    observation("numbers", "\"valueQuantity\":{\"value\":110.01,\"unit\":\"mg\"}");
    String zero = observation("numbers", "\"valueQuantity\":{\"value\":0.5,\"unit\":\"mg\"}");

    assertThat(http.foundIds("Observation?subject=Patient/numbers&value-quantity=ap100")).containsExactlyInAnyOrder(low,
        high);
    // a tenth of 0 is nothing: the value's own precision, half a unit either side, is the least
    assertThat(http.foundIds("Observation?subject=Patient/numbers&value-quantity=ap0%7C%7Cmg")).containsExactly(zero);
  }

  @Test
  void theWideningFollowsTheClock() {
    String late = patient("moving", "2025-12-12");
    assertThat(http.foundIds("Patient?identifier=urn:ap%7Cmoving&birthdate=ap2026-01-01")).isEmpty();
    clock.advance(Duration.ofDays(100)); // 200 days' gap now: 20 days either side
    assertThat(http.foundIds("Patient?identifier=urn:ap%7Cmoving&birthdate=ap2026-01-01")).containsExactly(late);
  }
}
