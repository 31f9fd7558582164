package org.fhirbox.webapp;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.fhirbox.testing.BrowserFixture;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.WindowType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chromium.ChromiumNetworkConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web app's sign-in, sign-out and errors in headless Chromium: an ended sign-in returns to
 * its page, sign-out revokes the refresh token, the offline banner, and the server's own words for
 * a missing patient and a refused file.
 */
@SlowTest
class SignInAndErrorsBrowserTest {
  @RegisterExtension
  static final WebApp app = new WebApp();

  @Test
  void signOutRevokesTheRefreshTokenAndAnEndedSignInReturnsToItsPage(
      AppPage page, ChromeDriver browser, TestServer fhirbox) throws Exception {
    String patient = app.patient("Eve", "Expiry", "MRN-3", "1975-03-03");
    page.signIn();
    page.openPatient(patient, "Eve Expiry");
    String who = browser.findElement(By.id("who")).getText();
    assertThat(who).contains("Casey Clinician").contains("Project default").contains("Signed in until");

    // an upload paused after its first piece
    byte[] content = new byte[3 * 1024 * 1024];
    new Random(3).nextBytes(content);
    Path file = app.write("scan.bin", content);
    browser.executeScript("document.body.dataset.chunkSize = String(256 * 1024)");
    browser.setNetworkConditions(new ChromiumNetworkConditions().setLatency(Duration.ofMillis(200)));
    page.labelled("Upload files").sendKeys(file.toString());
    WebElement row = page.upload("scan.bin");
    AppPage.buttonIn(row, "Start upload").click();
    new WebDriverWait(browser, Duration.ofSeconds(30), Duration.ofMillis(50))
        .until(d -> AppPage.sent(row) >= 256 * 1024);
    AppPage.buttonIn(row, "Pause").click();
    BrowserFixture.waitUpTo(browser, 10).until(d -> row.getText().contains("Paused"));
    browser.deleteNetworkConditions();

    // the sign-in ended: no refresh token, an access token the server refuses
    browser.executeScript("const s = JSON.parse(sessionStorage.getItem('fhirbox.session'));"
        + " s.access = 'x.e30.x'; s.refresh = null; sessionStorage.setItem('fhirbox.session', JSON.stringify(s));");
    // resuming is refused for the sign-in, not for the upload: it is still remembered
    AppPage.buttonIn(row, "Resume").click();
    BrowserFixture.waitUpTo(browser, 10).until(d -> "refused".equals(row.getAttribute("data-state")));
    assertThat(tusKeys(browser)).as("uploads remembered").hasSize(1);
    // the refusal offers to sign in again, which returns to this page
    AppPage.buttonIn(row, "Sign in again").click();
    page.waitFor(By.id("email"));
    page.fillSignInForm();
    page.waitFor(By.xpath("//h1[text()='Eve Expiry']"));
    assertThat(browser.getCurrentUrl()).endsWith("/app/#/patient/" + patient);

    // signed in again, the same file goes on from where it stopped
    browser.executeScript("document.body.dataset.chunkSize = String(256 * 1024)");
    browser.setNetworkConditions(new ChromiumNetworkConditions().setLatency(Duration.ofMillis(200)));
    page.labelled("Upload files").sendKeys(file.toString());
    WebElement again = page.upload("scan.bin");
    AppPage.buttonIn(again, "Start upload").click();
    new WebDriverWait(browser, Duration.ofSeconds(30), Duration.ofMillis(50))
        .until(d -> AppPage.sent(again) >= 1024 * 1024);
    AppPage.buttonIn(again, "Pause").click();
    BrowserFixture.waitUpTo(browser, 10).until(d -> again.getText().contains("Paused"));
    browser.deleteNetworkConditions();
    assertThat(browser.executeScript("return performance.getEntriesByType('resource')"
        + ".filter((e) => e.name.endsWith('/Binary/$upload')).length")).as("uploads created").isEqualTo(0L);
    browser.executeScript("location.hash = '#/'");
    page.search("Expiry");
    assertThat(signInKeys(browser)).as("what the tab keeps of the sign-in").hasSize(3);

    String refresh = (String) browser.executeScript(
        "return JSON.parse(sessionStorage.getItem('fhirbox.session')).refresh");
    assertThat(refresh).isNotBlank();
    page.button("Sign out").click();
    page.waitFor(By.xpath("//*[contains(text(),'You are signed out.')]"));
    assertThat(signInKeys(browser)).as("what the tab keeps of the sign-in").isEmpty();
    assertThat(browser.executeScript("return Object.keys(localStorage).length")).isEqualTo(0L);
    HttpResponse<String> reuse = fhirbox.client().http().send(HttpRequest.newBuilder(
        URI.create(fhirbox.baseUrl() + "oauth2/token")).header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("grant_type=refresh_token&client_id=fhirbox-app&refresh_token="
            + refresh)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(reuse.statusCode()).isEqualTo(400);
    assertThat(reuse.body()).contains("invalid_grant");
  }

  @Test
  void aDuplicatedTabRefreshesAtTheSameMomentWithoutEndingTheSignIn(AppPage page, ChromeDriver browser,
      TestServer fhirbox) throws Exception {
    page.signIn();
    String first = browser.getWindowHandle();
    // a duplicated tab starts with a copy of the first one's sessionStorage: the same refresh token
    String copied = (String) browser.executeScript("return JSON.stringify(Object.entries(sessionStorage))");
    browser.switchTo().newWindow(WindowType.TAB);
    browser.get(fhirbox.baseUrl() + "app/");
    browser.executeScript("for (const [k, v] of JSON.parse(arguments[0])) sessionStorage.setItem(k, v);"
        + " location.reload()", copied);
    page.waitFor(By.id("patient-search"));
    String second = browser.getWindowHandle();

    // both access tokens end now, and both tabs need one at once
    for (String tab : List.of(first, second)) {
      browser.switchTo().window(tab);
      browser.executeScript(EXPIRE_TOKEN);
    }
    for (String tab : List.of(first, second)) {
      browser.switchTo().window(tab);
      browser.executeScript(TOKEN_NOW);
    }
    for (String tab : List.of(first, second)) {
      browser.switchTo().window(tab);
      BrowserFixture.waitUpTo(browser, 20).until(d -> browser.executeScript(
          "return window.tokenSeen !== undefined"));
      assertThat(browser.executeScript("return window.tokenSeen")).as("an access token in each tab")
          .isEqualTo("yes");
    }
    // the sign-in goes on: a later refresh still works
    browser.executeScript(EXPIRE_TOKEN);
    browser.executeScript(TOKEN_NOW);
    BrowserFixture.waitUpTo(browser, 20).until(d -> "yes".equals(browser.executeScript(
        "return window.tokenSeen")));
    page.search("Nobody");
    assertThat(browser.findElements(By.id("email"))).as("no sign-in page").isEmpty();
  }

  @Test
  void signingOutInOneTabClosesTheChartInTheOtherTabsOfThatSignIn(AppPage page, ChromeDriver browser,
      TestServer fhirbox) {
    String patient = app.patient("Sam", "Shared", "MRN-9", "1981-09-09");
    page.signIn();
    String first = browser.getWindowHandle();
    page.openPatient(patient, "Sam Shared");
    // a duplicated tab starts with a copy of the first one's sessionStorage: the same sign-in
    String copied = (String) browser.executeScript("return JSON.stringify(Object.entries(sessionStorage))");
    browser.switchTo().newWindow(WindowType.TAB);
    browser.get(fhirbox.baseUrl() + "app/");
    browser.executeScript("for (const [k, v] of JSON.parse(arguments[0])) sessionStorage.setItem(k, v);"
        + " location.reload()", copied);
    page.waitFor(By.id("patient-search"));
    page.button("Sign out").click();
    page.waitFor(By.name("project"));

    // the first tab, left on the patient's page, no longer shows it nor keeps the tokens
    browser.switchTo().window(first);
    BrowserFixture.waitUpTo(browser, 10).until(d -> !d.findElements(By.name("project")).isEmpty());
    assertThat(browser.findElement(By.id("main")).getText()).contains("signed out").doesNotContain("Sam Shared");
    assertThat(browser.executeScript("return sessionStorage.getItem('fhirbox.session')")).isNull();
  }

  @Test
  void aBusyTokenEndpointIsWaitedForAndTheSignInGoesOn(AppPage page, ChromeDriver browser) {
    page.signIn();
    // the token endpoint answers its first refresh 429, as it does while client authentication is throttled
    browser.executeScript("const real = window.fetch; window.busyAnswers = 0;"
        + " window.fetch = (url, init) => String(url).endsWith('oauth2/token') && window.busyAnswers++ === 0"
        + " ? Promise.resolve(new Response(JSON.stringify({ error: 'temporarily_unavailable',"
        + " error_description: 'too many failed authentication attempts; retry later' }),"
        + " { status: 429, headers: { 'Content-Type': 'application/json', 'Retry-After': '1' } }))"
        + " : real(url, init); " + EXPIRE_TOKEN);
    askForToken(browser);
    assertThat(browser.executeScript("return window.tokenSeen")).as("a token after waiting").isEqualTo("yes");
    assertThat(browser.executeScript("return window.busyAnswers")).as("tried again after the 429").isEqualTo(2L);
    page.search("Nobody");
    assertThat(browser.findElements(By.id("email"))).as("no sign-in page").isEmpty();
  }

  /** A token endpoint that stays busy says when to try again in words: "1 second", not "1 seconds". */
  @Test
  void aTokenEndpointThatStaysBusySaysWhenToTryAgain(AppPage page, ChromeDriver browser) {
    page.signIn();
    browser.executeScript("const real = window.fetch;"
        + " window.fetch = (url, init) => String(url).endsWith('oauth2/token')"
        + " ? Promise.resolve(new Response(JSON.stringify({ error: 'temporarily_unavailable' }),"
        + " { status: 429, headers: { 'Content-Type': 'application/json', 'Retry-After': '1' } }))"
        + " : real(url, init); " + EXPIRE_TOKEN);
    askForToken(browser);
    assertThat(browser.executeScript("return window.tokenSeen"))
        .isEqualTo("error The sign-in server is busy. Try again in 1 second.");
  }

  @Test
  void anAddressNamingNoResourceIsNotFoundNotAScriptError(AppPage page, ChromeDriver browser) {
    page.signIn();
    // a stray "%" cannot be decoded, "." or ".." would name the FHIR base or another path of it, and
    // what is no FHIR id (a "/", more than 64 characters) names no resource of the server
    for (String hash : List.of("#/patient/%E0%A4%A", "#/patient/..", "#/file/..", "#/file/.?ref=Patient/1",
        "#/patient/a%2Fb", "#/patient/a%20b", "#/file/" + "b".repeat(65),
        // an id the server has no resource of: its 404, not a failure
        "#/patient/does-not-exist", "#/file/no-such-binary")) {
      browser.executeScript("location.hash = arguments[0]", hash);
      BrowserFixture.waitUpTo(browser, 10).until(d -> d.findElement(By.id("main")).getText().contains("Not found")
          || d.findElement(By.id("main")).getText().contains("went wrong"));
      assertThat(browser.findElement(By.tagName("h1")).getText()).as(hash).isEqualTo("Not found");
      browser.executeScript("location.hash = '#/'");
      page.waitFor(By.id("patient-search"));
    }
  }

  @Test
  void aLinkLeadingOutsideTheFhirApiIsNotFollowedWithTheToken(AppPage page, ChromeDriver browser,
      TestServer fhirbox) {
    app.patient("Nia", "Next", "MRN-5", "1990-05-05");
    page.signIn();
    // the search's answer names another path of the same server as its next page; the fetches
    // that carry the token are written down
    browser.executeScript("const outside = arguments[0]; const real = window.fetch; window.tokenSentTo = [];"
        + " window.fetch = async (url, init) => {"
        + " if (new Headers((init && init.headers) || {}).has('Authorization')) window.tokenSentTo.push(String(url));"
        + " const r = await real(url, init);"
        + " if (!String(url).includes('/fhir/R4/Patient?')) return r;"
        + " const bundle = await r.json(); bundle.link = [{ relation: 'next', url: outside }];"
        + " return new Response(JSON.stringify(bundle), { status: r.status, headers: r.headers }); }",
        fhirbox.baseUrl() + "oauth2/userinfo");
    page.search("Next");
    page.waitFor(By.linkText("Nia Next"));
    page.button("Next page").click();
    BrowserFixture.waitUpTo(browser, 10).until(d -> !d.findElement(By.id("results")).getText()
        .contains("Searching"));
    assertThat(browser.findElement(By.cssSelector("#results [role=alert]")).getText())
        .isEqualTo("The server gave a link that leads outside its FHIR API, so it was not followed.");
    assertThat((List<?>) browser.executeScript("return window.tokenSentTo")).as("requests given the token")
        .isNotEmpty().noneMatch(url -> url.toString().contains("oauth2/"));
  }

  @Test
  void aStraySignInReturnInASignedInTabKeepsTheSignInAndTradesNoCode(AppPage page, ChromeDriver browser,
      TestServer fhirbox) {
    page.signIn();
    String before = (String) browser.executeScript("return sessionStorage.getItem('fhirbox.session')");
    browser.get(fhirbox.baseUrl() + "app/?code=stray-code&state=stray-state#/");
    page.waitFor(By.id("patient-search"));
    assertThat(browser.getCurrentUrl()).isEqualTo(fhirbox.baseUrl() + "app/#/");
    assertThat(browser.findElement(By.id("who")).getText()).contains("Casey Clinician");
    assertThat(browser.executeScript("return sessionStorage.getItem('fhirbox.session')")).isEqualTo(before);
    assertThat(browser.executeScript("return performance.getEntriesByType('resource')"
        + ".filter((e) => e.name.endsWith('oauth2/token')).length")).as("codes traded").isEqualTo(0L);
  }

  @Test
  void aSignInAnsweredByAnotherIssuerIsRefusedBeforeItsCodeIsTraded(AppPage page, ChromeDriver browser,
      TestServer fhirbox) {
    browser.get(fhirbox.baseUrl() + "app/");
    page.waitFor(By.name("project"));
    page.button("Sign in").click();
    page.waitFor(By.id("email"));
    // the sign-in this tab started, answered with a code and the name of another server
    String state = (String) browser.executeScript(
        "return JSON.parse(sessionStorage.getItem('fhirbox.pending')).state");
    browser.get(fhirbox.baseUrl() + "app/?code=some-code&state=" + state + "&iss="
        + URLEncoder.encode("https://other.example/", StandardCharsets.UTF_8));
    page.waitFor(By.name("project"));
    assertThat(browser.findElement(By.id("main")).getText())
        .contains("answered by another server than the one it started with");
    assertThat(browser.getCurrentUrl()).doesNotContain("code=");
    assertThat(browser.executeScript("return performance.getEntriesByType('resource')"
        + ".filter((e) => e.name.endsWith('oauth2/token')).length")).as("codes traded").isEqualTo(0L);
    assertThat(browser.executeScript("return sessionStorage.getItem('fhirbox.session')")).isNull();
  }

  @Test
  void aFaultOfTheAppShowsAPlainSentenceNotItsScriptError(AppPage page, ChromeDriver browser) {
    page.signIn();
    // a patient read answered with an empty body: the page's script fails on it
    browser.executeScript("const real = window.fetch; window.fetch = (url, init) =>"
        + " String(url).includes('/Patient/broken') ? Promise.resolve(new Response('', { status: 200 }))"
        + " : real(url, init); location.hash = '#/patient/broken'");
    page.waitFor(By.xpath("//h1[text()='Something went wrong']"));
    assertThat(browser.findElement(By.cssSelector("#main [role=alert]")).getText())
        .isEqualTo("The page could not be shown. Reload it to try again.");
  }

  /** Asks the app's own auth module for an access token; window.tokenSeen says whether it got one. */
  /** Ends the tab's access token now, and forgets what {@link #TOKEN_NOW} saw. */
  private static final String EXPIRE_TOKEN = "const s = JSON.parse(sessionStorage.getItem('fhirbox.session'));"
      + " s.expires = 0; sessionStorage.setItem('fhirbox.session', JSON.stringify(s)); window.tokenSeen = undefined";

  /** Asks the app for an access token ({@link #TOKEN_NOW}) and waits until it has an answer. */
  private static void askForToken(ChromeDriver browser) {
    browser.executeScript(TOKEN_NOW);
    BrowserFixture.waitUpTo(browser, 20).until(d -> browser.executeScript("return window.tokenSeen !== undefined"));
  }

  private static final String TOKEN_NOW = "import(document.querySelector('script[type=module]').src"
      + ".replace('main.js', 'auth.js')).then((auth) => auth.accessToken())"
      + ".then((t) => { window.tokenSeen = t ? 'yes' : 'no'; }, (e) => { window.tokenSeen = 'error ' + e.message; })";

  @Test
  void offlineIsShownAndErrorsAndRefusalsAreTheServersWords(
      AppPage page, ChromeDriver browser, TestServer fhirbox) throws Exception {
    String patient = app.patient("Otto", "Offline", "MRN-0", "1960-06-06");
    page.signIn();

    browser.setNetworkConditions(offline());
    WebElement banner = page.waitFor(By.xpath("//div[@id='status']//*[contains(text(),'You are offline')]"));
    assertThat(banner.getAttribute("role")).isEqualTo("status");
    page.search("Offline");
    assertThat(browser.findElement(By.id("results")).getText()).contains("You are offline. Reconnect and try again.");
    browser.deleteNetworkConditions();
    BrowserFixture.waitUpTo(browser, 30).until(d -> d.findElement(By.id("status")).getText().isEmpty());
    page.search("Offline");
    page.waitFor(By.linkText("Otto Offline"));

    String diagnostics = app.json("fhir/R4/Patient/no-such-patient")
        .get("issue").get(0).get("diagnostics").asText();
    browser.get(fhirbox.baseUrl() + "app/#/patient/no-such-patient");
    // a 404 is the page not found, told in the server's words
    page.waitFor(By.xpath("//h1[text()='Not found']"));
    assertThat(browser.findElement(By.cssSelector("#main [role=alert]")).getText()).isEqualTo(diagnostics);

    page.openPatient(patient, "Otto Offline");
    page.labelled("Upload files").sendKeys(app.write("setup.exe", new byte[] {'M', 'Z', 0, 0}).toString());
    WebElement row = page.upload("setup.exe");
    AppPage.buttonIn(row, "Start upload").click();
    BrowserFixture.waitUpTo(browser, 30).until(d -> "refused".equals(row.getAttribute("data-state")));
    assertThat(row.findElement(By.cssSelector("[role=alert]")).getText()).contains("exe").contains("not accepted");
  }


  /**
   * A patient whose read comes back named ".." is not shown: its files would be read from
   * {@code Patient/..}, the FHIR base, and its uploads put in that context.
   */
  @Test
  void aPatientReadBackUnderADotSegmentIsNotShown(AppPage page, ChromeDriver browser, TestServer fhirbox) {
    String patient = app.patient("Ida", "Dot", "MRN-4", "1964-04-04");
    page.signIn();
    FailedSavesBrowserTest.answerOnce(browser, "GET", "/Patient/" + patient + "$", 200,
        "{\"resourceType\":\"Patient\",\"id\":\"..\",\"name\":[{\"text\":\"Ida Dot\"}]}");
    browser.executeScript("performance.clearResourceTimings(); location.hash = arguments[0]", "#/patient/" + patient);
    page.waitFor(By.xpath("//h1[text()='Something went wrong']"));
    assertThat(browser.findElement(By.cssSelector("#main [role=alert]")).getText())
        .isEqualTo("The server's answer for Patient/" + patient + " names another patient, so it is not shown.");
    @SuppressWarnings("unchecked")
    List<String> read = (List<String>) browser.executeScript("return performance.getEntriesByType('resource')"
        + ".map((e) => e.name)");
    assertThat(read).as("requests of the page").noneMatch(url -> url.startsWith(fhirbox.baseUrl() + "fhir/R4/?")
        || url.equals(fhirbox.baseUrl() + "fhir/R4/") || url.contains("Patient%2F.."));
  }

  /**
   * "Sign in" while the browser is offline, or while the server is out of reach, says so in
   * words, as every other request does, not in the browser's own ("Failed to fetch").
   */
  @Test
  void signingInOutOfReachOfTheServerSaysSoInWords(AppPage page, ChromeDriver browser, TestServer fhirbox)
      throws Exception {
    browser.get(fhirbox.baseUrl() + "app/");
    page.waitFor(By.name("project"));
    browser.setNetworkConditions(offline());
    page.button("Sign in").click();
    assertThat(page.waitFor(By.cssSelector("#main [role=alert]")).getText())
        .isEqualTo("You are offline. Reconnect and try again.");
    browser.deleteNetworkConditions();
    app.stop();
    page.button("Sign in").click();
    BrowserFixture.waitUpTo(browser, 10).until(d -> d.findElement(By.cssSelector("#main [role=alert]")).getText()
        .equals("The server cannot be reached. Check your connection and try again."));
  }

  /**
   * "Sign in" is disabled and says "Signing in…" in a polite status while the config is read, so a
   * double click starts one sign-in; when that fails, the button is enabled again with the focus.
   */
  @Test
  void signInIsDisabledWhileItWorksAndEnabledWithTheFocusWhenItFails(AppPage page, ChromeDriver browser,
      TestServer fhirbox) {
    // the config's answer is held until the test lets it fail
    openAnswering(page, browser, fhirbox, "'config.json'", "new Promise((resolve, reject) => {"
        + " window.configReads = (window.configReads || 0) + 1;"
        + " window.failConfig = () => reject(new TypeError('Failed to fetch')); })");
    WebElement button = page.button("Sign in");
    browser.executeScript("arguments[0].click(); arguments[0].click()", button);
    BrowserFixture.waitUpTo(browser, 10).until(d -> browser.executeScript("return window.failConfig") != null);
    assertThat(browser.executeScript("return window.configReads")).as("sign-ins started").isEqualTo(1L);
    assertThat(button.isEnabled()).as("Sign in while it works").isFalse();
    WebElement status = browser.findElement(By.id("sign-in-status"));
    assertThat(status.getText()).isEqualTo("Signing in…");
    assertThat(status.getAttribute("role")).isEqualTo("status");
    assertThat(status.getAttribute("aria-live")).isEqualTo("polite");

    browser.executeScript("window.failConfig()");
    assertThat(page.waitFor(By.cssSelector("#main [role=alert]")).getText())
        .isEqualTo("The server cannot be reached. Check your connection and try again.");
    assertThat(button.isEnabled()).as("Sign in after it failed").isTrue();
    assertThat(status.getText()).isEmpty();
    assertThat(page.focused()).containsEntry("tag", "BUTTON").containsEntry("name", "Sign in");
  }

  /**
   * A server that never answers the reads before the sign-in (the config, then the discovery
   * document) does not leave "Sign in" disabled: after 15 s the page says so and offers it again.
   */
  @Test
  void aSignInReadThatIsNeverAnsweredEndsAndSignInIsOfferedAgain(AppPage page, ChromeDriver browser,
      TestServer fhirbox) {
    // the read named window.silent (set below) is never answered: only its signal ends it
    openAnswering(page, browser, fhirbox, "window.silent", "new Promise((resolve, reject) => {"
        + " if (init && init.signal) init.signal.addEventListener('abort', () => reject(init.signal.reason)); })");
    WebElement button = page.button("Sign in");
    String words = "The server did not answer within 15 seconds. Try again later.";
    for (String silent : List.of("config.json", "smart-configuration")) {
      browser.executeScript("window.silent = arguments[0]", silent);
      button.click();
      assertThat(button.isEnabled()).as("Sign in while it works").isFalse();
      BrowserFixture.waitUpTo(browser, 30).until(d -> button.isEnabled());
      assertThat(browser.findElement(By.cssSelector("#main [role=alert]")).getText()).as(silent).isEqualTo(words);
    }
  }

  /**
   * A page still shown 10 s after it left for the sign-in page (Stop pressed; here a sign-in
   * address that goes nowhere) offers "Sign in" again.
   */
  @Test
  void aPageStillShownAfterLeavingForTheSignInPageOffersSignInAgain(AppPage page, ChromeDriver browser,
      TestServer fhirbox) {
    openAnswering(page, browser, fhirbox, "'config.json'", "real(url, init).then((r) => r.json())"
        + ".then((c) => new Response(JSON.stringify({ ...c, authorize: 'javascript:void(0)//' }),"
        + " { headers: { 'Content-Type': 'application/json' } }))");
    WebElement button = page.button("Sign in");
    button.click();
    BrowserFixture.waitUpTo(browser, 10).until(d -> browser.executeScript(
        "return sessionStorage.getItem('fhirbox.pending') !== null"));
    assertThat(button.isEnabled()).as("Sign in while it leaves").isFalse();
    BrowserFixture.waitUpTo(browser, 30).until(d -> button.isEnabled());
    assertThat(browser.findElement(By.id("sign-in-status")).getText()).isEmpty();
  }

  /**
   * Opens the app with the page's fetch of a URL that includes {@code part} (a JavaScript
   * expression) answered by {@code answer}, an expression of {@code url}, {@code init} and
   * {@code real} (the browser's own fetch); every other fetch goes through.
   */
  private static void openAnswering(AppPage page, ChromeDriver browser, TestServer fhirbox, String part,
      String answer) {
    browser.get(fhirbox.baseUrl() + "app/");
    page.waitFor(By.name("project"));
    browser.executeScript("const real = window.fetch; window.fetch = (url, init) => String(url).includes(" + part
        + ") ? " + answer + " : real(url, init);");
  }

  /** The session, the last search and the uploads to resume: what sign-out forgets. */
  private static List<?> signInKeys(ChromeDriver browser) {
    return (List<?>) browser.executeScript("return Object.keys(sessionStorage).filter((k) => k === 'fhirbox.session'"
        + " || k === 'fhirbox.search' || k.startsWith('fhirbox.tus:'))");
  }

  private static List<?> tusKeys(ChromeDriver browser) {
    return (List<?>) browser.executeScript(
        "return Object.keys(sessionStorage).filter((k) => k.startsWith('fhirbox.tus:'))");
  }

  private static ChromiumNetworkConditions offline() {
    ChromiumNetworkConditions c = new ChromiumNetworkConditions();
    c.setOffline(true);
    return c;
  }
}
