package org.fhirbox.app;

import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Request;

/**
 * With {@code FHIRBOX_TRUST_PROXY=true}, runs before Jetty's {@code ForwardedRequestCustomizer}
 * and leaves it only what the trusted proxy itself wrote, so that a caller cannot choose the
 * address its requests are throttled and audited under:
 *
 * <ul>
 *   <li>{@code X-Forwarded-For} is cut to its rightmost entry. Each proxy appends the address it
 *       received the request from (nginx's {@code $proxy_add_x_forwarded_for}), after whatever
 *       the caller sent; Jetty reads the leftmost entry, which is the caller's own words. The
 *       rightmost is the one the nearest proxy, the one trusted, saw.
 *   <li>{@code Forwarded} (RFC 7239) is dropped: proxies such as nginx pass a caller's header
 *       through untouched rather than set it, so its {@code for=} is whatever the caller wrote
 *       (RFC 7239 §8.1: it "cannot be relied upon" unless the proxy sets it).
 * </ul>
 *
 * The application sees the same headers, so nothing in it reads a forged entry either.
 */
final class NearestProxyHeaders implements HttpConfiguration.Customizer {
  @Override
  public Request customize(Request request, HttpFields.Mutable responseHeaders) {
    HttpFields headers = request.getHeaders();
    if (!headers.contains(HttpHeader.X_FORWARDED_FOR) && !headers.contains(HttpHeader.FORWARDED)) {
      return request;
    }
    HttpFields.Mutable kept = HttpFields.build(headers.size());
    List<String> forwardedFor = new ArrayList<>();
    for (HttpField f : headers) {
      if (f.is(HttpHeader.FORWARDED.asString())) {
        continue;
      }
      if (f.is(HttpHeader.X_FORWARDED_FOR.asString())) {
        forwardedFor.add(f.getValue());
      } else {
        kept.add(f);
      }
    }
    String nearest = rightmost(forwardedFor);
    if (nearest != null) {
      kept.add(HttpHeader.X_FORWARDED_FOR, nearest);
    }
    HttpFields fields = kept.asImmutable();
    return new Request.Wrapper(request) {
      @Override
      public HttpFields getHeaders() {
        return fields;
      }
    };
  }

  /** The last entry of the comma-separated lists, taken in order across repeated headers; null if none. */
  static String rightmost(List<String> values) {
    String last = null;
    for (String value : values) {
      for (String entry : value == null ? new String[0] : value.split(",")) {
        if (!entry.isBlank()) {
          last = entry.strip();
        }
      }
    }
    return last;
  }
}
