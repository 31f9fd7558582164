package org.fhirbox.http;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * The authorization endpoint's answers at the app's redirect URI: the code (RFC 6749 §4.1.2) or
 * the error (§4.1.2.1), each with the request's {@code state} and the server's {@code iss}, the
 * issuer of the discovery documents (RFC 9207 §2). A SMART app is launched against many
 * servers; {@code iss} lets it check which one answered before it sends the code and its PKCE
 * verifier to a token endpoint (the mix-up defence of RFC 9700 §4.4). The discovery documents say
 * so with {@code authorization_response_iss_parameter_supported}.
 */
final class AuthorizationResponses {
  private final Supplier<String> issuer;

  AuthorizationResponses(Supplier<String> issuer) {
    this.issuer = issuer;
  }

  /** {@code redirectUri} with the code and the state. */
  String code(String redirectUri, String code, String state) {
    return redirectUri + (redirectUri.contains("?") ? "&" : "?") + "code=" + enc(code) + "&state=" + enc(state)
        + "&iss=" + enc(issuer.get());
  }

  /** {@code redirectUri} with the error, its description and, when the request had one, the state. */
  String error(String redirectUri, String error, String description, String state) {
    return redirectUri + (redirectUri.contains("?") ? "&" : "?") + "error=" + enc(error) + "&error_description="
        + enc(OAuthError.description(description)) + (state == null ? "" : "&state=" + enc(state))
        + "&iss=" + enc(issuer.get());
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
