package org.fhirbox.http;

import java.nio.charset.StandardCharsets;

/**
 * A {@code Content-Disposition} response header (RFC 6266): inline or attachment, with an
 * optional filename sent both as an ASCII {@code filename} fallback and as the exact UTF-8
 * {@code filename*} (RFC 8187), which every current browser prefers.
 */
public record ContentDisposition(boolean attachment, String filename) {
  public ContentDisposition {
    filename = clean(filename);
  }

  public static ContentDisposition inline(String filename) {
    return new ContentDisposition(false, filename);
  }

  public static ContentDisposition attachment(String filename) {
    return new ContentDisposition(true, filename);
  }

  /** The same filename, as an attachment. */
  public ContentDisposition asAttachment() {
    return new ContentDisposition(true, filename);
  }

  /** E.g. {@code attachment; filename="a_b.pdf"; filename*=UTF-8''a%C3%A9b.pdf}. */
  public String headerValue() {
    String type = attachment ? "attachment" : "inline";
    if (filename == null) {
      return type;
    }
    return type + "; filename=\"" + asciiFallback(filename) + "\"; filename*=UTF-8''"
        + percentEncode(filename);
  }

  /** Keeps the last path segment and drops control characters; blank names become null. */
  private static String clean(String name) {
    if (name == null) {
      return null;
    }
    String last = name.substring(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
    StringBuilder out = new StringBuilder(last.length());
    last.codePoints()
        .filter(c -> !Character.isISOControl(c) && Character.getType(c) != Character.FORMAT)
        .forEach(out::appendCodePoint);
    String cleaned = out.toString().strip();
    return cleaned.isEmpty() || cleaned.equals(".") || cleaned.equals("..") ? null : cleaned;
  }

  /**
   * RFC 6266 §4.3: the quoted {@code filename} is for old clients; keep printable ASCII and
   * replace the rest, plus {@code "}, {@code \} and {@code %} (which some clients decode).
   */
  private static String asciiFallback(String name) {
    StringBuilder out = new StringBuilder(name.length());
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      out.append(c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%' ? c : '_');
    }
    return out.toString();
  }

  /** RFC 8187 §3.2.1 value-chars: attr-char stays, every other UTF-8 byte is %XX. */
  private static String percentEncode(String name) {
    StringBuilder out = new StringBuilder();
    for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (isAttrChar(c)) {
        out.append((char) c);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return out.toString();
  }

  private static boolean isAttrChar(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || "!#$&+-.^_`|~".indexOf(c) >= 0;
  }
}
