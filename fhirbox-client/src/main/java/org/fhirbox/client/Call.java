package org.fhirbox.client;

import java.net.URI;
import java.net.http.HttpRequest.BodyPublisher;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One request as the {@link Transport} sees it.
 *
 * @param replayable the body can be sent again (false for streams)
 * @param idempotent the request may be repeated after a failure (RFC 9110 §9.2.2)
 * @param authenticated send the client's credentials (false for signed URLs and foreign hosts)
 */
record Call(String method, URI uri, BodyPublisher body, boolean replayable, boolean idempotent,
    boolean authenticated, Map<String, String> headers) {

  /**
   * The method, the URI without its query and the headers' names only: the token request's
   * {@code Authorization} carries the client secret, and a signed URL's query its signature.
   */
  @Override
  public String toString() {
    String u = uri.toString();
    int q = u.indexOf('?');
    return "Call[" + method + " " + (q < 0 ? u : u.substring(0, q) + "?…") + ", headers " + headers.keySet() + "]";
  }

  static Call of(String method, URI uri) {
    boolean idempotent = switch (method) {
      case "GET", "HEAD", "PUT", "DELETE", "OPTIONS" -> true;
      default -> false;
    };
    return new Call(method, uri, null, true, idempotent, true, Map.of());
  }

  Call body(BodyPublisher publisher, boolean canReplay) {
    return new Call(method, uri, publisher, canReplay, idempotent, authenticated, headers);
  }

  Call header(String name, String value) {
    Map<String, String> h = new LinkedHashMap<>(headers);
    h.put(name, value);
    return new Call(method, uri, body, replayable, idempotent, authenticated, Map.copyOf(h));
  }

  Call authenticated(boolean withCredentials) {
    return new Call(method, uri, body, replayable, idempotent, withCredentials, headers);
  }

  Call idempotent(boolean repeatable) {
    return new Call(method, uri, body, replayable, repeatable, authenticated, headers);
  }

  /** The path only: queries may carry signatures and never go into messages. */
  String path() {
    return uri.getRawPath();
  }
}
