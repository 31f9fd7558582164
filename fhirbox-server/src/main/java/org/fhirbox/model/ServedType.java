package org.fhirbox.model;

import java.util.Locale;
import java.util.Set;
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
 *
 * <p>Inline is an allow list ({@link #isInline}): the types the web app previews (images but SVG,
 * audio, video, PDF) and a few that browsers only ever show as text (plain text, CSV, JSON).
 * Everything else is an attachment, also a type no list of dangerous ones names yet (a
 * {@code multipart/x-mixed-replace} stream, a new script or markup type).
 */
public record ServedType(String contentType, boolean attachment) {
  public static final String DEFAULT_TYPE = "application/octet-stream";
  private static final Pattern MEDIA_TYPE = Pattern.compile(
      "[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:\\s*;[ -+\\--~]*)?");
  private static final Set<String> INLINE_TYPES = Set.of("application/pdf", "text/plain", "text/csv",
      "application/json");

  /** The type that {@code stored} is served as, and whether it must be an attachment. */
  public static ServedType of(String stored) {
    String type = stored != null && MEDIA_TYPE.matcher(stored.strip()).matches() ? stored.strip() : DEFAULT_TYPE;
    return new ServedType(type, !isInline(type));
  }

  /**
   * Types a browser may show inline: {@code image/*} but SVG (a document that runs script),
   * {@code audio/*}, {@code video/*}, PDF, plain text, CSV and JSON; parameters do not matter.
   */
  public static boolean isInline(String contentType) {
    int semi = contentType.indexOf(';');
    String type = (semi < 0 ? contentType : contentType.substring(0, semi)).strip().toLowerCase(Locale.ROOT);
    if (type.startsWith("image/")) {
      return !type.equals("image/svg+xml");
    }
    return type.startsWith("audio/") || type.startsWith("video/") || INLINE_TYPES.contains(type);
  }
}
