package org.fhirbox.signing;

import java.net.URI;
import java.util.Locale;

/**
 * The origin of an absolute http(s) URL (RFC 6454) as browsers write it: lower-case scheme and
 * host, the port only when it is not the scheme's default. A Content-Security-Policy names the
 * places a page may load from by it, and the web app compares it with {@code new URL(u).origin}.
 */
public final class UrlOrigin {
  private UrlOrigin() {}

  /** @throws IllegalArgumentException when {@code url} is not an absolute http(s) URL with a host */
  public static String of(String url) {
    URI uri = URI.create(url);
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    String authority = uri.getRawAuthority();
    if (!scheme.equals("http") && !scheme.equals("https") || authority == null) {
      throw new IllegalArgumentException("not an absolute http(s) URL: " + url);
    }
    // by hand rather than getHost(): URI leaves the host null for a name with '_', which browsers accept
    String hostPort = authority.substring(authority.lastIndexOf('@') + 1);
    int colon = hostPort.lastIndexOf(':');
    boolean hasPort = colon > hostPort.lastIndexOf(']');
    String host = (hasPort ? hostPort.substring(0, colon) : hostPort).toLowerCase(Locale.ROOT);
    String port = hasPort ? hostPort.substring(colon + 1) : "";
    if (host.isEmpty() || !port.matches("[0-9]{0,5}")) {
      throw new IllegalArgumentException("not an absolute http(s) URL: " + url);
    }
    boolean defaultPort = port.isEmpty() || Integer.parseInt(port) == (scheme.equals("https") ? 443 : 80);
    return scheme + "://" + host + (defaultPort ? "" : ":" + Integer.parseInt(port));
  }
}
