package org.fhirbox.http;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.audit.SignInListener;
import org.fhirbox.auth.AuthorizationCodes;
import org.fhirbox.auth.OAuthClient;
import org.fhirbox.auth.RefreshTokens;
import org.fhirbox.auth.Scopes;
import org.fhirbox.auth.SignInModule;
import org.fhirbox.auth.SignInScopes;
import org.fhirbox.auth.TokenService;
import org.fhirbox.auth.User;

/**
 * The token endpoint's grants for people (SMART App Launch, "Obtain access token" and "Refresh
 * access token"): {@code authorization_code} with PKCE, and {@code refresh_token}. The answer
 * carries the access token, its {@code scope}, {@code patient} for a patient launch, an
 * {@code id_token} when {@code openid} was granted, and a {@code refresh_token} when
 * {@code offline_access} was.
 */
final class UserGrants {
  private final TokenService tokens;
  private final AuthorizationCodes codes;
  private final RefreshTokens refreshTokens;
  private final SignInModule signIn;
  private final SignInListener audit;

  UserGrants(TokenService tokens, SignInModule signIn, SignInListener audit) {
    this.tokens = tokens;
    this.codes = signIn.codes();
    this.refreshTokens = signIn.refreshTokens();
    this.signIn = signIn;
    this.audit = audit;
  }

  /** RFC 6749 §4.1.3 with RFC 7636 §4.5: code, redirect_uri and code_verifier. */
  Map<String, Object> authorizationCode(Map<String, String> form, OAuthClient client) {
    for (String required : new String[] {"code", "redirect_uri", "code_verifier"}) {
      if (!form.containsKey(required)) {
        throw OAuthError.badRequest("invalid_request", required + " is required");
      }
    }
    AuthorizationCodes.Outcome outcome = codes.redeem(form.get("code"), client.clientId(), form.get("redirect_uri"),
        form.get("code_verifier"));
    if (outcome instanceof AuthorizationCodes.Outcome.Refused refused) {
      throw OAuthError.invalidGrant(refused.reason());
    }
    AuthorizationCodes.Outcome.Redeemed r = (AuthorizationCodes.Outcome.Redeemed) outcome;
    AuthorizationCodes.Grant g = r.grant();
    // as at a refresh, the registration as it is now is the ceiling: an admin may have changed it
    // while the person signed in. A code sent to a redirect URI removed since is used up and refused.
    if (!client.hasRedirectUri(g.redirectUri())) {
      throw OAuthError.invalidGrant("the redirect_uri of this code is no longer registered for the client");
    }
    Scopes granted = SignInScopes.forUser(SignInScopes.forClient(client, g.scopes()), r.user());
    if (granted.isEmpty()) {
      throw OAuthError.invalidGrant("none of the granted scopes is allowed for this client any more");
    }
    Map<String, Object> body = accessToken(client, r.user(), granted, g.patient(), r.family());
    // forClient keeps offline_access only while the registration lists it
    if (granted.has("offline_access")) {
      body.put("refresh_token", refreshTokens.issue(r.family(), client.clientId(), r.user(), granted, g.patient(),
          g.authTime()));
    }
    if (granted.has("openid")) {
      body.put("id_token", signIn.idTokens().issue(client, r.user(), granted, g.nonce(), g.authTime()));
    }
    return body;
  }

  /**
   * RFC 6749 §6. A {@code scope} parameter may only narrow the grant (SMART: "a strict sub-set
   * ... no new permissions"); the new refresh token keeps the family's scope (RFC 6749 §6: "MUST
   * be identical") except what the client's registration no longer allows: the registration is
   * the ceiling of every grant, and without {@code offline_access} in it the sign-in ends. The
   * access token is also cut to what the client and the user may have now.
   */
  Map<String, Object> refresh(Exchange ex, Map<String, String> form, OAuthClient client) {
    String token = form.get("refresh_token");
    if (token == null) {
      throw OAuthError.badRequest("invalid_request", "refresh_token is required");
    }
    Optional<Scopes> narrower = Optional.empty();
    if (form.containsKey("scope")) {
      // RFC 6749 §3.3: scopes this server does not serve are left out, as on the other grants
      Scopes.Requested asked = TokenEndpoint.requestedScope(form.get("scope"));
      if (asked.noneSupported()) {
        throw OAuthError.badRequest("invalid_scope", "none of the requested scopes is supported by this server");
      }
      Scopes requested = asked.supported();
      // checked before the token rotates, so a refused scope does not cost the app its token; only
      // against the calling client's own tokens, so another client learns nothing of one it holds
      Optional<RefreshTokens.Grant> held = refreshTokens.find(token)
          .filter(g -> g.clientId().equals(client.clientId()));
      if (held.isPresent() && !held.get().scopes().narrow(requested).equals(requested)) {
        throw OAuthError.badRequest("invalid_scope", "scope may only name scopes of the original grant");
      }
      // narrow() lets patient/ fit within user/, but patient/ scopes hold a token to the launch
      // patient (SMART App Launch), and a sign-in that chose none has no patient to hold it to
      if (held.isPresent() && held.get().patient().isEmpty() && SignInScopes.needsPatient(requested)) {
        throw OAuthError.badRequest("invalid_scope", "patient/ scopes need a launch patient, and this sign-in has"
            + " none: sign in again with launch/patient");
      }
      narrower = Optional.of(requested);
    }
    String address = ex.request().getRemoteAddr();
    Optional<RefreshTokens.Grant> presented = refreshTokens.active(token)
        .filter(held -> held.clientId().equals(client.clientId()));
    if (presented.isPresent() && SignInScopes.atRefresh(client, presented.get().scopes()).isEmpty()) {
      // the admin took offline_access from the app's registration: its sign-ins may not be refreshed any more
      refreshTokens.revokeFamily(presented.get().family());
      String reason = "the app is no longer registered for offline_access; every token of this sign-in is now revoked";
      audit.refreshed(address, client.clientId(), signIn.users().find(presented.get().userId()).orElse(null), reason);
      throw OAuthError.invalidGrant(reason);
    }
    // the family keeps only what the registration still allows, so a later widening does not restore it
    RefreshTokens.Outcome outcome = refreshTokens.rotate(token, client.clientId(),
        held -> SignInScopes.forClient(client, held));
    if (outcome instanceof RefreshTokens.Outcome.Refused refused) {
      audit.refreshed(address, client.clientId(), refused.user().orElse(null), refused.reason());
      throw OAuthError.invalidGrant(refused.reason());
    }
    RefreshTokens.Outcome.Rotated rotated = (RefreshTokens.Outcome.Rotated) outcome;
    RefreshTokens.Grant g = rotated.grant();
    // cut to the registration as it is now (SignInScopes#atRefresh), then to the user
    Scopes now = SignInScopes.forUser(SignInScopes.forClient(client, narrower.orElse(g.scopes())), rotated.user());
    Map<String, Object> body = accessToken(client, rotated.user(), now, g.patient(), g.family());
    body.put("refresh_token", rotated.token());
    audit.refreshed(address, client.clientId(), rotated.user(), null);
    return body;
  }

  /** An access token for the sign-in {@code family}, refused once the sign-in has ended. */
  private Map<String, Object> accessToken(OAuthClient client, User user, Scopes scopes, Optional<String> patient,
      String family) {
    TokenService.IssuedToken issued = tokens.issue(client, scopes, Optional.of(user.id()), patient,
        Optional.of(family));
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("access_token", issued.accessToken());
    body.put("token_type", "Bearer");
    body.put("expires_in", issued.expiresIn());
    body.put("scope", issued.scope());
    patient.ifPresent(p -> body.put("patient", p));
    return body;
  }
}
