package org.fhirbox.binary;

import org.fhirbox.core.FhirException;

/**
 * The one rule for what a Binary keeps beside its bytes, on every path that writes one (raw
 * upload, a JSON or XML body, a Bundle entry, tus, {@code $upload-url}, ingestion):
 * <ul>
 *   <li>its content type is a MIME type (RFC 9110 media-type: ASCII) and a FHIR {@code code}
 *       (datatypes.html#code: no line breaks); it is served as a {@code Content-Type} header and
 *       signed into upload URLs, so it must be printable ASCII, at most {@value #MAX_CHARS}
 *       characters;</li>
 *   <li>its file name has at most {@value #MAX_CHARS} characters as a user counts them: Unicode
 *       code points, not UTF-16 units (an emoji is one character).</li>
 * </ul>
 * The database keeps both in VARCHAR(255) columns (V1 migration), which count characters.
 */
public final class BinaryAttributes {
  public static final int MAX_CHARS = 255;

  private BinaryAttributes() {}

  /** Whether {@code s} is printable ASCII (space to {@code ~}): no control characters, no line breaks. */
  public static boolean printableAscii(String s) {
    return s.chars().allMatch(c -> c >= 0x20 && c < 0x7f);
  }

  /** The characters of {@code s} as a user counts them: code points. */
  public static int characters(String s) {
    return s.codePointCount(0, s.length());
  }

  /**
   * 400 unless {@code contentType} is printable ASCII of at most {@value #MAX_CHARS} characters;
   * {@code subject} names it in the diagnostic ({@code Binary.contentType}, {@code the Content-Type}),
   * {@code expression} (or null) is the FHIRPath. Null passes.
   */
  public static void requireContentType(String contentType, String subject, String expression) {
    if (contentType == null) {
      return;
    }
    if (!printableAscii(contentType)) {
      throw refusal(subject + " must be printable ASCII without line breaks, as a MIME type (RFC 9110 media-type,"
          + " such as image/png) and the Content-Type header it is served with are; got '" + shown(contentType) + "'",
          expression);
    }
    if (contentType.length() > MAX_CHARS) {
      throw refusal(subject + " has " + contentType.length() + " characters; at most " + MAX_CHARS + " are stored",
          expression);
    }
  }

  private static FhirException refusal(String diagnostics, String expression) {
    return expression == null ? FhirException.badRequest(diagnostics)
        : FhirException.badRequest(diagnostics, expression);
  }

  /** 400 when {@code filename} has more than {@value #MAX_CHARS} characters (code points); null passes. */
  public static void requireFilename(String filename) {
    if (filename != null && characters(filename) > MAX_CHARS) {
      throw FhirException.badRequest("the file name (_filename, or filename in Upload-Metadata or $upload-url) has "
          + characters(filename) + " characters; at most " + MAX_CHARS + " are stored");
    }
  }

  /** {@code s} with control and non-ASCII characters escaped as Java writes them, cut at 80 characters. */
  private static String shown(String s) {
    StringBuilder out = new StringBuilder();
    s.codePoints().limit(80).forEach(c -> {
      switch (c) {
        case '\r' -> out.append("\\r");
        case '\n' -> out.append("\\n");
        case '\t' -> out.append("\\t");
        default -> {
          if (c >= 0x20 && c < 0x7f) {
            out.append((char) c);
          } else {
            for (char unit : Character.toChars(c)) {
              out.append(String.format("\\u%04X", (int) unit));
            }
          }
        }
      }
    });
    return characters(s) > 80 ? out + "…" : out.toString();
  }
}
