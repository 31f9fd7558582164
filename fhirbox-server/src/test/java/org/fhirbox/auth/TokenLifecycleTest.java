package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirbox.testing.Answers.comparable;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.testing.FormBrowser;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.SmartApp;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestClock;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What happens to a person's tokens after the sign-in: refresh-token rotation and its limits,
 * RFC 7009 revocation, RFC 7662 introspection and the OIDC UserInfo endpoint.
 */
class TokenLifecycleTest {
  private static final String PROJECT = "lifecycle";
  private static final String REDIRECT = "https://app.example.org/cb";
  private static final String SCOPE = "user/*.rs openid fhirUser offline_access";
  private static final TestClock clock = new TestClock();
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass(Map.of("FHIRBOX_REFRESH_TOKEN_TTL", "86400"), clock);
  private static TestServer server;
  private static ProjectClients clients;
  private static SmartApp publicApp;
  private static SmartApp confidentialApp;
  private static User user;

  @BeforeAll
  static void start() {
    server = fhirbox.server();
    clients = new ProjectClients(server);
    publicApp = SmartApp.register(server, PROJECT, SCOPE + " profile", true, true, REDIRECT);
    confidentialApp = SmartApp.register(server, PROJECT, SCOPE, false, true, REDIRECT);
    user = SmartApp.user(server, PROJECT, "lin@example.org", "Practitioner/lin", "user/*.rs");
  }

  /** A token of a new admin of the project. */
  private static String adminToken() {
    return clients.token(clients.create(PROJECT, "system/*.rs", true));
  }

  /** A new backend client of the project, no admin. */
  private static ProjectClients.Credentials backend() {
    return clients.create(PROJECT, "system/*.rs", false);
  }

  private static JsonNode signIn(SmartApp app, String scope) {
    HttpResponse<String> r = app.exchange(app.code(app.signIn(new FormBrowser(), scope, "lin@example.org", Map.of())));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return SmartApp.read(r.body());
  }

  private static void assertError(HttpResponse<String> r, int status, String error) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(SmartApp.read(r.body()).get("error").asText()).as(r.body()).isEqualTo(error);
  }

  private static JsonNode introspect(SmartApp as, String token) {
    HttpResponse<String> r = as.post("oauth2/introspect", Map.of("token", token));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return SmartApp.read(r.body());
  }

  @Test
  void reusingARotatedRefreshTokenEndsTheWholeChain() {
    JsonNode t1 = signIn(publicApp, SCOPE);
    String r1 = t1.get("refresh_token").asText();
    String r2 = SmartApp.read(publicApp.refresh(r1, Optional.empty()).body()).get("refresh_token").asText();
    String r3 = SmartApp.read(publicApp.refresh(r2, Optional.empty()).body()).get("refresh_token").asText();

    HttpResponse<String> reuse = publicApp.refresh(r1, Optional.empty());
    assertError(reuse, 400, "invalid_grant");
    assertThat(reuse.body()).contains("already used");
    // the newest token of the chain, never used, is revoked with it
    assertError(publicApp.refresh(r3, Optional.empty()), 400, "invalid_grant");
    // another sign-in's chain is untouched
    JsonNode other = signIn(publicApp, SCOPE);
    assertThat(publicApp.refresh(other.get("refresh_token").asText(), Optional.empty()).statusCode()).isEqualTo(200);
  }

  @Test
  void anAppWhoseRegistrationLacksOfflineAccessGetsNoRefreshTokenEvenWhenItAsks() {
    SmartApp online = SmartApp.register(server, PROJECT, "user/*.rs openid fhirUser", true, true, REDIRECT);
    JsonNode t = signIn(online, "user/*.rs openid offline_access");
    assertThat(t.has("refresh_token")).isFalse();
    assertThat(t.get("scope").asText().split(" ")).containsExactlyInAnyOrder("user/*.rs", "openid");
  }

  @Test
  void aRefreshTokenComesOnlyWithOfflineAccessAndBelongsToItsClient() {
    assertThat(signIn(publicApp, "user/*.rs openid").has("refresh_token")).isFalse();
    String refresh = signIn(publicApp, SCOPE).get("refresh_token").asText();
    assertError(confidentialApp.refresh(refresh, Optional.empty()), 400, "invalid_grant");
    // with a scope the token's grant does not hold, the same answer: another client learns
    // nothing of the token (that it exists, what it grants) from a scope refused
    assertError(confidentialApp.refresh(refresh, Optional.of("user/*.cruds")), 400, "invalid_grant");
    assertThat(publicApp.refresh(refresh, Optional.empty()).statusCode()).isEqualTo(200);
  }

  @Test
  void scopesTheServerDoesNotServeAreLeftOutOfASignInAndARefreshInsteadOfFailingThem() {
    // launch/encounter (no EHR launch), OpenID Connect's email, and a SMART v2 granular scope: the
    // granular one goes whole, never as user/Observation.rs, which would grant every category
    JsonNode t = signIn(publicApp, "user/Patient.rs openid offline_access launch/encounter email"
        + " user/Observation.rs?category=laboratory");
    assertThat(t.get("scope").asText()).isEqualTo("user/Patient.rs offline_access openid");
    HttpResponse<String> narrower = publicApp.refresh(t.get("refresh_token").asText(),
        Optional.of("user/Patient.r launch/encounter"));
    assertThat(narrower.statusCode()).as(narrower.body()).isEqualTo(200);
    JsonNode n = SmartApp.read(narrower.body());
    assertThat(n.get("scope").asText()).isEqualTo("user/Patient.r");
    assertError(publicApp.refresh(n.get("refresh_token").asText(), Optional.of("email launch/encounter")), 400,
        "invalid_scope");
  }

  @Test
  void aRefreshScopeWithCharactersOutsideTheScopeGrammarIsRefused() {
    String refresh = signIn(publicApp, "user/Patient.rs openid offline_access").get("refresh_token").asText();
    for (String scope : new String[] {"\u0000", "user/Patient.rs\topenid", "user/Patient.r\n"}) {
      HttpResponse<String> r = publicApp.refresh(refresh, Optional.of(scope));
      assertError(r, 400, "invalid_scope");
      assertThat(r.body()).contains("RFC 6749 section 3.3");
    }
    assertThat(publicApp.refresh(refresh, Optional.of("user/Patient.r")).statusCode()).isEqualTo(200);
  }

  @Test
  void aRefreshMayNarrowTheScopeButNotWidenIt() {
    String refresh = signIn(publicApp, "user/Patient.rs openid offline_access").get("refresh_token").asText();
    HttpResponse<String> wider = publicApp.refresh(refresh, Optional.of("user/*.rs"));
    assertError(wider, 400, "invalid_scope");
    // a refused scope does not cost the app its token
    HttpResponse<String> narrower = publicApp.refresh(refresh, Optional.of("user/Patient.r"));
    assertThat(narrower.statusCode()).as(narrower.body()).isEqualTo(200);
    JsonNode t = SmartApp.read(narrower.body());
    assertThat(t.get("scope").asText()).isEqualTo("user/Patient.r");
    // the new refresh token keeps the whole grant (RFC 6749 §6)
    HttpResponse<String> again = publicApp.refresh(t.get("refresh_token").asText(), Optional.empty());
    assertThat(SmartApp.read(again.body()).get("scope").asText()).isEqualTo("user/Patient.rs offline_access openid");
  }

  @Test
  void aRefreshOfASignInWithoutALaunchPatientCannotTurnItsScopesIntoPatientScopes() {
    String refresh = signIn(publicApp, "user/*.rs offline_access").get("refresh_token").asText();
    // patient/ scopes hold a token to its launch patient (SMART App Launch); this sign-in chose none
    HttpResponse<String> asPatient = publicApp.refresh(refresh, Optional.of("patient/*.rs"));
    assertError(asPatient, 400, "invalid_scope");
    assertThat(SmartApp.read(asPatient.body()).get("error_description").asText()).contains("patient");
    HttpResponse<String> still = publicApp.refresh(refresh, Optional.empty());
    assertThat(still.statusCode()).as(still.body()).isEqualTo(200);
  }

  private static void registerScope(SmartApp app, String scope) {
    HttpResponse<String> r = server.client().putJson("admin/clients/" + app.clientId() + "/scope",
        "{\"scope\":\"" + scope + "\"}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  @Test
  void aSignInUnderWayIsCutToTheRegistrationAsItIsWhenTheCodeIsExchanged() {
    SmartApp app = SmartApp.register(server, PROJECT, SCOPE, true, false, REDIRECT);
    FormBrowser browser = new FormBrowser();
    FormBrowser.Page consent = app.signIn(browser, SCOPE, "lin@example.org", Map.of());
    assertThat(consent.body()).contains("Allow access?");
    String code = app.code(browser.submit(consent, "oauth2/consent", Map.of("decision", "allow")));
    registerScope(app, "user/Patient.rs openid fhirUser");
    HttpResponse<String> r = app.exchange(code);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode t = SmartApp.read(r.body());
    assertThat(t.get("scope").asText().split(" ")).containsExactlyInAnyOrder("user/Patient.rs", "openid", "fhirUser");
    assertThat(t.has("refresh_token")).as(r.body()).isFalse();
    assertThat(t.has("id_token")).isTrue();
  }

  @Test
  void refreshTokensStopWhenTheAdminTakesOfflineAccessFromTheAppsRegistration() {
    SmartApp app = SmartApp.register(server, PROJECT, SCOPE, true, true, REDIRECT);
    String refresh = signIn(app, SCOPE).get("refresh_token").asText();
    registerScope(app, "user/*.rs openid fhirUser");
    assertError(app.refresh(refresh, Optional.empty()), 400, "invalid_grant");
    // the sign-in is over: registering offline_access again does not bring it back
    registerScope(app, SCOPE);
    assertError(app.refresh(refresh, Optional.empty()), 400, "invalid_grant");
  }

  @Test
  void aRefreshIsCutToTheAppsRegistrationAsItIsNow() {
    SmartApp app = SmartApp.register(server, PROJECT, "user/Patient.rs user/Observation.rs offline_access", true, true,
        REDIRECT);
    JsonNode t = signIn(app, "user/Patient.rs user/Observation.rs offline_access");
    assertThat(t.get("scope").asText()).contains("user/Observation.rs");
    registerScope(app, "user/Patient.rs offline_access");
    HttpResponse<String> r = app.refresh(t.get("refresh_token").asText(), Optional.empty());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(SmartApp.read(r.body()).get("scope").asText()).contains("user/Patient.rs")
        .doesNotContain("Observation");
  }

  @Test
  void aSignInCutByANarrowerRegistrationStaysCutWhenTheRegistrationIsWidenedAgain() {
    String scope = "user/Patient.rs user/Observation.rs offline_access";
    SmartApp app = SmartApp.register(server, PROJECT, scope, true, true, REDIRECT);
    String refresh = signIn(app, scope).get("refresh_token").asText();
    registerScope(app, "user/Patient.rs offline_access");
    HttpResponse<String> cut = app.refresh(refresh, Optional.empty());
    assertThat(cut.statusCode()).as(cut.body()).isEqualTo(200);
    registerScope(app, scope);
    HttpResponse<String> r = app.refresh(SmartApp.read(cut.body()).get("refresh_token").asText(), Optional.empty());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(SmartApp.read(r.body()).get("scope").asText()).contains("user/Patient.rs")
        .doesNotContain("Observation");
  }

  @Test
  void aSignInsRefreshTokensExpireWhateverTheRotation() {
    String refresh = signIn(publicApp, SCOPE).get("refresh_token").asText();
    clock.advance(Duration.ofHours(23));
    HttpResponse<String> rotated = publicApp.refresh(refresh, Optional.empty());
    assertThat(rotated.statusCode()).isEqualTo(200);
    clock.advance(Duration.ofHours(1).plusSeconds(1));
    HttpResponse<String> late = publicApp.refresh(SmartApp.read(rotated.body()).get("refresh_token").asText(),
        Optional.empty());
    assertError(late, 400, "invalid_grant");
    assertThat(late.body()).contains("expired");
  }

  @Test
  void revokingARefreshTokenEndsTheSignIn() throws Exception {
    JsonNode t = signIn(publicApp, SCOPE);
    String refresh = t.get("refresh_token").asText();
    String rotated = SmartApp.read(publicApp.refresh(refresh, Optional.empty()).body()).get("refresh_token").asText();

    assertThat(confidentialApp.post("oauth2/revoke", Map.of("token", rotated)).statusCode()).isEqualTo(200);
    HttpResponse<String> revoked = publicApp.post("oauth2/revoke", Map.of("token", rotated,
        "token_type_hint", "refresh_token"));
    assertThat(revoked.statusCode()).as(revoked.body()).isEqualTo(200);
    assertError(publicApp.refresh(rotated, Optional.empty()), 400, "invalid_grant");

    // RFC 7009 §2.2: an unknown or already revoked token is no error
    assertThat(publicApp.post("oauth2/revoke", Map.of("token", rotated)).statusCode()).isEqualTo(200);
    assertThat(publicApp.post("oauth2/revoke", Map.of("token", "no-such-token")).statusCode()).isEqualTo(200);
    // a valid access token is not revoked by itself (RFC 7009 §2.2.1): it ends with its sign-in or when it
    // expires; that of the sign-in just revoked is no longer valid, so it answers as an unknown token
    assertError(publicApp.post("oauth2/revoke", Map.of("token", signIn(publicApp, SCOPE).get("access_token").asText())),
        400, "unsupported_token_type");
    assertThat(publicApp.post("oauth2/revoke", Map.of("token", t.get("access_token").asText())).statusCode())
        .isEqualTo(200);

    TestClient admin = clients.bearer(clients.create(PROJECT, "system/*.rs", true));
    JsonNode bundle = Poll.until("a revocation AuditEvent",
        () -> SmartApp.read(admin.get("fhir/R4/AuditEvent?type=110114&subtype=110123").body()),
        b -> b.path("total").asInt() >= 1);
    JsonNode event = bundle.findValues("resource").get(0);
    assertThat(event.path("agent").get(0).path("altId").asText()).isEqualTo(user.id());
    assertThat(event.path("outcomeDesc").asText()).isEqualTo("refresh token revoked");
  }

  @Test
  void anotherClientsLiveTokenIsRevokedAsGarbageIsAndKeepsWorking() {
    JsonNode t = signIn(publicApp, SCOPE);
    String refresh = t.get("refresh_token").asText();
    String access = t.get("access_token").asText();

    // RFC 7009 §2.2: an invalid token answers 200; a token of another client is one for the caller,
    // so that the answer does not tell whether it is live
    Map<String, Object> garbage = comparable(confidentialApp.post("oauth2/revoke", Map.of("token", "no-such-token")));
    assertThat(garbage.get("status")).isEqualTo(200);
    assertThat(comparable(confidentialApp.post("oauth2/revoke", Map.of("token", refresh)))).as("refresh token")
        .isEqualTo(garbage);
    assertThat(comparable(confidentialApp.post("oauth2/revoke", Map.of("token", refresh,
        "token_type_hint", "refresh_token")))).as("refresh token with its hint").isEqualTo(garbage);
    assertThat(comparable(confidentialApp.post("oauth2/revoke", Map.of("token", access)))).as("access token")
        .isEqualTo(garbage);
    assertThat(comparable(confidentialApp.post("oauth2/revoke", Map.of("token", access,
        "token_type_hint", "access_token")))).as("access token with its hint").isEqualTo(garbage);

    // and nothing was revoked: the access token still reads, and the refresh token still refreshes (had
    // its sign-in ended, the refresh would be refused at once, the access token only within a minute)
    TestClient bearer = new TestClient(server.baseUrl()).withHeader("Authorization", "Bearer " + access);
    assertThat(bearer.get("fhir/R4/Patient").statusCode()).isEqualTo(200);
    HttpResponse<String> refreshed = publicApp.refresh(refresh, Optional.empty());
    assertThat(refreshed.statusCode()).as(refreshed.body()).isEqualTo(200);
  }

  @Test
  void anotherClientsRefreshTokenOrCodeIsAnsweredAsOneThatDoesNotExist() {
    String refresh = signIn(publicApp, SCOPE).get("refresh_token").asText();
    // RFC 6749 §5.2 invalid_grant either way: the answer does not tell a stolen grant from a made-up one
    Map<String, Object> unknown = comparable(confidentialApp.refresh("no-such-token", Optional.empty()));
    assertThat(unknown.get("status")).isEqualTo(400);
    assertThat(comparable(confidentialApp.refresh(refresh, Optional.empty()))).as("refresh token").isEqualTo(unknown);

    String code = publicApp.code(publicApp.signIn(new FormBrowser(), SCOPE, "lin@example.org", Map.of()));
    Map<String, Object> unknownCode = comparable(confidentialApp.exchange("no-such-code", REDIRECT,
        publicApp.verifier()));
    assertThat(unknownCode.get("status")).isEqualTo(400);
    assertThat(comparable(confidentialApp.exchange(code, REDIRECT, publicApp.verifier()))).as("code")
        .isEqualTo(unknownCode);

    // neither was used up: the app they belong to still trades them
    assertThat(publicApp.exchange(code).statusCode()).isEqualTo(200);
    assertThat(publicApp.refresh(refresh, Optional.empty()).statusCode()).isEqualTo(200);
  }

  @Test
  void introspectionAnswersTheClientItselfAndAdminsOnly() {
    JsonNode t = signIn(confidentialApp, SCOPE);
    String access = t.get("access_token").asText();
    String refresh = t.get("refresh_token").asText();

    JsonNode own = introspect(confidentialApp, access);
    assertThat(own.get("active").asBoolean()).isTrue();
    assertThat(own.get("client_id").asText()).isEqualTo(confidentialApp.clientId());
    assertThat(own.get("sub").asText()).isEqualTo(user.id());
    assertThat(own.get("scope").asText()).contains("user/*.rs", "openid");
    assertThat(own.get("exp").asLong()).isGreaterThan(own.get("iat").asLong());
    JsonNode ownRefresh = introspect(confidentialApp, refresh);
    assertThat(ownRefresh.get("active").asBoolean()).isTrue();
    assertThat(ownRefresh.get("sub").asText()).isEqualTo(user.id());

    SmartApp stranger = SmartApp.register(server, PROJECT, SCOPE, false, true, REDIRECT);
    assertThat(introspect(stranger, access).toString()).isEqualTo("{\"active\":false}");
    assertThat(introspect(stranger, refresh).toString()).isEqualTo("{\"active\":false}");
    assertThat(introspect(confidentialApp, "garbage").toString()).isEqualTo("{\"active\":false}");
    // a public client cannot authenticate, so it may not ask
    assertError(publicApp.post("oauth2/introspect", Map.of("token", access)), 401, "invalid_client");

    String adminToken = adminToken();
    assertThat(introspectWithBearer(adminToken, access).get("active").asBoolean()).isTrue();
    String otherAdmin = clients.token(clients.create("another-project", "system/*.rs", true));
    assertThat(introspectWithBearer(otherAdmin, access).get("active").asBoolean()).isFalse();
    String notAdmin = clients.token(clients.create(PROJECT, "system/*.rs", false));
    HttpResponse<String> refused = bearerPost("oauth2/introspect", notAdmin, Map.of("token", access));
    assertThat(refused.statusCode()).isEqualTo(403);

    confidentialApp.post("oauth2/revoke", Map.of("token", refresh));
    assertThat(introspect(confidentialApp, refresh).get("active").asBoolean()).isFalse();
    clock.advance(Duration.ofHours(2));
    assertThat(introspect(confidentialApp, access).get("active").asBoolean()).as("expired").isFalse();
  }

  @Test
  void aDisabledClientsRefreshTokenIsNotActive() {
    SmartApp app = SmartApp.register(server, PROJECT, SCOPE, false, true, REDIRECT);
    String refresh = signIn(app, SCOPE).get("refresh_token").asText();
    String adminToken = adminToken();
    assertThat(introspectWithBearer(adminToken, refresh).get("active").asBoolean()).isTrue();

    HttpResponse<String> disabled = bearerPost("admin/clients/" + app.clientId() + "/disable", adminToken, Map.of());
    assertThat(disabled.statusCode()).as(disabled.body()).isEqualTo(200);

    // the token endpoint refuses it: introspection says so too (RFC 7662 §2.2)
    assertThat(introspectWithBearer(adminToken, refresh).toString()).isEqualTo("{\"active\":false}");
  }

  /** The node that disables a client or user, or resets a password, refuses their tokens at once. */
  @Test
  void aDisabledClientOrUserOrAResetPasswordEndsTheirTokensAtOnceOnThisNode() {
    String adminToken = adminToken();
    ProjectClients.Credentials backend = backend();
    String access = clients.token(backend);
    assertThat(bearerGet("fhir/R4/Patient", access).statusCode()).isEqualTo(200);
    assertThat(bearerPost("admin/clients/" + backend.clientId() + "/disable", adminToken, Map.of()).statusCode())
        .isEqualTo(200);
    assertThat(bearerGet("fhir/R4/Patient", access).statusCode()).isEqualTo(401);
    assertThat(introspectWithBearer(adminToken, access).get("active").asBoolean()).isFalse();

    for (String action : new String[] {"disable", "reset-password"}) {
      User person = SmartApp.user(server, PROJECT, action + "@example.org", "Practitioner/" + action, "user/*.rs");
      HttpResponse<String> r = publicApp.exchange(publicApp.code(publicApp.signIn(new FormBrowser(), "openid user/*.rs",
          action + "@example.org", Map.of())));
      String token = SmartApp.read(r.body()).get("access_token").asText();
      assertThat(bearerGet("oauth2/userinfo", token).statusCode()).isEqualTo(200);
      clock.advance(Duration.ofMillis(5)); // a reset ends the sessions begun before its millisecond
      assertThat(bearerPost("admin/users/" + person.id() + "/" + action, adminToken, Map.of()).statusCode())
          .isEqualTo(200);
      assertThat(bearerGet("oauth2/userinfo", token).statusCode()).as(action).isEqualTo(401);
      assertThat(introspectWithBearer(adminToken, token).get("active").asBoolean()).as(action).isFalse();
    }
  }

  /**
   * A sign-in that ends here (its refresh token revoked, presented twice, or its code presented
   * twice) ends its access tokens at once on this node, as a disabled user's do, even where this
   * node had just found the sign-in live: signing out is not a minute's grace.
   */
  @Test
  void anEndedSignInsAccessTokensAreRefusedAtOnceOnTheNodeThatEndedIt() {
    String adminToken = adminToken();
    JsonNode revoked = signIn(publicApp, SCOPE);
    JsonNode replayed = signIn(publicApp, SCOPE);
    String code = publicApp.code(publicApp.signIn(new FormBrowser(), "user/*.rs", "lin@example.org", Map.of()));
    HttpResponse<String> exchanged = publicApp.exchange(code);
    assertThat(exchanged.statusCode()).as(exchanged.body()).isEqualTo(200);
    String ofReplayedCode = SmartApp.read(exchanged.body()).get("access_token").asText();
    String[] tokens = {revoked.get("access_token").asText(), replayed.get("access_token").asText(), ofReplayedCode};
    for (String token : tokens) {
      assertThat(fhirRead(token).statusCode()).isEqualTo(200); // the node now holds each sign-in as live
    }

    assertThat(publicApp.post("oauth2/revoke", Map.of("token", revoked.get("refresh_token").asText())).statusCode())
        .isEqualTo(200);
    String refresh = replayed.get("refresh_token").asText();
    assertThat(publicApp.refresh(refresh, Optional.empty()).statusCode()).isEqualTo(200);
    assertError(publicApp.refresh(refresh, Optional.empty()), 400, "invalid_grant");
    assertError(publicApp.exchange(code), 400, "invalid_grant");

    for (String token : tokens) {
      HttpResponse<String> refused = fhirRead(token);
      assertThat(refused.statusCode()).as(refused.body()).isEqualTo(401);
      assertThat(introspectWithBearer(adminToken, token).get("active").asBoolean()).isFalse();
    }
  }

  /** A rotated secret may have leaked: the access tokens issued before the rotation end with it. */
  @Test
  void aRotatedSecretEndsTheAccessTokensIssuedBeforeIt() throws Exception {
    String adminToken = adminToken();
    ProjectClients.Credentials backend = backend();
    String before = clients.token(backend);
    assertThat(bearerGet("fhir/R4/Patient", before).statusCode()).isEqualTo(200);
    clock.advance(Duration.ofMillis(5));
    HttpResponse<String> rotated = bearerPost("admin/clients/" + backend.clientId() + "/rotate-secret", adminToken,
        Map.of());
    assertThat(rotated.statusCode()).as(rotated.body()).isEqualTo(200);
    HttpResponse<String> refused = bearerGet("fhir/R4/Patient", before);
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(401);
    assertThat(refused.body()).contains("secret");
    assertThat(introspectWithBearer(adminToken, before).get("active").asBoolean()).isFalse();

    String secret = SmartApp.read(rotated.body()).get("clientSecret").asText();
    String after = clients.token(new ProjectClients.Credentials(backend.clientId(), secret, PROJECT));
    assertThat(bearerGet("fhir/R4/Patient", after).statusCode()).isEqualTo(200);
    // other changes to the registration leave its tokens alone (a new scope holds from the next token)
    clock.advance(Duration.ofMillis(5));
    HttpResponse<String> rescoped = server.client().putJson("admin/clients/" + backend.clientId() + "/scope",
        "{\"scope\":\"system/Patient.rs\"}");
    assertThat(rescoped.statusCode()).as(rescoped.body()).isEqualTo(200);
    assertThat(bearerGet("fhir/R4/Patient", after).statusCode()).isEqualTo(200);
  }

  /**
   * A JWK Set that leaves out a key registered before ends the access tokens issued before it, as
   * a rotated secret does; one that registers the first keys, or adds one, leaves them.
   */
  @Test
  void aKeyTakenAwayFromAClientEndsTheAccessTokensIssuedBeforeIt() throws Exception {
    String adminToken = adminToken();
    ProjectClients.Credentials backend = backend();
    String before = clients.token(backend);
    ECKey first = new ECKeyGenerator(Curve.P_256).keyID("first").generate();
    ECKey second = new ECKeyGenerator(Curve.P_256).keyID("second").generate();
    for (JWKSet keys : List.of(new JWKSet(first.toPublicJWK()),
        new JWKSet(List.of(first.toPublicJWK(), second.toPublicJWK())))) {
      clock.advance(Duration.ofMillis(5));
      assertThat(putJwks(backend.clientId(), adminToken, keys).statusCode()).isEqualTo(200);
      assertThat(bearerGet("fhir/R4/Patient", before).statusCode()).as(keys.toString()).isEqualTo(200);
    }

    clock.advance(Duration.ofMillis(5));
    assertThat(putJwks(backend.clientId(), adminToken, new JWKSet(second.toPublicJWK())).statusCode()).isEqualTo(200);
    HttpResponse<String> refused = bearerGet("fhir/R4/Patient", before);
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(401);
    assertThat(refused.body()).contains("keys removed");
    assertThat(introspectWithBearer(adminToken, before).get("active").asBoolean()).isFalse();
    assertThat(bearerGet("fhir/R4/Patient", clients.token(backend)).statusCode()).isEqualTo(200);
  }

  private static HttpResponse<String> putJwks(String clientId, String adminToken, JWKSet keys) {
    TestClient http = server.client();
    return http.send(http.request("admin/clients/" + clientId + "/jwks")
        .setHeader("Authorization", "Bearer " + adminToken).header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(keys.toString())));
  }

  @Test
  void userInfoNamesThePersonWithinTheGrantedScopes() {
    String withProfile = signIn(publicApp, "openid fhirUser profile").get("access_token").asText();
    JsonNode info = SmartApp.read(bearerGet("oauth2/userinfo", withProfile).body());
    assertThat(info.get("sub").asText()).isEqualTo(user.id());
    assertThat(info.get("name").asText()).isEqualTo(user.name());
    assertThat(info.get("email").asText()).isEqualTo("lin@example.org");
    assertThat(info.get("fhirUser").asText()).isEqualTo(server.fhirBase() + "/Practitioner/lin");

    String openidOnly = signIn(publicApp, "openid user/Patient.r").get("access_token").asText();
    JsonNode bare = SmartApp.read(bearerGet("oauth2/userinfo", openidOnly).body());
    assertThat(bare.get("sub").asText()).isEqualTo(user.id());
    assertThat(bare.has("email")).isFalse();
    assertThat(bare.has("fhirUser")).isFalse();

    String noOpenid = signIn(publicApp, "user/Patient.r").get("access_token").asText();
    HttpResponse<String> refused = bearerGet("oauth2/userinfo", noOpenid);
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(refused.headers().firstValue("WWW-Authenticate").orElseThrow()).contains("insufficient_scope");
    String machine = clients.token(backend());
    assertThat(bearerGet("oauth2/userinfo", machine).statusCode()).isEqualTo(403);
    // RFC 6750 §3.1: a request without credentials gets the challenge without an error code
    TestClient anonymous = new TestClient(server.baseUrl());
    HttpResponse<String> none = anonymous.send(anonymous.request("oauth2/userinfo").GET());
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().allValues("WWW-Authenticate")).containsExactly("Bearer realm=\"fhirbox\"");
    assertThat(none.body()).doesNotContain("error");
    HttpResponse<String> forged = bearerGet("oauth2/userinfo", "not-a-token");
    assertThat(forged.statusCode()).isEqualTo(401);
    assertThat(forged.headers().firstValue("WWW-Authenticate").orElseThrow()).contains("invalid_token");
  }

  private static JsonNode introspectWithBearer(String bearer, String token) {
    HttpResponse<String> r = bearerPost("oauth2/introspect", bearer, Map.of("token", token));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return SmartApp.read(r.body());
  }

  private static HttpResponse<String> bearerGet(String path, String token) {
    TestClient c = new TestClient(server.baseUrl());
    return c.send(c.request(path).header("Authorization", "Bearer " + token).GET());
  }

  private static HttpResponse<String> bearerPost(String path, String token, Map<String, String> form) {
    TestClient c = new TestClient(server.baseUrl());
    return c.send(c.request(path).header("Authorization", "Bearer " + token)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(FormBrowser.encode(form))));
  }

  @Test
  void theAccessTokensOfAnEndedSignInAreRefusedOnceTheStatusMinuteHasPassed() {
    // a refresh token presented twice ends its sign-in, the access token of the first refresh included
    JsonNode replayed = signIn(publicApp, SCOPE);
    HttpResponse<String> firstRefresh = publicApp.refresh(replayed.get("refresh_token").asText(), Optional.empty());
    assertThat(firstRefresh.statusCode()).as(firstRefresh.body()).isEqualTo(200);
    String afterRefresh = SmartApp.read(firstRefresh.body()).get("access_token").asText();
    assertThat(fhirRead(afterRefresh).statusCode()).isEqualTo(200);
    assertError(publicApp.refresh(replayed.get("refresh_token").asText(), Optional.empty()), 400, "invalid_grant");

    // a revoked refresh token ends its sign-in
    JsonNode revoked = signIn(publicApp, SCOPE);
    assertThat(publicApp.post("oauth2/revoke", Map.of("token", revoked.get("refresh_token").asText())).statusCode())
        .isEqualTo(200);

    // an authorization code presented twice ends the sign-in it began
    String code = publicApp.code(publicApp.signIn(new FormBrowser(), "user/*.rs", "lin@example.org", Map.of()));
    HttpResponse<String> exchanged = publicApp.exchange(code);
    assertThat(exchanged.statusCode()).as(exchanged.body()).isEqualTo(200);
    String ofReplayedCode = SmartApp.read(exchanged.body()).get("access_token").asText();
    assertError(publicApp.exchange(code), 400, "invalid_grant");

    JsonNode untouched = signIn(publicApp, SCOPE);
    clock.advance(Duration.ofSeconds(61));
    for (String ended : new String[] {afterRefresh, replayed.get("access_token").asText(),
        revoked.get("access_token").asText(), ofReplayedCode}) {
      HttpResponse<String> refused = fhirRead(ended);
      assertThat(refused.statusCode()).as(refused.body()).isEqualTo(401);
      assertThat(refused.body()).contains("OperationOutcome", "sign-in");
    }
    assertThat(fhirRead(untouched.get("access_token").asText()).statusCode()).isEqualTo(200);
  }

  private static HttpResponse<String> fhirRead(String accessToken) {
    TestClient bearer = new TestClient(server.baseUrl()).withHeader("Authorization", "Bearer " + accessToken);
    return bearer.send(bearer.request("fhir/R4/Patient").header("Accept", "application/fhir+json").GET());
  }
}
