package org.fhirbox.http;

import java.util.Map;

/**
 * An OAuth2 error answered as JSON (RFC 6749 §5.2, RFC 7009 §2.2.1, RFC 7662 §2.3): the OAuth
 * endpoints speak OAuth, not OperationOutcome. The description is safe to show: never a token,
 * code or secret.
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
