package org.fhirbox.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.fhirbox.auth.Principal;
import org.fhirbox.auth.Scopes;
import org.fhirbox.auth.TokenService;
import org.fhirbox.auth.User;
import org.fhirbox.auth.UserStore;

/**
 * The OpenID Connect UserInfo endpoint (OIDC Core §5.3), {@code GET} or {@code POST
 * /oauth2/userinfo} with an access token that a person's sign-in granted {@code openid}.
 * Claims: {@code sub} (the user id, as in the ID token) always; {@code name} and {@code email}
 * with {@code profile} (fhirbox has no separate {@code email} scope); {@code fhirUser} (absolute
 * URL, under the FHIR base the access tokens are for, as in the ID token) with {@code fhirUser}. Errors follow RFC 6750 §3: 401 {@code invalid_token}, 403
 * {@code insufficient_scope}.
 */
final class UserInfoEndpoint {
  private final TokenService tokens;
  private final UserStore users;
  private final Supplier<String> issuer;
  private final ObjectMapper json;

  UserInfoEndpoint(TokenService tokens, UserStore users, Supplier<String> issuer, ObjectMapper json) {
    this.tokens = tokens;
    this.users = users;
    this.issuer = issuer;
    this.json = json;
  }

  void userInfo(Exchange ex) throws IOException {
    try {
      if (!List.of("GET", "HEAD", "POST").contains(ex.method())) {
        throw new OAuthError(405, "invalid_request", "use GET or POST", Map.of("Allow", "GET, HEAD, POST"));
      }
      Optional<String> token = OAuthRequest.bearer(ex);
      if (token.isEmpty()) {
        OAuthRequest.writeChallenge(ex, json);
        return;
      }
      Principal p;
      try {
        p = tokens.verify(token.get());
      } catch (TokenService.InvalidTokenException e) {
        throw OAuthRequest.invalidToken(e.getMessage());
      }
      Scopes scopes = p.access() instanceof Scopes s ? s : Scopes.parse("");
      if (p.user().isEmpty() || !scopes.has("openid")) {
        throw new OAuthError(403, "insufficient_scope", "the access token is not from a sign-in that granted openid",
            Map.of("WWW-Authenticate", "Bearer realm=\"fhirbox\", error=\"insufficient_scope\", scope=\"openid\""));
      }
      Optional<User> user = users.find(p.user().get()).filter(u -> !u.disabled());
      if (user.isEmpty()) {
        throw OAuthRequest.invalidToken("the user of the access token is disabled or unknown");
      }
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("sub", user.get().id());
      if (scopes.has("profile")) {
        body.put("name", user.get().name());
        body.put("email", user.get().email());
      }
      if (scopes.has("fhirUser")) {
        body.put("fhirUser", TokenService.audienceOf(issuer.get()) + "/" + user.get().fhirUser());
      }
      OAuthRequest.write(ex, json, 200, body, Map.of());
    } catch (OAuthError e) {
      OAuthRequest.write(ex, json, e);
    }
  }
}
