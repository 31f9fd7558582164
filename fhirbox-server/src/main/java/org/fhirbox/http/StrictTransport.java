package org.fhirbox.http;

import java.net.URI;
import java.util.Locale;
import java.util.regex.Pattern;

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
  private static final Pattern IPV4 = Pattern.compile("[0-9.]+");

  /** The last base URL judged, and the judgement: the base URL is one value for the server's life. */
  private static volatile Judged last = new Judged("", false);

  private record Judged(String baseUrl, boolean applies) {}

  private StrictTransport() {}

  /** Whether answers under {@code baseUrl} carry the header; false while it is not known yet (null). */
  static boolean appliesTo(String baseUrl) {
    if (baseUrl == null) {
      return false;
    }
    Judged j = last;
    if (!j.baseUrl().equals(baseUrl)) {
      j = new Judged(baseUrl, judge(baseUrl));
      last = j;
    }
    return j.applies();
  }

  private static boolean judge(String baseUrl) {
    URI u;
    try {
      u = URI.create(baseUrl);
    } catch (IllegalArgumentException e) {
      return false;
    }
    if (!"https".equalsIgnoreCase(u.getScheme()) || u.getRawAuthority() == null) {
      return false;
    }
    // the host read from the authority itself: java.net.URI has no host for a name with '_' or
    // one outside ASCII, which a base URL may have (SettingChecks reads it the same way)
    String authority = u.getRawAuthority();
    authority = authority.substring(authority.lastIndexOf('@') + 1);
    String host;
    if (authority.startsWith("[")) {
      host = authority;
    } else {
      int colon = authority.lastIndexOf(':');
      host = colon >= 0 ? authority.substring(0, colon) : authority;
    }
    host = host.toLowerCase(Locale.ROOT);
    if (host.endsWith(".")) {
      host = host.substring(0, host.length() - 1);
    }
    boolean ipLiteral = host.startsWith("[") || IPV4.matcher(host).matches();
    boolean local = host.equals("localhost") || host.endsWith(".localhost");
    return !host.isEmpty() && !ipLiteral && !local;
  }
}
