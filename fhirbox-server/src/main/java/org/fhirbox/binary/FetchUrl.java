package org.fhirbox.binary;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * An http(s) URL in the one form that ingestion both matches against its lists and fetches, so
 * the upstream is asked for exactly the path that was checked. The form is RFC 3986 §6.2.2:
 * scheme and host in lower case (§6.2.2.1), escapes of unreserved characters decoded and the
 * other escapes in upper case (§6.2.2.2), dot-segments removed (§5.2.4, §6.2.2.3), no fragment;
 * a non-ASCII character in the path as its UTF-8 octets escaped (RFC 3987 §3.1).
 *
 * <p>Some spellings are refused instead of normalised, because servers disagree about what they
 * mean and a guess could name a file outside an allow-list prefix:
 * <ul>
 *   <li>an encoded slash or backslash ({@code %2F}, {@code %5C}, also double-encoded as
 *       {@code %252F}, also as {@code %25%32%46}, which decodes to it): many servers decode it
 *       before they split the path;
 *   <li>a dot-segment spelt with an escape ({@code %2e%2e}, {@code .%2e}, {@code %2e}) or with
 *       path parameters ({@code ..;}, which Tomcat reads as {@code ..});
 *   <li>a host that ends in a number but is not four decimal parts 0–255 without leading zeros
 *       ({@code 0177.0.0.1}, {@code 0x7f.1}, {@code 127.1}, {@code 2130706433}): the WHATWG URL
 *       Standard (§3.5, IPv4 parser), curl and browsers read {@code 0177} as octal 127, Java's
 *       resolver as decimal 177;
 *   <li>user info, other schemes, hosts Java's {@link URI} cannot parse, a port that is no TCP
 *       port (0, or above 65535).
 * </ul>
 */
public record FetchUrl(String scheme, String host, int port, String path, String query) {
  private static final int MAX_PORT = 65535;
  private static final Pattern DECIMAL_OCTET = Pattern.compile("0|[1-9][0-9]{0,2}");
  private static final Pattern NUMERIC_LABEL = Pattern.compile("[0-9]+|0[xX][0-9a-fA-F]*");

  /** Parses and normalises {@code url}; the exception's message says why it is refused. */
  public static FetchUrl parse(String url) {
    if (url == null || url.isEmpty()) {
      throw new IllegalArgumentException("the URL is missing");
    }
    URI u;
    try {
      u = new URI(url);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("the URL is not valid: " + e.getReason());
    }
    String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("https") && !scheme.equals("http")) {
      throw new IllegalArgumentException("only http(s) URLs can be fetched");
    }
    String authority = u.getRawAuthority();
    if (authority == null || authority.isEmpty()) {
      throw new IllegalArgumentException("the URL has no host");
    }
    if (u.getRawUserInfo() != null || authority.contains("@")) {
      throw new IllegalArgumentException("URLs with user info are not fetched");
    }
    requireUnambiguousHost(hostPart(authority));
    if (u.getHost() == null || u.getHost().isEmpty()) {
      throw new IllegalArgumentException("the URL has no valid host: '" + authority + "'");
    }
    String host = canonicalHost(u.getHost());
    if (u.getPort() == 0 || u.getPort() > MAX_PORT) {
      // java.net.URI takes any number; the HTTP client would fail inside, after the policy said yes
      throw new IllegalArgumentException("the URL's port is not a TCP port (1 to " + MAX_PORT + ")");
    }
    int port = u.getPort() >= 0 ? u.getPort() : defaultPort(scheme);
    String rawPath = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
    return new FetchUrl(scheme, host, port, normalisePath(rawPath), u.getRawQuery());
  }

  /**
   * One spelling per host, so that list prefixes compare by what a host is: lower case, without
   * IPv6 brackets; a name without the one trailing dot that makes it absolute ({@code a.example.}
   * is {@code a.example}, RFC 1034 §3.1); an IPv6 literal in the RFC 5952 form, and one that maps
   * an IPv4 address ({@code ::ffff:192.0.2.1}, where a connection goes over IPv4) as that IPv4
   * address. {@code host} is the URL's host, an IPv6 literal in brackets or not.
   */
  static String canonicalHost(String host) {
    String h = UrlPolicy.bare(host);
    if (h.indexOf(':') >= 0) {
      InetAddress a = AddressGuard.literal(h); // brackets removed, zones refused: never a DNS name
      return a instanceof Inet6Address ? rfc5952(a.getAddress()) : a.getHostAddress();
    }
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
      if (h.isEmpty() || h.endsWith(".")) {
        throw new IllegalArgumentException("the URL has no valid host: '" + host + "'");
      }
    }
    return h;
  }

  /** RFC 5952 §4: lower-case hex without leading zeros, the longest run of two or more zero groups as "::". */
  private static String rfc5952(byte[] b) {
    int[] g = new int[8];
    for (int i = 0; i < 8; i++) {
      g[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
    }
    int bestStart = -1;
    int bestLen = 1;
    for (int i = 0; i < 8; ) {
      int j = i;
      while (j < 8 && g[j] == 0) {
        j++;
      }
      if (j - i > bestLen) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j == i ? i + 1 : j;
    }
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        out.append("::");
        i += bestLen - 1;
        continue;
      }
      if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
        out.append(':');
      }
      out.append(Integer.toHexString(g[i]));
    }
    return out.toString();
  }

  /** The URL to request: ASCII only, default port left out. */
  public URI uri() {
    return URI.create(toString());
  }

  @Override
  public String toString() {
    String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
    String p = port == defaultPort(scheme) ? "" : ":" + port;
    String s = scheme + "://" + h + p + path + (query == null ? "" : "?" + query);
    return URI.create(s).toASCIIString();
  }

  private static int defaultPort(String scheme) {
    return scheme.equals("https") ? 443 : 80;
  }

  /** The host of a raw authority, without the port. */
  private static String hostPart(String authority) {
    if (authority.startsWith("[")) {
      int close = authority.indexOf(']');
      return close < 0 ? authority : authority.substring(0, close + 1);
    }
    int colon = authority.lastIndexOf(':');
    return colon < 0 ? authority : authority.substring(0, colon);
  }

  /**
   * WHATWG URL Standard §3.5 "ends in a number": a host whose last label is all digits or
   * {@code 0x} hex is parsed as IPv4, with octal, hex and fewer than four parts. Only the plain
   * dotted-decimal form means the same to every client; the rest are refused. An IPv4 address
   * embedded in an IPv6 literal must be plain dotted decimal too.
   */
  static void requireUnambiguousHost(String host) {
    if (host.contains("%")) {
      throw new IllegalArgumentException("percent-encoded or zoned hosts are not fetched: '" + host + "'");
    }
    String h = host;
    if (h.startsWith("[")) {
      int lastColon = h.lastIndexOf(':');
      String tail = h.substring(lastColon + 1, h.length() - (h.endsWith("]") ? 1 : 0));
      if (!tail.contains(".")) {
        return;
      }
      h = tail;
    }
    String[] labels = h.split("\\.", -1);
    int last = labels.length - 1;
    if (last > 0 && labels[last].isEmpty()) {
      last--; // WHATWG: a trailing dot does not stop a host from ending in a number
    }
    if (!NUMERIC_LABEL.matcher(labels[last]).matches()) {
      return;
    }
    boolean plain = labels.length == 4;
    for (int i = 0; plain && i < 4; i++) {
      plain = DECIMAL_OCTET.matcher(labels[i]).matches() && Integer.parseInt(labels[i]) <= 255;
    }
    if (!plain) {
      throw new IllegalArgumentException("the host '" + host + "' is an ambiguous IPv4 address (leading zeros, "
          + "octal, hex, fewer than four parts or a single number); write it as four decimal parts like 192.0.2.1");
    }
  }

  /**
   * Decodes escaped unreserved characters, upper-cases the other escapes, refuses the spellings
   * listed on the class, then removes dot-segments.
   */
  static String normalisePath(String written) {
    // RFC 3987 §3.1: a non-ASCII character is its UTF-8 octets, escaped, as the request sends it,
    // so "é" and "%C3%A9" are one path to every list
    String raw = asciiOnly(written);
    requireNoEncodedSeparators(raw, raw);
    String[] segments = raw.split("/", -1);
    StringBuilder out = new StringBuilder(raw.length());
    for (int i = 0; i < segments.length; i++) {
      if (i > 0) {
        out.append('/');
      }
      String seg = segments[i];
      String decoded = decodeUnreserved(seg);
      int semi = decoded.indexOf(';');
      String bare = semi < 0 ? decoded : decoded.substring(0, semi);
      if ((bare.equals(".") || bare.equals("..")) && (seg.contains("%") || semi >= 0)) {
        throw new IllegalArgumentException("encoded or parameterised dot-segments are not fetched: '" + raw + "'");
      }
      out.append(decoded);
    }
    // again once unreserved escapes are decoded: %25%32%46 is the %252F that is refused as written
    requireNoEncodedSeparators(out.toString(), raw);
    return removeDotSegments(out.toString());
  }

  private static String asciiOnly(String path) {
    for (int i = 0; i < path.length(); i++) {
      if (path.charAt(i) > 0x7e) {
        return URI.create("http://h" + path).toASCIIString().substring("http://h".length());
      }
    }
    return path;
  }

  private static void requireNoEncodedSeparators(String path, String raw) {
    String lower = path.toLowerCase(Locale.ROOT);
    for (String bad : new String[] {"%2f", "%5c", "%252f", "%255c", "%252e", "\\"}) {
      if (lower.contains(bad)) {
        throw new IllegalArgumentException("encoded slashes, backslashes and dots are not fetched: '" + raw + "'");
      }
    }
  }

  /** RFC 3986 §2.3, §6.2.2.2: %41 → A; other escapes upper-cased (§6.2.2.1). */
  private static String decodeUnreserved(String s) {
    if (s.indexOf('%') < 0) {
      return s;
    }
    StringBuilder out = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%' && i + 2 < s.length()) {
        int v = Integer.parseInt(s.substring(i + 1, i + 3), 16); // java.net.URI already checked the hex
        if ((v >= 'A' && v <= 'Z') || (v >= 'a' && v <= 'z') || (v >= '0' && v <= '9') || "-._~".indexOf(v) >= 0) {
          out.append((char) v);
        } else {
          out.append('%').append(s.substring(i + 1, i + 3).toUpperCase(Locale.ROOT));
        }
        i += 2;
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  /** RFC 3986 §5.2.4 for an absolute path. */
  static String removeDotSegments(String path) {
    String[] segs = path.split("/", -1);
    Deque<String> out = new ArrayDeque<>();
    for (int i = 1; i < segs.length; i++) {
      String s = segs[i];
      boolean isDot = s.equals(".") || s.equals("..");
      if (s.equals("..") && !out.isEmpty()) {
        out.removeLast();
      }
      if (!isDot) {
        out.addLast(s);
      } else if (i == segs.length - 1) {
        out.addLast("");
      }
    }
    return "/" + String.join("/", out);
  }
}
