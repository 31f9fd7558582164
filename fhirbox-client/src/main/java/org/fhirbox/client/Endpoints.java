package org.fhirbox.client;

import java.net.URI;

/**
 * The server's URLs, from its root: the FHIR base ({@code fhir/R4/}) and the token endpoint
 * ({@code oauth2/token}). Also decides which URLs get the client's credentials: only those
 * under the FHIR base, never signed URLs or other hosts.
 */
record Endpoints(URI root) {
  private static final String FHIR_PATH = "fhir/R4/";

  static Endpoints of(String baseUrl) {
    URI u = URI.create(baseUrl.endsWith("/") ? baseUrl : baseUrl + "/");
    if (u.getScheme() == null || u.getHost() == null
        || !(u.getScheme().equals("http") || u.getScheme().equals("https"))) {
      throw new IllegalArgumentException("baseUrl must be an absolute http(s) URL, got '" + baseUrl + "'");
    }
    String path = u.getPath();
    if (path.endsWith("/" + FHIR_PATH)) {
      u = u.resolve(path.substring(0, path.length() - FHIR_PATH.length()));
    }
    return new Endpoints(u);
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
