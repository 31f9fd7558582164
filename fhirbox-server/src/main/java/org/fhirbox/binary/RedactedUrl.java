package org.fhirbox.binary;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * A fetched URL as error texts and log lines name it: {@code scheme://host[:port]/path}. Left out
 * are the path's parameters ({@code ;jsessionid=...}, shown as {@code ;...}), the user info (RFC 3986 §3.2.1: "user:password" is deprecated there, and still sent), the
 * query, where presigned URLs carry their signature (S3's {@code X-Amz-Signature}, Azure's
 * {@code sig}), and the fragment. Built from the parts {@link URI} parses, not by matching the
 * string, so an {@code @} or {@code ?} in an odd place cannot leave a secret behind.
 */
final class RedactedUrl {
  private RedactedUrl() {}

  static String of(String url) {
    try {
      return of(new URI(url));
    } catch (URISyntaxException | NullPointerException e) {
      return "a URL that is not valid";
    }
  }

  static String of(URI u) {
    if (u.getScheme() == null) {
      return "a relative URL";
    }
    if (u.isOpaque() || u.getRawAuthority() == null) {
      // mailto:, data: and the like: all after the scheme may be content
      return "a " + u.getScheme() + ": URL";
    }
    String hostAndPort;
    if (u.getHost() != null) {
      hostAndPort = u.getHost() + (u.getPort() >= 0 ? ":" + u.getPort() : "");
    } else {
      // an authority java.net.URI takes as registry-based (a host it cannot parse): the user
      // info, if any, ends at its last '@' (RFC 3986 §3.2 allows none after it)
      String authority = u.getRawAuthority();
      hostAndPort = authority.substring(authority.lastIndexOf('@') + 1);
    }
    return u.getScheme() + "://" + hostAndPort + (u.getRawPath() == null ? "" : withoutParameters(u.getRawPath()));
  }

  /**
   * The path with each segment's parameters (RFC 3986 §3.3: what follows a {@code ;} in a segment)
   * shown as {@code ;...}: servers put session ids there ({@code ;jsessionid=}).
   */
  private static String withoutParameters(String rawPath) {
    return rawPath.replaceAll(";[^/]*", ";...");
  }
}
