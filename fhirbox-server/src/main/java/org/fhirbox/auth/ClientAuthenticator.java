package org.fhirbox.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;

/**
 * Authenticates OAuth2 clients by secret (client_secret_basic, client_secret_post, and HTTP Basic
 * on the FHIR API) or by a signed assertion (private_key_jwt, RFC 7523 and SMART Backend
 * Services), and slows down repeated failures ({@link AuthThrottle}).
 */
public final class ClientAuthenticator {
  /** RFC 7523 §2.2 client assertion type. */
  public static final String ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
  /** The algorithms an assertion may be signed with, as discovery documents list them. */
  public static final List<String> ASSERTION_ALGORITHMS = AssertionSignatures.ALGORITHMS.stream()
      .map(JWSAlgorithm::getName).toList();
  /** SMART Backend Services: the assertion's exp is at most five minutes ahead. */
  private static final Duration MAX_ASSERTION_LIFETIME = Duration.ofMinutes(5);
  private static final Duration CLOCK_SKEW = Duration.ofSeconds(30);

  private final ClientStore clients;
  private final ReplayGuard replays;
  private final AuthThrottle throttle;
  private final Audiences audiences;
  private final Clock clock;
  private final ClaimedText claimed;
  private final AssertionSignatures signatures;

  /** @param audiences what a {@code private_key_jwt} assertion may name as its {@code aud} */
  ClientAuthenticator(ClientStore clients, ReplayGuard replays, AuthThrottle throttle, Audiences audiences,
      Clock clock, ClaimedText claimed) {
    this(clients, replays, throttle, audiences, clock, claimed, new AssertionSignatures());
  }

  /** @param signatures checks the signatures of {@code private_key_jwt} assertions */
  ClientAuthenticator(ClientStore clients, ReplayGuard replays, AuthThrottle throttle, Audiences audiences,
      Clock clock, ClaimedText claimed, AssertionSignatures signatures) {
    this.signatures = signatures;
    this.claimed = claimed;
    this.clients = clients;
    this.replays = replays;
    this.throttle = throttle;
    this.audiences = audiences;
    this.clock = clock;
  }

  /** The enabled client whose secret this is. */
  public OAuthClient bySecret(String clientId, String secret, String remoteAddress) {
    return bySecret(clientId, secret, null, remoteAddress);
  }

  /**
   * The enabled client whose {@code Basic} credentials these are, as taken from the header. RFC
   * 6749 §2.3.1 has a client form-urlencode its id and secret before Base64, but many clients put
   * them in as they are, so both are accepted: the secret as sent is compared first, and only when
   * it does not match and decoding changes it, the decoded one; a secret with {@code +} or
   * {@code %} sent as it is keeps working. Both comparisons are one attempt, so the throttle and
   * the audit trail count a client refused either way once, and one accepted either way not at all.
   * This project's SDK ({@code Authorizer.basic}) and Medplum's JS client ({@code setBasicAuth})
   * put the secret in as it is. A secret this server generates ({@link PasswordHasher#newSecret})
   * is base64url ({@code A-Z a-z 0-9 - _}), which form-encoding leaves as it is, so for it both
   * readings are one; only a chosen secret (the bootstrap client's) can hold {@code %}, {@code +}
   * or other characters that decoding changes. A malformed percent-encoding is taken as sent only.
   * The id is taken decoded: ids hold only characters form-encoding leaves as they are, so an id
   * that decoding changes is no client's as sent, and the throttle counts every spelling of an id
   * as that id.
   */
  public OAuthClient byBasicCredentials(String clientId, String secret, String remoteAddress) {
    String id = formDecoded(clientId);
    String decodedSecret = formDecoded(secret);
    return bySecret(id != null ? id : clientId, secret, decodedSecret, remoteAddress);
  }

  /** {@code value} form-urldecoded, or null when decoding leaves it as it is or it is malformed. */
  private static String formDecoded(String value) {
    try {
      String decoded = URLDecoder.decode(value, StandardCharsets.UTF_8);
      return decoded.equals(value) ? null : decoded;
    } catch (IllegalArgumentException e) {
      return null; // a stray '%': the value can only have been sent as it is
    }
  }

  private OAuthClient bySecret(String clientId, String secret, String alternative, String remoteAddress) {
    try (AuthThrottle.Attempt attempt = admit(clientId, remoteAddress)) {
      Optional<OAuthClient> client = clients.verifySecret(clientId, secret, alternative);
      if (client.isEmpty()) {
        throw failed(attempt, clientId, "client authentication failed", "wrong client secret");
      }
      attempt.succeeded();
      return client.get();
    }
  }

  /**
   * The enabled public client {@code clientId} (SMART {@code client-public}: it sends its id and
   * no credentials, RFC 6749 §2.3). A confidential client named this way is refused: it must
   * authenticate.
   */
  public OAuthClient publicClient(String clientId, String remoteAddress) {
    // naming a public client is no authentication attempt: no throttle holds it back, so that no
    // one's failures, for this client or from this address, keep the client's people out
    Optional<OAuthClient> client = clientId == null ? Optional.empty()
        : clients.find(clientId).filter(c -> c.publicClient() && !c.disabled());
    if (client.isPresent()) {
      return client.get();
    }
    try (AuthThrottle.Attempt attempt = admit(clientId, remoteAddress)) {
      throw failed(attempt, clientId, "client authentication is required (client_secret_basic,"
          + " client_secret_post or private_key_jwt); only a public client sends client_id alone",
          "a confidential client sent client_id without credentials");
    }
  }

  /** The enabled client {@code clientId}, whatever its kind, without authentication (the authorize endpoint). */
  public Optional<OAuthClient> find(String clientId) {
    return clientId == null ? Optional.empty() : clients.find(clientId).filter(c -> !c.disabled());
  }

  /**
   * The enabled client that signed {@code assertion} with a key of its registered JWKS.
   * {@code clientIdParam} is the optional {@code client_id} form parameter, which must then match.
   */
  public OAuthClient byAssertion(String assertion, String clientIdParam, String remoteAddress) {
    SignedJWT jwt;
    JWTClaimsSet claims;
    try {
      jwt = SignedJWT.parse(assertion);
      claims = jwt.getJWTClaimsSet();
    } catch (ParseException e) {
      throw unadmitted(clientIdParam, remoteAddress, "client_assertion is not a signed JWT");
    }
    String clientId = claims.getIssuer();
    if (clientId == null || !clientId.equals(claims.getSubject())) {
      throw unadmitted(clientId != null ? clientId : claims.getSubject(), remoteAddress,
          "client_assertion needs iss and sub both equal to the client id");
    }
    if (clientIdParam != null && !clientIdParam.equals(clientId)) {
      throw unadmitted(clientId, remoteAddress, "client_id does not match the client_assertion issuer");
    }
    try (AuthThrottle.Attempt attempt = admit(clientId, remoteAddress)) {
      Optional<OAuthClient> found = clients.find(clientId);
      Optional<OAuthClient> client = found.filter(c -> !c.disabled());
      // the keys are read, and a signature checked, for an unknown or disabled client too (against
      // a decoy key, AssertionSignatures): neither the words of the answer nor its timing may tell
      // which ids are clients with keys until the signature holds (the audit trail keeps the reason)
      Optional<JWKSet> keys = clients.jwks(clientId).filter(k -> client.isPresent());
      if (!signatures.verify(jwt, keys) || client.isEmpty()) {
        throw failed(attempt, clientId, found, "client authentication failed", keys.isEmpty()
            ? "no JWK Set registered for private_key_jwt"
            : "client_assertion signature does not match a registered key");
      }
      List<String> aud = claims.getAudience();
      if (aud == null || aud.stream().noneMatch(audiences::isTokenEndpoint)) {
        throw failed(attempt, clientId, found, "client_assertion aud must be the token endpoint URL", null);
      }
      Instant now = clock.instant();
      Date exp = claims.getExpirationTime();
      if (exp == null || !exp.toInstant().plus(CLOCK_SKEW).isAfter(now)) {
        throw failed(attempt, clientId, found, "client_assertion has expired", null);
      }
      if (exp.toInstant().isAfter(now.plus(MAX_ASSERTION_LIFETIME).plus(CLOCK_SKEW))) {
        throw failed(attempt, clientId, found, "client_assertion exp is more than five minutes ahead", null);
      }
      Date nbf = claims.getNotBeforeTime();
      if (nbf != null && nbf.toInstant().isAfter(now.plus(CLOCK_SKEW))) {
        throw failed(attempt, clientId, found, "client_assertion is not valid yet", null);
      }
      String jti = claims.getJWTID();
      if (jti == null || jti.isBlank() || jti.length() > 255) {
        throw failed(attempt, clientId, found, "client_assertion needs a jti", null);
      }
      if (!replays.firstUse(clientId, jti, exp.toInstant().plus(CLOCK_SKEW))) {
        throw failed(attempt, clientId, found, "client_assertion jti was already used", null);
      }
      attempt.succeeded();
      return client.get();
    }
  }

  /** Admits one check of a client's credentials, or refuses it with the time to wait (see {@link AuthThrottle}). */
  private AuthThrottle.Attempt admit(String clientId, String remoteAddress) {
    AuthThrottle.Attempt attempt = throttle.begin(clientId, remoteAddress);
    if (attempt.retryAfterSeconds() > 0) {
      String message = "too many failed authentication attempts; retry later";
      boolean first = attempt.firstRefusal();
      // only the first refusal by a limit within a minute is recorded: only it needs the project
      Claim claim = first ? claim(clientId) : Claim.UNRECORDED;
      throw new ClientAuthException(message, attempt.retryAfterSeconds(), claim.recordedId(clientId, claimed),
          claim.project(), "throttled: " + message, first);
    }
    return attempt;
  }

  /**
   * A failed check, counted by {@code attempt} (for a public client, on the pair and the address
   * only); {@code reason} (for the audit trail) is null when the message says it all. An unknown
   * or disabled client is named as such in the reason only.
   */
  private ClientAuthException failed(AuthThrottle.Attempt attempt, String clientId, String message, String reason) {
    return failed(attempt, clientId, clientId == null ? Optional.empty() : clients.find(clientId), message, reason);
  }

  /** As {@link #failed(AuthThrottle.Attempt, String, String, String)}, with the client already looked up. */
  private ClientAuthException failed(AuthThrottle.Attempt attempt, String clientId, Optional<OAuthClient> client,
      String message, String reason) {
    if (client.isPresent() && client.get().publicClient()) {
      attempt.failedWithoutClient(); // a public client has no secret to guess: its callers are not held back
    } else {
      attempt.failed();
    }
    String why = client.isEmpty() ? "unknown client"
        : client.get().disabled() ? "client is disabled" : reason != null ? reason : message;
    return new ClientAuthException(message, 0, client.isPresent() ? clientId : claimed.clientId(clientId),
        client.map(OAuthClient::project).orElse(AuthModule.SERVER_PROJECT), why, true);
  }

  /**
   * A failure found before any client could be admitted (a malformed assertion): it counts against
   * the address only, and once the address is throttled it is refused as such, so that a flood
   * of malformed assertions is recorded in the audit trail once a minute, not once each.
   */
  private ClientAuthException unadmitted(String clientId, String remoteAddress, String message) {
    try (AuthThrottle.Attempt attempt = throttle.begin(null, remoteAddress)) {
      if (attempt.retryAfterSeconds() > 0) {
        String throttled = "too many failed authentication attempts; retry later";
        boolean first = attempt.firstRefusal();
        Claim claim = first ? claim(clientId) : Claim.UNRECORDED;
        return new ClientAuthException(throttled, attempt.retryAfterSeconds(), claim.recordedId(clientId, claimed),
            claim.project(), "throttled: " + throttled, first);
      }
      attempt.failed();
    }
    Claim claim = claim(clientId);
    return new ClientAuthException(message, 0, claim.recordedId(clientId, claimed), claim.project(), message, true);
  }

  /**
   * Where a refusal naming {@code clientId} is recorded: the project of that client (disabled or
   * not), else the server's own; and whether the client exists, so that the id is kept as sent.
   * An id no client has is the caller's text, which may be a secret ({@link ClaimedText}).
   */
  private Claim claim(String clientId) {
    Optional<OAuthClient> client = clientId == null ? Optional.empty() : clients.find(clientId);
    return new Claim(client.map(OAuthClient::project).orElse(AuthModule.SERVER_PROJECT), client.isPresent());
  }

  private record Claim(String project, boolean known) {
    /** A refusal that is not recorded (a throttled one after the first): no look-up needed. */
    static final Claim UNRECORDED = new Claim(AuthModule.SERVER_PROJECT, false);

    String recordedId(String clientId, ClaimedText claimed) {
      return known ? clientId : claimed.clientId(clientId);
    }
  }
}
