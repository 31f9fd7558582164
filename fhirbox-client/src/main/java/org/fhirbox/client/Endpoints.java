package org.fhirbox.client;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Objects;
import java.util.Optional;

/**
 * The server's URLs, from its root: the FHIR base ({@code fhir/R4/}) and the token endpoint
 * ({@code oauth2/token}). Also decides which URLs get the client's credentials: only those
 * under the FHIR base, never signed URLs or other hosts.
 */
record Endpoints(URI root) {
  private static final String FHIR_PATH = "fhir/R4/";

  static Endpoints of(String baseUrl) {
    URI u;
    try {
      u = URI.create(baseUrl.endsWith("/") ? baseUrl : baseUrl + "/");
    } catch (IllegalArgumentException e) {
      // the JDK's message (and its cause's) repeats the whole text: named redacted, without either
      String why = e.getCause() instanceof URISyntaxException bad ? " (" + bad.getReason() + ")" : "";
      throw new IllegalArgumentException("baseUrl must be an absolute http(s) URL, got '" + redact(baseUrl) + "'" + why);
    }
    if (u.getScheme() == null || u.getHost() == null
        || !(u.getScheme().equals("http") || u.getScheme().equals("https"))) {
      throw new IllegalArgumentException("baseUrl must be an absolute http(s) URL, got '" + redact(baseUrl) + "'");
    }
    if (u.getRawUserInfo() != null) {
      // RFC 9110 §4.2.4: userinfo in an http(s) URI is deprecated; the JDK's client would not send it
      // either, and a getter or a log line that shows the base URL would show the password
      throw new IllegalArgumentException("baseUrl must not hold user:password, which is never sent: give the"
          + " client's credentials with clientCredentials(...) or accessToken(...), got '" + redact(baseUrl) + "'");
    }
    String path = u.getPath();
    if (path.endsWith("/" + FHIR_PATH)) {
      u = u.resolve(path.substring(0, path.length() - FHIR_PATH.length()));
    }
    return new Endpoints(u);
  }

  /**
   * {@code url} as a message may show it: without userinfo ({@code user:password@}) or query and
   * fragment, which may hold credentials, tokens or signatures. For text that may not parse, so
   * everything up to the last {@code @} goes: a password may hold {@code /}, {@code ?} or
   * {@code #} too.
   */
  static String redact(String url) {
    String s = url;
    int at = s.lastIndexOf('@');
    int authority = s.indexOf("//");
    if (at >= 0) {
      s = (authority >= 0 && authority < at ? s.substring(0, authority + 2) : "") + "…@" + s.substring(at + 1);
    }
    return s.replaceFirst("[?#].*", "?…");
  }

  /**
   * Where a request went, for a message: the path on this server, or the origin and path
   * elsewhere (another host that cannot be reached is then named), never userinfo or query.
   */
  String where(URI uri) {
    return otherHost(uri).map(host -> uri.getScheme() + "://" + host + uri.getRawPath()).orElse(uri.getRawPath());
  }

  /** The host of {@code uri}, with the port it names if any, when it is another origin than this server's. */
  Optional<String> otherHost(URI uri) {
    if (Objects.equals(uri.getScheme(), root.getScheme()) && Objects.equals(uri.getHost(), root.getHost())
        && uri.getPort() == root.getPort()) {
      return Optional.empty();
    }
    return Optional.of(uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort()));
  }

  @Override
  public String toString() {
    return "Endpoints[" + redact(root.toString()) + "]";
  }

  URI fhirBase() {
    return root.resolve(FHIR_PATH);
  }

  URI fhir(String relative) {
    return URI.create(fhirBase() + relative);
  }

  URI token() {
    return root.resolve("oauth2/token");
  }

  boolean isFhir(URI uri) {
    return uri.toString().startsWith(fhirBase().toString());
  }

  /**
   * A link the server wrote (paging, Location) as a URL under this client's FHIR base: the
   * server's idea of its own base may differ behind a proxy.
   */
  URI rebase(String link) {
    if (link.startsWith(fhirBase().toString())) {
      return URI.create(link);
    }
    int at = link.indexOf("/" + FHIR_PATH);
    if (at >= 0) {
      return URI.create(fhirBase() + link.substring(at + FHIR_PATH.length() + 1));
    }
    URI uri;
    try {
      uri = URI.create(link);
    } catch (IllegalArgumentException e) {
      throw FhirboxException.client("the server sent a malformed link", null);
    }
    // RFC 3986 §4.2: a network-path reference ("//host/path") is relative, yet names another
    // host; it and a path out of the base ("../admin") would be sent the client's credentials
    URI resolved = uri.isAbsolute() || uri.getRawAuthority() != null ? null : fhirBase().resolve(uri);
    if (resolved != null && isFhir(resolved)) {
      return resolved;
    }
    throw FhirboxException.client("the server sent a link outside its FHIR base", null);
  }
}
