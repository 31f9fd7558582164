package org.fhirbox.http;

import jakarta.servlet.http.Cookie;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;

/**
 * CSRF protection for the server's own HTML forms, which have no session: a double-submit token
 * (OWASP CSRF Prevention Cheat Sheet). Rendering a form sets a cookie holding 256 random bits and
 * puts the same value in a hidden field; a post is accepted only when the two match (compared in
 * constant time). Another site can make a browser post a form, but cannot read or set our cookie,
 * so it cannot know the value.
 *
 * <p>The cookie is {@code HttpOnly} (no script reads it), {@code SameSite=Lax} (not sent on a
 * cross-site post), lives {@value #LIFETIME_MINUTES} minutes and, behind https, is
 * {@code Secure} and named with the {@code __Host-} prefix (RFC 6265bis §4.1.3.2), which browsers
 * accept only from a secure origin, without {@code Domain} and for path {@code /}: a sibling
 * subdomain cannot plant one. A request counts as https when the connection is (or, with
 * {@code FHIRBOX_TRUST_PROXY=true}, when the proxy says so in {@code X-Forwarded-Proto}), or when
 * the public base URL is https.
 */
final class CsrfCookie {
  static final int LIFETIME_MINUTES = 30;
  static final Duration LIFETIME = Duration.ofMinutes(LIFETIME_MINUTES);
  /** The hidden form field that carries the value. */
  static final String FIELD = "csrf";
  private static final String NAME = "fhirbox-csrf";
  private static final String SECURE_NAME = "__Host-" + NAME;

  private final SecureRandom random = new SecureRandom();

  /** Sets a fresh cookie on the response; returns the value for the form's hidden field. */
  String issue(Exchange ex) {
    byte[] b = new byte[32];
    random.nextBytes(b);
    String value = Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    ex.response().addHeader("Set-Cookie", cookie(ex, value, LIFETIME.toSeconds()));
    return value;
  }

  /** True when {@code formValue} is the value of the request's cookie. */
  boolean matches(Exchange ex, String formValue) {
    String cookie = read(ex);
    return cookie != null && formValue != null && !cookie.isEmpty()
        && MessageDigest.isEqual(cookie.getBytes(StandardCharsets.UTF_8), formValue.getBytes(StandardCharsets.UTF_8));
  }

  /** Removes the cookie (its form has done its work). */
  void clear(Exchange ex) {
    ex.response().addHeader("Set-Cookie", cookie(ex, "", 0));
  }

  private static String read(Exchange ex) {
    Cookie[] cookies = ex.request().getCookies();
    if (cookies == null) {
      return null;
    }
    String name = secure(ex) ? SECURE_NAME : NAME;
    for (Cookie c : cookies) {
      if (c.getName().equals(name)) {
        return c.getValue();
      }
    }
    return null;
  }

  private static String cookie(Exchange ex, String value, long maxAgeSeconds) {
    boolean secure = secure(ex);
    return (secure ? SECURE_NAME : NAME) + "=" + value + "; Path=/; Max-Age=" + maxAgeSeconds
        + "; HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "");
  }

  static boolean secure(Exchange ex) {
    return ex.request().isSecure() || ex.baseUrl().regionMatches(true, 0, "https:", 0, 6);
  }
}
