package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.fhirbox.auth.SignIn;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestClock;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** {@code /account/set-password} over HTTP, as a browser (and a script asking for JSON) uses it. */
class SetPasswordPageTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern CSRF_FIELD = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"");
  private static final Pattern CSRF_COOKIE = Pattern.compile("^(?:__Host-)?fhirbox-csrf=([^;]*)");
  private static final String PASSWORD = "purple monkey dishwasher";
  private static final TestClock CLOCK = new TestClock();
  private static TestServer server;
  private static TestClient browser;
  private static int users;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(Map.of(), CLOCK);
    browser = new TestClient(server.baseUrl());
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  /** A new user's email and set-password URL, from the admin API. */
  private record Invited(String email, String url) {
    String token() {
      return url.substring(url.indexOf("token=") + "token=".length());
    }
  }

  private static Invited invite() throws Exception {
    String email = "person" + (++users) + "@example.org";
    HttpResponse<String> r = server.client().send(server.client().request("admin/users")
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(
            Map.of("project", "clinic", "email", email, "name", "Pat <b>Smith</b>", "fhirUser", "Practitioner/p1",
                "scope", "user/*.rs")))));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return new Invited(email, JSON.readTree(r.body()).get("setPasswordUrl").asText());
  }

  /** The form as a browser gets it, and the cookie it was given. */
  private record Form(HttpResponse<String> response, String csrf, String cookie) {}

  private static Form open(Invited invited) {
    HttpResponse<String> r = browser.send(browser.request(invited.url()).header("Accept", "text/html").GET());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Matcher field = CSRF_FIELD.matcher(r.body());
    assertThat(field.find()).as(r.body()).isTrue();
    String setCookie = r.headers().firstValue("Set-Cookie").orElseThrow();
    Matcher cookie = CSRF_COOKIE.matcher(setCookie);
    assertThat(cookie.find()).as(setCookie).isTrue();
    return new Form(r, field.group(1), setCookie.substring(0, setCookie.indexOf(';')));
  }

  private static HttpResponse<String> post(String cookie, Map<String, String> fields, String accept) {
    String body = fields.entrySet().stream()
        .map(e -> enc(e.getKey()) + "=" + enc(e.getValue())).collect(Collectors.joining("&"));
    HttpRequest.Builder b = browser.request("account/set-password")
        .header("Content-Type", "application/x-www-form-urlencoded").header("Accept", accept)
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (cookie != null) {
      b.header("Cookie", cookie);
    }
    return browser.send(b);
  }

  private static Map<String, String> fields(Invited invited, String csrf, String password, String confirm) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("token", invited.token());
    if (csrf != null) {
      f.put("csrf", csrf);
    }
    f.put("username", invited.email());
    f.put("password", password);
    f.put("confirm", confirm);
    return f;
  }

  private static HttpResponse<String> submit(Invited invited, String password, String confirm) {
    Form form = open(invited);
    return post(form.cookie(), fields(invited, form.csrf(), password, confirm), "text/html");
  }

  private static boolean hasPassword(Invited invited) {
    return server.server().auth().users().findByEmail("clinic", invited.email()).orElseThrow().hasPassword();
  }

  private static SignIn.Result signIn(Invited invited, String password) {
    return server.server().auth().signIn().authenticate("clinic", invited.email(), password, "192.0.2.44");
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  @Test
  void theFormIsLabelledNeedsNoScriptAndSendsStrictSecurityHeaders() throws Exception {
    Form form = open(invite());
    HttpResponse<String> r = form.response();

    assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
    String body = r.body();
    assertThat(body).contains("<html lang=\"en\">", "<label for=\"password\">New password</label>",
        "<input id=\"password\" name=\"password\" type=\"password\"", "<label for=\"confirm\">Confirm password</label>",
        "<input id=\"confirm\" name=\"confirm\" type=\"password\"", "<button type=\"submit\">Set password</button>",
        "<form method=\"post\" action=\"set-password\">", "Pat &lt;b&gt;Smith&lt;/b&gt;");
    assertThat(body).doesNotContainIgnoringCase("<script").doesNotContain("<b>Smith");
    String csp = r.headers().firstValue("Content-Security-Policy").orElseThrow();
    assertThat(csp).contains("default-src 'none'", "frame-ancestors 'none'", "form-action 'self'")
        .doesNotContain("unsafe-inline").doesNotContain("script-src");
    assertThat(r.headers().firstValue("Referrer-Policy")).hasValue("no-referrer");
    assertThat(r.headers().firstValue("X-Frame-Options")).hasValue("DENY");
    assertThat(r.headers().firstValue("Cache-Control")).hasValue("no-store");
    String setCookie = r.headers().firstValue("Set-Cookie").orElseThrow();
    assertThat(setCookie).startsWith("fhirbox-csrf=" + form.csrf() + ";")
        .contains("HttpOnly", "SameSite=Lax", "Max-Age=1800", "Path=/").doesNotContain("Secure");
  }

  @Test
  void behindAnHttpsProxyTheCookieIsSecureAndHostPrefixed() throws Exception {
    try (TestServer proxied = TestServer.start(Map.of("FHIRBOX_TRUST_PROXY", "true"))) {
      HttpResponse<String> created = proxied.client().send(proxied.client().request("admin/users")
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
              "{\"email\":\"tls@example.org\",\"name\":\"T\",\"fhirUser\":\"Patient/1\",\"scope\":\"patient/*.rs\"}")));
      String url = JSON.readTree(created.body()).get("setPasswordUrl").asText();
      HttpResponse<String> r = proxied.client().send(proxied.client().request(url)
          .header("X-Forwarded-Proto", "https").GET());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("Set-Cookie").orElseThrow()).startsWith("__Host-fhirbox-csrf=")
          .contains("; Secure", "Path=/", "HttpOnly", "SameSite=Lax").doesNotContain("Domain");
    }
  }

  @Test
  void theFormSetsThePasswordOnceAndTheLinkIsThenUsedUp() throws Exception {
    Invited invited = invite();
    Form form = open(invited);

    HttpResponse<String> done = post(form.cookie(), fields(invited, form.csrf(), PASSWORD, PASSWORD), "text/html");

    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    assertThat(done.body()).contains("Your password is set", invited.email());
    assertThat(done.headers().firstValue("Set-Cookie").orElseThrow()).contains("Max-Age=0");
    assertThat(signIn(invited, PASSWORD)).isInstanceOf(SignIn.SignedIn.class);

    HttpResponse<String> again = browser.send(browser.request(invited.url()).GET());
    assertThat(again.statusCode()).isEqualTo(410);
    assertThat(again.body()).contains("This link was already used").doesNotContain("<form");
    assertThat(again.headers().firstValue("Referrer-Policy")).hasValue("no-referrer");
    HttpResponse<String> replay = post(form.cookie(), fields(invited, form.csrf(), "another password!", "another password!"),
        "text/html");
    assertThat(replay.statusCode()).isEqualTo(410);
    assertThat(signIn(invited, PASSWORD)).isInstanceOf(SignIn.SignedIn.class);

    HttpResponse<String> json = post(form.cookie(), fields(invited, form.csrf(), PASSWORD, PASSWORD),
        "application/json");
    assertThat(json.statusCode()).isEqualTo(410);
    assertThat(JSON.readTree(json.body()).at("/issue/0/diagnostics").asText()).contains("already used");
  }

  @Test
  void aPostWithoutTheCsrfCookieOrWithAnotherValueIsRefused() throws Exception {
    Invited invited = invite();
    Form form = open(invited);

    HttpResponse<String> noCookie = post(null, fields(invited, form.csrf(), PASSWORD, PASSWORD), "text/html");
    assertThat(noCookie.statusCode()).isEqualTo(403);
    assertThat(noCookie.body()).contains("role=\"alert\"", "This form has expired", "<form");
    HttpResponse<String> noField = post(form.cookie(), fields(invited, null, PASSWORD, PASSWORD), "text/html");
    assertThat(noField.statusCode()).isEqualTo(403);
    Form other = open(invited);
    HttpResponse<String> mixed = post(form.cookie(), fields(invited, other.csrf(), PASSWORD, PASSWORD), "text/html");
    assertThat(mixed.statusCode()).isEqualTo(403);
    HttpResponse<String> json = post(null, fields(invited, form.csrf(), PASSWORD, PASSWORD), "application/fhir+json");
    assertThat(json.statusCode()).isEqualTo(403);
    JsonNode outcome = JSON.readTree(json.body());
    assertThat(outcome.get("resourceType").asText()).isEqualTo("OperationOutcome");
    assertThat(outcome.at("/issue/0/diagnostics").asText()).contains("CSRF");
    assertThat(hasPassword(invited)).isFalse();

    // the link still works from a form the browser loaded itself
    assertThat(submit(invited, PASSWORD, PASSWORD).statusCode()).isEqualTo(200);
  }

  @Test
  void passwordsOutsideTheRulesOrThatDifferAreRefusedOnThePageAndTheLinkStaysOpen() throws Exception {
    Invited invited = invite();

    HttpResponse<String> tooShort = submit(invited, "elevenchars", "elevenchars");
    assertThat(tooShort.statusCode()).isEqualTo(400);
    assertThat(tooShort.body()).contains("The password needs 12 to 256 characters; this one has 11.",
        "role=\"alert\"", "<input id=\"password\" name=\"password\" type=\"password\"")
        .containsPattern("id=\"password\"[^>]*aria-invalid=\"true\"[^>]*aria-describedby=\"error password-hint\"");
    String longest = "é".repeat(256);
    HttpResponse<String> tooLong = submit(invited, longest + "x", longest + "x");
    assertThat(tooLong.statusCode()).isEqualTo(400);
    assertThat(tooLong.body()).contains("this one has 257.");
    HttpResponse<String> differ = submit(invited, PASSWORD, PASSWORD + "!");
    assertThat(differ.statusCode()).isEqualTo(400);
    assertThat(differ.body()).contains("The two passwords do not match.")
        .containsPattern("id=\"confirm\"[^>]*aria-invalid=\"true\"");
    Form form = open(invited);
    HttpResponse<String> json = post(form.cookie(), fields(invited, form.csrf(), "short", "short"),
        "application/json");
    assertThat(json.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(json.body()).at("/issue/0/expression/0").asText()).isEqualTo("password");
    assertThat(hasPassword(invited)).isFalse();

    HttpResponse<String> ok = submit(invited, longest, longest);
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(signIn(invited, longest)).isInstanceOf(SignIn.SignedIn.class);
  }

  @Test
  void anExpiredLinkIsGoneForBrowsersAndJsonCallers() throws Exception {
    Invited invited = invite();
    Form form = open(invited);
    CLOCK.advance(Duration.ofHours(24));

    HttpResponse<String> page = browser.send(browser.request(invited.url()).GET());
    assertThat(page.statusCode()).isEqualTo(410);
    assertThat(page.body()).contains("This link has expired", "24 hours");
    HttpResponse<String> posted = post(form.cookie(), fields(invited, form.csrf(), PASSWORD, PASSWORD), "text/html");
    assertThat(posted.statusCode()).isEqualTo(410);
    HttpResponse<String> json = browser.send(browser.request(invited.url()).header("Accept", "application/json")
        .GET());
    assertThat(json.statusCode()).isEqualTo(410);
    assertThat(JSON.readTree(json.body()).at("/issue/0/code").asText()).isEqualTo("deleted");
    assertThat(hasPassword(invited)).isFalse();
  }

  @Test
  void aMissingOrUnknownTokenIsExplained() throws Exception {
    HttpResponse<String> missing = browser.send(browser.request("account/set-password").GET());
    assertThat(missing.statusCode()).isEqualTo(400);
    assertThat(missing.body()).contains("A link is needed");
    HttpResponse<String> unknown = browser.send(browser.request("account/set-password?token=" + "A".repeat(43)).GET());
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.body()).contains("This link is not valid");
    HttpResponse<String> json = browser.send(browser.request("account/set-password?token=cut-off")
        .header("Accept", "application/fhir+json").GET());
    assertThat(json.statusCode()).isEqualTo(404);
    assertThat(JSON.readTree(json.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    assertThat(browser.send(browser.request("account/set-password").DELETE()).statusCode()).isEqualTo(405);
    HttpResponse<String> notAForm = browser.send(browser.request("account/set-password")
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")));
    assertThat(notAForm.statusCode()).isEqualTo(415);
  }

  @Test
  void theLinkNeverReachesTheLog() throws Exception {
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    log.start();
    Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
    root.addAppender(log);
    Invited invited;
    try {
      invited = invite();
      submit(invited, "short", "short");
      post(null, fields(invited, "forged", PASSWORD, PASSWORD), "text/html");
      submit(invited, PASSWORD, PASSWORD);
      browser.send(browser.request(invited.url()).GET());
    } finally {
      root.detachAppender(log);
    }
    assertThat(log.list).allSatisfy(e -> {
      String text = e.getFormattedMessage()
          + (e.getThrowableProxy() == null ? "" : ThrowableProxyUtil.asString(e.getThrowableProxy()));
      assertThat(text).doesNotContain(invited.token()).doesNotContain(PASSWORD);
    });
  }
}
