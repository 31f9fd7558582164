package org.fhirbox.http;

import org.fhirbox.auth.ClientAuthException;
import org.fhirbox.auth.OAuthClient;
import org.fhirbox.auth.Scopes;
import org.fhirbox.auth.TokenService;
import org.fhirbox.auth.ClientAuthenticator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The OAuth2 token endpoint ({@code POST /oauth2/token}, client_credentials grant) and the SMART
 * discovery documents. Errors here are OAuth2 error objects (RFC 6749 §5.2), not OperationOutcomes.
 */
public final class TokenEndpoint {
  private static final int MAX_FORM_BYTES = 64 * 1024;
  private static final String BASIC_CHALLENGE = "Basic realm=\"fhirbox\"";

  /** An OAuth2 error response (RFC 6749 §5.2). */
  private static final class OAuthError extends RuntimeException {
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

    static OAuthError invalidClient(String description) {
      return new OAuthError(401, "invalid_client", description, Map.of("WWW-Authenticate", BASIC_CHALLENGE));
    }
  }

  private final ClientAuthenticator clients;
  private final TokenService tokens;
  private final ObjectMapper json;

  public TokenEndpoint(ClientAuthenticator clients, TokenService tokens, ObjectMapper json) {
    this.clients = clients;
    this.tokens = tokens;
    this.json = json;
  }

  /** {@code POST /oauth2/token}. */
  public void token(Exchange ex) throws IOException {
    try {
      TokenService.IssuedToken issued = issue(ex);
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("access_token", issued.accessToken());
      body.put("token_type", "Bearer");
      body.put("expires_in", issued.expiresIn());
      body.put("scope", issued.scope());
      write(ex, 200, body, Map.of());
    } catch (OAuthError e) {
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("error", e.error);
      body.put("error_description", e.getMessage());
      write(ex, e.status, body, e.headers);
    }
  }

  private TokenService.IssuedToken issue(Exchange ex) throws IOException {
    if (!ex.method().equals("POST")) {
      throw new OAuthError(405, "invalid_request", "use POST", Map.of("Allow", "POST"));
    }
    String type = ex.contentType();
    if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
      throw OAuthError.badRequest("invalid_request", "the body must be application/x-www-form-urlencoded");
    }
    Map<String, String> form = form(ex.request().getInputStream());
    String grant = form.get("grant_type");
    if (grant == null) {
      throw OAuthError.badRequest("invalid_request", "grant_type is required");
    }
    if (!grant.equals("client_credentials")) {
      throw OAuthError.badRequest("unsupported_grant_type", "only client_credentials is supported");
    }
    Scopes requested;
    try {
      requested = Scopes.parse(form.get("scope"));
    } catch (IllegalArgumentException e) {
      throw OAuthError.badRequest("invalid_scope", e.getMessage());
    }
    OAuthClient client = authenticate(ex, form);
    Scopes granted = client.allowedScopes().narrow(requested);
    if (!requested.isEmpty() && granted.isEmpty()) {
      throw OAuthError.badRequest("invalid_scope", "none of the requested scopes is allowed for this client");
    }
    return tokens.issue(client, granted);
  }

  private OAuthClient authenticate(Exchange ex, Map<String, String> form) {
    String authorization = ex.header("Authorization");
    boolean basic = authorization != null && authorization.regionMatches(true, 0, "Basic ", 0, 6);
    boolean post = form.containsKey("client_secret");
    boolean jwt = form.containsKey("client_assertion") || form.containsKey("client_assertion_type");
    // RFC 6749 §2.3: a client must not use more than one authentication method per request
    if ((basic ? 1 : 0) + (post ? 1 : 0) + (jwt ? 1 : 0) > 1) {
      throw OAuthError.badRequest("invalid_request", "use exactly one client authentication method");
    }
    String remote = ex.request().getRemoteAddr();
    try {
      if (basic) {
        String[] idSecret = BearerAuthenticator.basicCredentials(authorization)
            .orElseThrow(() -> OAuthError.invalidClient("malformed Basic credentials"));
        return clients.bySecret(idSecret[0], idSecret[1], remote);
      }
      if (post) {
        String id = form.get("client_id");
        if (id == null) {
          throw OAuthError.badRequest("invalid_request", "client_secret needs client_id");
        }
        return clients.bySecret(id, form.get("client_secret"), remote);
      }
      if (jwt) {
        if (!ClientAuthenticator.ASSERTION_TYPE.equals(form.get("client_assertion_type"))
            || form.get("client_assertion") == null) {
          throw OAuthError.badRequest("invalid_request",
              "private_key_jwt needs client_assertion and client_assertion_type=" + ClientAuthenticator.ASSERTION_TYPE);
        }
        return clients.byAssertion(form.get("client_assertion"), form.get("client_id"), remote);
      }
    } catch (ClientAuthException e) {
      if (e.throttled()) {
        throw new OAuthError(429, "temporarily_unavailable", e.getMessage(),
            Map.of("Retry-After", Long.toString(e.retryAfterSeconds())));
      }
      throw OAuthError.invalidClient(e.getMessage());
    }
    throw OAuthError.invalidClient("client authentication is required (client_secret_basic, client_secret_post"
        + " or private_key_jwt)");
  }

  /** Parses a form body; a parameter given twice is an error (RFC 6749 §3.1). */
  private static Map<String, String> form(InputStream in) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    byte[] chunk = new byte[4096];
    int n;
    while ((n = in.read(chunk)) >= 0) {
      if (buf.size() + n > MAX_FORM_BYTES) {
        throw OAuthError.badRequest("invalid_request", "the request body is too large");
      }
      buf.write(chunk, 0, n);
    }
    Map<String, String> out = new HashMap<>();
    for (String pair : buf.toString(StandardCharsets.US_ASCII).split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      try {
        String k = URLDecoder.decode(eq >= 0 ? pair.substring(0, eq) : pair, StandardCharsets.UTF_8);
        String v = URLDecoder.decode(eq >= 0 ? pair.substring(eq + 1) : "", StandardCharsets.UTF_8);
        if (out.put(k, v) != null) {
          throw OAuthError.badRequest("invalid_request", "parameter '" + k + "' is repeated");
        }
      } catch (IllegalArgumentException e) {
        throw OAuthError.badRequest("invalid_request", "the form body is malformed");
      }
    }
    out.values().removeIf(String::isEmpty);
    return out;
  }

  /** {@code GET /.well-known/smart-configuration} (SMART App Launch 2.x, Backend Services). */
  public void smartConfiguration(Exchange ex) throws IOException {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("issuer", ex.baseUrl());
    body.put("token_endpoint", clients.tokenEndpointUrl());
    body.put("jwks_uri", ex.baseUrl() + ".well-known/jwks.json");
    body.put("grant_types_supported", List.of("client_credentials"));
    body.put("token_endpoint_auth_methods_supported",
        List.of("client_secret_basic", "client_secret_post", "private_key_jwt"));
    body.put("token_endpoint_auth_signing_alg_values_supported", List.of("RS384", "ES384", "RS256", "ES256"));
    body.put("scopes_supported", List.of("system/*.cruds", "system/*.rs", "system/*.read", "system/*.write",
        Scopes.ADMIN));
    body.put("capabilities", List.of("client-confidential-symmetric", "client-confidential-asymmetric",
        "permission-v1", "permission-v2"));
    write(ex, 200, body, Map.of("Cache-Control", "public, max-age=300"));
  }

  /** {@code GET /.well-known/jwks.json}: the public keys that verify access tokens. */
  public void jwks(Exchange ex) throws IOException {
    write(ex, 200, tokens.jwks(), Map.of("Cache-Control", "public, max-age=300"));
  }

  private void write(Exchange ex, int status, Object body, Map<String, String> headers) throws IOException {
    var resp = ex.response();
    resp.setStatus(status);
    resp.setContentType("application/json;charset=utf-8");
    if (!headers.containsKey("Cache-Control")) {
      // RFC 6749 §5.1: token responses (and errors) must not be cached
      resp.setHeader("Cache-Control", "no-store");
      resp.setHeader("Pragma", "no-cache");
    }
    headers.forEach(resp::setHeader);
    byte[] bytes = json.writeValueAsBytes(body);
    resp.setContentLength(bytes.length);
    resp.getOutputStream().write(bytes);
  }
}
