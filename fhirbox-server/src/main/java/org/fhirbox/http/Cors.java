package org.fhirbox.http;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.List;
import java.util.Set;

/**
 * CORS for {@code /storage}, {@code /fhir}, the OAuth endpoints an app calls itself
 * ({@code /oauth2/token}, {@code revoke}, {@code introspect}, {@code userinfo}) and the
 * {@code /.well-known} documents (Fetch standard). Allowed origins come from
 * {@code FHIRBOX_CORS_ORIGINS}: {@code *} (the default) or a comma-separated list. These routes
 * authenticate with what the caller sends explicitly (a bearer token, client credentials), never
 * with a cookie. Even so, Medplum's JS client sends every request with
 * {@code credentials: 'include'}, which a browser only lets through when the response names the
 * exact origin and allows credentials; listed origins get both. {@code *} never allows
 * credentials (the Fetch standard forbids it, and reflecting any origin would let every site use
 * a browser's cached Basic credentials).
 *
 * <p>The pages a person uses in the browser, which do rely on cookies (the sign-in request's
 * cookie on {@code /oauth2/authorize}, {@code signin}, {@code patient} and {@code consent}, the
 * CSRF cookie on {@code /account/...}), get no CORS at all ({@link #appliesTo}): with credentials
 * allowed, script on a listed origin could otherwise read the patient picker or the consent page
 * as the signed-in person, and no app needs to call them from script.
 */
public final class Cors {
  // Cache-Control: Medplum's client sets it on uploads with progress (XMLHttpRequest). The Tus-*,
  // Upload-* and X-HTTP-Method-Override headers are those tus clients (tus-js-client, Uppy) send.
  static final String ALLOWED_HEADERS = "Authorization, Content-Type, Content-Encoding, Range, If-Range, If-Match,"
      + " If-None-Match, If-Modified-Since, If-Unmodified-Since, Prefer, Accept, Cache-Control, X-Security-Context, X-Medplum,"
      + " Tus-Resumable, Upload-Length, Upload-Offset, Upload-Metadata, Upload-Defer-Length, Upload-Checksum,"
      + " Upload-Concat, X-HTTP-Method-Override, X-Requested-With";
  // A browser's tus client reads the offset, the length, the expiry and the upload's Location.
  static final String EXPOSED_HEADERS = "Content-Range, Accept-Ranges, Content-Length, Content-Type, ETag,"
      + " Content-Disposition, Location, Content-Location, Last-Modified, X-Security-Context, Retry-After,"
      + " WWW-Authenticate, Preference-Applied,"
      + " Upload-Offset, Upload-Length, Upload-Metadata, Upload-Defer-Length, Upload-Expires, Tus-Resumable,"
      + " Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm";
  /** The {@code /oauth2/} pages a person's browser reaches with the sign-in request's cookie. */
  private static final Set<String> COOKIE_PAGES = Set.of("authorize", "signin", "patient", "consent");
  private final Set<String> origins;

  public Cors(Set<String> origins) {
    this.origins = origins.isEmpty() ? Set.of("*") : Set.copyOf(origins);
  }

  /**
   * False for the cookie-based pages (sign-in, patient picker, consent, {@code /account/...}),
   * which get no CORS headers and whose preflight is not granted; true for every other route.
   * {@code path} is the request's decoded path segments.
   */
  public static boolean appliesTo(List<String> path) {
    if (!path.isEmpty() && path.get(0).equals("account")) {
      return false;
    }
    return !(path.size() == 2 && path.get(0).equals("oauth2") && COOKIE_PAGES.contains(path.get(1)));
  }

  /**
   * Adds CORS headers; returns true when the request was a preflight that is now answered.
   *
   * <p>Also to requests without an {@code Origin} (Fetch standard, "CORS protocol and HTTP
   * caches"): an {@code <img>} or {@code <video>} sends none, and a browser then serves its cached
   * answer to a later {@code fetch()} of the same signed URL from the page's script. So {@code *}
   * goes on every answer, and with a list of origins every answer varies by {@code Origin}.
   */
  public boolean apply(HttpServletRequest req, HttpServletResponse resp) {
    String origin = req.getHeader("Origin");
    if (origins.contains("*")) {
      resp.setHeader("Access-Control-Allow-Origin", "*");
    } else {
      resp.addHeader("Vary", "Origin");
      if (origin == null || !origins.contains(origin.toLowerCase(java.util.Locale.ROOT))) {
        return false;
      }
      resp.setHeader("Access-Control-Allow-Origin", origin);
      resp.setHeader("Access-Control-Allow-Credentials", "true");
    }
    if (origin != null && "OPTIONS".equals(req.getMethod()) && req.getHeader("Access-Control-Request-Method") != null) {
      resp.setHeader("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
      resp.setHeader("Access-Control-Allow-Headers", ALLOWED_HEADERS);
      resp.setHeader("Access-Control-Max-Age", "600");
      resp.setStatus(204);
      return true;
    }
    resp.setHeader("Access-Control-Expose-Headers", EXPOSED_HEADERS);
    return false;
  }
}
