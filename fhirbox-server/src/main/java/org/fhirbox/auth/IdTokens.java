package org.fhirbox.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * OpenID Connect ID tokens (OIDC Core §2, §3.1.3.6), signed RS256 with the server's RSA key: OIDC
 * Core §3.1.3.7 lets a client that registered no algorithm expect RS256, and OpenID Connect
 * Discovery §3 makes RS256 the one algorithm every provider supports. The JWKS at
 * {@code /.well-known/jwks.json} publishes that key beside the ES256 key of access tokens. A client
 * registered with {@code id_token_signed_response_alg} ES256 ({@link ClientProfile#idTokenAlg()})
 * gets ID tokens signed with that ES256 key instead. Claims: {@code iss} (the token
 * issuer, as in the discovery documents), {@code sub} (the user's id), {@code aud} (the client
 * id), {@code iat}, {@code exp}, {@code auth_time} (when the person signed in), {@code nonce}
 * when the authorization request had one (§3.1.2.1: it must then be echoed), and SMART's
 * {@code fhirUser}, the absolute URL of the user's FHIR resource, when the {@code fhirUser} scope
 * was granted (SMART App Launch, "Scopes for requesting identity data").
 */
public final class IdTokens {
  private final TokenKeys keys;
  private final Supplier<String> issuer;
  private final Duration ttl;
  private final Clock clock;
  private final JWSSigner ecSigner;
  /** The signer of the RSA key, made on the first ID token (the key may not exist before). */
  private volatile JWSSigner rsaSigner;

  public IdTokens(TokenKeys keys, Supplier<String> issuer, Duration ttl, Clock clock) {
    this.keys = keys;
    this.issuer = issuer;
    this.ttl = ttl;
    this.clock = clock;
    try {
      this.ecSigner = new ECDSASigner(keys.ec());
    } catch (JOSEException e) {
      throw new IllegalArgumentException("not a usable P-256 key", e);
    }
  }

  /** Reads or makes the RSA key in the background, so that the ID token of a sign-in under way need not wait for it. */
  public void prepare() {
    keys.prepareRsa();
  }

  /**
   * The ID token of a sign-in. {@code fhirUser} is under the FHIR base the access tokens are for
   * ({@link TokenService#audienceOf} the issuer), whichever node or address issued it.
   */
  public String issue(OAuthClient client, User user, Scopes granted, Optional<String> nonce, Instant authTime) {
    Instant now = clock.instant();
    JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
        .issuer(issuer.get())
        .subject(user.id())
        .audience(client.clientId())
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plus(ttl)))
        .claim("auth_time", authTime.getEpochSecond());
    nonce.ifPresent(n -> claims.claim("nonce", n));
    if (granted.has("fhirUser")) {
      claims.claim("fhirUser", TokenService.audienceOf(issuer.get()) + "/" + user.fhirUser());
    }
    boolean ec = ClientProfile.ES256.equals(client.idTokenAlg());
    JWK key = ec ? keys.ec() : keys.rsa();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(ec ? JWSAlgorithm.ES256 : JWSAlgorithm.RS256)
        .keyID(key.getKeyID()).type(JOSEObjectType.JWT).build(), claims.build());
    try {
      jwt.sign(ec ? ecSigner : rsaSigner());
    } catch (JOSEException e) {
      throw new IllegalStateException("could not sign an ID token", e);
    }
    return jwt.serialize();
  }

  private JWSSigner rsaSigner() throws JOSEException {
    JWSSigner s = rsaSigner;
    if (s == null) {
      s = new RSASSASigner(keys.rsa());
      rsaSigner = s;
    }
    return s;
  }
}
