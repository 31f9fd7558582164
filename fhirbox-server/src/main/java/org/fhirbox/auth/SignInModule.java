package org.fhirbox.auth;

import java.time.Clock;
import java.util.function.Supplier;
import org.fhirbox.config.FhirboxConfig;
import org.fhirbox.db.Database;

/**
 * Builds sign-in for people (SMART App Launch: authorization code with PKCE, OpenID Connect) by
 * constructor on {@link AuthModule}'s users, password sign-in and refresh tokens
 * ({@code FHIRBOX_REFRESH_TOKEN_TTL} seconds from the sign-in, default 30 days; built there because
 * access-token verification asks them whether a sign-in has ended): the authorization requests
 * between pages, authorization codes and ID tokens (signed RS256 with the server's RSA key, living as long
 * as an access token). A stored authorization request is started at most
 * {@code FHIRBOX_AUTHORIZE_REQUESTS_PER_MINUTE} times a minute per caller address
 * ({@link AddressRateLimiter}).
 */
public final class SignInModule {
  private final UserStore users;
  private final SignIn passwordSignIn;
  private final AuthorizationRequests requests;
  private final AddressRateLimiter requestLimiter;
  private final AuthorizationCodes codes;
  private final RefreshTokens refreshTokens;
  private final IdTokens idTokens;
  private final TokenKeys keys;

  public SignInModule(FhirboxConfig config, Database db, Clock clock, AuthModule auth) {
    this.users = auth.users();
    this.passwordSignIn = auth.signIn();
    this.requests = new AuthorizationRequests(db, clock);
    this.requestLimiter = new AddressRateLimiter(clock, config.getInt("FHIRBOX_AUTHORIZE_REQUESTS_PER_MINUTE"));
    this.refreshTokens = auth.refreshTokens();
    this.codes = new AuthorizationCodes(db, users, refreshTokens, clock);
    Supplier<String> issuer = auth.issuer();
    this.keys = auth.keys();
    this.idTokens = new IdTokens(keys, issuer,
        config.seconds("FHIRBOX_TOKEN_TTL"), clock);
  }

  /** The people who sign in (tests and the admin API create them here). */
  public UserStore users() {
    return users;
  }

  /** Email and password, throttled per account and per address (the same {@link SignIn} as {@link AuthModule}'s). */
  public SignIn passwordSignIn() {
    return passwordSignIn;
  }

  public AuthorizationRequests requests() {
    return requests;
  }

  /** Admits each new authorization request, per caller address, before it is stored. */
  public AddressRateLimiter requestLimiter() {
    return requestLimiter;
  }

  public AuthorizationCodes codes() {
    return codes;
  }

  public RefreshTokens refreshTokens() {
    return refreshTokens;
  }

  public IdTokens idTokens() {
    return idTokens;
  }

  /** The keys of ID tokens and access tokens, which {@code /.well-known/jwks.json} publishes. */
  public TokenKeys keys() {
    return keys;
  }
}
