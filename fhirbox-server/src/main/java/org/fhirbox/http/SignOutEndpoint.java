package org.fhirbox.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.audit.SignInListener;
import org.fhirbox.auth.RefreshTokens;
import org.fhirbox.auth.TokenService;
import org.fhirbox.auth.UserStore;

/**
 * {@code POST /oauth2/logout} with {@code Authorization: Bearer} (what Medplum's client's
 * {@code signOut()} sends, then forgetting its tokens once the answer is 2xx): the sign-in the
 * access token was issued for ends, as a revocation of its refresh token ends it
 * ({@link TokenRevocation}): its refresh tokens at once, its access tokens (this one included) at
 * once on this node and within a minute on the others. A sign-in without a refresh token ends too.
 * A client's own token (client credentials) has no sign-in to end: 200, and it stays valid until
 * it expires. Errors follow RFC 6750 §3, as at {@code /oauth2/userinfo}.
 */
final class SignOutEndpoint {
  private final TokenService tokens;
  private final RefreshTokens refreshTokens;
  private final UserStore users;
  private final SignInListener audit;
  private final ObjectMapper json;

  SignOutEndpoint(TokenService tokens, RefreshTokens refreshTokens, UserStore users, SignInListener audit,
      ObjectMapper json) {
    this.tokens = tokens;
    this.refreshTokens = refreshTokens;
    this.users = users;
    this.audit = audit;
    this.json = json;
  }

  void signOut(Exchange ex) throws IOException {
    try {
      if (!ex.method().equals("POST")) {
        throw new OAuthError(405, "invalid_request", "sign out with POST", Map.of("Allow", "POST"));
      }
      Optional<String> token = OAuthRequest.bearer(ex);
      if (token.isEmpty()) {
        OAuthRequest.writeChallenge(ex, json);
        return;
      }
      Optional<TokenService.TokenSignIn> signIn;
      try {
        signIn = tokens.signInOf(token.get());
      } catch (TokenService.InvalidTokenException e) {
        throw OAuthRequest.invalidToken(e.getMessage());
      }
      signIn.ifPresent(s -> {
        refreshTokens.endSignIn(s.id(), s.clientId(), s.user(), s.project(), s.scopes());
        users.find(s.user()).ifPresent(u -> audit.signedOut(ex.request().getRemoteAddr(), s.clientId(), u));
      });
      OAuthRequest.write(ex, json, 200, Map.of("ok", true), Map.of());
    } catch (OAuthError e) {
      OAuthRequest.write(ex, json, e);
    }
  }
}
