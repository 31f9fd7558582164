package org.fhirbox.metrics;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Serves {@code GET /metrics} (Prometheus text format) and counts every other request on its
 * way through: method, route class and status, duration until the last response byte, and
 * body bytes in and out (counted on the connection's stream, so Range and chunked responses
 * count what was really sent). Scrapes of {@code /metrics} are not counted.
 *
 * <p>{@code /metrics} needs no credentials, like {@code /healthz}: it names no resources or
 * users. Keep it off the public listener (network policy or the load balancer) where that matters.
 */
public final class MetricsHandler extends Handler.Wrapper {
  private static final Set<String> METHODS =
      Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");

  private final Metrics metrics;

  public MetricsHandler(Metrics metrics, Handler handler) {
    super(handler);
    this.metrics = metrics;
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    if ("/metrics".equals(Request.getPathInContext(request))) {
      scrape(request, response, callback);
      return true;
    }
    String method = METHODS.contains(request.getMethod()) ? request.getMethod() : "other";
    String route = routeClass(Request.getPathInContext(request));
    long start = System.nanoTime();
    request.addHttpStreamWrapper(stream -> new HttpStream.Wrapper(stream) {
      @Override
      public Content.Chunk read() {
        Content.Chunk chunk = super.read();
        if (chunk != null) {
          metrics.addBytesIn(chunk.remaining());
        }
        return chunk;
      }

      @Override
      public void send(MetaData.Request req, MetaData.Response res, boolean last, ByteBuffer content,
          Callback cb) {
        if (content != null) {
          metrics.addBytesOut(content.remaining());
        }
        super.send(req, res, last, content, cb);
      }

      @Override
      public void succeeded() {
        record(method, route, response.getStatus(), start);
        super.succeeded();
      }

      @Override
      public void failed(Throwable x) {
        // The exchange broke off (client gone, handler error): count what was answered, or 500.
        int status = response.isCommitted() ? response.getStatus() : 500;
        record(method, route, status, start);
        super.failed(x);
      }
    });
    return super.handle(request, response, callback);
  }

  private void record(String method, String route, int status, long startNanos) {
    metrics.recordRequest(method, route, status, (System.nanoTime() - startNanos) / 1e9);
  }

  /** The route label: a fixed class per path prefix, so paths never become label values. */
  static String routeClass(String path) {
    if (path == null) {
      return "other";
    }
    if (path.startsWith("/fhir/")) {
      return "fhir";
    }
    if (path.startsWith("/storage/")) {
      return "storage";
    }
    if (path.startsWith("/oauth") || path.startsWith("/auth/")) {
      return "oauth";
    }
    return "other";
  }

  private void scrape(Request request, Response response, Callback callback) throws IOException {
    if (!"GET".equals(request.getMethod()) && !"HEAD".equals(request.getMethod())) {
      response.setStatus(405);
      response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
      callback.succeeded();
      return;
    }
    StringWriter text = new StringWriter();
    metrics.writeTo(text);
    byte[] body = text.toString().getBytes(StandardCharsets.UTF_8);
    response.setStatus(200);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, Metrics.CONTENT_TYPE);
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
    response.write(true, "HEAD".equals(request.getMethod()) ? null : ByteBuffer.wrap(body), callback);
  }
}
