package org.fhirbox.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;

/**
 * A second origin for browser tests: files by path on a loopback port of its own, so that what a
 * page fetches from fhirbox crosses origins (CORS) as a real app's requests do. Unknown paths are
 * 404. Test classes get one from {@link BrowserFixture#servingPages}.
 */
public final class PageServer implements AutoCloseable {
  private final HttpServer server;

  private PageServer(HttpServer server) {
    this.server = server;
  }

  /**
   * Serves {@code files} (path to bytes); {@code .html} as HTML, anything else as JavaScript. The
   * map is read on every request: a concurrent map may gain pages while the server runs.
   */
  public static PageServer start(Map<String, byte[]> files) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", exchange -> {
      String path = exchange.getRequestURI().getPath();
      byte[] body = files.get(path);
      if (body == null) {
        exchange.sendResponseHeaders(404, -1);
        exchange.close();
        return;
      }
      exchange.getResponseHeaders().set("Content-Type", path.endsWith(".html") ? "text/html; charset=utf-8"
          : "text/javascript; charset=utf-8");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
    return new PageServer(server);
  }

  /** {@code http://127.0.0.1:<port>}, without a trailing slash. */
  public String origin() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
