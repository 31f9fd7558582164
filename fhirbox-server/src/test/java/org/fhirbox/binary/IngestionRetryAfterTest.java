package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import org.fhirbox.testing.Poll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An upstream that answers 429 or 503 with {@code Retry-After} (RFC 9110 §10.2.3, RFC 6585 §4)
 * is not asked again before that time: the job's next attempt waits the longer of its backoff and
 * what was asked for, instead of spending its attempts while the upstream said it would refuse them.
 */
class IngestionRetryAfterTest {
  @RegisterExtension
  static final IngestionServer fhirbox = new IngestionServer(up -> up.ingestSettings(
      "FHIRBOX_INGEST_BACKOFF_MILLIS", "100", "FHIRBOX_INGEST_MAX_ATTEMPTS", "3"));

  /** Answers {@code status} with {@code retryAfter} once, then the content; the times it was asked. */
  private List<Instant> busyOnce(String path, int status, String retryAfter) {
    List<Instant> asked = new CopyOnWriteArrayList<>();
    fhirbox.upstream().on(path, ex -> {
      asked.add(Instant.now());
      if (asked.size() == 1) {
        ex.getResponseHeaders().set("Retry-After", retryAfter);
        Upstream.send(ex, status, "text/plain", "busy".getBytes(StandardCharsets.UTF_8));
      } else {
        Upstream.send(ex, 200, "text/plain", "content".getBytes(StandardCharsets.UTF_8));
      }
    });
    return asked;
  }

  private static void secondRequestWaited(String url, List<Instant> asked, Duration atLeast) throws Exception {
    JsonNode done = IngestionTest.awaitJob(fhirbox.http(), url, "done");
    assertThat(done.get("attempts").asInt()).as(done.toString()).isEqualTo(2);
    assertThat(asked).hasSize(2);
    assertThat(Duration.between(asked.get(0), asked.get(1))).as("between the two requests")
        .isGreaterThanOrEqualTo(atLeast);
  }

  @Test
  void tooManyRequestsWithRetryAfterInSecondsIsRetriedNoSooner() throws Exception {
    List<Instant> asked = busyOnce("/files/busy-seconds.txt", 429, "3");
    String url = fhirbox.upstream().origin() + "/files/busy-seconds.txt";
    IngestionTest.createMedia(fhirbox.http(), url, "text/plain");
    secondRequestWaited(url, asked, Duration.ofMillis(2900));
  }

  @Test
  void aRetryAfterOfADayWaitsFiveMinutesAtMost() throws Exception {
    fhirbox.upstream().on("/files/busy-a-day.txt", ex -> {
      ex.getResponseHeaders().set("Retry-After", "86400");
      Upstream.send(ex, 503, "text/plain", "busy".getBytes(StandardCharsets.UTF_8));
    });
    String url = fhirbox.upstream().origin() + "/files/busy-a-day.txt";
    Instant before = Instant.now();
    IngestionTest.createMedia(fhirbox.http(), url, "text/plain");
    JsonNode waiting = Poll.until("the first attempt of " + url, () -> IngestionTest.job(fhirbox.http(), url),
        j -> j != null && j.get("attempts").asInt() == 1 && j.get("state").asText().equals("queued"));
    Instant next = Instant.parse(waiting.get("nextAttemptAt").asText());
    assertThat(next).as(waiting.toString()).isAfter(before.plus(Duration.ofMinutes(4)))
        .isBefore(Instant.now().plus(Duration.ofMinutes(5)).plusSeconds(5));
  }

  /** In each of the three forms of an HTTP-date (RFC 9110 §5.6.7), which a recipient must all accept. */
  @Test
  void unavailableWithRetryAfterAsADateIsRetriedNoSooner() throws Exception {
    ZonedDateTime at = ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(4);
    List<String> forms = List.of("EEE, dd MMM yyyy HH:mm:ss 'GMT'", "EEEE, dd-MMM-yy HH:mm:ss 'GMT'",
        "EEE MMM ppd HH:mm:ss yyyy");
    List<List<Instant>> asked = new ArrayList<>();
    for (int i = 0; i < forms.size(); i++) {
      String path = "/files/busy-date-" + i + ".txt";
      asked.add(busyOnce(path, 503, DateTimeFormatter.ofPattern(forms.get(i), Locale.US).format(at)));
      IngestionTest.createMedia(fhirbox.http(), fhirbox.upstream().origin() + path, "text/plain");
    }
    for (int i = 0; i < forms.size(); i++) {
      // an HTTP-date has whole seconds: 4 s ahead is more than 3 s from the first request
      secondRequestWaited(fhirbox.upstream().origin() + "/files/busy-date-" + i + ".txt", asked.get(i), Duration.ofSeconds(2));
    }
  }

  /**
   * A date in none of those forms (a one-digit day, as some date libraries write it) is no
   * Retry-After: the attempt waits its backoff alone.
   */
  @Test
  void aRetryAfterThatIsNoHttpDateIsIgnored() throws Exception {
    List<Instant> asked = busyOnce("/files/busy-no-date.txt", 503, "Wed, 1 Dec 2100 00:00:00 GMT");
    String url = fhirbox.upstream().origin() + "/files/busy-no-date.txt";
    IngestionTest.createMedia(fhirbox.http(), url, "text/plain");
    JsonNode done = IngestionTest.awaitJob(fhirbox.http(), url, "done");
    assertThat(done.get("attempts").asInt()).as(done.toString()).isEqualTo(2);
    assertThat(Duration.between(asked.get(0), asked.get(1))).isLessThan(Duration.ofMinutes(1));
  }
}
