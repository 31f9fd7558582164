package org.fhirbox.http;

import java.net.URI;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.fhirbox.signing.ObjectUrlSigner;
import org.fhirbox.signing.UrlOrigin;

/**
 * Where signed URLs point, as the web app needs to know it: this server's {@code /storage} route
 * and, with the {@code s3} or {@code cloudfront} signer, the bucket or the distribution. An
 * Attachment keeps an outside URL when ingestion is off for its project or failed; the app
 * previews (frames, plays, shows) only URLs under these places, and its Content-Security-Policy
 * lets images, media and frames come from their origins only, so a patient's page never loads
 * what another server chose to send, nor tells it that the chart was opened.
 */
final class StorageOrigins {
  private static final String POLICY = "default-src 'none'; script-src %2$s; style-src %2$s;"
      + " img-src %1$s; media-src %1$s; frame-src %1$s; connect-src 'self';"
      + " form-action 'self'; base-uri 'none'; frame-ancestors 'none'; object-src 'none'; manifest-src 'self';"
      + " require-trusted-types-for 'script'; trusted-types 'none'";

  /** A host name or IPv4 address, and a port: what a host-source can name. */
  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?");

  private final Optional<String> objectStoreUrl;
  private final Optional<String> objectStoreOrigin;

  StorageOrigins(Optional<ObjectUrlSigner> objectUrls) {
    this.objectStoreUrl = objectUrls.map(ObjectUrlSigner::urlPrefix);
    // made at start: a signer whose URLs give no origin stops the server, not the app's first page
    this.objectStoreOrigin = objectUrls.map(ObjectUrlSigner::origin);
  }

  /** Where this server's signed URLs start; a Binary id follows. */
  static String storageUrl(String baseUrl) {
    return baseUrl + "storage/";
  }

  /** Where the bucket's or distribution's signed URLs start, in the {@code s3} and {@code cloudfront} modes. */
  Optional<String> objectStoreUrl() {
    return objectStoreUrl;
  }

  /** The origins of both places: the server's public one first. */
  List<String> origins(String baseUrl) {
    Set<String> out = new LinkedHashSet<>();
    out.add(UrlOrigin.of(baseUrl));
    objectStoreOrigin.ifPresent(out::add);
    return List.copyOf(out);
  }

  /**
   * The app's CSP: script and style from the app's own folder only (no inline script, no
   * {@code eval}); images, media and the PDF frame from this origin and the places signed URLs
   * point to, and nowhere else; Trusted Types with no policy, so the browser refuses markup made
   * from a string ({@code innerHTML}) and a {@code javascript:} URL. Not {@code 'self'} for
   * script: anyone who may upload can store a {@code text/javascript} file on this origin, and a
   * {@code <script src>} runs it whatever its {@code Content-Disposition} says (CSP 3 §6.7.2.9: a
   * source with a path ending in "/" matches the URLs under it).
   */
  String contentSecurityPolicy(String baseUrl) {
    return contentSecurityPolicy(baseUrl, null);
  }

  /**
   * {@link #contentSecurityPolicy(String)} for a page the browser asked for under {@code host}
   * (its {@code Host} field, or null): the app's folder under that host too, so that the app runs
   * when opened at an address other than the base URL's ({@code 127.0.0.1} for {@code localhost},
   * say) rather than stopping at "Loading". A browser names the page's own host there, so the
   * source allows nothing but the app's own files as the page's origin serves them. Named
   * {@code http://}, which CSP 3 §6.7.2.8 lets match {@code https} too: behind a proxy that ends
   * TLS this server cannot tell the page's scheme.
   */
  String contentSecurityPolicy(String baseUrl, String host) {
    String folder = appFolder(baseUrl);
    String origin = UrlOrigin.of(baseUrl);
    String baseHost = origin.substring(origin.indexOf("://") + 3);
    if (host != null && !folder.equals("'self'") && !host.equalsIgnoreCase(baseHost)) {
      if (HOST.matcher(host).matches()) {
        String path = URI.create(AppRoutes.appUrl(baseUrl)).getRawPath();
        folder += " " + safe("http://" + host.toLowerCase(Locale.ROOT) + path + "v/");
      } else if (host.startsWith("[")) {
        folder = "'self'";
      }
    }
    return String.format(POLICY, "'self' " + String.join(" ", origins(baseUrl)), folder);
  }

  /**
   * {@code {base}app/v/} as a CSP source, whose path may hold no ";" or "," (CSP 3 §2.3.1); or
   * {@code 'self'} under an IPv6 literal, which no host-source can name: a source the browser
   * cannot use would allow no script at all.
   */
  private static String appFolder(String baseUrl) {
    if (baseUrl.contains("://[")) {
      return "'self'";
    }
    return safe(AppRoutes.appUrl(baseUrl) + "v/");
  }

  private static String safe(String source) {
    return source.replace(";", "%3B").replace(",", "%2C");
  }
}
