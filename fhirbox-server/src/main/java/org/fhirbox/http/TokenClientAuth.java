package org.fhirbox.http;

import java.util.Map;
import org.fhirbox.audit.ClientAuthListener;
import org.fhirbox.auth.ClientAuthException;
import org.fhirbox.auth.ClientAuthenticator;
import org.fhirbox.auth.OAuthClient;

/**
 * Finds the client calling an OAuth endpoint (token, revocation, introspection): a confidential
 * client authenticates by client_secret_basic, client_secret_post or private_key_jwt; a public
 * client, where allowed, names itself with {@code client_id} and nothing else (SMART App Launch:
 * "authentication is not possible (and thus not required)"). Failures are throttled as for
 * every client authentication. Every refused client authentication is told to the audit
 * listener (a throttled one only when it is the first refused by its limit within a minute).
 */
final class TokenClientAuth {
  private final ClientAuthenticator clients;
  private final ClientAuthListener audit;

  TokenClientAuth(ClientAuthenticator clients, ClientAuthListener audit) {
    this.clients = clients;
    this.audit = audit;
  }

  /**
   * How the request authenticates its client: {@code client_secret_basic}, {@code client_secret_post},
   * {@code private_key_jwt}, or {@code public} (client_id alone).
   */
  static String method(Exchange ex, Map<String, String> form) {
    String authorization = ex.header("Authorization");
    if (authorization != null && authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
      return "client_secret_basic";
    }
    if (form.containsKey("client_secret")) {
      return "client_secret_post";
    }
    boolean jwt = form.containsKey("client_assertion") || form.containsKey("client_assertion_type");
    return jwt ? "private_key_jwt" : "public";
  }

  /** Whether {@code clientId} is a client of {@code project} that is not disabled: one whose tokens may be used. */
  boolean isEnabled(String clientId, String project) {
    return clients.find(clientId).filter(c -> c.project().equals(project)).isPresent();
  }

  /** @param allowPublic whether a public client may call with only its {@code client_id} */
  OAuthClient authenticate(Exchange ex, Map<String, String> form, boolean allowPublic) {
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
      OAuthClient client = null;
      if (basic) {
        String[] idSecret = BearerAuthenticator.basicCredentials(authorization)
            .orElseThrow(() -> OAuthError.invalidClient("malformed Basic credentials"));
        client = clients.byBasicCredentials(idSecret[0], idSecret[1], remote);
      } else if (post) {
        String id = form.get("client_id");
        if (id == null) {
          throw OAuthError.badRequest("invalid_request", "client_secret needs client_id");
        }
        client = clients.bySecret(id, form.get("client_secret"), remote);
      } else if (jwt) {
        if (!ClientAuthenticator.ASSERTION_TYPE.equals(form.get("client_assertion_type"))
            || form.get("client_assertion") == null) {
          throw OAuthError.badRequest("invalid_request",
              "private_key_jwt needs client_assertion and client_assertion_type=" + ClientAuthenticator.ASSERTION_TYPE);
        }
        client = clients.byAssertion(form.get("client_assertion"), form.get("client_id"), remote);
      } else if (allowPublic && form.containsKey("client_id")) {
        client = clients.publicClient(form.get("client_id"), remote);
      }
      if (client == null) {
        throw OAuthError.invalidClient("client authentication is required (client_secret_basic, client_secret_post"
            + " or private_key_jwt" + (allowPublic ? "; a public client sends client_id" : "") + ")");
      }
      if (form.containsKey("client_id") && !form.get("client_id").equals(client.clientId())) {
        throw OAuthError.badRequest("invalid_request", "client_id differs from the authenticated client");
      }
      return client;
    } catch (ClientAuthException e) {
      if (e.toRecord()) {
        audit.refused(remote, e.clientId(), e.project(), method(ex, form), e.reason());
      }
      if (e.throttled()) {
        throw new OAuthError(429, "temporarily_unavailable", e.getMessage(),
            Map.of("Retry-After", Long.toString(e.retryAfterSeconds())));
      }
      throw OAuthError.invalidClient(e.getMessage());
    }
  }
}
