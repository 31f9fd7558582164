package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Date;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.db.Database;
import org.fhirbox.testing.TestClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenServiceTest {
  @TempDir
  Path dir;
  private Database db;
  private final TestClock clock = new TestClock();
  private ClientStore clients;
  private UserStore users;
  private ECKey key;
  private TokenService tokens;
  private OAuthClient client;

  @BeforeEach
  void setUp() {
    db = AuthDb.open(dir);
    clients = new ClientStore(db, new PasswordHasher(), clock);
    PasswordHasher fast = new PasswordHasher(new SecureRandom(), 1_000);
    users = new UserStore(db, fast, new ClientStore(db, fast, clock), clock);
    key = new SigningKeyStore(db, clock).loadOrCreate();
    tokens = new TokenService(key, () -> AuthDb.BASE, Duration.ofSeconds(600), clock, clients::find, users::find,
        Duration.ofSeconds(60));
    client = clients.find(clients.create("p1", "system/*.cruds", false).clientId()).orElseThrow();
  }

  @AfterEach
  void tearDown() {
    db.close();
  }

  @Test
  void issuedTokenVerifiesToTheClientProjectAndScope() throws Exception {
    TokenService.IssuedToken t = tokens.issue(client, Scopes.parse("system/Patient.rs"));
    assertThat(t.expiresIn()).isEqualTo(600);
    assertThat(t.toString()).doesNotContain(t.accessToken());
    Principal p = tokens.verify(t.accessToken());
    assertThat(p.clientId()).isEqualTo(client.clientId());
    assertThat(p.project()).isEqualTo("p1");
    assertThat(p.access().allows("Patient", Interaction.READ)).isTrue();
    assertThat(p.access().allows("Patient", Interaction.CREATE)).isFalse();

    SignedJWT jwt = SignedJWT.parse(t.accessToken());
    assertThat(jwt.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.ES256);
    assertThat(jwt.getHeader().getKeyID()).isEqualTo(key.getKeyID());
    JWTClaimsSet c = jwt.getJWTClaimsSet();
    assertThat(c.getIssuer()).isEqualTo(AuthDb.BASE);
    assertThat(c.getSubject()).isEqualTo(client.clientId());
    assertThat(c.getStringClaim("client_id")).isEqualTo(client.clientId());
    assertThat(c.getStringClaim("project")).isEqualTo("p1");
    assertThat(c.getStringClaim("scope")).isEqualTo("system/Patient.rs");
    assertThat(c.getJWTID()).isNotBlank();
    assertThat(c.getExpirationTime().getTime() - c.getIssueTime().getTime()).isEqualTo(600_000);
  }

  private User user(String project, String email) {
    return users.create(project, email, "Someone", "Practitioner/1", "user/*.rs", false).orElseThrow();
  }

  private String userToken(User user) {
    return tokens.issue(client, Scopes.parse("user/*.rs"), Optional.of(user.id()), Optional.empty()).accessToken();
  }

  @Test
  void userAndPatientContextRoundTripThroughTheToken() {
    User user = user("p1", "u1@example.org");
    String token = tokens.issue(client, Scopes.parse("patient/Observation.rs"), Optional.of(user.id()),
        Optional.of("pat-7")).accessToken();
    Principal p = tokens.verify(token);
    assertThat(p.user()).contains(user.id());
    assertThat(p.patient()).contains("pat-7");
    Principal machine = tokens.verify(tokens.issue(client, Scopes.parse("system/Patient.rs")).accessToken());
    assertThat(machine.user()).isEmpty();
    assertThat(machine.patient()).isEmpty();
  }

  @Test
  void tokenIsRejectedOnceExpired() {
    String token = tokens.issue(client, client.allowedScopes()).accessToken();
    clock.advance(Duration.ofSeconds(599));
    assertThat(tokens.verify(token).clientId()).isEqualTo(client.clientId());
    clock.advance(Duration.ofSeconds(1));
    assertThatThrownBy(() -> tokens.verify(token))
        .isInstanceOf(TokenService.InvalidTokenException.class).hasMessageContaining("expired");
  }

  @Test
  void tamperedTokenIsRejected() {
    String token = tokens.issue(client, Scopes.parse("system/Patient.r")).accessToken();
    String[] parts = token.split("\\.");
    String payload = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
        .replace("system/Patient.r", "system/*.cruds");
    String forged = parts[0] + "." + Base64.getUrlEncoder().withoutPadding()
        .encodeToString(payload.getBytes(StandardCharsets.UTF_8)) + "." + parts[2];
    assertThatThrownBy(() -> tokens.verify(forged)).isInstanceOf(TokenService.InvalidTokenException.class)
        .message().doesNotContain(forged);
    assertThatThrownBy(() -> tokens.verify("not-a-jwt")).isInstanceOf(TokenService.InvalidTokenException.class);
  }

  @Test
  void tokenSignedByAnotherKeyWithOurKidIsRejected() throws Exception {
    ECKey other = new ECKeyGenerator(Curve.P_256).keyID(key.getKeyID()).generate();
    // typed and addressed as an access token, so that only the signature is wrong
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID())
        .type(new JOSEObjectType("at+jwt")).build(),
        new JWTClaimsSet.Builder().issuer(AuthDb.BASE).audience(TokenService.audienceOf(AuthDb.BASE))
            .subject(client.clientId()).claim("project", "p1")
            .claim("scope", "system/*.cruds admin").expirationTime(Date.from(clock.instant().plusSeconds(60))).build());
    jwt.sign(new ECDSASigner(other));
    assertThatThrownBy(() -> tokens.verify(jwt.serialize())).isInstanceOf(TokenService.InvalidTokenException.class)
        .hasMessageContaining("signature");
  }

  @Test
  void tokenFromAnotherIssuerIsRejected() {
    TokenService elsewhere = new TokenService(key, () -> "https://other.example/", Duration.ofSeconds(600), clock,
        clients::find, Duration.ofSeconds(60));
    String token = elsewhere.issue(client, client.allowedScopes()).accessToken();
    assertThatThrownBy(() -> tokens.verify(token)).hasMessageContaining("another server");
  }

  @Test
  void disabledClientsTokenStopsWorkingWithinTheStatusCacheWindow() {
    String token = tokens.issue(client, client.allowedScopes()).accessToken();
    assertThat(tokens.verify(token)).isNotNull();
    clients.disable(client.clientId());
    clock.advance(Duration.ofSeconds(30));
    // still inside the 60 s status cache: accepted without a database look-up
    assertThat(tokens.verify(token)).isNotNull();
    clock.advance(Duration.ofSeconds(30));
    assertThatThrownBy(() -> tokens.verify(token)).hasMessageContaining("disabled or unknown");
  }

  @Test
  void disabledUsersTokenStopsWorkingWithinTheStatusCacheWindow() {
    User user = user("p1", "gone@example.org");
    String token = userToken(user);
    assertThat(tokens.verify(token).user()).contains(user.id());
    users.disable(user.id());
    clock.advance(Duration.ofSeconds(59));
    assertThat(tokens.verify(token).user()).contains(user.id());
    clock.advance(Duration.ofSeconds(1));
    assertThatThrownBy(() -> tokens.verify(token)).isInstanceOf(TokenService.InvalidTokenException.class)
        .hasMessageContaining("user of the access token is disabled or unknown");
  }

  @Test
  void anEndedSignInsTokenStopsWorkingWithinTheStatusCacheWindowAndIsLookedUpOncePerWindow() {
    User user = user("p1", "signed-in@example.org");
    Set<String> ended = ConcurrentHashMap.newKeySet();
    AtomicInteger lookUps = new AtomicInteger();
    TokenService checking = new TokenService(key, () -> AuthDb.BASE, Duration.ofSeconds(600), clock, clients::find,
        users::find, id -> {
          lookUps.incrementAndGet();
          return ended.contains(id);
        }, Duration.ofSeconds(60));
    String token = checking.issue(client, Scopes.parse("user/*.rs"), Optional.of(user.id()), Optional.empty(),
        Optional.of("sign-in-1")).accessToken();
    String other = checking.issue(client, Scopes.parse("user/*.rs"), Optional.of(user.id()), Optional.empty(),
        Optional.of("sign-in-2")).accessToken();
    assertThat(checking.verify(token).user()).contains(user.id());
    assertThat(checking.verify(token).user()).contains(user.id());
    assertThat(lookUps).hasValue(1);
    ended.add("sign-in-1");
    clock.advance(Duration.ofSeconds(59));
    assertThat(checking.verify(token).user()).contains(user.id());
    clock.advance(Duration.ofSeconds(1));
    assertThatThrownBy(() -> checking.verify(token)).isInstanceOf(TokenService.InvalidTokenException.class)
        .hasMessageContaining("sign-in of the access token has ended");
    assertThat(checking.verify(other).user()).contains(user.id());
    // a token without a sign-in (a client's own) needs no look-up
    int before = lookUps.get();
    assertThat(checking.verify(checking.issue(client, client.allowedScopes()).accessToken())).isNotNull();
    assertThat(lookUps).hasValue(before);
  }

  @Test
  void tokensNamingAnUnknownUserOrOneOfAnotherProjectAreRefused() {
    assertThatThrownBy(() -> tokens.verify(userToken(new User("no-such-user", "p1", "x@example.org", "X",
        "Practitioner/1", "user/*.rs", false, false, true, clock.instant(), clock.instant(), clock.instant()))))
        .hasMessageContaining("user of the access token is disabled or unknown");
    User elsewhere = user("p2", "elsewhere@example.org");
    assertThatThrownBy(() -> tokens.verify(userToken(elsewhere)))
        .hasMessageContaining("user of the access token is disabled or unknown");
    TokenService withoutUsers = new TokenService(key, () -> AuthDb.BASE, Duration.ofSeconds(600), clock,
        clients::find, Duration.ofSeconds(60));
    User here = user("p1", "here@example.org");
    assertThat(tokens.verify(userToken(here)).user()).contains(here.id());
    assertThatThrownBy(() -> withoutUsers.verify(userToken(here))).isInstanceOf(TokenService.InvalidTokenException.class);
  }

  @Test
  void aUsersTokensIssuedBeforeTheirSessionsEndedStopWorkingWithinTheWindow() {
    User user = user("p1", "reset@example.org");
    String before = userToken(user);
    assertThat(tokens.verify(before).user()).contains(user.id());
    clock.advance(Duration.ofSeconds(5));
    users.endSessions(user.id());
    String after = userToken(user);
    clock.advance(Duration.ofSeconds(60));
    assertThatThrownBy(() -> tokens.verify(before)).hasMessageContaining("before the user's sessions ended");
    assertThat(tokens.verify(after).user()).contains(user.id());
  }

  @Test
  void aTokenIssuedInTheSecondTheSessionsEndedButBeforeThemStopsWorking() {
    User user = user("p1", "same-second@example.org");
    clock.advance(Duration.ofMillis(1000 - clock.instant().toEpochMilli() % 1000 + 100));
    String before = userToken(user);
    clock.advance(Duration.ofMillis(800));
    users.endSessions(user.id());
    clock.advance(Duration.ofMillis(50));
    String after = userToken(user);
    clock.advance(Duration.ofSeconds(60));

    assertThatThrownBy(() -> tokens.verify(before)).hasMessageContaining("before the user's sessions ended");
    assertThat(tokens.verify(after).user()).contains(user.id());
  }

  @Test
  void signingKeyIsSharedThroughTheDatabase() {
    ECKey again = new SigningKeyStore(db, clock).loadOrCreate();
    assertThat(again.getKeyID()).isEqualTo(key.getKeyID());
    TokenService otherNode = new TokenService(again, () -> AuthDb.BASE, Duration.ofSeconds(600), clock,
        clients::find, Duration.ofSeconds(60));
    String token = tokens.issue(client, client.allowedScopes()).accessToken();
    assertThat(otherNode.verify(token).project()).isEqualTo("p1");
  }

  @Test
  void theJwksPublishesTheAccessTokenKeyAndTheIdTokenKeyWithoutTheirPrivateParts() throws Exception {
    TokenKeys keys = new TokenKeys(new SigningKeyStore(db, clock));
    JWKSet published = JWKSet.parse(keys.jwks());

    assertThat(published.getKeys()).hasSize(2).allSatisfy(k -> {
      assertThat(k.isPrivate()).isFalse();
      assertThat(k.getKeyUse()).isEqualTo(KeyUse.SIGNATURE);
    });
    assertThat(published.getKeyByKeyId(key.getKeyID()).getAlgorithm()).isEqualTo(JWSAlgorithm.ES256);
    RSAKey rsa = (RSAKey) published.getKeyByKeyId(keys.rsa().getKeyID());
    assertThat(rsa.getAlgorithm()).isEqualTo(JWSAlgorithm.RS256);
    assertThat(rsa.size()).isGreaterThanOrEqualTo(2048);
    assertThat(rsa.getKeyID()).isNotEqualTo(key.getKeyID());
    assertThat(keys.jwks().toString()).doesNotContain("\"d\"", "\"p\"", "\"q\"");
    assertThat(new TokenKeys(new SigningKeyStore(db, clock)).rsa().getKeyID()).as("read back, not made again")
        .isEqualTo(rsa.getKeyID());
  }
}
