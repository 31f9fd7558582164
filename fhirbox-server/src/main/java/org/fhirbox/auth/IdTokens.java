package org.fhirbox.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * OpenID Connect ID tokens (OIDC Core §2, §3.1.3.6), signed ES256 with the server's access-token
 * key, so the JWKS at {@code /.well-known/jwks.json} verifies both. Claims: {@code iss} (the token
 * issuer, as in the discovery documents), {@code sub} (the user's id), {@code aud} (the client
 * id), {@code iat}, {@code exp}, {@code auth_time} (when the person signed in), {@code nonce}
 * when the authorization request had one (§3.1.2.1: it must then be echoed), and SMART's
 * {@code fhirUser}, the absolute URL of the user's FHIR resource, when the {@code fhirUser} scope
 * was granted (SMART App Launch, "Scopes for requesting identity data").
 */
public final class IdTokens {
  private final ECKey key;
  private final ECDSASigner signer;
  private final Supplier<String> issuer;
  private final Duration ttl;
  private final Clock clock;

  public IdTokens(ECKey key, Supplier<String> issuer, Duration ttl, Clock clock) {
    this.key = key;
    this.issuer = issuer;
    this.ttl = ttl;
    this.clock = clock;
    try {
      this.signer = new ECDSASigner(key);
    } catch (JOSEException e) {
      throw new IllegalArgumentException("not a usable P-256 key", e);
    }
  }

  /** @param fhirBase the FHIR base URL (no trailing slash) that {@code fhirUser} is relative to */
  public String issue(String clientId, User user, Scopes granted, Optional<String> nonce, Instant authTime,
      String fhirBase) {
    Instant now = clock.instant();
    JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
        .issuer(issuer.get())
        .subject(user.id())
        .audience(clientId)
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plus(ttl)))
        .claim("auth_time", authTime.getEpochSecond());
    nonce.ifPresent(n -> claims.claim("nonce", n));
    if (granted.has("fhirUser")) {
      claims.claim("fhirUser", fhirBase + "/" + user.fhirUser());
    }
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID())
        .type(JOSEObjectType.JWT).build(), claims.build());
    try {
      jwt.sign(signer);
    } catch (JOSEException e) {
      throw new IllegalStateException("could not sign an ID token", e);
    }
    return jwt.serialize();
  }
}
