package org.fhirbox.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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
 *       (§2.1), the sign-in's access tokens at once on this node and within a minute on the others
 *       ({@code TokenService}). 200.
 *   <li>A valid access token of the calling client: {@code unsupported_token_type} (§2.2.1).
 *       Access tokens are self-contained JWTs that every node checks without a lookup of the
 *       token; they end when they expire ({@code FHIRBOX_TOKEN_TTL}) or when their sign-in ends,
 *       so revoke the refresh token to end a sign-in.
 *   <li>Anything else (unknown, expired, already revoked, or another client's token, live or
 *       not): 200, as §2.2 asks for an invalid token, and nothing is revoked.
 * </ul>
 *
 * <p>§2.1 lets the server refuse a token issued to another client with an error, but an error
 * only that token gets would tell whoever holds a copy of it (a stolen refresh token, useless
 * without its client's credentials) that it is live. For the caller it is as invalid as any
 * other token it was not issued, so it is answered as one, byte for byte.
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
      Map<String, String> form = OAuthRequest.form(ex, Set.of("token", "token_type_hint"));
      OAuthClient client = clients.authenticate(ex, form, true);
      String token = form.get("token");
      if (token == null) {
        throw OAuthError.badRequest("invalid_request", "token is required");
      }
      Optional<RefreshTokens.Grant> grant = refreshTokens.find(token)
          .filter(g -> g.clientId().equals(client.clientId()));
      if (grant.isPresent()) {
        refreshTokens.revokeFamily(grant.get().family());
        users.find(grant.get().userId())
            .ifPresent(u -> audit.revoked(ex.request().getRemoteAddr(), client.clientId(), u));
      } else if (isValidAccessTokenOf(token, client)) {
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

  private boolean isValidAccessTokenOf(String token, OAuthClient client) {
    try {
      return tokens.verify(token).clientId().equals(client.clientId());
    } catch (TokenService.InvalidTokenException e) {
      return false;
    }
  }
}
