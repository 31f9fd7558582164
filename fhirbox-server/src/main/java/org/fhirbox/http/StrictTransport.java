package org.fhirbox.http;

import java.net.URI;
import java.util.Locale;

/**
 * HTTP Strict Transport Security (RFC 6797): every answer carries {@link #VALUE} when the public
 * base URL is https on a host name, so that a browser that reached fhirbox over https keeps to it.
 * Not to an IP literal, which browsers ignore it for (§8.1.1), nor to {@code localhost}, where it
 * would pin every local port of the developer's machine to https for a year (HSTS knows no ports).
 * Without {@code includeSubDomains}, which are not this server's to bind.
 */
final class StrictTransport {
  static final String HEADER = "Strict-Transport-Security";
  static final String VALUE = "max-age=31536000";

  private StrictTransport() {}

  /** Whether answers under {@code baseUrl} carry the header. */
  static boolean appliesTo(String baseUrl) {
    URI u;
    try {
      u = URI.create(baseUrl);
    } catch (IllegalArgumentException e) {
      return false;
    }
    String host = u.getHost() == null ? "" : u.getHost().toLowerCase(Locale.ROOT);
    boolean ipLiteral = host.startsWith("[") || host.matches("[0-9.]+");
    boolean local = host.equals("localhost") || host.endsWith(".localhost");
    return "https".equalsIgnoreCase(u.getScheme()) && !host.isEmpty() && !ipLiteral && !local;
  }
}
