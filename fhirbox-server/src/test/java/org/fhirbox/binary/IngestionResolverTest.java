package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What {@code $import} answers and what a job records when the DNS resolver, not the URL, is at
 * fault. Names resolve through a {@link HostResolver} of the test's ({@code .example} names no
 * real resolver is asked about): {@code servfail-*} the resolver fails for, {@code hung-*} it
 * does not answer until the test ends, and the others do not exist.
 */
class IngestionResolverTest {
  private static final String NOT_PUBLIC =
      "the URL is not fetched: its host does not resolve to a public address this server fetches from";
  static TestServer server;
  static TestClient http;
  static final CountDownLatch END = new CountDownLatch(1);

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
}
