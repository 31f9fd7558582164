package org.fhirbox.http;

import java.util.Map;

/**
 * An OAuth2 error answered as JSON (RFC 6749 §5.2, RFC 7009 §2.2.1, RFC 7662 §2.3): the OAuth
 * endpoints speak OAuth, not OperationOutcome. The description is safe to show: never a token,
 * code or secret. Every {@code error_description} the server sends, here or in a redirect to an
 * app, goes through {@link #description}.
 */
final class OAuthError extends RuntimeException {
  static final String BASIC_CHALLENGE = "Basic realm=\"fhirbox\"";

  final int status;
  final String error;
  final Map<String, String> headers;

  OAuthError(int status, String error, String description, Map<String, String> headers) {
    super(description, null, false, false);
    this.status = status;
    this.error = error;
    this.headers = headers;
  }

  /**
   * {@code text} as an {@code error_description} may carry it (RFC 6749 §4.1.2.1, §5.2: only the
   * printable ASCII characters other than {@code "} and {@code \}): {@code §} becomes "section", a
   * horizontal ellipsis "...", {@code "} an apostrophe, {@code \} a slash, and any other character
   * (a control character, a letter outside ASCII in an echoed parameter or scope) {@code ?}.
   */
  static String description(String text) {
    if (text == null) {
      return "";
    }
    StringBuilder out = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); ) {
      int c = text.codePointAt(i);
      i += Character.charCount(c);
      if (c == '\u00a7') {
        out.append("section");
        if (i < text.length() && text.charAt(i) != ' ') {
          out.append(' ');
        }
      } else if (c == '\u2026') {
        out.append("...");
      } else if (c == '"') {
        out.append('\'');
      } else if (c == '\\') {
        out.append('/');
      } else if (c >= 0x20 && c <= 0x7E) {
        out.append((char) c);
      } else {
        out.append('?');
      }
    }
    return out.toString();
  }

  static OAuthError badRequest(String error, String description) {
    return new OAuthError(400, error, description, Map.of());
  }

  /** RFC 6749 §5.2: a failed client authentication is 401 with a challenge. */
  static OAuthError invalidClient(String description) {
    return new OAuthError(401, "invalid_client", description, Map.of("WWW-Authenticate", BASIC_CHALLENGE));
  }

  static OAuthError invalidGrant(String description) {
    return badRequest("invalid_grant", description);
  }
}
