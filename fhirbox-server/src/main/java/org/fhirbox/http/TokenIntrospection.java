package org.fhirbox.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.text.ParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.fhirbox.auth.AuthModule;
import org.fhirbox.auth.OAuthClient;
import org.fhirbox.auth.Principal;
import org.fhirbox.auth.RefreshTokens;
import org.fhirbox.auth.TokenService;

/**
 * RFC 7662 token introspection, {@code POST /oauth2/introspect} with {@code token}. Who may ask
 * (§2.1 leaves it to the server, and asks that it be protected): a confidential client, about
 * its own tokens, authenticating as at the token endpoint; or an admin, about the tokens of its
 * project (an admin of project {@code default}: of every project), with an admin access token
 * ({@code Authorization: Bearer}) or as an admin client. Public clients may not: they cannot
 * authenticate, and hold their tokens anyway. A token the caller may not see, or that is not
 * valid now, is {@code {"active": false}} (§2.2).
 *
 * <p>An active access token shows {@code scope}, {@code client_id}, {@code sub} (the user who
 * signed in, else the client), {@code token_type}, {@code exp}, {@code iat}, {@code iss},
 * {@code aud}, {@code jti} and {@code patient}; a refresh token {@code scope}, {@code client_id}, {@code sub},
 * {@code exp} (its sign-in's end), {@code iat} and {@code patient}.
 */
final class TokenIntrospection {
  private final TokenClientAuth clients;
  private final TokenService tokens;
  private final RefreshTokens refreshTokens;
  private final Supplier<String> issuer;
  private final ObjectMapper json;

  /** Who is asking: a project, a client id, and whether it administers the project. */
  private record Caller(String project, String clientId, boolean admin) {
    boolean maySee(String tokenProject, String tokenClient) {
      if (admin) {
        return project.equals(AuthModule.SERVER_PROJECT) || project.equals(tokenProject);
      }
      return clientId.equals(tokenClient) && project.equals(tokenProject);
    }
  }

  TokenIntrospection(TokenClientAuth clients, TokenService tokens, RefreshTokens refreshTokens,
      Supplier<String> issuer, ObjectMapper json) {
    this.clients = clients;
    this.tokens = tokens;
    this.refreshTokens = refreshTokens;
    this.issuer = issuer;
    this.json = json;
  }

  void introspect(Exchange ex) throws IOException {
    try {
      Map<String, String> form = OAuthRequest.form(ex, Set.of("token", "token_type_hint"));
      Caller caller = caller(ex, form);
      String token = form.get("token");
      if (token == null) {
        throw OAuthError.badRequest("invalid_request", "token is required");
      }
      Map<String, Object> body = refreshToken(caller, token).or(() -> accessToken(caller, token))
          .orElseGet(() -> new LinkedHashMap<>(Map.of("active", false)));
      OAuthRequest.write(ex, json, 200, body, Map.of());
    } catch (OAuthError e) {
      OAuthRequest.write(ex, json, e);
    }
  }

  private Caller caller(Exchange ex, Map<String, String> form) {
    Optional<String> token = OAuthRequest.bearer(ex);
    if (token.isPresent()) {
      Principal p;
      try {
        p = tokens.verify(token.get());
      } catch (TokenService.InvalidTokenException e) {
        throw OAuthRequest.invalidToken(e.getMessage());
      }
      if (!p.access().isAdmin()) {
        throw new OAuthError(403, "insufficient_scope", "introspection with an access token needs the admin scope",
            Map.of("WWW-Authenticate", "Bearer realm=\"fhirbox\", error=\"insufficient_scope\", scope=\"admin\""));
      }
      return new Caller(p.project(), p.clientId(), true);
    }
    OAuthClient c = clients.authenticate(ex, form, false);
    return new Caller(c.project(), c.clientId(), c.allowedScopes().isAdmin());
  }

  private Optional<Map<String, Object>> refreshToken(Caller caller, String token) {
    // RFC 7662 §2.2: active means usable now; the token endpoint refuses a disabled client's token
    return refreshTokens.active(token).filter(g -> caller.maySee(g.project(), g.clientId()))
        .filter(g -> clients.isEnabled(g.clientId(), g.project())).map(g -> {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("active", true);
      out.put("scope", g.scopes().toString());
      out.put("client_id", g.clientId());
      out.put("sub", g.userId());
      out.put("iss", issuer.get());
      out.put("exp", g.expires().getEpochSecond());
      out.put("iat", g.issued().getEpochSecond());
      g.patient().ifPresent(p -> out.put("patient", p));
      return out;
    });
  }

  private Optional<Map<String, Object>> accessToken(Caller caller, String token) {
    Principal p;
    JWTClaimsSet claims;
    try {
      p = tokens.verify(token);
      claims = SignedJWT.parse(token).getJWTClaimsSet();
    } catch (TokenService.InvalidTokenException | ParseException e) {
      return Optional.empty();
    }
    if (!caller.maySee(p.project(), p.clientId())) {
      return Optional.empty();
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("active", true);
    out.put("scope", claims.getClaim("scope"));
    out.put("client_id", p.clientId());
    out.put("sub", p.user().orElse(p.clientId()));
    out.put("token_type", "Bearer");
    out.put("exp", claims.getExpirationTime().toInstant().getEpochSecond());
    if (claims.getIssueTime() != null) {
      out.put("iat", claims.getIssueTime().toInstant().getEpochSecond());
    }
    out.put("iss", claims.getIssuer());
    // RFC 7662 §2.2: a string when there is one audience, as there is in the tokens this server issues
    out.put("aud", claims.getAudience().size() == 1 ? claims.getAudience().get(0) : claims.getAudience());
    out.put("jti", claims.getJWTID());
    p.patient().ifPresent(id -> out.put("patient", id));
    return Optional.of(out);
  }
}
