package org.fhirbox.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.auth.AppClients;
import org.fhirbox.auth.AuthModule;
import org.fhirbox.auth.ClientProfile;
import org.fhirbox.core.FhirException;
import org.fhirbox.signing.ObjectUrlSigner;

/**
 * The web app, fhirbox's first-party public client:
 * <pre>
 * GET /                         302 to /app/
 * GET /app/                     index.html: Cache-Control no-cache, a strong ETag (304 on If-None-Match)
 * GET /app/v/{version}/{file}   the app's files, immutable for a year (the version is a hash of them all)
 * GET /app/config.json[?project=P]   {"clientId","project","scope","redirectUri","signInLifetime",...}:
 *                               the client to sign in with; the same for every project name,
 *                               whether it exists and has users or not (400 for a name no project can have);
 *                               and where signed URLs point ("storageUrl", "objectStoreUrl", "storageOrigins")
 * </pre>
 * Each answer is gzip-compressed when the browser accepts it, and carries a Content-Security-Policy
 * that allows script and style from the app's folder only (no inline script, no {@code eval}) and
 * images, media and frames only from where signed URLs point ({@link StorageOrigins}).
 */
public final class AppRoutes {
  private static final long YEAR = 365L * 24 * 3600;

  private final AppAssets assets;
  private final ObjectMapper json;
  private final long signInLifetime;
  private final StorageOrigins storage;

  /**
   * @param signInLifetime seconds a sign-in may be refreshed ({@code FHIRBOX_REFRESH_TOKEN_TTL})
   * @param objectUrls the {@code s3} or {@code cloudfront} signer, whose URLs go straight to the
   *     bucket or the distribution; empty when signed URLs are this server's
   */
  public AppRoutes(AppAssets assets, ObjectMapper json, long signInLifetime, Optional<ObjectUrlSigner> objectUrls) {
    this.assets = assets;
    this.json = json;
    this.signInLifetime = signInLifetime;
    this.storage = new StorageOrigins(objectUrls);
  }

  /** The app's redirect URI (and page) under {@code baseUrl}. */
  public static String appUrl(String baseUrl) {
    return baseUrl + "app/";
  }

  /** True when {@code path} was the app's, and answered. */
  public boolean handle(Exchange ex, List<String> path) throws IOException {
    if (path.isEmpty()) {
      requireRead(ex);
      ex.response().setStatus(302);
      ex.response().setHeader("Location", appUrl(ex.baseUrl()));
      ex.response().setHeader("Cache-Control", "no-cache");
      return true;
    }
    if (!path.get(0).equals("app")) {
      return false;
    }
    requireRead(ex);
    String uri = ex.request().getRequestURI();
    if (path.size() == 1 && !uri.endsWith("/")) {
      ex.response().setStatus(301);
      ex.response().setHeader("Location", appUrl(ex.baseUrl()));
      return true;
    }
    if (path.size() == 1 || path.size() == 2 && path.get(1).equals("index.html")) {
      send(ex, assets.index(), "no-cache");
      return true;
    }
    if (path.size() == 2 && path.get(1).equals("config.json")) {
      config(ex);
      return true;
    }
    if (path.size() >= 4 && path.get(1).equals("v")) {
      AppAssets.Asset asset = assets.file(path.subList(3, path.size()))
          .orElseThrow(() -> FhirException.notFound("no such file in the app: " + uri));
      // A page from a node of another version (a rolling deploy behind a load balancer) asks for
      // its version's files: this node's file of that name, revalidated, rather than a 404 that
      // leaves the page at "Loading…"; cached for good only under this node's own version.
      boolean own = path.get(2).equals(assets.version());
      send(ex, asset, own ? "public, max-age=" + YEAR + ", immutable" : "no-cache");
      return true;
    }
    throw FhirException.notFound("no such page in the app: " + uri);
  }

  private void config(Exchange ex) throws IOException {
    String project = ex.param("project").map(String::strip).filter(p -> !p.isEmpty())
        .orElse(AuthModule.SERVER_PROJECT);
    String redirect = appUrl(ex.baseUrl());
    String clientId = AppClients.idFor(project).orElseThrow(() -> FhirException.badRequest("'" + project
        + "' cannot be a project's name: letters, digits and . _ - (at most 64, starting with a letter or digit)",
        "project"));
    try {
      // the app's page must be a redirect URI the sign-in accepts (https, or http on a loopback host)
      ClientProfile.of(true, true, List.of(redirect));
    } catch (IllegalArgumentException e) {
      throw FhirException.unavailable("the web app cannot sign people in at " + redirect + ": " + e.getMessage(),
          3600, e);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("project", project);
    out.put("clientId", clientId);
    out.put("scope", AppClients.SCOPE);
    out.put("redirectUri", redirect);
    out.put("fhirBase", ex.fhirBase());
    out.put("authorize", ex.baseUrl() + "oauth2/authorize");
    out.put("token", ex.baseUrl() + "oauth2/token");
    out.put("revoke", ex.baseUrl() + "oauth2/revoke");
    out.put("userinfo", ex.baseUrl() + "oauth2/userinfo");
    out.put("signInLifetime", signInLifetime);
    out.put("storageUrl", StorageOrigins.storageUrl(ex.baseUrl()));
    out.put("objectStoreUrl", storage.objectStoreUrl().orElse(null));
    out.put("storageOrigins", storage.origins(ex.baseUrl()));
    out.put("version", assets.version());
    byte[] body = json.writeValueAsBytes(out);
    headers(ex);
    ex.response().setStatus(200);
    ex.response().setHeader("Cache-Control", "no-store");
    ex.response().setContentType("application/json");
    ex.response().setContentLength(body.length);
    ex.response().getOutputStream().write(body);
  }

  private static void requireRead(Exchange ex) {
    if (!ex.method().equals("GET") && !ex.method().equals("HEAD")) {
      throw FhirException.methodNotAllowed(ex.method() + " is not allowed here; use GET", "GET", "HEAD");
    }
  }

  private void send(Exchange ex, AppAssets.Asset asset, String cacheControl) throws IOException {
    boolean gzip = acceptsGzip(ex.header("Accept-Encoding"));
    String etag = gzip ? asset.gzipEtag() : asset.etag();
    headers(ex);
    ex.response().setHeader("Cache-Control", cacheControl);
    ex.response().setHeader("ETag", etag);
    ex.response().setHeader("Vary", "Accept-Encoding");
    // parsed and compared as a Binary's content is: every field line, as one list of entity tags
    if (StorageResponder.ifNoneMatchHolds(ex.request(),
        EntityTag.tryParse(etag).orElseThrow(() -> new IllegalStateException("asset without a valid entity tag")))
        .orElse(false)) {
      ex.response().setStatus(304);
      ex.response().flushBuffer(); // no Content-Length: the container's 0 is forbidden (RFC 9110 §8.6)
      return;
    }
    byte[] body = gzip ? asset.gzip() : asset.plain();
    ex.response().setStatus(200);
    ex.response().setContentType(asset.contentType());
    if (gzip) {
      ex.response().setHeader("Content-Encoding", "gzip");
    }
    ex.response().setContentLength(body.length);
    if (!ex.method().equals("HEAD")) {
      ex.response().getOutputStream().write(body);
    }
  }

  private void headers(Exchange ex) {
    ex.response().setHeader("Content-Security-Policy", storage.contentSecurityPolicy(ex.baseUrl(), ex.header("Host")));
    ex.response().setHeader("X-Content-Type-Options", "nosniff");
    ex.response().setHeader("X-Frame-Options", "DENY");
    // a page that opened the app keeps no handle to its window, which it could otherwise send to a
    // look-alike sign-in page while the person is away (HTML Living Standard §7.1.3, COOP)
    ex.response().setHeader("Cross-Origin-Opener-Policy", "same-origin");
    // the app's URLs never carry secrets, but signed URLs it shows must not leak through Referer
    ex.response().setHeader("Referrer-Policy", "no-referrer");
  }

  /** RFC 9110 §12.5.3: gzip unless refused with {@code q=0}. */
  static boolean acceptsGzip(String acceptEncoding) {
    if (acceptEncoding == null) {
      return false;
    }
    for (String part : acceptEncoding.split(",")) {
      String[] bits = part.strip().split(";");
      String coding = bits[0].strip().toLowerCase(Locale.ROOT);
      if (coding.equals("gzip") || coding.equals("x-gzip")) {
        for (int i = 1; i < bits.length; i++) {
          // RFC 9110 §12.4.2: "q" is case-insensitive
          String param = bits[i].strip().replace(" ", "").toLowerCase(Locale.ROOT);
          if (param.matches("q=0(\\.0*)?")) {
            return false;
          }
        }
        return true;
      }
    }
    return false;
  }
}
