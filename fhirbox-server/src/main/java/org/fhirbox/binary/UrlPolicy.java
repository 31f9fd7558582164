package org.fhirbox.binary;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Which external URLs ingestion may fetch, judged on the URL alone (no DNS): by default only
 * {@code https}. {@code ignored} prefixes are never fetched. When {@code allowed} is non-empty,
 * only URLs under one of its prefixes are fetched, and a prefix that names a host explicitly
 * (say {@code http://10.1.2.3:8080/files/}) also lifts the scheme rule and the address guard
 * for that host and port. Prefixes match by scheme, host and port (case-insensitive, default
 * ports filled in) and then by path prefix, so {@code https://a.example} never matches
 * {@code https://a.example.evil.com/}.
 */
public final class UrlPolicy {
  private static final int MAX_URL_LENGTH = 4096;
  private final List<Prefix> allowed;
  private final List<Prefix> ignored;

  private record Prefix(String scheme, String host, int port, String path) {
    boolean matches(Target t) {
      return scheme.equals(t.scheme) && host.equals(t.host) && port == t.port && t.path.startsWith(path);
    }
  }

  /** A URL as judged on its own: a fetchable target, or why it is not one. */
  private sealed interface Parsed permits Target, Refused {}

  private record Target(String scheme, String host, int port, String path) implements Parsed {}

  private record Refused(String reason) implements Parsed {}

  public UrlPolicy(List<String> allowedPrefixes, List<String> ignoredPrefixes) {
    this.allowed = allowedPrefixes.stream().map(UrlPolicy::prefix).toList();
    this.ignored = ignoredPrefixes.stream().map(UrlPolicy::prefix).toList();
  }

  /** The reason {@code url} may not be fetched, or empty when it may (subject to the address guard). */
  public Optional<String> refusal(String url) {
    // Most Attachment urls (Binary/{id}, urn:uuid:...) end here: refused without an exception.
    Parsed parsed = parse(url);
    if (parsed instanceof Refused r) {
      return Optional.of(r.reason());
    }
    Target t = (Target) parsed;
    if (ignored.stream().anyMatch(p -> p.matches(t))) {
      return Optional.of("the URL is on the ignore list (FHIRBOX_INGEST_IGNORED_URL_PREFIXES)");
    }
    if (!allowed.isEmpty()) {
      return allowed.stream().anyMatch(p -> p.matches(t)) ? Optional.empty()
          : Optional.of("the URL is not on the allow list (FHIRBOX_INGEST_ALLOWED_URL_PREFIXES)");
    }
    return t.scheme.equals("https") ? Optional.empty() : Optional.of("only https URLs are fetched");
  }

  public boolean permits(String url) {
    return refusal(url).isEmpty();
  }

  /**
   * True when an allow-list prefix names this host and port explicitly, so that internal
   * addresses it resolves to may be used.
   */
  public boolean namesHostExplicitly(String host, int port) {
    String h = bare(host);
    return allowed.stream().anyMatch(p -> p.host.equals(h) && p.port == port);
  }

  private static Prefix prefix(String s) {
    Parsed parsed = parse(s);
    if (parsed instanceof Refused r) {
      throw new IllegalArgumentException(r.reason());
    }
    Target t = (Target) parsed;
    return new Prefix(t.scheme, t.host, t.port, t.path);
  }

  private static Parsed parse(String url) {
    if (url == null || url.length() > MAX_URL_LENGTH) {
      return new Refused("the URL is missing or longer than " + MAX_URL_LENGTH + " characters");
    }
    URI u;
    try {
      u = new URI(url);
    } catch (URISyntaxException e) {
      return new Refused("the URL is not valid: " + e.getReason());
    }
    String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("https") && !scheme.equals("http")) {
      return new Refused("only http(s) URLs can be fetched");
    }
    if (u.getRawUserInfo() != null) {
      return new Refused("URLs with user info are not fetched");
    }
    if (u.getHost() == null || u.getHost().isEmpty()) {
      return new Refused("the URL has no host");
    }
    int port = u.getPort() >= 0 ? u.getPort() : scheme.equals("https") ? 443 : 80;
    String path = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
    return new Target(scheme, bare(u.getHost()), port, path);
  }

  /** Lower case, without IPv6 brackets. */
  static String bare(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
  }
}
