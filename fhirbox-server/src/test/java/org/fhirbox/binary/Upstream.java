package org.fhirbox.binary;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A content server on 127.0.0.1 for ingestion tests: handlers by exact path, with hit counts and
 * the raw request paths it received. {@link #resolvingDotSegments} makes it find handlers the way
 * a naive static file server does: percent-decode the path (%2F included), then resolve "..".
 */
final class Upstream implements AutoCloseable {
  /** Answers one request. */
  interface Handler {
    void handle(HttpExchange ex) throws Exception;
  }

  private final HttpServer server;
  private final Map<String, Handler> handlers = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
  private final List<String> rawPaths = new CopyOnWriteArrayList<>();
  private volatile boolean resolveDotSegments;

  Upstream() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "upstream");
      t.setDaemon(true);
      return t;
    }));
    server.createContext("/", ex -> {
      rawPaths.add(ex.getRequestURI().getRawPath());
      String path = ex.getRequestURI().getPath();
      if (resolveDotSegments) {
        path = java.nio.file.Path.of(path).normalize().toString();
      }
      hits.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
      try (ex) {
        Handler h = handlers.get(path);
        if (h == null) {
          ex.sendResponseHeaders(404, -1);
        } else {
          h.handle(ex);
        }
      } catch (Exception e) {
        // the client went away (e.g. the server under test stopped mid-fetch)
      }
    });
    server.start();
  }

  /** {@code http://127.0.0.1:port} without a trailing slash. */
  String origin() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /**
   * Server settings that let ingestion fetch this upstream's {@code /files/} and look for jobs every
   * 50 ms, with {@code more} (name, value, name, value, ...) added or replacing.
   */
  Map<String, String> ingestSettings(String... more) {
    Map<String, String> settings = new java.util.HashMap<>(Map.of(
        "FHIRBOX_INGEST_ALLOWED_URL_PREFIXES", origin() + "/files/",
        "FHIRBOX_INGEST_POLL_MILLIS", "50"));
    for (int i = 0; i < more.length; i += 2) {
      settings.put(more[i], more[i + 1]);
    }
    return settings;
  }

  Upstream on(String path, Handler handler) {
    handlers.put(path, handler);
    return this;
  }

  /** Serves {@code body} with {@code contentType} and a Content-Length. */
  Upstream serve(String path, String contentType, byte[] body) {
    return on(path, ex -> send(ex, 200, contentType, body));
  }

  /** Serves files outside a prefix to clients that send {@code ..}, {@code %2e%2e} or {@code ..%2f}. */
  Upstream resolvingDotSegments() {
    resolveDotSegments = true;
    return this;
  }

  /** Every request path as it arrived on the wire, in order. */
  List<String> rawPaths() {
    return List.copyOf(rawPaths);
  }

  int hits(String path) {
    AtomicInteger n = hits.get(path);
    return n == null ? 0 : n.get();
  }

  static void send(HttpExchange ex, int status, String contentType, byte[] body) throws IOException {
    if (contentType != null) {
      ex.getResponseHeaders().set("Content-Type", contentType);
    }
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }

  static byte[] content(int size, long seed) {
    byte[] b = new byte[size];
    new java.util.Random(seed).nextBytes(b);
    return b;
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
