package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.testing.FormBrowser;
import org.fhirbox.testing.FormBrowser.Page;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.SmartApp;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestClock;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * SMART App Launch against a real server over plain HTTP, with a browser that has no JavaScript:
 * sign-in, patient picker and consent pages, the code, the tokens, the ID token checked against
 * the published keys, a FHIR read with the access token, and refresh-token rotation.
 */
class SmartLaunchTest {
  private static final String PROJECT = "clinic";
  private static final String REDIRECT = "https://app.example.org/callback";
  private static TestServer server;
  private static TestClock clock;

  @BeforeAll
  static void start() throws Exception {
    clock = new TestClock();
    server = TestServer.start(Map.of(), clock);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static String createPatient(String family, String given, String mrn) {
    String json = "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\",\"given\":[\"" + given
        + "\"]}],\"birthDate\":\"1970-04-01\",\"identifier\":[{\"system\":\"urn:mrn\",\"value\":\"" + mrn + "\"}]}";
    TestClient admin = adminOf(PROJECT);
    return TestClient.createdId(admin.postJson("fhir/R4/Patient", json));
  }

  /** An HTTP client for an admin client of {@code project}, created once per project. */
  private static TestClient adminOf(String project) {
    return new ProjectClients(server).client(project, "system/*.cruds");
  }

  @Test
  void publicAppSignsInWithConsentAndGetsTokensAnIdTokenAndRefreshes() throws Exception {
    String patientId = createPatient("Lovelace", "Ada", "mrn-ada");
    SmartApp app = SmartApp.register(server, PROJECT, "user/*.rs openid fhirUser profile offline_access", true,
        false, REDIRECT);
    User user = SmartApp.user(server, PROJECT, "grace@example.org", "Practitioner/grace", "user/*.cruds");
    FormBrowser browser = new FormBrowser();

    Page signInPage = browser.get(app.authorizeUrl("user/Patient.rs openid fhirUser profile offline_access",
        Map.of("nonce", "n-0S6_WzA2Mj")));
    assertThat(signInPage.status()).isEqualTo(200);
    assertThat(signInPage.header("Content-Type").orElseThrow()).startsWith("text/html");
    assertThat(signInPage.body()).contains("<label for=\"email\">Email</label>", "<label for=\"password\">Password</label>",
        ">Sign in</button>", "<html lang=\"en\">").doesNotContain("<script");
    String csp = signInPage.header("Content-Security-Policy").orElseThrow();
    assertThat(csp).contains("default-src 'none'", "frame-ancestors 'none'", "form-action 'self' https://app.example.org")
        .doesNotContain("unsafe-inline").doesNotContain("script-src");
    assertThat(signInPage.header("X-Frame-Options")).contains("DENY");
    assertThat(signInPage.header("Cache-Control")).contains("no-store");
    String cookie = signInPage.header("Set-Cookie").orElseThrow();
    assertThat(cookie).startsWith("fhirbox_signin=").contains("HttpOnly", "SameSite=Lax", "Path=/oauth2/", "Max-Age=600")
        .doesNotContain("Secure"); // plain http here; behind https it is Secure

    Page consent = browser.submit(signInPage, "oauth2/signin",
        Map.of("email", "Grace@Example.org", "password", SmartApp.PASSWORD));
    assertThat(consent.status()).as(consent.body()).isEqualTo(200);
    assertThat(consent.body()).contains("Allow access?", "Read and search Patient records that you can access",
        "Confirm that it is you who signed in", "See your name and email address",
        "Stay signed in after you close it, for up to 30 days", "grace@example.org", ">Allow</button>",
        ">Deny</button>");
    assertThat(browser.cookie("fhirbox_signin")).as("a new cookie value after the sign-in").isPresent()
        .get().isNotEqualTo(cookie.substring("fhirbox_signin=".length(), cookie.indexOf(';')));

    Page back = browser.submit(consent, "oauth2/consent", Map.of("decision", "allow"));
    String code = app.code(back);
    assertThat(browser.cookie("fhirbox_signin")).as("the sign-in cookie is cleared").isEmpty();
    // RFC 9207 §2: the answer names the server that sent it, as the discovery documents do
    String issuer = SmartApp.read(new TestClient(server.baseUrl()).get(".well-known/smart-configuration").body())
        .get("issuer").asText();
    assertThat(back.redirectParams()).containsEntry("iss", issuer);

    HttpResponse<String> tokenResponse = app.exchange(code);
    assertThat(tokenResponse.statusCode()).as(tokenResponse.body()).isEqualTo(200);
    assertThat(tokenResponse.headers().firstValue("Cache-Control")).contains("no-store");
    JsonNode token = SmartApp.read(tokenResponse.body());
    assertThat(token.get("token_type").asText()).isEqualTo("Bearer");
    assertThat(token.get("scope").asText().split(" ")).containsExactlyInAnyOrder("user/Patient.rs", "openid",
        "fhirUser", "profile", "offline_access");
    assertThat(token.has("patient")).isFalse();

    // The ID token, checked as OIDC Core §3.1.3.7 asks, with the keys the discovery document names.
    JsonNode oidc = SmartApp.read(new TestClient(server.baseUrl()).get(".well-known/openid-configuration").body());
    JWKSet keys = JWKSet.parse(new TestClient(server.baseUrl()).get(".well-known/jwks.json").body());
    assertThat(oidc.get("jwks_uri").asText()).isEqualTo(server.baseUrl() + ".well-known/jwks.json");
    SignedJWT idToken = SignedJWT.parse(token.get("id_token").asText());
    // RS256, the algorithm OIDC Discovery §3 requires and a client that registered none expects
    assertThat(idToken.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.RS256);
    assertThat(oidc.get("id_token_signing_alg_values_supported").get(0).asText()).isEqualTo("RS256");
    JWK key = keys.getKeyByKeyId(idToken.getHeader().getKeyID());
    assertThat(key).isInstanceOf(RSAKey.class);
    assertThat(key.getAlgorithm()).isEqualTo(JWSAlgorithm.RS256);
    assertThat(key.getKeyUse()).isEqualTo(KeyUse.SIGNATURE);
    assertThat(idToken.verify(new RSASSAVerifier((RSAKey) key))).isTrue();
    String accessKid = SignedJWT.parse(token.get("access_token").asText()).getHeader().getKeyID();
    assertThat(keys.getKeyByKeyId(accessKid)).as("the access token's ES256 key, beside it").isInstanceOf(ECKey.class);
    assertThat(accessKid).isNotEqualTo(key.getKeyID());
    assertThat(new TestClient(server.baseUrl()).withHeader("Authorization", "Bearer " + idToken.serialize())
        .get("fhir/R4/Patient/" + patientId).statusCode()).as("an ID token is no access token").isEqualTo(401);
    JWTClaimsSet claims = idToken.getJWTClaimsSet();
    assertThat(claims.getIssuer()).isEqualTo(oidc.get("issuer").asText());
    assertThat(claims.getSubject()).isEqualTo(user.id());
    assertThat(claims.getAudience()).containsExactly(app.clientId());
    assertThat(claims.getStringClaim("nonce")).isEqualTo("n-0S6_WzA2Mj");
    assertThat(claims.getStringClaim("fhirUser")).isEqualTo(server.fhirBase() + "/Practitioner/grace");
    assertThat(claims.getExpirationTime()).isAfter(claims.getIssueTime());
    assertThat(claims.getIssueTime().toInstant()).isEqualTo(clock.instant().truncatedTo(ChronoUnit.SECONDS));

    // The access token reads FHIR, within its scope.
    TestClient asUser = new TestClient(server.baseUrl()).withHeader("Authorization",
        "Bearer " + token.get("access_token").asText());
    assertThat(asUser.get("fhir/R4/Patient/" + patientId).statusCode()).isEqualTo(200);
    assertThat(asUser.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}").statusCode()).isEqualTo(403);

    JsonNode info = SmartApp.read(asUser.get("oauth2/userinfo").body());
    assertThat(info.get("sub").asText()).isEqualTo(user.id());
    assertThat(info.get("email").asText()).isEqualTo("grace@example.org");
    assertThat(info.get("name").asText()).isEqualTo(user.name());
    assertThat(info.get("fhirUser").asText()).isEqualTo(server.fhirBase() + "/Practitioner/grace");

    // Refresh: a new pair each time; the old refresh token is spent.
    String refresh1 = token.get("refresh_token").asText();
    HttpResponse<String> r2 = app.refresh(refresh1, Optional.empty());
    assertThat(r2.statusCode()).as(r2.body()).isEqualTo(200);
    JsonNode t2 = SmartApp.read(r2.body());
    String refresh2 = t2.get("refresh_token").asText();
    assertThat(refresh2).isNotEqualTo(refresh1);
    assertThat(t2.get("access_token").asText()).isNotEqualTo(token.get("access_token").asText());
    assertThat(t2.get("scope").asText()).isEqualTo(token.get("scope").asText());
    HttpResponse<String> r3 = app.refresh(refresh2, Optional.of("user/Patient.r openid"));
    assertThat(r3.statusCode()).as(r3.body()).isEqualTo(200);
    assertThat(SmartApp.read(r3.body()).get("scope").asText()).isEqualTo("user/Patient.r openid");
  }

  @Test
  void firstPartyConfidentialAppSkipsConsentAndMustAuthenticate() {
    SmartApp app = SmartApp.register(server, PROJECT, "user/*.rs openid fhirUser", false, true,
        "http://localhost:5173/signed-in");
    SmartApp.user(server, PROJECT, "first@example.org", "Practitioner/first", "user/*.rs");
    FormBrowser browser = new FormBrowser();

    Page back = app.signIn(browser, "user/*.rs openid fhirUser", "first@example.org", Map.of());

    String code = app.code(back);
    HttpResponse<String> unauthenticated = new TestClient(server.baseUrl()).send(new TestClient(server.baseUrl())
        .request("oauth2/token").header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(FormBrowser.encode(Map.of(
            "grant_type", "authorization_code", "code", code, "redirect_uri", app.redirectUri(),
            "code_verifier", app.verifier(), "client_id", app.clientId())))));
    assertThat(unauthenticated.statusCode()).as(unauthenticated.body()).isEqualTo(401);
    assertThat(unauthenticated.body()).contains("invalid_client");
    // the refused call did not spend the code: it never reached it
    HttpResponse<String> ok = app.exchange(code);
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(SmartApp.read(ok.body()).has("refresh_token")).as("no offline_access, no refresh token").isFalse();
    assertThat(SmartApp.read(ok.body()).has("id_token")).isTrue();
  }

  @Test
  void aNativeAppOnALoopbackIpMayUseAnyPortButNothingElseMayDiffer() {
    // RFC 8252 §7.3: the port of a loopback IP redirect URI is chosen when the app starts listening
    SmartApp app = SmartApp.register(server, PROJECT, "user/*.rs openid", true, false, "http://127.0.0.1/callback");
    SmartApp.user(server, PROJECT, "native@example.org", "Practitioner/native", "user/*.rs");
    String listening = "http://127.0.0.1:49321/callback";
    for (String redirect : new String[] {listening, "http://127.0.0.1:8080/callback", "http://127.0.0.1/callback"}) {
      FormBrowser browser = new FormBrowser();
      Page consent = app.signIn(browser, "user/*.rs", "native@example.org", Map.of("redirect_uri", redirect));
      assertThat(consent.status()).as(consent.body()).isEqualTo(200);
      Page back = browser.submit(consent, "oauth2/consent", Map.of("decision", "allow"));
      assertThat(back.location().toString()).as(redirect).startsWith(redirect + "?");
      assertThat(back.redirectParams()).containsEntry("state", app.state());
      String code = back.redirectParams().get("code");
      if (redirect.equals(listening)) {
        // the code stays bound to the URI its request named, port included (RFC 6749 §4.1.3)
        assertThat(app.exchange(code, "http://127.0.0.1:49322/callback", app.verifier()).statusCode()).isEqualTo(400);
      } else {
        HttpResponse<String> token = app.exchange(code, redirect, app.verifier());
        assertThat(token.statusCode()).as(token.body()).isEqualTo(200);
      }
    }

    for (String other : new String[] {"http://127.0.0.1:49321/callback/", "http://127.0.0.1:49321/other",
        "http://127.0.0.1:49321/callback?x=1", "http://127.0.0.1.evil.example.org/callback",
        "http://127.0.0.1@evil.example.org/callback", "http://127.0.0.2:49321/callback", "http://[::1]:49321/callback",
        "https://127.0.0.1:49321/callback", "http://127.0.0.1:/callback", "http://127.0.0.1:123456/callback",
        "http://127.0.0.1:0/callback", "http://127.0.0.1:00/callback", "http://127.0.0.1:65536/callback",
        "http://127.0.0.1:99999/callback", "http://127.0.0.1:\u0664\u0669\u0663/callback",
        "http://127.0.0.1:\uff18\uff10/callback", "http://[::1]:0/callback"}) {
      Page page = new FormBrowser().get(app.authorizeUrl("user/*.rs", Map.of("redirect_uri", other)));
      assertThat(page.status()).as(other).isEqualTo(400);
      assertThat(page.header("Location")).as(other).isEmpty();
    }
    // a host name is not a loopback IP literal: its port is compared like the rest
    SmartApp named = SmartApp.register(server, PROJECT, "user/*.rs", true, false, "http://localhost:5173/cb");
    assertThat(new FormBrowser().get(named.authorizeUrl("user/*.rs", Map.of("redirect_uri", "http://localhost:5174/cb")))
        .status()).isEqualTo(400);
  }

  @Test
  void anAppRegisteredForEs256GetsItsIdTokensSignedWithTheEcKey() throws Exception {
    SmartApp app = SmartApp.register(server, PROJECT, "openid fhirUser user/*.rs", true, true, REDIRECT,
        Map.of("idTokenSignedResponseAlg", "ES256"));
    SmartApp.user(server, PROJECT, "es@example.org", "Practitioner/es", "user/*.rs");
    JsonNode token = SmartApp.read(app.exchange(app.code(app.signIn(new FormBrowser(), "openid fhirUser",
        "es@example.org", Map.of("nonce", "n-es")))).body());

    SignedJWT idToken = SignedJWT.parse(token.get("id_token").asText());
    assertThat(idToken.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.ES256);
    JWKSet keys = JWKSet.parse(new TestClient(server.baseUrl()).get(".well-known/jwks.json").body());
    JWK key = keys.getKeyByKeyId(idToken.getHeader().getKeyID());
    assertThat(key).isInstanceOf(ECKey.class);
    assertThat(idToken.verify(new ECDSAVerifier((ECKey) key))).isTrue();
    assertThat(idToken.getJWTClaimsSet().getStringClaim("nonce")).isEqualTo("n-es");
    assertThat(idToken.getJWTClaimsSet().getAudience()).containsExactly(app.clientId());

    HttpResponse<String> refused = server.client().send(server.client().request("admin/clients")
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
            "{\"project\":\"clinic\",\"public\":true,\"redirectUris\":[\"" + REDIRECT + "\"],"
                + "\"idTokenSignedResponseAlg\":\"HS256\"}")));
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(refused.body()).contains("RS256 or ES256");
  }

  @Test
  void aPatientLaunchesWithTheirOwnRecord() throws Exception {
    String patientId = createPatient("Nightingale", "Florence", "mrn-flo");
    SmartApp app = SmartApp.register(server, PROJECT, "patient/*.rs launch/patient openid fhirUser", true, false,
        REDIRECT);
    SmartApp.user(server, PROJECT, "florence@example.org", "Patient/" + patientId, "patient/*.rs");
    FormBrowser browser = new FormBrowser();

    Page consent = app.signIn(browser, "launch/patient patient/Observation.rs patient/Patient.r openid fhirUser",
        "florence@example.org", Map.of());

    assertThat(consent.body()).contains("Allow access?", "Florence Nightingale", "Know which patient you chose",
        "Read and search Observation records of the patient");
    String code = app.code(browser.submit(consent, "oauth2/consent", Map.of("decision", "allow")));
    JsonNode token = SmartApp.read(app.exchange(code).body());
    assertThat(token.get("patient").asText()).isEqualTo(patientId);
    assertThat(token.get("scope").asText()).contains("patient/Observation.rs", "patient/Patient.r", "launch/patient");
    SignedJWT access = SignedJWT.parse(token.get("access_token").asText());
    assertThat(access.getJWTClaimsSet().getStringClaim("patient")).isEqualTo(patientId);
    assertThat(SignedJWT.parse(token.get("id_token").asText()).getJWTClaimsSet().getStringClaim("fhirUser"))
        .isEqualTo(server.fhirBase() + "/Patient/" + patientId);
  }

  @Test
  void aPatientCannotPostAnotherPatientIntoTheLaunch() throws Exception {
    String own = createPatient("Seacole", "Mary", "mrn-mary");
    String other = createPatient("Lovelace", "Ada", "mrn-ada");
    SmartApp app = SmartApp.register(server, PROJECT, "patient/*.rs launch/patient user/Patient.rs", true, false,
        REDIRECT);
    // user/Patient.rs lets her read other Patient records, not choose one as her launch
    SmartApp.user(server, PROJECT, "mary@example.org", "Patient/" + own, "patient/*.rs user/Patient.rs");
    FormBrowser browser = new FormBrowser();
    Page consent = app.signIn(browser, "launch/patient patient/*.rs", "mary@example.org", Map.of());
    assertThat(consent.body()).contains("Allow access?", "Mary Seacole");

    // the consent page offers no picker; the request is forged with the page's own CSRF token
    String csrf = consent.hiddenFields("oauth2/consent").get("csrf");
    Page refused = browser.post(server.baseUrl() + "oauth2/patient", Map.of("csrf", csrf, "patient", other));
    assertThat(refused.body()).contains("That patient cannot be chosen.").doesNotContain("Ada Lovelace");

    String code = app.code(browser.submit(consent, "oauth2/consent", Map.of("decision", "allow")));
    assertThat(SmartApp.read(app.exchange(code).body()).get("patient").asText()).isEqualTo(own);
  }

  @Test
  void aPractitionerPicksThePatientAfterSigningIn() {
    String wanted = createPatient("Hopper", "Grace", "mrn-4711");
    createPatient("Hopper", "Walter", "mrn-4712");
    SmartApp app = SmartApp.register(server, PROJECT, "patient/*.rs launch/patient", true, false, REDIRECT);
    SmartApp.user(server, PROJECT, "picker@example.org", "Practitioner/pick", "user/*.rs");
    FormBrowser browser = new FormBrowser();

    Page picker = app.signIn(browser, "launch/patient patient/*.rs", "picker@example.org", Map.of());
    assertThat(picker.status()).isEqualTo(200);
    assertThat(picker.body()).contains("Choose a patient", "<label for=\"q\">Name or identifier</label>");

    Page byName = browser.get(server.baseUrl() + "oauth2/patient?q=Hopper");
    assertThat(byName.body()).contains("Grace Hopper", "Walter Hopper", "born 1970-04-01");
    assertThat(FormBrowser.radioValues(byName, "patient")).hasSize(2).contains(wanted);
    Page byIdentifier = browser.get(server.baseUrl() + "oauth2/patient?q=mrn-4711");
    assertThat(FormBrowser.radioValues(byIdentifier, "patient")).containsExactly(wanted);
    Page none = browser.get(server.baseUrl() + "oauth2/patient?q=Nobody");
    assertThat(none.body()).contains("No patient matches");

    Page consent = browser.submit(byIdentifier, "oauth2/patient", Map.of("patient", wanted));
    assertThat(consent.body()).as(consent.body()).contains("Allow access?", "Grace Hopper");
    JsonNode token = SmartApp.read(app.exchange(app.code(browser.submit(consent, "oauth2/consent",
        Map.of("decision", "allow")))).body());
    assertThat(token.get("patient").asText()).isEqualTo(wanted);
  }

  @Test
  void aPersonWhoWillNotOrCannotChooseAPatientCanDeclineAndTheAppHearsAccessDenied() {
    // RFC 6749 §4.1.2.1: a person who does not allow the request sends the app access_denied;
    // the picker is where someone whose account finds no patient (or the wrong app) stops
    SmartApp app = SmartApp.register(server, PROJECT, "patient/*.rs launch/patient", true, false, REDIRECT);
    SmartApp.user(server, PROJECT, "decliner@example.org", "Practitioner/decliner", "user/Observation.rs");
    FormBrowser browser = new FormBrowser();
    Page picker = app.signIn(browser, "launch/patient patient/*.rs", "decliner@example.org", Map.of());
    assertThat(picker.body()).contains("Choose a patient");
    Page search = browser.get(server.baseUrl() + "oauth2/patient?q=Hopper");
    assertThat(search.body()).contains("may not search patients");

    for (Page page : List.of(picker, search)) {
      assertThat(page.body()).contains("value=\"deny\"");
    }
    Page back = browser.submit(search, "oauth2/consent", Map.of("decision", "deny"));
    assertThat(back.status()).isEqualTo(303);
    Map<String, String> params = back.redirectParams();
    assertThat(back.location().toString()).startsWith(REDIRECT + "?");
    assertThat(params).containsEntry("error", "access_denied").containsEntry("state", app.state())
        .containsEntry("iss", server.baseUrl()).doesNotContainKey("code");
  }

  @Test
  void thePickerOffersOnlyPatientsThePersonMayRead() {
    String other = TestClient.createdId(adminOf("elsewhere").postJson("fhir/R4/Patient",
        "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Turing\"}]}"));
    SmartApp app = SmartApp.register(server, PROJECT, "patient/*.rs launch/patient", true, false, REDIRECT);
    createPatient("Shannon", "Claude", "mrn-shannon");
    SmartApp.user(server, PROJECT, "narrow@example.org", "Practitioner/narrow", "user/Patient.rs");
    FormBrowser browser = new FormBrowser();
    app.signIn(browser, "launch/patient patient/*.rs", "narrow@example.org", Map.of());

    assertThat(browser.get(server.baseUrl() + "oauth2/patient?q=Turing").body()).contains("No patient matches");
    Page picker = browser.get(server.baseUrl() + "oauth2/patient?q=Shannon");
    Page refused = browser.submit(picker, "oauth2/patient", Map.of("patient", other));
    assertThat(refused.status()).isEqualTo(200);
    assertThat(refused.body()).contains("That patient cannot be chosen.");
  }

  @Test
  void authorizeAcceptsAPostedForm() {
    SmartApp app = SmartApp.register(server, PROJECT, "user/*.rs", true, true, REDIRECT);
    SmartApp.user(server, PROJECT, "poster@example.org", "Practitioner/poster", "user/*.rs");
    FormBrowser browser = new FormBrowser();

    Page signInPage = browser.post(server.baseUrl() + "oauth2/authorize", app.authorizeParams("user/*.rs", Map.of()));

    assertThat(signInPage.status()).as(signInPage.body()).isEqualTo(200);
    Page back = browser.submit(signInPage, "oauth2/signin",
        Map.of("email", "poster@example.org", "password", SmartApp.PASSWORD));
    assertThat(app.exchange(app.code(back)).statusCode()).isEqualTo(200);
  }

  @Test
  void signInsAreAuditedWithTheirOutcome() throws Exception {
    SmartApp app = SmartApp.register(server, "audited", "user/*.rs", true, true, REDIRECT);
    User user = SmartApp.user(server, "audited", "audited@example.org", "Practitioner/aud", "user/*.rs");
    FormBrowser browser = new FormBrowser();
    Page wrong = browser.submit(browser.get(app.authorizeUrl("user/*.rs", Map.of())), "oauth2/signin",
        Map.of("email", "audited@example.org", "password", "not the password at all"));
    assertThat(wrong.body()).contains("The email or password is not correct.");
    app.code(browser.submit(wrong, "oauth2/signin",
        Map.of("email", "audited@example.org", "password", SmartApp.PASSWORD)));

    ProjectClients clients = new ProjectClients(server);
    TestClient admin = clients.bearer(clients.create("audited", "system/*.rs", true));
    JsonNode bundle = Poll.until("two sign-in AuditEvents",
        () -> SmartApp.read(admin.get("fhir/R4/AuditEvent?type=110114").body()), b -> b.path("total").asInt() >= 2);
    List<JsonNode> events = bundle.findValues("resource");
    assertThat(events).anySatisfy(e -> {
      assertThat(e.path("outcome").asText()).isEqualTo("0");
      assertThat(e.path("subtype").get(0).path("code").asText()).isEqualTo("110122");
      assertThat(e.path("agent").get(0).path("altId").asText()).isEqualTo(user.id());
      assertThat(e.path("agent").get(0).path("who").path("reference").asText()).isEqualTo("Practitioner/aud");
      assertThat(e.path("agent").get(1).path("altId").asText()).isEqualTo(app.clientId());
    });
    assertThat(events).anySatisfy(e -> {
      assertThat(e.path("outcome").asText()).isEqualTo("4");
      assertThat(e.path("agent").get(0).path("name").asText()).isEqualTo("audited@example.org");
      assertThat(e.path("outcomeDesc").asText()).startsWith("sign-in refused");
    });
  }

  @Test
  void aPasswordTypedAsTheEmailIsNotRecorded() throws Exception {
    SmartApp app = SmartApp.register(server, "typed", "user/*.rs", true, true, REDIRECT);
    SmartApp.user(server, "typed", "typist@example.org", "Practitioner/typist", "user/*.rs");
    String password = "Correct-Horse-Battery-Staple-42";
    FormBrowser browser = new FormBrowser();
    Page page = browser.get(app.authorizeUrl("user/*.rs", Map.of()));
    Page refused = browser.submit(page, "oauth2/signin", Map.of("email", password, "password", "typist@example.org"));
    assertThat(refused.body()).contains("The email or password is not correct.");
    Page wrong = browser.submit(refused, "oauth2/signin", Map.of("email", "typist@example.org", "password", "nope"));
    assertThat(wrong.body()).contains("The email or password is not correct.");

    ProjectClients clients = new ProjectClients(server);
    TestClient admin = clients.bearer(clients.create("typed", "system/*.rs", true));
    JsonNode bundle = Poll.until("two refused sign-ins",
        () -> SmartApp.read(admin.get("fhir/R4/AuditEvent?type=110114&outcome=4").body()),
        b -> b.path("total").asInt() >= 2);
    assertThat(bundle.toString()).doesNotContain(password).contains("typist@example.org");
    // keyed: no plain SHA-256 of the password, against which a guess could be confirmed
    java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
    String hash = java.util.HexFormat.of().formatHex(sha.digest(password.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    String kept = server.server().claimedText().fingerprint(password);
    assertThat(kept).startsWith("Corr…").doesNotEndWith(hash.substring(0, 8));
    assertThat(bundle.findValues("resource")).anySatisfy(e -> assertThat(e.at("/agent/0/name").asText()).isEqualTo(kept));
  }

  @Test
  void onlyTheEmailOfAUserOfTheProjectIsRecordedAsTyped() throws Exception {
    SmartApp app = SmartApp.register(server, "typed-at", "user/*.rs", true, true, REDIRECT);
    SmartApp.user(server, "typed-at", "typist@example.org", "Practitioner/typist-at", "user/*.rs");
    // passwords with one @, which the page's email field lets through, and an email no user has
    List<String> typed = List.of("Welcome@2024x", "P@ssw0rd2024", "nobody-here@example.org", "Typist@Example.org");
    FormBrowser browser = new FormBrowser();
    Page page = browser.get(app.authorizeUrl("user/*.rs", Map.of()));
    for (String email : typed) {
      page = browser.submit(page, "oauth2/signin", Map.of("email", email, "password", "not the password at all"));
      assertThat(page.body()).contains("The email or password is not correct.");
    }

    ProjectClients clients = new ProjectClients(server);
    TestClient admin = clients.bearer(clients.create("typed-at", "system/*.rs", true));
    JsonNode bundle = Poll.until("four refused sign-ins",
        () -> SmartApp.read(admin.get("fhir/R4/AuditEvent?type=110114&outcome=4").body()),
        b -> b.path("total").asInt() >= 4);
    List<String> kept = bundle.findValues("resource").stream().map(e -> e.at("/agent/0/name").asText()).toList();
    ClaimedText claimed = server.server().claimedText();
    assertThat(kept).containsExactlyInAnyOrder(claimed.fingerprint("Welcome@2024x"), claimed.fingerprint("P@ssw0rd2024"),
        claimed.fingerprint("nobody-here@example.org"), "Typist@Example.org");
    assertThat(bundle.toString()).doesNotContain("Welcome@2024x", "P@ssw0rd2024", "nobody-here");
  }

  @Test
  void throttledSignInsFromOneAddressAreRecordedOnceNotEachTime() throws Exception {
    SmartApp app = SmartApp.register(server, "flooded", "user/*.rs", true, true, REDIRECT);
    SmartApp.user(server, "flooded", "target@example.org", "Practitioner/target", "user/*.rs");
    SmartApp.user(server, "flooded", "marker@example.org", "Practitioner/marker", "user/*.rs");
    FormBrowser browser = new FormBrowser();
    Page page = browser.get(app.authorizeUrl("user/*.rs", Map.of()));
    for (int i = 0; i < 5; i++) {
      page = browser.submit(page, "oauth2/signin", Map.of("email", "target@example.org", "password", "guess " + i));
      assertThat(page.status()).isEqualTo(200);
    }
    for (int i = 0; i < 30; i++) {
      page = browser.submit(page, "oauth2/signin", Map.of("email", "target@example.org", "password", "guess"));
      assertThat(page.status()).isEqualTo(429);
    }
    // a success queued after them: once it is written, so are the refusals before it
    app.code(browser.submit(page, "oauth2/signin", Map.of("email", "marker@example.org", "password",
        SmartApp.PASSWORD)));
    ProjectClients clients = new ProjectClients(server);
    TestClient admin = clients.bearer(clients.create("flooded", "system/*.rs", true));
    JsonNode bundle = Poll.until("the sign-in AuditEvent after the refusals",
        () -> SmartApp.read(admin.get("fhir/R4/AuditEvent?type=110114&_count=100").body()),
        b -> b.findValues("resource").stream().anyMatch(e -> e.path("outcome").asText().equals("0")));
    long refusals = bundle.findValues("resource").stream().filter(e -> e.path("outcome").asText().equals("4"))
        .count();
    // the five checked passwords, and the first throttled refusal only
    assertThat(refusals).isEqualTo(6);
  }

  @Test
  void discoveryNamesTheEndpointsAndTheCapabilitiesThatWork() {
    TestClient anonymous = new TestClient(server.baseUrl());
    for (String path : List.of(".well-known/smart-configuration", "fhir/R4/.well-known/smart-configuration")) {
      JsonNode smart = SmartApp.read(anonymous.get(path).body());
      assertThat(smart.get("authorization_endpoint").asText()).isEqualTo(server.baseUrl() + "oauth2/authorize");
      assertThat(smart.get("token_endpoint").asText()).isEqualTo(server.baseUrl() + "oauth2/token");
      assertThat(smart.get("revocation_endpoint").asText()).isEqualTo(server.baseUrl() + "oauth2/revoke");
      assertThat(smart.get("introspection_endpoint").asText()).isEqualTo(server.baseUrl() + "oauth2/introspect");
      assertThat(smart.get("userinfo_endpoint").asText()).isEqualTo(server.baseUrl() + "oauth2/userinfo");
      assertThat(smart.get("code_challenge_methods_supported").toString()).isEqualTo("[\"S256\"]");
      assertThat(smart.get("issuer").asText()).isEqualTo(server.baseUrl());
      assertThat(smart.path("authorization_response_iss_parameter_supported").booleanValue()).isTrue();
      // exactly what works: no launch-ehr, context-ehr-*, permission-online or dynamic registration
      List<String> capabilities = new ArrayList<>();
      smart.get("capabilities").forEach(c -> capabilities.add(c.asText()));
      assertThat(capabilities).containsExactlyInAnyOrder("launch-standalone", "authorize-post", "client-public",
          "client-confidential-symmetric", "client-confidential-asymmetric", "sso-openid-connect",
          "context-standalone-patient", "permission-offline", "permission-patient", "permission-user",
          "permission-v1", "permission-v2");
      // permission-v1: the v1 forms are taken, and named as the v2 ones are
      List<String> scopes = new ArrayList<>();
      smart.get("scopes_supported").forEach(c -> scopes.add(c.asText()));
      assertThat(scopes).contains("patient/*.rs", "patient/*.read", "user/*.rs", "user/*.read", "system/*.read");
      assertThat(smart.get("grant_types_supported").toString())
          .isEqualTo("[\"authorization_code\",\"refresh_token\",\"client_credentials\"]");
      // every algorithm a private_key_jwt assertion is taken with, SMART's required two first
      assertThat(smart.get("token_endpoint_auth_signing_alg_values_supported").toString()).isEqualTo(
          "[\"RS384\",\"ES384\",\"RS256\",\"ES256\",\"RS512\",\"ES512\",\"PS256\",\"PS384\"]");
    }
    JsonNode oidc = SmartApp.read(anonymous.get(".well-known/openid-configuration").body());
    assertThat(oidc.get("token_endpoint_auth_signing_alg_values_supported").size()).isEqualTo(8);
    assertThat(oidc.get("issuer").asText()).isEqualTo(server.baseUrl());
    assertThat(oidc.path("authorization_response_iss_parameter_supported").booleanValue()).isTrue();
    assertThat(oidc.get("id_token_signing_alg_values_supported").toString()).isEqualTo("[\"RS256\",\"ES256\"]");
    assertThat(oidc.get("response_types_supported").toString()).isEqualTo("[\"code\"]");
    // OpenID Connect Discovery §3: request_uri_parameter_supported left out means true
    assertThat(oidc.path("request_parameter_supported").isBoolean()).isTrue();
    assertThat(oidc.path("request_parameter_supported").booleanValue()).isFalse();
    assertThat(oidc.path("request_uri_parameter_supported").isBoolean()).isTrue();
    assertThat(oidc.path("request_uri_parameter_supported").booleanValue()).isFalse();
    assertThat(oidc.get("userinfo_endpoint").asText()).isEqualTo(server.baseUrl() + "oauth2/userinfo");
  }

  @Test
  void discoveryDocumentsTakeOnlyGetAndHead() {
    TestClient anonymous = new TestClient(server.baseUrl());
    // RFC 9110 §15.5.6: a method the resource does not take is 405, naming those it takes
    for (String path : List.of(".well-known/smart-configuration", "fhir/R4/.well-known/smart-configuration",
        ".well-known/openid-configuration", ".well-known/jwks.json")) {
      for (HttpResponse<String> r : List.of(anonymous.putJson(path, "{}"), anonymous.delete(path),
          anonymous.postJson(path, "{}"))) {
        assertThat(r.statusCode()).as(path + " " + r.request().method()).isEqualTo(405);
        assertThat(r.headers().firstValue("Allow")).as(path).hasValue("GET, HEAD");
      }
      assertThat(anonymous.send(anonymous.request(path).method("HEAD", HttpRequest.BodyPublishers.noBody()))
          .statusCode()).as(path).isEqualTo(200);
    }
  }
}
