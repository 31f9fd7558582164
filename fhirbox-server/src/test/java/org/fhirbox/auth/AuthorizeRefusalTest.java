package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.testing.FormBrowser;
import org.fhirbox.testing.FormBrowser.Page;
import org.fhirbox.testing.SmartApp;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestClock;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every way the authorization code flow refuses, over plain HTTP: bad authorization requests
 * (RFC 6749 §4.1.2.1, SMART App Launch), forged forms, and codes that are wrong, reused, late or
 * someone else's (RFC 6749 §4.1.3, RFC 7636 §4.6).
 */
class AuthorizeRefusalTest {
  private static final String PROJECT = "refusals";
  private static final String REDIRECT = "https://app.example.org/cb";
  private static final String SCOPE = "user/*.rs openid fhirUser offline_access";
  private static TestServer server;
  private static TestClock clock;
  private static SmartApp app;

  @BeforeAll
  static void start() throws Exception {
    clock = new TestClock();
    server = TestServer.start(Map.of(), clock);
    app = SmartApp.register(server, PROJECT, "user/*.rs openid fhirUser offline_access", true, true, REDIRECT);
    SmartApp.user(server, PROJECT, "ada@example.org", "Practitioner/ada", "user/*.rs");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  /** A first-party sign-in as ada: the redirect carries the code. */
  private static String code(FormBrowser browser) {
    return app.code(app.signIn(browser, SCOPE, "ada@example.org", Map.of()));
  }

  private static void assertError(HttpResponse<String> r, int status, String error) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(SmartApp.read(r.body()).get("error").asText()).as(r.body()).isEqualTo(error);
  }

  private static void assertErrorRedirect(Page page, String error, boolean withState) {
    Map<String, String> params = page.redirectParams();
    assertThat(page.location().toString()).startsWith(REDIRECT + "?");
    assertThat(params.get("error")).as(params.toString()).isEqualTo(error);
    assertThat(params).containsKey("error_description").doesNotContainKey("code");
    // RFC 9207 §2: error answers name the server too
    assertThat(params.get("iss")).isEqualTo(server.baseUrl());
    if (withState) {
      assertThat(params.get("state")).isEqualTo(app.state());
    } else {
      assertThat(params).doesNotContainKey("state");
    }
  }

  @Test
  void anUnregisteredOrMismatchedRedirectUriGetsAnErrorPageAndNoRedirect() {
    for (String redirect : new String[] {"https://evil.example.org/cb", REDIRECT + "/", REDIRECT + "?x=1",
        "https://APP.example.org/cb", "http://app.example.org/cb"}) {
      Page page = new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of("redirect_uri", redirect)));
      assertThat(page.status()).as(redirect).isEqualTo(400);
      assertThat(page.header("Location")).isEmpty();
      assertThat(page.header("Set-Cookie")).isEmpty();
      assertThat(page.body()).contains("Unknown return address").doesNotContain("evil.example.org");
    }
    Page missing = new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of("redirect_uri", "")));
    assertThat(missing.status()).isEqualTo(400);
    assertThat(missing.header("Location")).isEmpty();
    Page unknownClient = new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of("client_id", "no-such-app")));
    assertThat(unknownClient.status()).isEqualTo(400);
    assertThat(unknownClient.header("Location")).isEmpty();
    assertThat(unknownClient.body()).contains("Unknown app");
  }

  @Test
  void aRedirectUriStoredWithAResponseParameterInItsQueryIsNotSentTo() {
    // registered before the admin API refused such URIs: the response would carry state (or code) twice
    String legacy = "https://app.example.org/cb?x=1&state=fixed";
    String id = server.server().auth().clients().create(PROJECT, SCOPE, false,
        new ClientProfile(true, true, List.of(legacy), ClientProfile.RS256)).clientId();
    Page page = new FormBrowser().get(SmartApp.publicClient(server, id, legacy).authorizeUrl(SCOPE, Map.of()));
    assertThat(page.status()).as(page.body()).isEqualTo(400);
    assertThat(page.header("Location")).isEmpty();
    assertThat(page.body()).contains("Unknown return address");
  }

  @Test
  void aPlainChallengeIsRefusedWithTheStateEchoed() {
    Page page = new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of("code_challenge_method", "plain")));
    assertErrorRedirect(page, "invalid_request", true);
    assertThat(page.redirectParams().get("error_description")).contains("S256", "plain");
    assertErrorRedirect(new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of("code_challenge_method", ""))),
        "invalid_request", true);
    assertErrorRedirect(new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of("code_challenge", ""))),
        "invalid_request", true);
    assertErrorRedirect(new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of("code_challenge", "short"))),
        "invalid_request", true);
  }

  @Test
  void aRequestWithoutScopeIsRefusedRatherThanGrantedTheWholeRegistration() {
    // SMART App Launch: scope is required; RFC 6749 §3.3 leaves a server a default or a refusal, and
    // a default of everything registered would hand out offline_access and every resource scope unasked
    Map<String, String> absent = new HashMap<>();
    absent.put("scope", null);
    for (Map<String, String> extra : List.of(absent, Map.of("scope", ""), Map.of("scope", "  "))) {
      Page page = new FormBrowser().get(app.authorizeUrl(null, extra));
      assertThat(page.status()).as(extra + ": " + page.body()).isEqualTo(303);
      assertErrorRedirect(page, "invalid_scope", true);
      assertThat(page.redirectParams().get("error_description")).contains("scope is required");
    }
  }

  @Test
  void anAudOtherThanOurFhirBaseIsRefused() {
    for (String aud : new String[] {"https://other.example.org/fhir", server.baseUrl(), ""}) {
      Page page = new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of("aud", aud)));
      assertErrorRedirect(page, "invalid_request", true);
      assertThat(page.redirectParams().get("error_description")).contains("aud");
    }
    assertThat(new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of("aud", server.fhirBase() + "/"))).status())
        .isEqualTo(200);
  }

  @Test
  void aRequestWithoutAudIsAPlainOAuthRequestForThisServer() {
    Map<String, String> noAud = new HashMap<>();
    noAud.put("aud", null); // authorizeParams leaves out what is null
    String withoutAud = app.authorizeUrl(SCOPE, noAud);
    assertThat(withoutAud).doesNotContain("aud=");
    assertThat(new FormBrowser().get(withoutAud).status()).isEqualTo(200);
  }

  @Test
  void otherRequestErrorsRedirectWithTheirCode() {
    assertErrorRedirect(new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of("state", ""))), "invalid_request",
        false);
    assertErrorRedirect(new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of("response_type", "token"))),
        "unsupported_response_type", true);
    assertErrorRedirect(new FormBrowser().get(app.authorizeUrl("system/*.rs", Map.of())), "invalid_scope", true);
    assertErrorRedirect(new FormBrowser().get(app.authorizeUrl("not-a-scope", Map.of())), "invalid_scope", true);
    // RFC 6749 §3.3: scope tokens are joined by spaces only; a tab or line feed is outside the grammar
    for (String scope : new String[] {"user/*.rs\topenid", "user/*.rs\nopenid", "user/*.rs\u00a0openid"}) {
      Page page = new FormBrowser().get(app.authorizeUrl(scope, Map.of()));
      assertErrorRedirect(page, "invalid_scope", true);
      assertThat(page.redirectParams().get("error_description")).contains("RFC 6749 section 3.3");
    }
    assertErrorRedirect(new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of("prompt", "none"))), "login_required",
        true);
  }

  @Test
  void aRequestObjectOrAResponseModeTheServerDoesNotImplementIsRefusedRatherThanIgnored() {
    // OpenID Connect Core §6.1, §6.2: an OP that does not support request objects MUST answer
    // request_not_supported (request_uri_not_supported), never run the request without what they say
    assertErrorRedirect(new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of("request", "eyJhbGciOiJub25lIn0.e30."))),
        "request_not_supported", true);
    assertErrorRedirect(new FormBrowser().get(app.authorizeUrl(SCOPE,
        Map.of("request_uri", "urn:ietf:params:oauth:request_uri:abc"))), "request_uri_not_supported", true);
    // the code goes back in the query only; an app that asked for a fragment or form_post is told so
    for (String mode : new String[] {"fragment", "form_post", "query.jwt"}) {
      Page page = new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of("response_mode", mode)));
      assertErrorRedirect(page, "invalid_request", true);
      assertThat(page.redirectParams().get("error_description")).contains("response_mode");
    }
    assertThat(new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of("response_mode", "query"))).status())
        .isEqualTo(200);
    // a parameter sent without a value is omitted (RFC 6749 §3.1), as a form's empty hidden field is
    for (String empty : new String[] {"request", "request_uri", "response_mode"}) {
      Page page = new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of()) + "&" + empty + "=");
      assertThat(page.status()).as(empty + "=: " + page.body()).isEqualTo(200);
    }
  }

  @Test
  void aRepeatedUnrecognisedParameterIsIgnoredAndARepeatedRecognisedOneRefused() {
    Page page = new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of()) + "&resource=a&resource=b&x=&x=");
    assertThat(page.status()).as(page.body()).isEqualTo(200);
    assertErrorRedirect(new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of()) + "&nonce=a&nonce=b"),
        "invalid_request", true);
  }

  /** RFC 6749 §4.1.2.1, §5.2: printable ASCII other than the quote and the backslash. */
  private static final String DESCRIPTION_CHARACTERS = "[\\x20-\\x21\\x23-\\x5B\\x5D-\\x7E]*";

  @Test
  void everyErrorDescriptionIsPrintableAsciiWithoutQuoteOrBackslash() {
    Page badChallenge = new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of("code_challenge", "short")));
    assertErrorRedirect(badChallenge, "invalid_request", true);
    assertThat(badChallenge.redirectParams().get("error_description")).matches(DESCRIPTION_CHARACTERS)
        .contains("RFC 7636 section 4.2");

    // a scope the caller chose, with characters outside RFC 6749 section 3.3: named, never echoed as sent
    Page oddScope = new FormBrowser().get(app.authorizeUrl("user/*.rs\u00e9t\u00e9\"\\\u2026", Map.of()));
    assertErrorRedirect(oddScope, "invalid_scope", true);
    assertThat(oddScope.redirectParams().get("error_description")).matches(DESCRIPTION_CHARACTERS)
        .contains("U+00E9");
    TestClient anonymous = new TestClient(server.baseUrl());
    HttpResponse<String> repeatedForm = anonymous.send(anonymous.request("oauth2/token")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("client_id=" + app.clientId()
            + "&grant_type=authorization_code&code=a&code=b")));
    assertError(repeatedForm, 400, "invalid_request");
    assertThat(SmartApp.read(repeatedForm.body()).get("error_description").asText())
        .matches(DESCRIPTION_CHARACTERS).contains("is repeated");

    String code = code(new FormBrowser());
    HttpResponse<String> badVerifier = app.exchange(code, REDIRECT, "too-short");
    assertError(badVerifier, 400, "invalid_grant");
    assertThat(SmartApp.read(badVerifier.body()).get("error_description").asText())
        .matches(DESCRIPTION_CHARACTERS).contains("RFC 7636 section 4.1");
    HttpResponse<String> wrongVerifier = app.exchange(code(new FormBrowser()), REDIRECT, "z".repeat(43));
    assertError(wrongVerifier, 400, "invalid_grant");
    assertThat(SmartApp.read(wrongVerifier.body()).get("error_description").asText())
        .matches(DESCRIPTION_CHARACTERS).contains("RFC 7636 section 4.6");
  }

  @Test
  void aSignInFormWithoutItsCsrfTokenIsRefused() {
    FormBrowser browser = new FormBrowser();
    Page signInPage = browser.get(app.authorizeUrl(SCOPE, Map.of()));
    String action = signInPage.formAction("oauth2/signin");

    Page missing = browser.post(action, Map.of("email", "ada@example.org", "password", SmartApp.PASSWORD));
    assertThat(missing.status()).isEqualTo(403);
    assertThat(missing.body()).contains("CSRF");
    Page wrong = browser.post(action, Map.of("csrf", "forged", "email", "ada@example.org",
        "password", SmartApp.PASSWORD));
    assertThat(wrong.status()).isEqualTo(403);
    // without the cookie, a form is worth nothing either (a cross-site post carries no SameSite=Lax cookie)
    Map<String, String> hidden = signInPage.hiddenFields("oauth2/signin");
    FormBrowser stranger = new FormBrowser();
    Page noCookie = stranger.post(action, Map.of("csrf", hidden.get("csrf"), "email", "ada@example.org",
        "password", SmartApp.PASSWORD));
    assertThat(noCookie.status()).isEqualTo(400);
    assertThat(noCookie.body()).contains("expired");
    // the genuine form still works
    Page ok = browser.submit(signInPage, "oauth2/signin", Map.of("email", "ada@example.org",
        "password", SmartApp.PASSWORD));
    assertThat(ok.status()).isEqualTo(303);
  }

  @Test
  void aWrongPasswordAndAnUnknownEmailReadTheSame() {
    FormBrowser browser = new FormBrowser();
    Page signInPage = browser.get(app.authorizeUrl(SCOPE, Map.of()));
    Page wrongPassword = browser.submit(signInPage, "oauth2/signin",
        Map.of("email", "ada@example.org", "password", "wrong password here"));
    Page unknownEmail = browser.submit(wrongPassword, "oauth2/signin",
        Map.of("email", "ada@example.org.invalid", "password", "wrong password here"));
    assertThat(wrongPassword.status()).isEqualTo(unknownEmail.status()).isEqualTo(200);
    assertThat(wrongPassword.body()).contains("<p class=\"error\" role=\"alert\">The email or password is not correct.</p>");
    assertThat(unknownEmail.body().replace("ada@example.org.invalid", "ada@example.org"))
        .isEqualTo(wrongPassword.body());
  }

  @Test
  void repeatedFailuresForAnAccountAreThrottledThenForgotten() {
    SmartApp.user(server, PROJECT, "throttled@example.org", "Practitioner/t", "user/*.rs");
    FormBrowser browser = new FormBrowser();
    Page page = browser.get(app.authorizeUrl(SCOPE, Map.of()));
    for (int i = 0; i < 5; i++) {
      page = browser.submit(page, "oauth2/signin", Map.of("email", "throttled@example.org", "password", "guess " + i));
      assertThat(page.status()).isEqualTo(200);
    }
    Page throttled = browser.submit(page, "oauth2/signin",
        Map.of("email", "throttled@example.org", "password", SmartApp.PASSWORD));
    assertThat(throttled.status()).isEqualTo(429);
    assertThat(throttled.header("Retry-After")).contains("1");
    assertThat(throttled.body()).contains("Too many failed sign-ins. Wait 1 second, then try again.");

    clock.advance(Duration.ofSeconds(2));
    Page signedIn = browser.submit(throttled, "oauth2/signin",
        Map.of("email", "throttled@example.org", "password", SmartApp.PASSWORD));
    assertThat(signedIn.status()).as(signedIn.body()).isEqualTo(303);
  }

  @Test
  void aWrongPkceVerifierIsRefusedAndLeavesTheCodeToTheApp() {
    String code = code(new FormBrowser());
    String otherVerifier = "x".repeat(43);
    // anyone may send a public client's client_id: without the verifier the code is not theirs to spend
    assertError(app.exchange(code, REDIRECT, otherVerifier), 400, "invalid_grant");
    assertThat(app.exchange(code).statusCode()).isEqualTo(200);

    String code2 = code(new FormBrowser());
    assertError(app.exchange(code2, REDIRECT, "too-short"), 400, "invalid_grant");
    String code3 = code(new FormBrowser());
    HttpResponse<String> noVerifier = app.token(Map.of("grant_type", "authorization_code", "code", code3,
        "redirect_uri", REDIRECT));
    assertError(noVerifier, 400, "invalid_request");
  }

  @Test
  void aReusedCodeIsRefusedAndEndsTheTokensIssuedForIt() {
    String code = code(new FormBrowser());
    HttpResponse<String> first = app.exchange(code);
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    String refresh = SmartApp.read(first.body()).get("refresh_token").asText();

    HttpResponse<String> second = app.exchange(code);
    assertError(second, 400, "invalid_grant");
    assertThat(second.body()).contains("already used");
    assertError(app.refresh(refresh, Optional.empty()), 400, "invalid_grant");
  }

  @Test
  void aReusedCodeEndsTheAccessTokenIssuedForItEvenWithoutARefreshToken() {
    // RFC 6749 §4.1.2: a code used twice SHOULD revoke every token issued for it, not only refresh tokens
    String code = app.code(app.signIn(new FormBrowser(), "user/*.rs openid", "ada@example.org", Map.of()));
    HttpResponse<String> first = app.exchange(code);
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    assertThat(SmartApp.read(first.body()).has("refresh_token")).isFalse();
    TestClient asAda = new TestClient(server.baseUrl()).withHeader("Authorization",
        "Bearer " + SmartApp.read(first.body()).get("access_token").asText());
    assertThat(asAda.get("fhir/R4/Patient").statusCode()).isEqualTo(200);

    assertError(app.exchange(code), 400, "invalid_grant");
    clock.advance(Duration.ofSeconds(61)); // a sign-in's status is looked up at most once a minute

    HttpResponse<String> after = asAda.get("fhir/R4/Patient");
    assertThat(after.statusCode()).as(after.body()).isEqualTo(401);
  }

  @Test
  void aCodeSentWithAnotherRedirectUriOrByAnotherClientIsRefusedAndStaysRedeemableByItsApp() {
    String code = code(new FormBrowser());
    assertError(app.exchange(code, REDIRECT + "/other", app.verifier()), 400, "invalid_grant");
    assertThat(app.exchange(code).statusCode()).isEqualTo(200);

    String code2 = code(new FormBrowser());
    String verifier = app.verifier();
    SmartApp other = SmartApp.register(server, PROJECT, "user/*.rs", true, true, REDIRECT);
    HttpResponse<String> stolen = other.exchange(code2, REDIRECT, verifier);
    assertError(stolen, 400, "invalid_grant");
    assertThat(stolen.body()).as("answered as a code that does not exist").contains("is not valid");
    assertThat(app.exchange(code2).statusCode()).isEqualTo(200);
  }

  @Test
  void anotherClientSendingARedeemedCodeRevokesNothingOfTheApps() {
    String code = code(new FormBrowser());
    HttpResponse<String> first = app.exchange(code);
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    String refresh = SmartApp.read(first.body()).get("refresh_token").asText();
    SmartApp other = SmartApp.register(server, PROJECT, "user/*.rs", true, true, REDIRECT);
    assertError(other.exchange(code, REDIRECT, app.verifier()), 400, "invalid_grant");
    assertError(app.exchange(code, REDIRECT, "y".repeat(43)), 400, "invalid_grant");
    assertThat(app.refresh(refresh, Optional.empty()).statusCode()).isEqualTo(200);
  }

  @Test
  void aCodeExpiresAfterSixtySeconds() {
    String code = code(new FormBrowser());
    clock.advance(Duration.ofSeconds(61));
    HttpResponse<String> late = app.exchange(code);
    assertError(late, 400, "invalid_grant");
    assertThat(late.body()).contains("expired");

    String inTime = code(new FormBrowser());
    clock.advance(Duration.ofSeconds(59));
    assertThat(app.exchange(inTime).statusCode()).isEqualTo(200);
  }

  @Test
  void aDeniedConsentRedirectsWithAccessDenied() {
    SmartApp thirdParty = SmartApp.register(server, PROJECT, "user/*.rs", true, false, REDIRECT);
    FormBrowser browser = new FormBrowser();
    Page consent = thirdParty.signIn(browser, "user/*.rs", "ada@example.org", Map.of());
    Page denied = browser.submit(consent, "oauth2/consent", Map.of("decision", "deny"));
    Map<String, String> params = denied.redirectParams();
    assertThat(params).containsEntry("error", "access_denied").containsEntry("state", thirdParty.state())
        .doesNotContainKey("code");
  }

  @Test
  void cancellingTheSignInRedirectsWithAccessDeniedAndEndsTheRequest() {
    FormBrowser browser = new FormBrowser();
    Page signIn = browser.get(app.authorizeUrl(SCOPE, Map.of()));
    assertThat(signIn.body()).contains("name=\"decision\" value=\"deny\"", ">Cancel</button>");
    Page cancelled = browser.submit(signIn, "oauth2/consent", Map.of("decision", "deny"));
    assertErrorRedirect(cancelled, "access_denied", true);
    assertThat(browser.cookie("fhirbox_signin")).isEmpty();
    // the request is over: its sign-in form leads nowhere
    Page late = browser.submit(signIn, "oauth2/signin", Map.of("email", "ada@example.org", "password",
        SmartApp.PASSWORD));
    assertThat(late.status()).isEqualTo(400);
    assertThat(late.body()).contains("Sign-in expired");
    // a cancel without the request's CSRF token is refused
    FormBrowser forger = new FormBrowser();
    Page other = forger.get(app.authorizeUrl(SCOPE, Map.of()));
    assertThat(forger.submit(other, "oauth2/consent", Map.of("decision", "deny", "csrf", "forged")).status())
        .isEqualTo(403);
  }

  @Test
  void aPersonOrAppDisabledDuringTheSignInIsSentBackToTheAppWithAccessDenied() {
    SmartApp picking = SmartApp.register(server, PROJECT, "patient/*.rs launch/patient", true, false, REDIRECT);
    User picker = SmartApp.user(server, PROJECT, "picking@example.org", "Practitioner/picking", "user/*.rs");
    FormBrowser browser = new FormBrowser();
    Page pickerPage = picking.signIn(browser, "launch/patient patient/*.rs", "picking@example.org", Map.of());
    assertThat(pickerPage.body()).contains("Choose a patient");
    disable("users", picker.id());
    Page search = browser.get(server.baseUrl() + "oauth2/patient?q=Hopper");
    assertAccessDenied(search, picking);
    assertThat(search.redirectParams().get("error_description")).contains("user");
    assertThat(browser.cookie("fhirbox_signin")).isEmpty();

    SmartApp thirdParty = SmartApp.register(server, PROJECT, "user/*.rs", true, false, REDIRECT);
    User consenting = SmartApp.user(server, PROJECT, "consenting@example.org", "Practitioner/consenting", "user/*.rs");
    FormBrowser second = new FormBrowser();
    Page consent = thirdParty.signIn(second, "user/*.rs", "consenting@example.org", Map.of());
    assertThat(consent.body()).contains("Allow access?");
    disable("users", consenting.id());
    assertAccessDenied(second.submit(consent, "oauth2/consent", Map.of("decision", "allow")), thirdParty);

    SmartApp disabledApp = SmartApp.register(server, PROJECT, "user/*.rs", true, false, REDIRECT);
    FormBrowser third = new FormBrowser();
    Page appConsent = disabledApp.signIn(third, "user/*.rs", "ada@example.org", Map.of());
    assertThat(appConsent.body()).contains("Allow access?");
    disable("clients", disabledApp.clientId());
    Page ended = third.submit(appConsent, "oauth2/consent", Map.of("decision", "allow"));
    assertAccessDenied(ended, disabledApp);
    assertThat(ended.redirectParams().get("error_description")).contains("app");
  }

  @Test
  void aRedirectUriRemovedDuringTheSignInGetsAnErrorPageNotTheCode() {
    SmartApp thirdParty = SmartApp.register(server, PROJECT, "user/*.rs", true, false, REDIRECT);
    FormBrowser browser = new FormBrowser();
    Page consent = thirdParty.signIn(browser, "user/*.rs", "ada@example.org", Map.of());
    assertThat(consent.body()).contains("Allow access?");
    setRedirectUris(thirdParty, "https://new.example.org/cb");
    Page allowed = browser.submit(consent, "oauth2/consent", Map.of("decision", "allow"));
    assertThat(allowed.status()).isEqualTo(400);
    assertThat(allowed.header("Content-Type").orElseThrow()).startsWith("text/html");
    assertThat(allowed.header("Location")).isEmpty();
    assertThat(allowed.body()).doesNotContain("code=", thirdParty.state());
    // refusing is no detour to the old address either
    SmartApp denying = SmartApp.register(server, PROJECT, "user/*.rs", true, false, REDIRECT);
    FormBrowser second = new FormBrowser();
    Page secondConsent = denying.signIn(second, "user/*.rs", "ada@example.org", Map.of());
    setRedirectUris(denying, "https://new.example.org/cb");
    Page denied = second.submit(secondConsent, "oauth2/consent", Map.of("decision", "deny"));
    assertThat(denied.status()).isEqualTo(400);
    assertThat(denied.header("Location")).isEmpty();
  }

  @Test
  void aCodeWhoseRedirectUriWasRemovedBeforeTheExchangeIsRefused() {
    SmartApp moving = SmartApp.register(server, PROJECT, SCOPE, true, true, REDIRECT);
    String code = moving.code(moving.signIn(new FormBrowser(), SCOPE, "ada@example.org", Map.of()));
    setRedirectUris(moving, "https://new.example.org/cb");
    HttpResponse<String> r = moving.exchange(code);
    assertError(r, 400, "invalid_grant");
    assertThat(r.body()).contains("redirect_uri");
  }

  /** {@code PUT /admin/clients/{id}/redirect-uris} as the server's admin client. */
  private static void setRedirectUris(SmartApp of, String uri) {
    HttpResponse<String> r = server.client().putJson("admin/clients/" + of.clientId() + "/redirect-uris",
        "{\"redirectUris\":[\"" + uri + "\"]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  /** {@code POST /admin/{kind}/{id}/disable} as the server's admin client. */
  private static void disable(String kind, String id) {
    HttpResponse<String> r = server.client().send(server.client().request("admin/" + kind + "/" + id + "/disable")
        .POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  private static void assertAccessDenied(Page page, SmartApp to) {
    assertThat(page.location().toString()).startsWith(REDIRECT + "?");
    assertThat(page.redirectParams()).containsEntry("error", "access_denied").containsEntry("state", to.state())
        .containsEntry("iss", server.baseUrl()).doesNotContainKey("code");
  }

  @Test
  void aDisabledUserCannotSignInExchangeACodeOrRefresh() {
    User user = SmartApp.user(server, PROJECT, "leaver@example.org", "Practitioner/leaver", "user/*.rs");
    FormBrowser browser = new FormBrowser();
    String code = app.code(app.signIn(browser, SCOPE, "leaver@example.org", Map.of()));
    JsonNode tokens = SmartApp.read(app.exchange(code).body());
    String pendingCode = app.code(app.signIn(new FormBrowser(), SCOPE, "leaver@example.org", Map.of()));

    assertThat(server.server().signIn().users().disable(user.id())).isTrue();

    assertError(app.refresh(tokens.get("refresh_token").asText(), Optional.empty()), 400, "invalid_grant");
    assertError(app.exchange(pendingCode), 400, "invalid_grant");
    Page again = app.signIn(new FormBrowser(), SCOPE, "leaver@example.org", Map.of());
    assertThat(again.status()).isEqualTo(200);
    assertThat(again.body()).contains("The email or password is not correct.");
  }
}
