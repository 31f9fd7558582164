package org.fhirbox.audit;

import java.util.Optional;

/**
 * The facts of the HTTP request an audited access came in, read only when an event is recorded
 * (with audit off nothing is asked).
 */
public interface AuditedRequest {
  /** GET, HEAD, POST, ... */
  String method();

  /** The request path as sent, e.g. {@code /fhir/R4/Binary/1/_history/2}. */
  String path();

  /**
   * The caller's address: the connection's peer, or with {@code FHIRBOX_TRUST_PROXY=true} the
   * address the nearest (trusted) proxy appended to {@code X-Forwarded-For} ({@code NearestProxyHeaders}).
   */
  String address();

  /** A request header, or null. */
  String header(String name);

  /** Whether the answer sent a part of the content (206), as a Range asked; false for the whole. */
  default boolean answeredInPart() {
    return false;
  }

  /**
   * Whether that part was less than the whole content: a 206 whose one part is all of it
   * ({@code bytes=0-}, the first request of a video player) sent the whole file.
   */
  default boolean sentPartOnly() {
    return answeredInPart();
  }

  /** The first value of a query parameter as sent, empty too ({@code download=} asks for a download). */
  Optional<String> param(String name);
}
