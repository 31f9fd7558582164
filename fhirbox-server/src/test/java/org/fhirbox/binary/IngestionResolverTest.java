package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.fhirbox.testing.ConditionalRace;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What {@code $import} answers and what a job records when the DNS resolver, not the URL, is at
 * fault. Names resolve through a {@link HostResolver} of the test's ({@code .example} names no
 * real resolver is asked about): {@code servfail-*} the resolver fails for, {@code hung-*} it
 * does not answer until the test ends, and the others do not exist; a test's {@code slow-*} are
 * not answered until it releases them, however often the thread looking them up is
 * interrupted, as the JDK's own lookup is not.
 */
class IngestionResolverTest {
  private static final String NOT_PUBLIC =
      "the URL is not fetched: its host does not resolve to a public address this server fetches from";
  static TestServer server;
  static TestClient http;
  static final CountDownLatch END = new CountDownLatch(1);
  private final CountDownLatch release = new CountDownLatch(1);
  private final AtomicInteger slowLookups = new AtomicInteger();

  private static final HostResolver SHARED = host -> {
    if (host.startsWith("hung-")) {
      try {
        END.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (host.startsWith("servfail-")) {
      throw new HostResolver.TemporaryFailure(host, "SERVFAIL");
    }
    throw new UnknownHostException(host);
  };

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(Map.of("FHIRBOX_INGEST_POLL_MILLIS", "50", "FHIRBOX_INGEST_MAX_ATTEMPTS", "2",
        "FHIRBOX_INGEST_BACKOFF_MILLIS", "50", "FHIRBOX_INGEST_CONNECT_TIMEOUT", "1"), SHARED);
    http = server.client();
  }

  @AfterAll
  static void stop() throws Exception {
    END.countDown();
    server.close();
  }

  @AfterEach
  void releaseLookups() {
    release.countDown();
  }

  /** Answers {@code slow-*} names (as not existing) only once the test releases them. */
  private HostResolver slow() {
    return host -> {
      if (host.startsWith("slow-")) {
        slowLookups.incrementAndGet();
        boolean released = false;
        while (!released) {
          try {
            release.await();
            released = true;
          } catch (InterruptedException e) {
            // the system resolver cannot be interrupted either
          }
        }
      }
      return SHARED.resolve(host);
    };
  }

  private static HttpResponse<String> importUrl(TestClient c, String url) {
    return c.send(c.request("fhir/R4/Binary/$import?url=" + URLEncoder.encode(url, StandardCharsets.UTF_8))
        .POST(HttpRequest.BodyPublishers.noBody()));
  }

  private static OperationOutcome.OperationOutcomeIssueComponent issue(TestClient c, HttpResponse<String> r) {
    return c.parse(r, OperationOutcome.class).getIssueFirstRep();
  }

  /**
   * A resolver that fails (SERVFAIL) is the upstream failing, as a gateway answers: 502, with a
   * text that says the DNS lookup failed; a name that does not exist stays the 400 of a URL whose
   * host does not resolve.
   */
  @Test
  void importOfAHostTheResolverFailsForIs502NotTheBadUrl400() throws Exception {
    HttpResponse<String> r = importUrl(http, "https://servfail-a.example/file.pdf");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
    assertThat(issue(http, r).getCode()).isEqualTo(OperationOutcome.IssueType.TRANSIENT);
    assertThat(issue(http, r).getDiagnostics())
        .isEqualTo("fetching the URL failed: the DNS resolver failed to look up host servfail-a.example: SERVFAIL");

    HttpResponse<String> missing = importUrl(http, "https://missing-a.example/file.pdf");
    assertThat(missing.statusCode()).as(missing.body()).isEqualTo(400);
    assertThat(issue(http, missing).getDiagnostics()).isEqualTo(NOT_PUBLIC);
  }

  /**
   * A job records the resolver's failure as such and retries it; a name that does not exist
   * fails the job at once, as a 4xx does, instead of being retried.
   */
  @Test
  void aJobRetriesAResolverFailureAndFailsAtOnceForANameThatDoesNotExist() throws Exception {
    String failing = "https://servfail-job.example/file.pdf";
    String missing = "https://missing-job.example/file.pdf";
    IngestionTest.createMedia(http, failing, null);
    IngestionTest.createMedia(http, missing, null);

    JsonNode gaveUp = IngestionTest.awaitJob(http, failing, "failed");
    assertThat(gaveUp.get("attempts").asInt()).isEqualTo(2);
    assertThat(gaveUp.get("lastError").asText())
        .isEqualTo("gave up after 2 attempts: the DNS resolver failed to look up host servfail-job.example: SERVFAIL");

    JsonNode failed = IngestionTest.awaitJob(http, missing, "failed");
    assertThat(failed.get("attempts").asInt()).isEqualTo(1);
    assertThat(failed.get("lastError").asText()).isEqualTo("unknown host missing-job.example");
  }

  /** A resolver that does not answer within the connect timeout is a gateway's timeout: 504, saying so. */
  @Test
  void importOfAHostTheResolverDoesNotAnswerForIs504() throws Exception {
    HttpResponse<String> r = importUrl(http, "https://hung-a.example/file.pdf");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(504);
    assertThat(issue(http, r).getCode()).isEqualTo(OperationOutcome.IssueType.TIMEOUT);
    assertThat(issue(http, r).getDiagnostics())
        .isEqualTo("fetching the URL failed: host hung-a.example could not be resolved within 1 s");
  }

  /**
   * A resolver that does not answer: each {@code $import} is 504 after the connect timeout, while
   * its lookup goes on holding a thread. Eight such lookups in flight are all a fetch client runs:
   * the next {@code $import} is 503 at once, without a ninth lookup (or thread), until they end.
   */
  @Test
  void lookupsThatOutliveTheirFetchesAreBoundedAndTheNextIs503() throws Exception {
    try (TestServer s = TestServer.start(Map.of("FHIRBOX_INGEST_CONNECT_TIMEOUT", "1",
        "FHIRBOX_INGEST_IMPORT_CONCURRENCY", "16"), slow())) {
      TestClient c = ConditionalRace.bearer(s.client()); // parallel Basic checks would be throttled
      ExecutorService callers = Executors.newFixedThreadPool(8);
      try {
        List<Future<HttpResponse<String>>> timedOut = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          String url = "https://slow-" + i + ".example/file.pdf";
          timedOut.add(callers.submit(() -> importUrl(c, url)));
        }
        for (int i = 0; i < 8; i++) {
          HttpResponse<String> r = timedOut.get(i).get();
          assertThat(r.statusCode()).as(r.body()).isEqualTo(504);
          assertThat(issue(c, r).getCode()).isEqualTo(OperationOutcome.IssueType.TIMEOUT);
          assertThat(issue(c, r).getDiagnostics())
              .isEqualTo("fetching the URL failed: host slow-" + i + ".example could not be resolved within 1 s");
        }
      } finally {
        callers.shutdown();
      }
      Poll.until("each timed-out lookup on the resolver", () -> slowLookups.get() == 8);

      HttpResponse<String> busy = importUrl(c, "https://slow-9.example/file.pdf");
      assertThat(busy.statusCode()).as(busy.body()).isEqualTo(503);
      assertThat(busy.headers().firstValue("Retry-After")).hasValue("10");
      assertThat(issue(c, busy).getCode()).isEqualTo(OperationOutcome.IssueType.TRANSIENT);
      assertThat(issue(c, busy).getDiagnostics()).isEqualTo("fetching the URL failed: 8 DNS lookups are in flight"
          + " already, the most one fetch client runs at once (the resolver is slow or does not answer); host"
          + " slow-9.example was not looked up; try again later");
      assertThat(slowLookups).as("no ninth lookup was started").hasValue(8);

      release.countDown();
      HttpResponse<String> after = Poll.until("the lookups in flight ended", () -> importUrl(c,
          "https://slow-10.example/file.pdf"), r -> r.statusCode() != 503);
      assertThat(after.statusCode()).as(after.body()).isEqualTo(400);
      assertThat(issue(c, after).getDiagnostics()).isEqualTo(NOT_PUBLIC);
    }
  }
}
