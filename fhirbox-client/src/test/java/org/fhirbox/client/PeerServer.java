package org.fhirbox.client;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** A real HTTP peer (the JDK's server) for behaviour fhirbox does not produce on demand. */
final class PeerServer implements AutoCloseable, AfterEachCallback {
  /** What one request carried. */
  record Seen(String method, String path, String authorization, String range, String ifRange, String body) {}

  private final HttpServer http;
  private final ExecutorService threads = Executors.newFixedThreadPool(8);
  final List<Seen> seen = new CopyOnWriteArrayList<>();

  /** A peer listening already, for a test's field initialiser. */
  static PeerServer started() {
    try {
      return new PeerServer();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  PeerServer() throws IOException {
    http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    http.setExecutor(threads);
    http.start();
  }

  String root() {
    return "http://127.0.0.1:" + http.getAddress().getPort() + "/";
  }

  PeerServer on(String path, HttpHandler handler) {
    http.createContext(path, ex -> {
      String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      seen.add(new Seen(ex.getRequestMethod(), ex.getRequestURI().getPath(),
          ex.getRequestHeaders().getFirst("Authorization"), ex.getRequestHeaders().getFirst("Range"),
          ex.getRequestHeaders().getFirst("If-Range"), body));
      try {
        handler.handle(ex);
      } finally {
        ex.close();
      }
    });
    return this;
  }

  /** A client of this peer as the admin, that tries a call {@code attempts} times, at once. */
  FhirboxClient client(int attempts) {
    return FhirboxClient.builder().baseUrl(root()).basicAuth("test-admin", "s3cret")
        .retryPolicy(new RetryPolicy(attempts, Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofSeconds(1)))
        .build();
  }

  List<Seen> seen(String path) {
    return seen.stream().filter(s -> s.path().equals(path)).toList();
  }

  /**
   * The head of an answer with {@code data} under the strong ETag "v1": 206 from the start of a
   * single open Range when If-Range names that tag, 200 otherwise. Returns where the body starts.
   */
  static int sendRangeHead(HttpExchange ex, byte[] data) throws IOException {
    String range = ex.getRequestHeaders().getFirst("Range");
    ex.getResponseHeaders().set("ETag", "\"v1\"");
    ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
    if (range == null || !"\"v1\"".equals(ex.getRequestHeaders().getFirst("If-Range"))) {
      ex.sendResponseHeaders(200, data.length);
      return 0;
    }
    int start = Integer.parseInt(range.replaceAll("bytes=(\\d+)-", "$1"));
    ex.getResponseHeaders().set("Content-Range", "bytes " + start + "-" + (data.length - 1) + "/" + data.length);
    ex.sendResponseHeaders(206, data.length - start);
    return start;
  }

  static void send(HttpExchange ex, int status, String contentType, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", contentType);
    ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  /**
   * Answers {@code status} with a body that never ends (chunked, 64 KiB at a time, as fast as the
   * client reads), until the client hangs up: a broken server or proxy, which no idle timeout ends.
   */
  static void sendEndless(HttpExchange ex, int status) {
    byte[] chunk = "a".repeat(64 * 1024).getBytes(StandardCharsets.US_ASCII);
    try {
      ex.sendResponseHeaders(status, 0);
      OutputStream out = ex.getResponseBody();
      while (true) {
        out.write(chunk);
      }
    } catch (IOException e) {
      // the client hung up, as it should
    }
  }

  /** A test class's {@code @RegisterExtension} field stops with each test. */
  @Override
  public void afterEach(ExtensionContext context) {
    close();
  }

  @Override
  public void close() {
    http.stop(0);
    threads.shutdownNow();
  }
}
