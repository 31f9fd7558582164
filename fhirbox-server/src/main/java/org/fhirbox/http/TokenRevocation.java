package org.fhirbox.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.audit.SignInListener;
import org.fhirbox.auth.OAuthClient;
import org.fhirbox.auth.RefreshTokens;
import org.fhirbox.auth.TokenService;
import org.fhirbox.auth.UserStore;

/**
 * RFC 7009 token revocation, {@code POST /oauth2/revoke} with {@code token} (and an optional
 * {@code token_type_hint}, which is not needed: the kinds cannot be confused). The client
 * authenticates as at the token endpoint; a public client sends its {@code client_id}.
 *
 * <ul>
 *   <li>A refresh token of the calling client: it and every token of the same sign-in are revoked
 *       (§2.1), the sign-in's access tokens within a minute ({@code TokenService}). 200.
 *   <li>A refresh token of another client: refused (§2.1), {@code invalid_grant}.
 *   <li>A valid access token: {@code unsupported_token_type} (§2.2.1). Access tokens are
 *       self-contained JWTs that every node checks without a lookup of the token; they end when
 *       they expire ({@code FHIRBOX_TOKEN_TTL}) or when their sign-in ends, so revoke the refresh
 *       token to end a sign-in.
 *   <li>Anything else (unknown, expired, already revoked): 200, as §2.2 asks.
 * </ul>
 */
final class TokenRevocation {
  private final TokenClientAuth clients;
  private final RefreshTokens refreshTokens;
  private final TokenService tokens;
  private final UserStore users;
  private final SignInListener audit;
  private final ObjectMapper json;

  TokenRevocation(TokenClientAuth clients, RefreshTokens refreshTokens, TokenService tokens, UserStore users,
      SignInListener audit, ObjectMapper json) {
    this.clients = clients;
    this.refreshTokens = refreshTokens;
    this.tokens = tokens;
    this.users = users;
    this.audit = audit;
    this.json = json;
  }

  void revoke(Exchange ex) throws IOException {
    try {
      Map<String, String> form = OAuthRequest.form(ex);
      OAuthClient client = clients.authenticate(ex, form, true);
      String token = form.get("token");
      if (token == null) {
        throw OAuthError.badRequest("invalid_request", "token is required");
      }
      Optional<RefreshTokens.Grant> grant = refreshTokens.find(token);
      if (grant.isPresent()) {
        if (!grant.get().clientId().equals(client.clientId())) {
          throw OAuthError.invalidGrant("the token was issued to another client");
        }
        refreshTokens.revokeFamily(grant.get().family());
        users.find(grant.get().userId())
            .ifPresent(u -> audit.revoked(ex.request().getRemoteAddr(), client.clientId(), u));
      } else if (isValidAccessToken(token)) {
        throw OAuthError.badRequest("unsupported_token_type", "access tokens cannot be revoked; they expire on"
            + " their own. Revoke the refresh token to end the sign-in");
      }
      ex.response().setStatus(200);
      ex.response().setHeader("Cache-Control", "no-store");
      ex.response().setContentLength(0);
    } catch (OAuthError e) {
      OAuthRequest.write(ex, json, e);
    }
  }

  private boolean isValidAccessToken(String token) {
    try {
      tokens.verify(token);
      return true;
    } catch (TokenService.InvalidTokenException e) {
      return false;
    }
  }
}
