package org.fhirbox.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Issues and verifies access tokens as RFC 9068 profiles them: JWTs signed ES256 with the shared
 * server key ({@code kid} in the header) and typed {@code at+jwt} ({@code typ} in the header),
 * carrying {@code iss} (the base URL), {@code aud} ({@link #audienceOf}: the FHIR base under the
 * issuer), {@code sub} and {@code client_id} (Medplum's JS client reads {@code client_id}),
 * {@code project}, {@code scope}, {@code iat}, {@code exp} and {@code jti}, and for a person also
 * {@code user} (the user id) and {@code patient}. {@code sub} is the resource owner (RFC 9068
 * §2.2): the user id on a person's token, the client id on a client's own; {@code client_id}
 * always names the client, and is what verification looks the client up by. A token whose
 * {@code sub} is neither its user nor its client is refused. A token is accepted only with that type and
 * audience (RFC 9068 §4), so that an ID token, signed with the same key for a client registered
 * for ES256, or any other JWT of that key is never taken for an access token. On verify the
 * client's status, and the user's for a token that names one, is looked up at most once per
 * {@code statusTtl} (60 s in the server) per id, so the tokens of a disabled or deleted client or
 * user stop working within that time, as do a user's tokens issued before their sessions ended
 * ({@link User#sessionsSince()}, moved by a password reset).
 *
 * <p>A token issued to a person for a sign-in also carries that sign-in's id (its refresh-token
 * family) in the private claim {@value #SIGN_IN}; once the sign-in ends (its refresh token
 * revoked, a refresh token or the authorization code presented twice), the token is refused.
 * Whether a sign-in has ended is likewise looked up at most once per {@code statusTtl} per
 * sign-in, so its access tokens stop working within that time on every node, and at once on the
 * node that ended it ({@link #forgetSignIn}).
 */
public final class TokenService {
  /** The issue time in milliseconds, beside {@code iat}. */
  private static final String ISSUED_MS = "iat_ms";
  /** The id of the sign-in a person's token was issued for. */
  static final String SIGN_IN = "sign_in";
  /** RFC 9068 §2.1: the JOSE {@code typ} of an access token. */
  private static final JOSEObjectType ACCESS_TOKEN_TYPE = new JOSEObjectType("at+jwt");
  /** RFC 9068 §4 accepts the full media type too. */
  private static final String ACCESS_TOKEN_MEDIA_TYPE = "application/at+jwt";

  /** An issued token. {@link #toString()} hides the token. */
  public record IssuedToken(String accessToken, long expiresIn, String scope) {
    @Override
    public String toString() {
      return "IssuedToken[accessToken=***, expiresIn=" + expiresIn + ", scope=" + scope + "]";
    }
  }

  /** Why a token was refused; safe to show (never contains the token). */
  public static final class InvalidTokenException extends RuntimeException {
    InvalidTokenException(String message) {
      super(message);
    }
  }

  /** What the status look-up of one id found, and when. */
  private record Status<T>(Optional<T> found, long checkedAt) {}

  private final ECKey key;
  private final ECDSASigner signer;
  private final ECDSAVerifier verifier;
  private final Supplier<String> issuer;
  private final Duration ttl;
  private final Clock clock;
  private final Function<String, Optional<OAuthClient>> clients;
  private final Function<String, Optional<User>> users;
  private final long statusTtlMillis;
  private final ConcurrentHashMap<String, Status<OAuthClient>> clientStatuses = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Status<User>> userStatuses = new ConcurrentHashMap<>();
  /** Counts the {@code forget} calls: a look-up that began before one is not kept. */
  private final AtomicLong forgotten = new AtomicLong();
  private final Predicate<String> signInEnded;
  /** A sign-in's id, found (present) when the sign-in has ended. */
  private final ConcurrentHashMap<String, Status<String>> signInStatuses = new ConcurrentHashMap<>();

  /** Without users: a token that names a user is refused. */
  public TokenService(ECKey key, Supplier<String> issuer, Duration ttl, Clock clock,
      Function<String, Optional<OAuthClient>> clients, Duration statusTtl) {
    this(key, issuer, ttl, clock, clients, id -> Optional.empty(), statusTtl);
  }

  /**
   * @param issuer the server's base URL (may become known only once the server listens)
   * @param clients looks a client up by id (normally {@link ClientStore#find})
   * @param users looks a user up by id (normally {@link UserStore#find})
   */
  public TokenService(ECKey key, Supplier<String> issuer, Duration ttl, Clock clock,
      Function<String, Optional<OAuthClient>> clients, Function<String, Optional<User>> users, Duration statusTtl) {
    this(key, issuer, ttl, clock, clients, users, signIn -> false, statusTtl);
  }

  /**
   * @param signInEnded whether the sign-in of this id has ended (normally
   *     {@link RefreshTokens#familyRevoked})
   */
  public TokenService(ECKey key, Supplier<String> issuer, Duration ttl, Clock clock,
      Function<String, Optional<OAuthClient>> clients, Function<String, Optional<User>> users,
      Predicate<String> signInEnded, Duration statusTtl) {
    this.key = key;
    this.signInEnded = signInEnded;
    this.issuer = issuer;
    this.ttl = ttl;
    this.clock = clock;
    this.clients = clients;
    this.users = users;
    this.statusTtlMillis = statusTtl.toMillis();
    try {
      this.signer = new ECDSASigner(key);
      this.verifier = new ECDSAVerifier(key.toPublicJWK());
    } catch (JOSEException e) {
      throw new IllegalArgumentException("not a usable P-256 key", e);
    }
  }

  public IssuedToken issue(OAuthClient client, Scopes scopes) {
    return issue(client, scopes, Optional.empty(), Optional.empty());
  }

  /**
   * An access token for {@code client}; {@code user} is the id of the person who signed in, and
   * {@code patient} the launch context's Patient id that {@code patient/} scopes are limited to.
   */
  public IssuedToken issue(OAuthClient client, Scopes scopes, Optional<String> user, Optional<String> patient) {
    return issue(client, scopes, user, patient, Optional.empty());
  }

  /** As {@link #issue(OAuthClient, Scopes, Optional, Optional)}, for the sign-in {@code signIn}. */
  public IssuedToken issue(OAuthClient client, Scopes scopes, Optional<String> user, Optional<String> patient,
      Optional<String> signIn) {
    Instant now = clock.instant();
    JWTClaimsSet.Builder builder = new JWTClaimsSet.Builder();
    signIn.ifPresent(id -> builder.claim(SIGN_IN, id));
    user.ifPresent(u -> builder.claim("user", u));
    patient.ifPresent(p -> builder.claim("patient", p));
    JWTClaimsSet claims = builder
        .issuer(issuer.get())
        .audience(audienceOf(issuer.get()))
        // RFC 9068 §2.2: the resource owner when a person signed in, else the client itself
        .subject(user.orElse(client.clientId()))
        .claim("client_id", client.clientId())
        .claim("project", client.project())
        .claim("scope", scopes.toString())
        .issueTime(Date.from(now))
        // iat has whole seconds (RFC 7519 §2 NumericDate); this one tells a token issued just
        // before a user's sessions ended from one issued just after, within the same second
        .claim(ISSUED_MS, now.toEpochMilli())
        .expirationTime(Date.from(now.plus(ttl)))
        .jwtID(UUID.randomUUID().toString())
        .build();
    JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).type(ACCESS_TOKEN_TYPE)
        .build();
    SignedJWT jwt = new SignedJWT(header, claims);
    try {
      jwt.sign(signer);
    } catch (JOSEException e) {
      throw new IllegalStateException("could not sign an access token", e);
    }
    return new IssuedToken(jwt.serialize(), ttl.toSeconds(), scopes.toString());
  }

  /** A token whose signature was checked: what it grants, until when. */
  private record Verified(String clientId, String project, Scopes scopes, Instant issued,
      boolean issuedToTheMillisecond, Instant expires, Optional<String> user, Optional<String> patient,
      Optional<String> signIn) {}

  /**
   * Tokens whose signature is already verified. An ES256 check costs far more than the rest of a
   * small read, and a client sends the same token until it expires; expiry and the client's
   * status (at most a minute old) are still checked on every request.
   */
  private final Map<String, Verified> verified = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * Whether the token was issued before {@code ended}. Without the milliseconds claim (a token issued
   * before it was added), iat has whole seconds: a token issued within the second of {@code ended} is
   * taken as issued after it.
   */
  private static boolean issuedBefore(Verified v, Instant ended) {
    return v.issuedToTheMillisecond() ? v.issued().isBefore(ended) : v.issued().getEpochSecond() < ended.getEpochSecond();
  }

  /** The caller the token stands for; throws {@link InvalidTokenException} when it is not valid now. */
  public Principal verify(String token) {
    Verified v = verified.get(token);
    if (v == null) {
      v = verifySignatureAndClaims(token);
      if (verified.size() >= 10_000) {
        Instant now = clock.instant();
        verified.values().removeIf(x -> !x.expires().isAfter(now));
        if (verified.size() >= 10_000) {
          verified.clear();
        }
      }
      verified.put(token, v);
    }
    if (!v.expires().isAfter(clock.instant())) {
      verified.remove(token);
      throw new InvalidTokenException("the access token has expired");
    }
    Optional<OAuthClient> client = status(clientStatuses, clients, v.clientId());
    if (client.isEmpty() || client.get().disabled() || !client.get().project().equals(v.project())) {
      throw new InvalidTokenException("the client of the access token is disabled or unknown");
    }
    if (issuedBefore(v, client.get().tokensSince())) {
      throw new InvalidTokenException("the access token was issued before its client's secret was rotated or one of "
          + "its keys removed");
    }
    if (v.user().isPresent()) {
      Optional<User> user = status(userStatuses, users, v.user().get());
      if (user.isEmpty() || user.get().disabled() || !user.get().project().equals(v.project())) {
        throw new InvalidTokenException("the user of the access token is disabled or unknown");
      }
      if (issuedBefore(v, user.get().sessionsSince())) {
        throw new InvalidTokenException("the access token was issued before the user's sessions ended");
      }
    }
    if (v.signIn().isPresent() && status(signInStatuses,
        id -> signInEnded.test(id) ? Optional.of(id) : Optional.empty(), v.signIn().get()).isPresent()) {
      throw new InvalidTokenException("the sign-in of the access token has ended");
    }
    return new Principal(v.clientId(), v.project(), v.scopes(), v.user(), v.patient());
  }

  /** The sign-in a person's access token was issued for: its id, and whose it is. */
  public record TokenSignIn(String id, String clientId, String user, String project, Scopes scopes) {}

  /**
   * The sign-in {@code token} was issued for, if it was issued to a person for one (a client's own
   * token has none); throws {@link InvalidTokenException} when the token is not valid now, as
   * {@link #verify} does.
   */
  public Optional<TokenSignIn> signInOf(String token) {
    Principal p = verify(token);
    Verified v = verified.get(token);
    if (v == null) {
      v = verifySignatureAndClaims(token);
    }
    Verified of = v;
    return of.signIn().filter(id -> p.user().isPresent())
        .map(id -> new TokenSignIn(id, of.clientId(), p.user().get(), of.project(), of.scopes()));
  }

  private Verified verifySignatureAndClaims(String token) {
    SignedJWT jwt;
    JWTClaimsSet claims;
    try {
      jwt = SignedJWT.parse(token);
      claims = jwt.getJWTClaimsSet();
    } catch (ParseException e) {
      throw new InvalidTokenException("the access token is malformed");
    }
    JWSHeader h = jwt.getHeader();
    String type = h.getType() == null ? "" : h.getType().getType();
    // RFC 9068 §4; a media type is compared without regard to case (RFC 7515 §4.1.9)
    if (!type.equalsIgnoreCase(ACCESS_TOKEN_TYPE.getType()) && !type.equalsIgnoreCase(ACCESS_TOKEN_MEDIA_TYPE)) {
      throw new InvalidTokenException("the token is not an access token: its JOSE header typ must be at+jwt"
          + " (RFC 9068), as an ID token's is not");
    }
    if (!JWSAlgorithm.ES256.equals(h.getAlgorithm()) || !key.getKeyID().equals(h.getKeyID())) {
      throw new InvalidTokenException("the access token was not signed by this server");
    }
    try {
      if (!jwt.verify(verifier)) {
        throw new InvalidTokenException("the access token signature is invalid");
      }
    } catch (JOSEException e) {
      throw new InvalidTokenException("the access token signature is invalid");
    }
    Date exp = claims.getExpirationTime();
    if (exp == null || !exp.toInstant().isAfter(clock.instant())) {
      throw new InvalidTokenException("the access token has expired");
    }
    Date iat = claims.getIssueTime();
    if (!issuer.get().equals(claims.getIssuer())) {
      throw new InvalidTokenException("the access token was issued for another server");
    }
    String audience = audienceOf(issuer.get());
    if (claims.getAudience() == null || !claims.getAudience().contains(audience)) {
      throw new InvalidTokenException("the access token is not for this server: its aud must name " + audience);
    }
    Object client = claims.getClaim("client_id");
    Object project = claims.getClaim("project");
    Object scope = claims.getClaim("scope");
    if (!(client instanceof String clientId) || !(project instanceof String p) || !(scope instanceof String s)) {
      throw new InvalidTokenException("the access token lacks client_id, project or scope");
    }
    Scopes scopes = Scopes.tryParse(s)
        .orElseThrow(() -> new InvalidTokenException("the access token has a malformed scope"));
    Object user = claims.getClaim("user");
    Object patient = claims.getClaim("patient");
    Object signIn = claims.getClaim(SIGN_IN);
    if ((user != null && !(user instanceof String)) || (patient != null && !(patient instanceof String))
        || (signIn != null && !(signIn instanceof String))) {
      throw new InvalidTokenException("the access token has a malformed user, patient or sign-in claim");
    }
    String sub = claims.getSubject();
    // RFC 9068 §2.2: the user a person's token was issued to, or the client of its own token; a
    // person's token issued before sub named the user has its client there, and holds until it expires
    if (sub == null || !(sub.equals(user) || sub.equals(clientId))) {
      throw new InvalidTokenException("the access token's sub names neither its user nor its client");
    }
    if (user != null && iat == null) {
      throw new InvalidTokenException("the access token names a user but lacks iat");
    }
    Object issuedMs = claims.getClaim(ISSUED_MS);
    // the milliseconds claim counts only within iat's second, so that it cannot move a token's issue time elsewhere
    boolean precise = iat != null && issuedMs instanceof Number ms
        && ms.longValue() / 1000 == iat.toInstant().getEpochSecond();
    Instant issued = precise ? Instant.ofEpochMilli(((Number) issuedMs).longValue())
        : iat == null ? Instant.EPOCH : iat.toInstant();
    return new Verified(clientId, p, scopes, issued, precise, exp.toInstant(),
        Optional.ofNullable((String) user), Optional.ofNullable((String) patient), Optional.ofNullable((String) signIn));
  }

  /**
   * The {@code aud} of the access tokens of {@code issuer}: the FHIR base under it, which is what a
   * SMART app names as {@code aud} when it asks for a token (SMART App Launch, "Obtain
   * authorization code"). It follows the issuer rather than the URL a request came to, so that
   * every node that shares the issuer ({@code FHIRBOX_TOKEN_ISSUER}) accepts the tokens of the
   * others, whichever host name each is reached at.
   */
  public static String audienceOf(String issuer) {
    return Audiences.slashed(issuer) + "fhir/R4";
  }

  /**
   * Makes this node look client {@code clientId} up again at its next token: a change made here (a
   * disabled client, a rotated secret) counts at once; other nodes see it within the status TTL.
   */
  public void forgetClient(String clientId) {
    forgotten.incrementAndGet();
    clientStatuses.remove(clientId);
  }

  /** As {@link #forgetClient}, for the user {@code userId} (disabled, a password reset or set). */
  public void forgetUser(String userId) {
    forgotten.incrementAndGet();
    userStatuses.remove(userId);
  }

  /**
   * As {@link #forgetClient}, for the sign-in {@code signIn} (ended here: its refresh token
   * revoked, a refresh token or its code presented twice).
   */
  public void forgetSignIn(String signIn) {
    forgotten.incrementAndGet();
    signInStatuses.remove(signIn);
  }

  /** The client or user with {@code id}, looked up at most once per status TTL. */
  private <T> Optional<T> status(ConcurrentHashMap<String, Status<T>> statuses, Function<String, Optional<T>> lookUp,
      String id) {
    long now = clock.millis();
    Status<T> s = statuses.get(id);
    if (s == null || now - s.checkedAt() >= statusTtlMillis || now < s.checkedAt()) {
      if (statuses.size() > 10_000) {
        statuses.values().removeIf(x -> now - x.checkedAt() >= statusTtlMillis);
      }
      long before = forgotten.get();
      s = new Status<>(lookUp.apply(id), now);
      if (forgotten.get() == before) {
        statuses.put(id, s); // else a change came during the look-up, which may predate it
      }
    }
    return s.found();
  }
}
