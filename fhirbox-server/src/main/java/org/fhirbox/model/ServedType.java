package org.fhirbox.model;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * How a stored Binary's content type is served to a browser, by every route that hands out its
 * bytes: our {@code /storage} and the object store's own answers to {@code s3} and
 * {@code cloudfront} signed URLs. {@code contentType} is the type sent; {@code attachment} is
 * true when the content must be downloaded, never shown as a page.
 *
 * <p>A stored type is sent as it is only when it is type, subtype and parameters without a comma,
 * which browsers take as a list of types of which the last wins (Fetch, "extract a MIME type"), so
 * that {@code image/png;x=,text/html} would be rendered as HTML. Anything else, and no type, is
 * sent as {@value #DEFAULT_TYPE}.
 */
public record ServedType(String contentType, boolean attachment) {
  public static final String DEFAULT_TYPE = "application/octet-stream";
  private static final Pattern MEDIA_TYPE = Pattern.compile(
      "[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:\\s*;[ -+\\--~]*)?");

  /** The type that {@code stored} is served as, and whether it must be an attachment. */
  public static ServedType of(String stored) {
    String type = stored != null && MEDIA_TYPE.matcher(stored.strip()).matches() ? stored.strip() : DEFAULT_TYPE;
    return new ServedType(type, isActive(type));
  }

  /**
   * Types a browser would execute or render as a document on the origin that serves them: HTML,
   * XHTML, SVG, any XML, JavaScript and every text type other than plain text and CSV.
   */
  public static boolean isActive(String contentType) {
    int semi = contentType.indexOf(';');
    String type = (semi < 0 ? contentType : contentType.substring(0, semi)).strip().toLowerCase(Locale.ROOT);
    if (type.equals("text/plain") || type.equals("text/csv")) {
      return false;
    }
    return type.startsWith("text/")
        || type.endsWith("/xml") || type.endsWith("+xml")
        || type.contains("javascript") || type.contains("ecmascript")
        || type.equals("application/x-shockwave-flash");
  }
}
