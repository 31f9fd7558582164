package org.fhirbox.binary;

import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/**
 * Which external URLs ingestion may fetch, judged on the URL alone (no DNS): by default only
 * {@code https}. {@code ignored} prefixes are never fetched. When {@code allowed} is non-empty,
 * only URLs under one of its prefixes are fetched, and a prefix also lifts the scheme rule for
 * its scheme, host and port; which internal addresses such a host may reach is
 * {@link #addressRefusal}'s to say (an IP literal prefix such as
 * {@code http://10.1.2.3:8080/files/} reaches its address, a name only the allowed internal
 * blocks). URLs and prefixes are compared in the normal form of {@link FetchUrl}
 * (so {@code /files/../private/} is {@code /private/}, and encoded dot-segments, encoded slashes
 * and ambiguous IPv4 hosts are refused; a host's trailing dot is dropped and an IP literal is
 * compared by address, so {@code https://a.example./x} and {@code https://[::ffff:192.0.2.1]/x}
 * fall under an ignored {@code https://a.example/} and {@code https://192.0.2.1/}), by scheme,
 * host and port (default ports filled in) and then by path, a whole segment at a time: {@code https://a.example} never matches
 * {@code https://a.example.evil.com/}, nor {@code https://a.example/files} {@code /files-old/}.
 * What is fetched is the normalised URL that was judged, never the original string.
 */
public final class UrlPolicy {
  private static final int MAX_URL_LENGTH = 4096;
  private static final String INTERNAL_BLOCKS = "FHIRBOX_INGEST_ALLOWED_INTERNAL_CIDRS";
  private static final Refused NOT_HTTP = new Refused("only http(s) URLs can be fetched");
  private final List<Prefix> allowed;
  private final List<Prefix> ignored;
  private final List<AddressBlock> internal;

  private record Prefix(String scheme, String host, int port, String path) {
    boolean matches(FetchUrl t) {
      if (!scheme.equals(t.scheme()) || !host.equals(t.host()) || port != t.port()) {
        return false;
      }
      return under(t.path(), path);
    }

    /**
     * For an ignored prefix: also a path that servers commonly read as under it, with doubled
     * slashes merged (nginx, Apache) or path parameters dropped from its segments (Tomcat, Jetty).
     */
    boolean covers(FetchUrl t) {
      return matches(t) || (scheme.equals(t.scheme()) && host.equals(t.host()) && port == t.port()
          && under(lenient(t.path()), lenient(path)));
    }

    private static boolean under(String p, String prefix) {
      return prefix.endsWith("/") ? p.startsWith(prefix) : p.equals(prefix) || p.startsWith(prefix + "/");
    }

    private static String lenient(String p) {
      return p.replaceAll(";[^/]*", "").replaceAll("/{2,}", "/");
    }
  }

  /** A URL as judged: the normalised URL to fetch, or why it may not be fetched. */
  public sealed interface Verdict permits Allowed, Refused {}

  /** Fetch {@code url} (subject to the address guard): exactly this, not the string that was judged. */
  public record Allowed(FetchUrl url) implements Verdict {}

  public record Refused(String reason) implements Verdict {}

  public UrlPolicy(List<String> allowedPrefixes, List<String> ignoredPrefixes) {
    this(allowedPrefixes, ignoredPrefixes, List.of());
  }

  /**
   * @param internalBlocks CIDR blocks of internal addresses that a host an allow-list prefix names
   *     may resolve to ({@code FHIRBOX_INGEST_ALLOWED_INTERNAL_CIDRS}); only with an allow list
   */
  public UrlPolicy(List<String> allowedPrefixes, List<String> ignoredPrefixes, List<String> internalBlocks) {
    this.allowed = allowedPrefixes.stream().map(UrlPolicy::prefix).toList();
    this.ignored = ignoredPrefixes.stream().map(UrlPolicy::prefix).toList();
    this.internal = internalBlocks.stream().map(b -> AddressBlock.parse(b, INTERNAL_BLOCKS)).toList();
    if (!internal.isEmpty() && allowed.isEmpty()) {
      throw new IllegalArgumentException(INTERNAL_BLOCKS + " lets the hosts that FHIRBOX_INGEST_ALLOWED_URL_PREFIXES"
          + " names reach these internal addresses, and that list is empty: set it too, or leave " + INTERNAL_BLOCKS
          + " empty");
    }
  }

  /**
   * The policy of the settings {@code FHIRBOX_INGEST_ALLOWED_URL_PREFIXES},
   * {@code FHIRBOX_INGEST_IGNORED_URL_PREFIXES} and {@code FHIRBOX_INGEST_ALLOWED_INTERNAL_CIDRS},
   * each a list that {@code setting} reads by name.
   */
  public static UrlPolicy fromSettings(Function<String, List<String>> setting) {
    return new UrlPolicy(setting.apply("FHIRBOX_INGEST_ALLOWED_URL_PREFIXES"),
        setting.apply("FHIRBOX_INGEST_IGNORED_URL_PREFIXES"), setting.apply(INTERNAL_BLOCKS));
  }

  /** Judges {@code url}: the normalised URL to fetch when the lists allow it. */
  public Verdict judge(String url) {
    if (url != null && !url.regionMatches(true, 0, "http:", 0, 5) && !url.regionMatches(true, 0, "https:", 0, 6)) {
      // Most Attachment urls (Binary/{id}, urn:uuid:...): refused without parsing them (every
      // resource write judges each of its Attachments, and a parse refuses by exception).
      return NOT_HTTP;
    }
    FetchUrl t;
    try {
      t = parse(url);
    } catch (IllegalArgumentException e) {
      return new Refused(e.getMessage());
    }
    if (ignored.stream().anyMatch(p -> p.covers(t))) {
      return new Refused("the URL is on the ignore list (FHIRBOX_INGEST_IGNORED_URL_PREFIXES)");
    }
    if (!allowed.isEmpty()) {
      return allowed.stream().anyMatch(p -> p.matches(t)) ? new Allowed(t)
          : new Refused("the URL is not on the allow list (FHIRBOX_INGEST_ALLOWED_URL_PREFIXES)");
    }
    return t.scheme().equals("https") ? new Allowed(t) : new Refused("only https URLs are fetched");
  }

  /** The reason {@code url} may not be fetched, or empty when it may (subject to the address guard). */
  public Optional<String> refusal(String url) {
    return judge(url) instanceof Refused r ? Optional.of(r.reason()) : Optional.empty();
  }

  public boolean permits(String url) {
    return refusal(url).isEmpty();
  }

  /**
   * The reason a fetch of {@code scheme://host:port} may not connect to {@code a}, an address
   * {@code host} resolved to, or null when it may. An address {@link AddressGuard} refuses is
   * used only when an allow-list prefix names this scheme, host and port
   * ({@link #namesHostExplicitly}) and either
   * <ul>
   *   <li>the host is an IP literal and {@code a} is that address: the admin wrote this very
   *       address, and no DNS answer stands between the prefix and the connection; or
   *   <li>the host is a name and {@code a} lies in one of the allowed internal blocks, and is
   *       neither link-local nor a cloud metadata address ({@link AddressGuard#isLinkLocalOrMetadata}).
   * </ul>
   * A name is judged by the addresses it resolves to now, not by what it is meant to name: whoever
   * answers for it in DNS (an expired domain, a rebinding attacker) must not reach internal hosts
   * through an allow-list entry written for a public one.
   */
  public String addressRefusal(String scheme, String host, int port, InetAddress a) {
    String refusal = AddressGuard.refusal(a);
    if (refusal == null || !namesHostExplicitly(scheme, host, port)) {
      return refusal;
    }
    String h = FetchUrl.canonicalHost(host);
    if (AddressGuard.isLiteral(h)) {
      return AddressGuard.literal(h).equals(a) ? null : refusal;
    }
    if (AddressGuard.isLinkLocalOrMetadata(a)) {
      return refusal;
    }
    return internal.stream().anyMatch(b -> b.contains(a)) ? null : refusal;
  }

  /**
   * True when an allow-list prefix names this scheme, host and port explicitly: {@code http://h:443/}
   * names neither {@code https://h/} nor {@code http://h/}. A null scheme (not known) matches no prefix.
   */
  public boolean namesHostExplicitly(String scheme, String host, int port) {
    if (scheme == null) {
      return false;
    }
    String s = scheme.toLowerCase(Locale.ROOT);
    String h;
    try {
      h = FetchUrl.canonicalHost(host);
    } catch (IllegalArgumentException e) {
      return false;
    }
    return allowed.stream().anyMatch(p -> p.scheme.equals(s) && p.host.equals(h) && p.port == port);
  }

  private static Prefix prefix(String s) {
    FetchUrl t = parse(s);
    return new Prefix(t.scheme(), t.host(), t.port(), t.path());
  }

  private static FetchUrl parse(String url) {
    if (url == null || url.length() > MAX_URL_LENGTH) {
      throw new IllegalArgumentException("the URL is missing or longer than " + MAX_URL_LENGTH + " characters");
    }
    return FetchUrl.parse(url);
  }

  /** Lower case, without IPv6 brackets. */
  static String bare(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
  }
}
