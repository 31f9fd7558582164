package org.fhirbox.http;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * CORS for {@code /storage}, {@code /fhir}, the OAuth endpoints an app calls itself
 * ({@code /oauth2/token}, {@code revoke}, {@code introspect}, {@code userinfo}, {@code logout}) and the
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
  // An explicit list, not the request's own echoed: a header named here is one the server reads
  // or one a common client sends on every call. If-None-Exist: a conditional create (FHIR R4
  // http.html#ccreate). Cache-Control: Medplum's client sets it on uploads with progress
  // (XMLHttpRequest). The Tus-*, Upload-* and X-HTTP-Method-Override headers are those tus clients
  // (tus-js-client, Uppy) send. X-Request-Id and W3C Trace Context's traceparent and tracestate
  // (with W3C Baggage's baggage) are what tracing in a browser app adds to every request; a name
  // missing here fails the preflight, and with it every call.
  static final String ALLOWED_HEADERS = "Authorization, Content-Type, Content-Encoding, Range, If-Range, If-Match,"
      + " If-None-Match, If-Modified-Since, If-Unmodified-Since, If-None-Exist, Prefer, Accept, Cache-Control,"
      + " X-Security-Context, X-Medplum,"
      + " Tus-Resumable, Upload-Length, Upload-Offset, Upload-Metadata, Upload-Defer-Length, Upload-Checksum,"
      + " Upload-Concat, X-HTTP-Method-Override, X-Requested-With, X-Request-Id, traceparent, tracestate, baggage";
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
   * {@link #appliesTo} for a raw request path that may not be one the servlet accepts (an
   * ambiguous {@code a%2Fb}, bad percent-encoding): each segment decoded where it can be.
   */
  public static boolean appliesToRawPath(String rawPath) {
    return appliesTo(rawSegments(rawPath));
  }

  /** The segments of a raw request path, each decoded where it can be (not the servlet's own decoding). */
  static List<String> rawSegments(String rawPath) {
    List<String> path = new ArrayList<>();
    for (String s : (rawPath == null ? "" : rawPath).split("/")) {
      if (s.isEmpty()) {
        continue;
      }
      try {
        path.add(URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        path.add(s);
      }
    }
    return path;
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
    if (!allowOrigin(origin, resp::setHeader, resp::addHeader)) {
      return false;
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

  /**
   * What {@link #apply} adds to an answer that is no preflight's, for the errors Jetty writes
   * itself ({@link JettyErrorHandler}): without them a browser hides the error from the script
   * (Fetch standard, CORS check).
   *
   * @param origin the request's {@code Origin}, null without one
   * @param set replaces a header field
   * @param add adds a value to a list field ({@code Vary})
   */
  public void applyToAnswer(String origin, BiConsumer<String, String> set, BiConsumer<String, String> add) {
    if (allowOrigin(origin, set, add)) {
      set.accept("Access-Control-Expose-Headers", EXPOSED_HEADERS);
    }
  }

  /** Sets {@code Access-Control-Allow-Origin} (and credentials) when {@code origin} is allowed; true then. */
  private boolean allowOrigin(String origin, BiConsumer<String, String> set, BiConsumer<String, String> add) {
    if (origins.contains("*")) {
      set.accept("Access-Control-Allow-Origin", "*");
      return true;
    }
    add.accept("Vary", "Origin");
    if (origin == null || !origins.contains(origin.toLowerCase(Locale.ROOT))) {
      return false;
    }
    set.accept("Access-Control-Allow-Origin", origin);
    set.accept("Access-Control-Allow-Credentials", "true");
    return true;
  }
}
