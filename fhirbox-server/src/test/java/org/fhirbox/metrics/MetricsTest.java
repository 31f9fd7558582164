package org.fhirbox.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.StringWriter;
import java.nio.channels.Channels;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.fhirbox.storage.BlobInfo;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.storage.FileBlobStore;
import org.fhirbox.testing.Poll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsTest {
  private static String text(Metrics metrics) throws Exception {
    StringWriter out = new StringWriter();
    metrics.writeTo(out);
    return out.toString();
  }

  @Test
  void histogramBucketsAreCumulativeWithSumAndCount() throws Exception {
    Metrics metrics = new Metrics();
    metrics.recordRequest("GET", "fhir", 200, 0.003);
    metrics.recordRequest("GET", "fhir", 200, 0.2);
    metrics.recordRequest("PUT", "fhir", 500, 400);

    String text = text(metrics);

    assertThat(text).contains(
        "fhirbox_http_requests_total{method=\"GET\",route=\"fhir\",status=\"200\"} 2\n",
        "fhirbox_http_requests_total{method=\"PUT\",route=\"fhir\",status=\"500\"} 1\n",
        "fhirbox_http_request_duration_seconds_bucket{route=\"fhir\",le=\"0.005\"} 1\n",
        "fhirbox_http_request_duration_seconds_bucket{route=\"fhir\",le=\"0.25\"} 2\n",
        "fhirbox_http_request_duration_seconds_bucket{route=\"fhir\",le=\"300.0\"} 2\n",
        "fhirbox_http_request_duration_seconds_bucket{route=\"fhir\",le=\"+Inf\"} 3\n",
        "fhirbox_http_request_duration_seconds_count{route=\"fhir\"} 3\n",
        "# TYPE fhirbox_http_request_duration_seconds histogram\n");
    assertThat(text).containsPattern("fhirbox_http_request_duration_seconds_sum\\{route=\"fhir\"\\} 400\\.20");
  }

  @Test
  void aFailingGaugeSourceIsReportedAndTheOtherSeriesStillWritten() throws Exception {
    Metrics metrics = new Metrics();
    metrics.recordRequest("GET", "fhir", 200, 0.003);
    metrics.jobsQueueDepth(() -> {
      throw new IllegalStateException("the database is down");
    });
    metrics.audit(() -> 3, () -> 4, () -> 0, () -> 0);

    String text = text(metrics);

    assertThat(text).contains("fhirbox_http_requests_total{method=\"GET\",route=\"fhir\",status=\"200\"} 1\n",
        "fhirbox_audit_queue_depth 3\n", "fhirbox_audit_events_written_total 4\n",
        "fhirbox_metric_errors{metric=\"fhirbox_jobs_queue_depth\"} 1\n");
    assertThat(text).doesNotContain("fhirbox_jobs_queue_depth 0");
  }

  @Test
  void aScrapeWaitsOnlySoLongForAHangingGaugeSource() throws Exception {
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    Metrics metrics = new Metrics(java.time.Duration.ofMillis(50));
    metrics.jobsQueueDepth(() -> {
      try {
        release.await(10, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return 7;
    });
    try {
      long start = System.nanoTime();
      String text = text(metrics);
      assertThat(java.time.Duration.ofNanos(System.nanoTime() - start)).isLessThan(java.time.Duration.ofSeconds(5));
      assertThat(text).contains("fhirbox_metric_errors{metric=\"fhirbox_jobs_queue_depth\"} 1\n",
          "fhirbox_audit_queue_depth 0\n");
    } finally {
      release.countDown();
    }
    // the read that was late answers a later scrape
    Poll.until("the late read", () -> text(metrics), t -> t.contains("fhirbox_jobs_queue_depth 7\n"));
  }

  @Test
  void labelValuesAreEscaped() {
    assertThat(Metrics.escape("a\"b\\c\nd")).isEqualTo("a\\\"b\\\\c\\nd");
  }

  @Test
  void routeClassesArePathPrefixesNotPaths() {
    assertThat(MetricsHandler.routeClass("/fhir/R4/Patient/1")).isEqualTo("fhir");
    assertThat(MetricsHandler.routeClass("/storage/b/1")).isEqualTo("storage");
    assertThat(MetricsHandler.routeClass("/oauth2/token")).isEqualTo("oauth");
    assertThat(MetricsHandler.routeClass("/fhirish")).isEqualTo("other");
    assertThat(MetricsHandler.routeClass("/")).isEqualTo("other");
  }

  @Test
  void meteredBlobStoreTimesEveryOperationIncludingFailures(@TempDir Path dir) throws Exception {
    Metrics metrics = new Metrics();
    try (MeteredBlobStore store = new MeteredBlobStore(new FileBlobStore(dir), metrics)) {
      BlobInfo info = store.put(new ByteArrayInputStream(new byte[] {1, 2, 3}), 100);
      store.transferTo(info.key(), 0, 3, Channels.newChannel(new ByteArrayOutputStream()));
      store.open(info.key(), 1).close();
      assertThatThrownBy(() -> store.open(BlobKey.random(), 0)).isInstanceOf(NoSuchFileException.class);
      store.delete(info.key());

      String text = text(metrics);

      assertThat(text).contains(
          "fhirbox_blobstore_operation_seconds_count{op=\"put\"} 1\n",
          "fhirbox_blobstore_operation_seconds_count{op=\"read\"} 1\n",
          "fhirbox_blobstore_operation_seconds_count{op=\"open\"} 2\n",
          "fhirbox_blobstore_operation_seconds_count{op=\"delete\"} 1\n");
    }
  }
}
