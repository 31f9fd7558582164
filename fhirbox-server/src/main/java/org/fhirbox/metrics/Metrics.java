package org.fhirbox.metrics;

import java.io.IOException;
import java.io.Writer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * The server's Prometheus metrics, written in the text exposition format 0.0.4. One instance per
 * server, made by the wiring and fed by {@link MetricsHandler} (HTTP) and {@link MeteredBlobStore}
 * (storage); label values come from small fixed sets, never from user input.
 *
 * <pre>{@code
 * Metrics metrics = new Metrics();
 * metrics.jobsQueueDepth(() -> jobs.pendingCount());
 * }</pre>
 */
public final class Metrics {
  /** Prometheus exposition format version 0.0.4. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private static final double[] HTTP_BUCKETS =
      {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};
  private static final double[] STORAGE_BUCKETS =
      {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};

  private final Map<List<String>, LongAdder> requests = new ConcurrentHashMap<>();
  private final Map<String, Histogram> requestSeconds = new ConcurrentHashMap<>();
  private final Map<String, Histogram> blobSeconds = new ConcurrentHashMap<>();
  private final LongAdder bytesIn = new LongAdder();
  private final LongAdder bytesOut = new LongAdder();
  private volatile BoundedGauge jobsQueueDepth;
  private volatile LongSupplier auditQueueDepth = () -> 0;
  private volatile LongSupplier auditWritten = () -> 0;
  private volatile LongSupplier auditDropped = () -> 0;
  private volatile LongSupplier auditWaits = () -> 0;
  private volatile LongSupplier auditFailed = () -> 0;
  private volatile LongSupplier auditWriterUp = () -> 0;
  private volatile LongSupplier httpThreadsMax = () -> 0;
  private volatile LongSupplier httpThreadsBusy = () -> 0;
  private volatile LongSupplier httpQueued = () -> 0;

  /** How long a scrape waits for a gauge read from the database. */
  private static final Duration GAUGE_WAIT = Duration.ofSeconds(2);

  private final Duration gaugeWait;

  public Metrics() {
    this(GAUGE_WAIT);
  }

  /** {@code gaugeWait}: how long a scrape waits for the queue depth, which the database answers. */
  Metrics(Duration gaugeWait) {
    this.gaugeWait = gaugeWait;
  }

  /** One finished HTTP request; {@code route} is a route class: fhir, storage, oauth or other. */
  public void recordRequest(String method, String route, int status, double seconds) {
    requests.computeIfAbsent(List.of(method, route, Integer.toString(status)), k -> new LongAdder())
        .increment();
    requestSeconds.computeIfAbsent(route, k -> new Histogram(HTTP_BUCKETS)).observe(seconds);
  }

  /** Request body bytes received. */
  public void addBytesIn(long n) {
    bytesIn.add(n);
  }

  /** Response body bytes sent. */
  public void addBytesOut(long n) {
    bytesOut.add(n);
  }

  /** One blob store call ({@code put}, {@code read}, {@code open}, ...), successful or not. */
  public void recordBlobOperation(String op, double seconds) {
    blobSeconds.computeIfAbsent(op, k -> new Histogram(STORAGE_BUCKETS)).observe(seconds);
  }

  /** Where {@code fhirbox_jobs_queue_depth} reads from; 0 until set. */
  public void jobsQueueDepth(LongSupplier depth) {
    this.jobsQueueDepth = new BoundedGauge(depth, gaugeWait);
  }

  /** Where the {@code fhirbox_audit_*} series read from; all 0 until set (or with audit off). */
  public void audit(LongSupplier queueDepth, LongSupplier written, LongSupplier waits, LongSupplier dropped) {
    this.auditQueueDepth = queueDepth;
    this.auditWaits = waits;
    this.auditWritten = written;
    this.auditDropped = dropped;
  }

  /**
   * Where {@code fhirbox_http_threads_max}, {@code fhirbox_http_threads_busy} and
   * {@code fhirbox_http_queued_jobs} (work waiting for a free request thread) read from; 0 until set.
   */
  public void httpThreads(IntSupplier max, IntSupplier busy, IntSupplier queued) {
    this.httpThreadsMax = max::getAsInt;
    this.httpThreadsBusy = busy::getAsInt;
    this.httpQueued = queued::getAsInt;
  }

  /**
   * Where {@code fhirbox_audit_events_failed_total} (events the writer took and gave up) and
   * {@code fhirbox_audit_writer_up} (1 while the writer thread runs) read from; 0 until set.
   */
  public void auditWriter(LongSupplier failed, BooleanSupplier up) {
    this.auditFailed = failed;
    this.auditWriterUp = () -> up.getAsBoolean() ? 1 : 0;
  }

  /**
   * Writes every metric in the text exposition format. A gauge whose source fails (the database
   * down) or does not answer within the wait is left out and named in {@code fhirbox_metric_errors}
   * instead; the other series are written all the same.
   */
  public void writeTo(Writer out) throws IOException {
    header(out, "fhirbox_http_requests_total", "counter", "HTTP requests by method, route class and status.");
    for (Map.Entry<List<String>, LongAdder> e : sorted(requests)) {
      List<String> k = e.getKey();
      out.write("fhirbox_http_requests_total{method=\"" + escape(k.get(0)) + "\",route=\""
          + escape(k.get(1)) + "\",status=\"" + k.get(2) + "\"} " + e.getValue().sum() + "\n");
    }
    header(out, "fhirbox_http_request_duration_seconds", "histogram",
        "Time from request start to the last response byte, by route class.");
    for (Map.Entry<String, Histogram> e : new TreeMap<>(requestSeconds).entrySet()) {
      e.getValue().writeTo(out, "fhirbox_http_request_duration_seconds", "route", e.getKey());
    }
    header(out, "fhirbox_bytes_in_total", "counter", "Request body bytes received.");
    out.write("fhirbox_bytes_in_total " + bytesIn.sum() + "\n");
    header(out, "fhirbox_bytes_out_total", "counter", "Response body bytes sent.");
    out.write("fhirbox_bytes_out_total " + bytesOut.sum() + "\n");
    header(out, "fhirbox_blobstore_operation_seconds", "histogram",
        "Blob store call latency by operation (open: until the stream is open).");
    for (Map.Entry<String, Histogram> e : new TreeMap<>(blobSeconds).entrySet()) {
      e.getValue().writeTo(out, "fhirbox_blobstore_operation_seconds", "op", e.getKey());
    }
    List<String> failed = new ArrayList<>();
    gauge(out, failed, "fhirbox_http_threads_max", "gauge",
        "Request threads at most (FHIRBOX_HTTP_THREADS), Jetty's acceptors and selectors included.",
        read(httpThreadsMax));
    gauge(out, failed, "fhirbox_http_threads_busy", "gauge", "Request threads at work now.", read(httpThreadsBusy));
    gauge(out, failed, "fhirbox_http_queued_jobs", "gauge",
        "Work waiting for a free request thread: above 0 for long, the server is at FHIRBOX_HTTP_THREADS.",
        read(httpQueued));
    gauge(out, failed, "fhirbox_jobs_queue_depth", "gauge", "Background jobs waiting to run.",
        jobsQueueDepth == null ? OptionalLong.of(0) : jobsQueueDepth.read());
    gauge(out, failed, "fhirbox_audit_queue_depth", "gauge", "AuditEvents waiting to be written.",
        read(auditQueueDepth));
    gauge(out, failed, "fhirbox_audit_events_written_total", "counter", "AuditEvents written.",
        read(auditWritten));
    gauge(out, failed, "fhirbox_audit_queue_waits_total", "counter",
        "AuditEvents that found the queue full and waited for room (their requests waited too).", read(auditWaits));
    gauge(out, failed, "fhirbox_audit_events_dropped_total", "counter",
        "AuditEvents dropped: the queue stayed full for the whole wait, or the trail was closed.",
        read(auditDropped));
    gauge(out, failed, "fhirbox_audit_events_failed_total", "counter",
        "AuditEvents the writer took from the queue and gave up: one that cannot be stored, or unwritten at close.",
        read(auditFailed));
    gauge(out, failed, "fhirbox_audit_writer_up", "gauge", "1 while the audit writer thread runs, else 0.",
        read(auditWriterUp));
    header(out, "fhirbox_metric_errors", "gauge",
        "Series left out of this scrape because their source failed or did not answer in time.");
    for (String name : failed) {
      out.write("fhirbox_metric_errors{metric=\"" + name + "\"} 1\n");
    }
  }

  private static void gauge(Writer out, List<String> failed, String name, String type, String help,
      OptionalLong value) throws IOException {
    header(out, name, type, help);
    if (value.isPresent()) {
      out.write(name + " " + value.getAsLong() + "\n");
    } else {
      failed.add(name);
    }
  }

  private static OptionalLong read(LongSupplier source) {
    try {
      return OptionalLong.of(source.getAsLong());
    } catch (RuntimeException e) {
      return OptionalLong.empty();
    }
  }

  /** Series in a stable order (method, route, status), so scrapes diff cleanly. */
  private static List<Map.Entry<List<String>, LongAdder>> sorted(Map<List<String>, LongAdder> series) {
    return series.entrySet().stream()
        .sorted(Map.Entry.comparingByKey(Comparator.comparing(k -> String.join("\u0000", k))))
        .toList();
  }

  private static void header(Writer out, String name, String type, String help) throws IOException {
    out.write("# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n");
  }

  /** Exposition format: label values escape backslash, double quote and line feed. */
  static String escape(String value) {
    return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  /** Cumulative-on-write histogram: per-bucket counts, summed when exposed. */
  private static final class Histogram {
    private final double[] bounds;
    private final AtomicLongArray counts;
    private final DoubleAdder sum = new DoubleAdder();
    private final LongAdder count = new LongAdder();

    Histogram(double[] bounds) {
      this.bounds = bounds;
      this.counts = new AtomicLongArray(bounds.length + 1);
    }

    void observe(double value) {
      int i = 0;
      while (i < bounds.length && value > bounds[i]) {
        i++;
      }
      counts.incrementAndGet(i);
      sum.add(value);
      count.increment();
    }

    void writeTo(Writer out, String name, String label, String value) throws IOException {
      String l = label + "=\"" + escape(value) + "\"";
      long cumulative = 0;
      for (int i = 0; i < bounds.length; i++) {
        cumulative += counts.get(i);
        out.write(name + "_bucket{" + l + ",le=\"" + bounds[i] + "\"} " + cumulative + "\n");
      }
      cumulative += counts.get(bounds.length);
      out.write(name + "_bucket{" + l + ",le=\"+Inf\"} " + cumulative + "\n");
      out.write(name + "_sum{" + l + "} " + sum.sum() + "\n");
      out.write(name + "_count{" + l + "} " + cumulative + "\n");
    }
  }
}
