package org.fhirbox.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code /metrics} and {@code /readyz} over HTTP on a real server. */
class MetricsEndpointTest {
  static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private String scrape() {
    HttpResponse<String> resp = server.client().send(server.client().request("metrics").GET());
    assertThat(resp.statusCode()).isEqualTo(200);
    assertThat(resp.headers().firstValue("Content-Type")).hasValueSatisfying(
        t -> assertThat(t).startsWith("text/plain").contains("version=0.0.4"));
    return resp.body();
  }

  private static double sample(String text, String series) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(text);
    assertThat(m.find()).as("series %s in%n%s", series, text).isTrue();
    return Double.parseDouble(m.group(1));
  }

  @Test
  void requestsAreCountedByMethodRouteClassAndStatus() {
    String before = scrape();
    double okBefore = before.contains("method=\"GET\",route=\"fhir\",status=\"200\"")
        ? sample(before, "fhirbox_http_requests_total{method=\"GET\",route=\"fhir\",status=\"200\"}") : 0;

    assertThat(server.client().get("fhir/R4/metadata").statusCode()).isEqualTo(200);
    assertThat(server.client().get("fhir/R4/metadata").statusCode()).isEqualTo(200);
    assertThat(new TestClient(server.baseUrl()).get("storage/abc/1").statusCode()).isEqualTo(401);
    assertThat(server.client().get("no/such/route").statusCode()).isEqualTo(404);
    String text = scrape();

    assertThat(sample(text, "fhirbox_http_requests_total{method=\"GET\",route=\"fhir\",status=\"200\"}"))
        .isEqualTo(okBefore + 2);
    assertThat(sample(text, "fhirbox_http_requests_total{method=\"GET\",route=\"storage\",status=\"401\"}"))
        .isGreaterThanOrEqualTo(1);
    assertThat(sample(text, "fhirbox_http_requests_total{method=\"GET\",route=\"other\",status=\"404\"}"))
        .isGreaterThanOrEqualTo(1);
    assertThat(sample(text, "fhirbox_http_request_duration_seconds_count{route=\"fhir\"}"))
        .isGreaterThanOrEqualTo(2);
    assertThat(sample(text, "fhirbox_http_request_duration_seconds_bucket{route=\"fhir\",le=\"+Inf\"}"))
        .isEqualTo(sample(text, "fhirbox_http_request_duration_seconds_count{route=\"fhir\"}"));
    assertThat(text).doesNotContain("no/such/route").contains("# TYPE fhirbox_http_requests_total counter");
  }

  @Test
  void bodyBytesInAndOutAreCounted() {
    String before = scrape();
    double in = sample(before, "fhirbox_bytes_in_total");
    double out = sample(before, "fhirbox_bytes_out_total");
    byte[] body = new byte[50_000];

    HttpResponse<String> created = server.client().send(server.client().request("fhir/R4/Binary")
        .header("Content-Type", "application/octet-stream")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    HttpResponse<String> metadata = server.client().get("fhir/R4/metadata");
    String after = scrape();

    assertThat(created.statusCode()).isEqualTo(201);
    assertThat(sample(after, "fhirbox_bytes_in_total")).isGreaterThanOrEqualTo(in + body.length);
    assertThat(sample(after, "fhirbox_bytes_out_total"))
        .isGreaterThanOrEqualTo(out + metadata.body().length());
  }

  @Test
  void jobsQueueDepthIsZeroUntilFedThenReportsTheFeed() {
    assertThat(sample(scrape(), "fhirbox_jobs_queue_depth")).isEqualTo(0);

    server.server().metrics().jobsQueueDepth(() -> 7);

    try {
      assertThat(sample(scrape(), "fhirbox_jobs_queue_depth")).isEqualTo(7);
    } finally {
      server.server().metrics().jobsQueueDepth(() -> 0);
    }
  }

  @Test
  void auditEventsWrittenAndQueuedAreReported() throws Exception {
    double written = sample(scrape(), "fhirbox_audit_events_written_total");
    HttpResponse<String> created = server.client().send(server.client().request("fhir/R4/Binary")
        .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("audited")));
    assertThat(created.statusCode()).isEqualTo(201); // a Binary create is audited
    // the audit writer runs in the background
    String text = Poll.until("the audit event counted as written", this::scrape,
        t -> sample(t, "fhirbox_audit_events_written_total") > written);
    assertThat(sample(text, "fhirbox_audit_events_written_total")).isGreaterThan(written);
    assertThat(sample(text, "fhirbox_audit_queue_depth")).isGreaterThanOrEqualTo(0);
    assertThat(sample(text, "fhirbox_audit_queue_waits_total")).isEqualTo(0);
    assertThat(sample(text, "fhirbox_audit_events_dropped_total")).isEqualTo(0);
    assertThat(sample(text, "fhirbox_audit_events_failed_total")).isEqualTo(0);
    assertThat(sample(text, "fhirbox_audit_writer_up")).isEqualTo(1);
  }

  /**
   * The request threads: the pool's bound as configured, and a scrape itself at work on one; a
   * server with the smallest pool allowed starts and serves.
   */
  @Test
  void requestThreadsAreReportedWithTheConfiguredBound() throws Exception {
    String text = scrape();
    assertThat(sample(text, "fhirbox_http_threads_max")).isEqualTo(200);
    assertThat(sample(text, "fhirbox_http_threads_busy")).isGreaterThanOrEqualTo(1);
    assertThat(sample(text, "fhirbox_http_queued_jobs")).isGreaterThanOrEqualTo(0);
    try (TestServer small = TestServer.start(java.util.Map.of("FHIRBOX_HTTP_THREADS", "16"))) {
      HttpResponse<String> resp = small.client().send(small.client().request("metrics").GET());
      assertThat(resp.statusCode()).isEqualTo(200);
      assertThat(sample(resp.body(), "fhirbox_http_threads_max")).isEqualTo(16);
      assertThat(small.client().get("fhir/R4/metadata").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void metricsRefusesWritingMethods() {
    HttpResponse<String> resp = server.client().send(server.client().request("metrics")
        .POST(HttpRequest.BodyPublishers.noBody()));

    assertThat(resp.statusCode()).isEqualTo(405);
  }

  @Test
  void readyzReportsEachDependencyAsJson() {
    HttpResponse<String> resp = server.client().get("readyz");

    assertThat(resp.statusCode()).isEqualTo(200);
    assertThat(resp.headers().firstValue("Content-Type")).hasValueSatisfying(
        t -> assertThat(t).startsWith("application/json"));
    assertThat(resp.body().strip()).isEqualTo("{\"database\":\"up\",\"blobStore\":\"up\",\"auditWriter\":\"up\"}");
  }

  @Test
  void everyMetricAndBlobStoreOperationTheServerExportsIsListedInTheDeploymentGuide() throws Exception {
    // a file-store upload, so that the blob store's operations are in the scrape
    HttpResponse<String> created = server.client().postBytes("fhir/R4/Binary", "text/plain", "hello".getBytes());
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String text = scrape();
    String guide = java.nio.file.Files.readString(java.nio.file.Path.of("..", "deploy", "README.md"));

    Matcher types = Pattern.compile("(?m)^# TYPE (\\S+) ").matcher(text);
    java.util.List<String> names = new java.util.ArrayList<>();
    while (types.find()) {
      names.add(types.group(1));
    }
    assertThat(names).isNotEmpty().allSatisfy(name -> assertThat(guide).contains("`" + name));
    Matcher ops = Pattern.compile("fhirbox_blobstore_operation_seconds_count\\{op=\"([^\"]+)\"").matcher(text);
    java.util.List<String> opNames = new java.util.ArrayList<>();
    while (ops.find()) {
      opNames.add(ops.group(1));
    }
    assertThat(opNames).isNotEmpty().allSatisfy(op -> assertThat(guide).contains("`" + op + "`"));
  }
}
