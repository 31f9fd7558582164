package org.fhirbox.http;

import java.net.URI;
import org.fhirbox.auth.AuthorizationRequests;

/**
 * The cookie that finds a sign-in under way ({@link AuthorizationRequests}) from page to page of
 * the authorization endpoint: {@value #NAME}, {@code HttpOnly}, {@code SameSite=Lax},
 * {@code Secure} when the server is reached over https, limited to the {@code /oauth2/} path and
 * living as long as the request it names.
 */
final class SignInRequestCookie {
  static final String NAME = "fhirbox_signin";

  private SignInRequestCookie() {}

  /** The cookie's value in the request, or null. */
  static String read(Exchange ex) {
    String header = ex.header("Cookie");
    if (header == null) {
      return null;
    }
    for (String part : header.split(";")) {
      String p = part.strip();
      if (p.startsWith(NAME + "=")) {
        return p.substring(NAME.length() + 1);
      }
    }
    return null;
  }

  static void set(Exchange ex, String value) {
    ex.response().setHeader("Set-Cookie", NAME + "=" + value + "; Path=" + path(ex) + "; Max-Age="
        + AuthorizationRequests.TTL.toSeconds() + "; HttpOnly; SameSite=Lax" + (secure(ex) ? "; Secure" : ""));
  }

  static void clear(Exchange ex) {
    ex.response().setHeader("Set-Cookie", NAME + "=; Path=" + path(ex) + "; Max-Age=0; HttpOnly; SameSite=Lax"
        + (secure(ex) ? "; Secure" : ""));
  }

  private static String path(Exchange ex) {
    String path = URI.create(ex.baseUrl()).getRawPath();
    return (path == null || path.isEmpty() ? "/" : path) + "oauth2/";
  }

  /** Behind https (the public base URL says so, or the request came over TLS or from a proxy that said it did). */
  private static boolean secure(Exchange ex) {
    return ex.baseUrl().regionMatches(true, 0, "https:", 0, 6) || ex.request().isSecure();
  }
}
