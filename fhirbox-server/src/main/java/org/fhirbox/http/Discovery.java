package org.fhirbox.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.fhirbox.auth.Audiences;
import org.fhirbox.auth.ClientAuthenticator;
import org.fhirbox.auth.Scopes;
import org.fhirbox.auth.TokenKeys;

/**
 * The discovery documents: {@code /.well-known/smart-configuration} (SMART App Launch 2,
 * conformance.html; also under the FHIR base, where SMART looks), {@code
 * /.well-known/openid-configuration} (OpenID Connect Discovery 1.0 §3, at the issuer) and the
 * JWKS that verifies access and ID tokens. They list only what works.
 *
 * <p>Every endpoint is named under the issuer ({@code FHIRBOX_TOKEN_ISSUER}, else the base URL),
 * not under the base URL of the node that answers: RFC 8414 §3.3 and OpenID Connect Discovery §4.3
 * have a client fetch the document from its issuer and check that {@code issuer} is that URL, so
 * the issuer is the address a client reaches the server at, and the node's own base URL (one node
 * of several behind a load balancer) may be one it cannot reach. The {@code issuer} is the
 * {@code iss} of every token and authorization response.
 */
final class Discovery {
  /** SMART App Launch capabilities fhirbox implements (conformance.html "Capabilities"). */
  static final List<String> CAPABILITIES = List.of("launch-standalone", "authorize-post", "client-public",
      "client-confidential-symmetric", "client-confidential-asymmetric", "sso-openid-connect",
      "context-standalone-patient", "permission-offline", "permission-patient", "permission-user",
      "permission-v1", "permission-v2");
  private static final List<String> SCOPES = List.of("openid", "fhirUser", "profile", "launch/patient",
      "offline_access", "patient/*.cruds", "patient/*.rs", "patient/*.read", "patient/*.write", "user/*.cruds",
      "user/*.rs", "user/*.read", "user/*.write", "system/*.cruds", "system/*.rs", "system/*.read", "system/*.write",
      Scopes.ADMIN);
  /** What the token endpoint takes: a public client sends its client_id alone ({@code none}). */
  private static final List<String> AUTH_METHODS = List.of("client_secret_basic", "client_secret_post",
      "private_key_jwt", "none");
  private static final Map<String, String> CACHEABLE = Map.of("Cache-Control", "public, max-age=300");

  private final TokenKeys keys;
  private final Supplier<String> issuer;
  private final ObjectMapper json;

  Discovery(TokenKeys keys, Supplier<String> issuer, ObjectMapper json) {
    this.keys = keys;
    this.issuer = issuer;
    this.json = json;
  }

  /** {@code GET /.well-known/smart-configuration}: JSON whatever the Accept header (SMART conformance.html). */
  void smartConfiguration(Exchange ex) throws IOException {
    String base = base();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("issuer", issuer.get());
    body.put("jwks_uri", base + ".well-known/jwks.json");
    body.put("authorization_endpoint", base + "oauth2/authorize");
    body.put("token_endpoint", base + "oauth2/token");
    body.put("token_endpoint_auth_methods_supported", AUTH_METHODS);
    body.put("token_endpoint_auth_signing_alg_values_supported", ClientAuthenticator.ASSERTION_ALGORITHMS);
    body.put("grant_types_supported", List.of("authorization_code", "refresh_token", "client_credentials"));
    body.put("scopes_supported", SCOPES);
    body.put("response_types_supported", List.of("code"));
    body.put("introspection_endpoint", base + "oauth2/introspect");
    body.put("revocation_endpoint", base + "oauth2/revoke");
    body.put("userinfo_endpoint", base + "oauth2/userinfo");
    body.put("code_challenge_methods_supported", List.of("S256"));
    body.put("authorization_response_iss_parameter_supported", true);
    body.put("capabilities", CAPABILITIES);
    OAuthRequest.write(ex, json, 200, body, CACHEABLE);
  }

  /** {@code GET /.well-known/openid-configuration} (OpenID Connect Discovery 1.0 §3). */
  void openidConfiguration(Exchange ex) throws IOException {
    String base = base();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("issuer", issuer.get());
    body.put("authorization_endpoint", base + "oauth2/authorize");
    body.put("token_endpoint", base + "oauth2/token");
    body.put("userinfo_endpoint", base + "oauth2/userinfo");
    body.put("jwks_uri", base + ".well-known/jwks.json");
    body.put("revocation_endpoint", base + "oauth2/revoke");
    body.put("introspection_endpoint", base + "oauth2/introspect");
    body.put("scopes_supported", SCOPES);
    body.put("response_types_supported", List.of("code"));
    body.put("response_modes_supported", List.of("query"));
    body.put("grant_types_supported", List.of("authorization_code", "refresh_token", "client_credentials"));
    body.put("subject_types_supported", List.of("public"));
    // RS256 first: OpenID Connect Discovery §3 requires it, and it is what an ID token gets by default
    body.put("id_token_signing_alg_values_supported", List.of("RS256", "ES256"));
    body.put("token_endpoint_auth_methods_supported", AUTH_METHODS);
    body.put("token_endpoint_auth_signing_alg_values_supported", ClientAuthenticator.ASSERTION_ALGORITHMS);
    body.put("claims_supported", List.of("iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "fhirUser", "name",
        "email"));
    body.put("code_challenge_methods_supported", List.of("S256"));
    // RFC 9207 §3: every authorization response carries iss, so a client may refuse one without it
    body.put("authorization_response_iss_parameter_supported", true);
    body.put("request_parameter_supported", false);
    body.put("request_uri_parameter_supported", false); // OpenID Connect Discovery §3: true when left out
    body.put("claims_parameter_supported", false);
    OAuthRequest.write(ex, json, 200, body, CACHEABLE);
  }

  /** The issuer, ending in a slash: the base of every endpoint named. */
  private String base() {
    return Audiences.slashed(issuer.get());
  }

  /** {@code GET /.well-known/jwks.json}: the public keys that verify access tokens (ES256) and ID tokens (RS256). */
  void jwks(Exchange ex) throws IOException {
    OAuthRequest.write(ex, json, 200, keys.jwks(), CACHEABLE);
  }
}
