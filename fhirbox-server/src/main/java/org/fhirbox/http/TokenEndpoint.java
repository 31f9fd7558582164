package org.fhirbox.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.fhirbox.audit.ClientAuthListener;
import org.fhirbox.auth.OAuthClient;
import org.fhirbox.auth.Scopes;
import org.fhirbox.auth.TokenService;

/**
 * The OAuth2 token endpoint, {@code POST /oauth2/token}: {@code client_credentials} (SMART
 * Backend Services: the client's {@code system/} scopes and {@code admin}, never the {@code user/}
 * or {@code patient/} ones it may be registered with for sign-ins) here, {@code authorization_code} and {@code refresh_token} (SMART App Launch)
 * in {@link UserGrants}. Errors are OAuth2 error objects (RFC 6749 §5.2), not OperationOutcomes.
 * Each {@code client_credentials} token issued is told to the audit listener, with the client,
 * its authentication method, the caller's address and the scope granted.
 */
final class TokenEndpoint {
  /** Why a client registered without system/ scopes gets nothing by itself (also Basic on the FHIR API). */
  static final String NO_SYSTEM_SCOPES = "this client is registered with no system/ scopes, and without a person"
      + " signed in it gets only those (SMART Backend Services); its user/ and patient/ scopes need a sign-in"
      + " (authorization_code)";

  /** The parameters of the three grants (RFC 6749 §4.1.3, §4.4.2, §6; RFC 7636 §4.5), besides client authentication. */
  private static final Set<String> PARAMETERS = Set.of("grant_type", "scope", "code", "redirect_uri", "code_verifier",
      "refresh_token");

  private final TokenClientAuth clients;
  private final TokenService tokens;
  private final UserGrants userGrants;
  private final ObjectMapper json;
  private final ClientAuthListener audit;

  TokenEndpoint(TokenClientAuth clients, TokenService tokens, UserGrants userGrants, ObjectMapper json,
      ClientAuthListener audit) {
    this.audit = audit;
    this.clients = clients;
    this.tokens = tokens;
    this.userGrants = userGrants;
    this.json = json;
  }

  /** {@code POST /oauth2/token}. */
  void token(Exchange ex) throws IOException {
    try {
      Map<String, String> form = OAuthRequest.form(ex, PARAMETERS);
      String grant = form.get("grant_type");
      if (grant == null) {
        throw OAuthError.badRequest("invalid_request", "grant_type is required");
      }
      Map<String, Object> body = switch (grant) {
        case "client_credentials" -> clientCredentials(ex, form);
        case "authorization_code" -> userGrants.authorizationCode(form,
            clients.authenticate(ex, form, true));
        case "refresh_token" -> userGrants.refresh(ex, form, clients.authenticate(ex, form, true));
        default -> throw OAuthError.badRequest("unsupported_grant_type",
            "supported: client_credentials, authorization_code, refresh_token");
      };
      OAuthRequest.write(ex, json, 200, body, Map.of());
    } catch (OAuthError e) {
      OAuthRequest.write(ex, json, e);
    }
  }

  /** The requested {@code scope}; {@code invalid_scope} when it breaks RFC 6749 §3.3's grammar. */
  static Scopes.Requested requestedScope(String scope) {
    try {
      return Scopes.parseRequested(scope);
    } catch (IllegalArgumentException e) {
      throw OAuthError.badRequest("invalid_scope", e.getMessage());
    }
  }

  private Map<String, Object> clientCredentials(Exchange ex, Map<String, String> form) {
    // RFC 6749 §3.3: scopes this server does not serve are left out; the answer's scope says what was granted
    Scopes.Requested asked = requestedScope(form.get("scope"));
    if (asked.noneSupported()) {
      throw OAuthError.badRequest("invalid_scope", "none of the requested scopes is supported by this server: "
          + String.join(" ", asked.unsupported()));
    }
    Scopes requested = asked.supported();
    OAuthClient client = clients.authenticate(ex, form, false);
    // SMART Backend Services: a client acting for itself gets system/ scopes only (see withoutPerson)
    Scopes allowed = client.allowedScopes().withoutPerson();
    if (allowed.isEmpty()) {
      throw OAuthError.badRequest("invalid_scope", NO_SYSTEM_SCOPES);
    }
    // withoutPerson again: narrow() lets a patient/ scope fit within a system/ one, but without a
    // sign-in there is no launch patient to hold it to, and the token could use it nowhere
    Scopes granted = allowed.narrow(requested).withoutPerson();
    if (!requested.isEmpty() && granted.isEmpty()) {
      throw OAuthError.badRequest("invalid_scope", "none of the requested scopes is allowed for this client"
          + " without a person signed in (client_credentials grants only the client's system/ scopes)");
    }
    TokenService.IssuedToken issued = tokens.issue(client, granted);
    audit.tokenIssued(ex.request().getRemoteAddr(), client.clientId(), client.project(),
        TokenClientAuth.method(ex, form), issued.scope());
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("access_token", issued.accessToken());
    body.put("token_type", "Bearer");
    body.put("expires_in", issued.expiresIn());
    body.put("scope", issued.scope());
    return body;
  }
}
