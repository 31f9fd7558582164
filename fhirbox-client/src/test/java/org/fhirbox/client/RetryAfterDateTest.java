package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A {@code Retry-After} that is an HTTP-date is read in each of its three forms (RFC 9110 §5.6.7),
 * case-sensitive and in GMT only. The client's clock stands 300 ms before the date named, so a date
 * read makes the retry wait at least 300 ms, and one not read retries at once (the policy's
 * backoff is zero).
 */
class RetryAfterDateTest {
  private static final Duration ASKED = Duration.ofMillis(300);

  @RegisterExtension
  final PeerServer peer = PeerServer.started();

  /** When each request reached the peer, in nanoseconds. */
  private final List<Long> arrivals = new CopyOnWriteArrayList<>();

  /** Answers {@code status} with {@code retryAfter} once, then the Patient. */
  private void busyOnceWith(int status, String retryAfter) {
    AtomicInteger calls = new AtomicInteger();
    peer.on("/fhir/R4/Patient/1", ex -> {
      arrivals.add(System.nanoTime());
      if (calls.incrementAndGet() == 1) {
        ex.getResponseHeaders().set("Retry-After", retryAfter);
        PeerServer.send(ex, status, "text/plain", "busy");
      } else {
        PeerServer.send(ex, 200, "application/fhir+json", "{\"resourceType\":\"Patient\",\"id\":\"1\"}");
      }
    });
  }

  /** The wait between the first request and its retry, with the client's clock at {@code now}. */
  private Duration waitedAt(String now, Duration maxRetryAfter) {
    FhirboxClient client = FhirboxClient.builder().baseUrl(peer.root()).basicAuth("test-admin", "s3cret")
        .retryPolicy(new RetryPolicy(1, Duration.ZERO, Duration.ZERO, maxRetryAfter))
        .clock(Clock.fixed(Instant.parse(now), ZoneOffset.UTC))
        .build();
    assertThat(client.readResource(Patient.class, "1").getIdPart()).isEqualTo("1");
    assertThat(arrivals).hasSize(2);
    return Duration.ofNanos(arrivals.get(1) - arrivals.get(0));
  }

  private Duration waitedAt(String now) {
    return waitedAt(now, Duration.ofSeconds(30));
  }

  @Test
  void anImfFixdateIsWaitedFor() {
    busyOnceWith(503, "Mon, 07 Dec 2026 18:30:00 GMT");
    assertThat(waitedAt("2026-12-07T18:29:59.700Z")).isGreaterThanOrEqualTo(ASKED);
  }

  @Test
  void anRfc850DateIsWaitedFor() {
    busyOnceWith(429, "Monday, 07-Dec-26 18:30:00 GMT");
    assertThat(waitedAt("2026-12-07T18:29:59.700Z")).isGreaterThanOrEqualTo(ASKED);
  }

  @Test
  void anAsctimeDateIsWaitedFor() {
    busyOnceWith(503, "Mon Dec  7 18:30:00 2026");
    assertThat(waitedAt("2026-12-07T18:29:59.700Z")).isGreaterThanOrEqualTo(ASKED);
  }

  @Test
  void anRfc850YearIsOfTheCurrentCenturyWhenThatIsAtMost50YearsAhead() {
    busyOnceWith(429, "Sunday, 06-Nov-94 08:49:37 GMT");
    assertThat(waitedAt("1994-11-06T08:49:36.700Z")).isGreaterThanOrEqualTo(ASKED);
  }

  @Test
  void anRfc850YearMoreThan50YearsAheadIsOfTheCenturyBefore() {
    // at the end of 2069, "70" is 2070 (one second ahead), not 1970
    busyOnceWith(503, "Wednesday, 01-Jan-70 00:00:00 GMT");
    assertThat(waitedAt("2069-12-31T23:59:59.700Z")).isGreaterThanOrEqualTo(ASKED);
  }

  @Test
  void aOneDigitDayIsNoHttpDate() {
    assertNotReadAsDate(503, "Mon, 7 Dec 2026 19:30:00 GMT");
  }

  @Test
  void aNumericZoneIsNoHttpDate() {
    assertNotReadAsDate(429, "Mon, 07 Dec 2026 19:30:00 +0000");
  }

  /** delay-seconds is digits alone (RFC 9110 §10.2.3): a signed number is no Retry-After. */
  @Test
  void aSignedNumberIsNoDelay() {
    assertNotReadAsDate(503, "+3");
  }

  @Test
  void aDateInOtherCaseIsNoHttpDate() {
    assertNotReadAsDate(503, "mon, 07 dec 2026 19:30:00 gmt");
  }

  /**
   * {@code retryAfter} names an hour after the client's clock; read as a date, the retry would wait
   * the policy's longest {@code Retry-After}, 3 s; ignored, it is sent at once.
   */
  private void assertNotReadAsDate(int status, String retryAfter) {
    busyOnceWith(status, retryAfter);
    assertThat(waitedAt("2026-12-07T18:30:00Z", Duration.ofSeconds(3))).isLessThan(Duration.ofMillis(2500));
  }
}
