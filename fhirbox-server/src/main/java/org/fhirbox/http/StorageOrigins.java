package org.fhirbox.http;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
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
    return String.format(POLICY, "'self' " + String.join(" ", origins(baseUrl)), appFolder(baseUrl));
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
    return (AppRoutes.appUrl(baseUrl) + "v/").replace(";", "%3B").replace(",", "%2C");
  }
}
