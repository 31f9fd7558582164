package org.fhirbox.binary;

import org.fhirbox.core.FhirException;

/**
 * The one rule for what a Binary keeps beside its bytes, on every path that writes one (raw
 * upload, a JSON or XML body, a Bundle entry, tus, {@code $upload-url}, ingestion):
 * <ul>
 *   <li>its content type is a MIME type (RFC 9110 media-type: ASCII, {@code type/subtype} and
 *       parameters) and a FHIR {@code code}
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
   * 400 unless {@code contentType} is printable ASCII of at most {@value #MAX_CHARS} characters and
   * a media type ({@link #mediaType});
   * {@code subject} names it in the diagnostic ({@code Binary.contentType}, {@code the Content-Type}),
   * {@code expression} (or null) is the issue's FHIRPath. Null passes.
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
    if (!mediaType(contentType)) {
      throw refusal(subject + " must be a MIME type, type/subtype with optional ;name=value parameters (RFC 9110"
          + " §8.3.1, such as image/png or text/plain; charset=utf-8); got '" + shown(contentType) + "'", expression);
    }
  }

  /**
   * Whether {@code s} is an RFC 9110 §8.3.1 {@code media-type}: {@code type "/" subtype
   * *( OWS ";" OWS [ parameter ] )}, each parameter {@code token "=" ( token / quoted-string )}
   * (FHIR R4 binds {@code Binary.contentType} to BCP 13 MIME types), and no range such as
   * {@code *}{@code /*} or {@code text/*}. Leading and trailing spaces pass.
   */
  static boolean mediaType(String s) {
    int[] at = {skipSpaces(s, 0)};
    int typeStart = at[0];
    if (!token(s, at) || !next(s, at, '/')) {
      return false;
    }
    int subtypeStart = at[0];
    if (!token(s, at)) {
      return false;
    }
    // "*" names a range of types in an Accept (RFC 9110 §12.5.1), never the type of some content
    if (s.substring(typeStart, subtypeStart - 1).equals("*") || s.substring(subtypeStart, at[0]).equals("*")) {
      return false;
    }
    while (true) {
      at[0] = skipSpaces(s, at[0]);
      if (at[0] == s.length()) {
        return true;
      }
      if (!next(s, at, ';')) {
        return false;
      }
      at[0] = skipSpaces(s, at[0]);
      if (at[0] == s.length() || s.charAt(at[0]) == ';') {
        continue; // an empty parameter, which the grammar allows
      }
      if (!token(s, at) || !next(s, at, '=') || !(quotedString(s, at) || token(s, at))) {
        return false;
      }
    }
  }

  private static int skipSpaces(String s, int i) {
    while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
      i++;
    }
    return i;
  }

  private static boolean next(String s, int[] at, char c) {
    if (at[0] < s.length() && s.charAt(at[0]) == c) {
      at[0]++;
      return true;
    }
    return false;
  }

  /** RFC 9110 §5.6.2 {@code token}: one or more of its characters. */
  private static boolean token(String s, int[] at) {
    int start = at[0];
    while (at[0] < s.length() && tchar(s.charAt(at[0]))) {
      at[0]++;
    }
    return at[0] > start;
  }

  private static boolean tchar(char c) {
    return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }

  /** RFC 9110 §5.6.4 {@code quoted-string}, of the printable ASCII already checked. */
  private static boolean quotedString(String s, int[] at) {
    if (!next(s, at, '"')) {
      return false;
    }
    while (at[0] < s.length()) {
      char c = s.charAt(at[0]++);
      if (c == '"') {
        return true;
      }
      if (c == '\\') {
        if (at[0] == s.length()) {
          return false;
        }
        at[0]++;
      }
    }
    return false;
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
