package org.fhirbox.client;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** A real HTTP peer (the JDK's server) for behaviour fhirbox does not produce on demand. */
final class PeerServer implements AutoCloseable {
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

  List<Seen> seen(String path) {
    return seen.stream().filter(s -> s.path().equals(path)).toList();
  }

  static void send(HttpExchange ex, int status, String contentType, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", contentType);
    ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    http.stop(0);
    threads.shutdownNow();
  }
}
