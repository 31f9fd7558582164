package org.fhirbox.webapp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.fhirbox.auth.User;
import org.fhirbox.auth.UserStore;
import org.fhirbox.testing.BrowserFixture;
import org.fhirbox.testing.SmartApp;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.Alert;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;

/**
 * The web app's admin pages in headless Chromium: users, clients and ingestion jobs, each flow
 * as an admin goes through it, and axe-core on each page.
 */
@SlowTest
class AdminPagesBrowserTest {
  @RegisterExtension
  static final WebApp app = WebApp.behindProxy();

  @Test
  void anAdminManagesUsersClientsAndJobs(AppPage page, ChromeDriver browser, TestServer fhirbox) throws Exception {
    String media = app.mediaToIngest();
    page.signIn();

    page.button("Admin").click();
    page.waitFor(By.xpath("//caption[text()='Users']"));
    page.axe("the users page");
    page.labelled("Email").sendKeys("new.person@example.org");
    page.labelled("Name").sendKeys("New Person");
    page.labelled("FHIR user").sendKeys("Practitioner/new");
    page.button("Create user").click();
    String setPassword = page.onceValue();
    assertThat(setPassword).startsWith(fhirbox.baseUrl() + "account/set-password?token=");
    page.button("Reset password of new.person@example.org").click();
    BrowserFixture.waitUpTo(browser, 30).until(d -> !page.onceValue().equals(setPassword));
    assertThat(page.onceValue()).startsWith(fhirbox.baseUrl() + "account/set-password?token=");
    page.button("Disable new.person@example.org").click();
    confirm(browser, "Disable new.person@example.org?");
    BrowserFixture.waitUpTo(browser, 30).until(d -> page.rowText("data-email", "new.person@example.org")
        .contains("disabled"));

    browser.findElement(By.linkText("Clients")).click();
    page.waitFor(By.xpath("//caption[text()='Clients']"));
    page.axe("the clients page");
    int clients = app.json("admin/clients").get("clients").size();
    int rows = browser.findElements(By.cssSelector("tr[data-client]")).size();
    // pressed twice in a row, the button creates one client: it is disabled while the first runs
    new Actions(browser).doubleClick(page.button("Create client")).perform();
    String secret = page.onceValue();
    assertThat(app.json("admin/clients").get("clients").size()).as("clients created").isEqualTo(clients + 1);
    assertThat(browser.findElements(By.cssSelector("tr[data-client]"))).as("rows").hasSize(rows + 1);
    String clientId = browser.findElement(By.xpath("//div[@id='once']//h2")).getText()
        .replace("Secret for new client ", "");
    assertThat(secret).isNotBlank();
    assertThat(token(fhirbox, clientId, secret)).isEqualTo(200);
    page.button("Rotate secret of " + clientId).click();
    BrowserFixture.waitUpTo(browser, 30).until(d -> !page.onceValue().equals(secret));
    assertThat(token(fhirbox, clientId, secret)).isEqualTo(401);
    assertThat(token(fhirbox, clientId, page.onceValue())).isEqualTo(200);
    // a rotation that fails says why, and the secret rotated before still works
    String rotated = page.onceValue();
    app.proxy().answerOnce("POST /admin/clients/" + clientId + "/rotate-secret ",
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
    page.button("Rotate secret of " + clientId).click();
    page.waitFor(By.xpath("//div[@id='once']//*[contains(text(),'The server is not available right now')]"));
    assertThat(token(fhirbox, clientId, rotated)).isEqualTo(200);
    assertThat(page.focused().get("name")).as("focus after a failure").isEqualTo("Rotate secret of " + clientId);
    page.button("Disable " + clientId).click();
    confirm(browser, "Disable client " + clientId + "?");
    BrowserFixture.waitUpTo(browser, 30).until(d -> page.rowText("data-client", clientId)
        .contains("disabled"));

    String job = app.awaitFailedJob();
    browser.findElement(By.linkText("Ingestion jobs")).click();
    page.waitFor(By.xpath("//caption[text()='Ingestion jobs']"));
    assertThat(page.rowText("data-job", job)).contains("Media/" + media).contains("failed").contains("404");
    page.axe("the jobs page");
    // a state chosen lists only the jobs in it
    new Select(page.labelled("Show")).selectByVisibleText("Queued");
    BrowserFixture.waitUpTo(browser, 30).until(d -> d.findElements(
        By.cssSelector("tr[data-job='" + job + "']")).isEmpty());
    new Select(page.labelled("Show")).selectByVisibleText("Failed");
    page.waitFor(By.cssSelector("tr[data-job='" + job + "']"));
    page.button("Retry job " + job).click();
    page.waitFor(By.xpath("//*[contains(text(),'The job is queued again.')]"));
    // the row, in its place, as the retry's answer says
    assertThat(page.rowText("data-job", job)).contains("queued");
    JsonNode after = app.json("admin/jobs").get("jobs").get(0);
    assertThat(after.get("attempts").asInt()).as("counted afresh").isLessThanOrEqualTo(1);
  }

  /**
   * Ids the server sends that are no single path segment ("..", "." or one with a '/', '?' or
   * '#') get no buttons, whose requests would go to another route (`users/../disable` is
   * `admin/disable`); a client id an operator may choose (letters, digits and . _ ~ -) gets them.
   */
  @Test
  void anIdThatIsNoSinglePathSegmentIsNeverPutInAPath(AppPage page, ChromeDriver browser) throws Exception {
    page.signIn();
    app.proxy().answerOnce("GET /admin/users ", json("{\"users\":["
        + user("..", "dots@example.org") + "," + user("a/b", "slash@example.org") + ","
        + user("0d9c1e7c-1b2a-4c3d-9e8f-123456789abc", "fine@example.org") + "]}"));
    page.button("Admin").click();
    page.waitFor(By.xpath("//caption[text()='Users']"));
    for (String email : new String[] {"dots@example.org", "slash@example.org"}) {
      assertThat(page.rowText("data-email", email)).as(email).contains(NO_ACTIONS);
      assertThat(browser.findElements(By.xpath("//button[text()='Disable " + email + "']"))).as(email).isEmpty();
      assertThat(browser.findElements(By.xpath("//button[text()='Reset password of " + email + "']"))).as(email)
          .isEmpty();
    }
    assertThat(page.rowText("data-email", "fine@example.org")).doesNotContain(NO_ACTIONS);
    page.button("Disable fine@example.org");

    app.proxy().answerOnce("GET /admin/clients ", json("{\"clients\":[" + client(".") + "," + client("a?b") + ","
        + client("x#y") + "," + client("svc~ingest_1.a") + "]}"));
    browser.findElement(By.linkText("Clients")).click();
    page.waitFor(By.xpath("//caption[text()='Clients']"));
    for (String id : new String[] {".", "a?b", "x#y"}) {
      assertThat(page.rowText("data-client", id)).as(id).contains(NO_ACTIONS);
      assertThat(browser.findElements(By.xpath("//button[text()='Disable " + id + "']"))).as(id).isEmpty();
    }
    page.button("Rotate secret of svc~ingest_1.a");

    app.proxy().answerOnce("GET /admin/jobs?", json("{\"jobs\":[{\"id\":\"..\",\"created\":"
        + "\"2026-01-01T00:00:00Z\",\"resource\":\"Media/1\",\"url\":\"https://example.org/a\","
        + "\"state\":\"failed\",\"attempts\":1,\"lastError\":\"upstream answered HTTP 404\"}]}"));
    browser.findElement(By.linkText("Ingestion jobs")).click();
    page.waitFor(By.xpath("//caption[text()='Ingestion jobs']"));
    assertThat(page.rowText("data-job", "..")).contains(NO_ACTIONS);
    assertThat(browser.findElements(By.xpath("//button[text()='Retry job ..']"))).isEmpty();
  }

  /**
   * A list the server sends in pages shows its first page and "Show more", which adds the page the
   * next link names, asked of this app's own admin API whatever origin the link was written with;
   * the control goes once the last page is shown.
   */
  @Test
  void morePagesOfAListAreShownOnAsking(AppPage page, ChromeDriver browser) throws Exception {
    page.signIn();
    app.proxy().answerOnce("GET /admin/users ", json("{\"users\":[" + user("0d9c1e7c-1b2a-4c3d-9e8f-00000000000a",
        "first@example.org") + "],\"next\":\"https://elsewhere.example/admin/users?_count=1&_cursor=c2\"}"));
    page.button("Admin").click();
    page.waitFor(By.xpath("//caption[text()='Users']"));
    assertThat(browser.findElements(By.cssSelector("tr[data-email]"))).hasSize(1);
    // the proxy answers one request at a time: the second page's answer is set once the first is shown
    app.proxy().answerOnce("GET /admin/users?_count=1&_cursor=c2 ", json("{\"users\":["
        + user("0d9c1e7c-1b2a-4c3d-9e8f-00000000000b", "second@example.org")
        + "],\"next\":\"https://elsewhere.example/admin/users?_count=1&_cursor=c3\"}"));
    page.button("Show more users").click();
    page.waitFor(By.cssSelector("tr[data-email='second@example.org']"));
    // disabled while the page was read, the button dropped the focus: it has it back
    BrowserFixture.waitUpTo(browser, 10).until(d -> "Show more users".equals(page.focused().get("name")));
    app.proxy().answerOnce("GET /admin/users?_count=1&_cursor=c3 ", json("{\"users\":["
        + user("0d9c1e7c-1b2a-4c3d-9e8f-00000000000c", "third@example.org") + "]}"));
    page.button("Show more users").click();
    page.waitFor(By.cssSelector("tr[data-email='third@example.org']"));
    assertThat(browser.findElements(By.cssSelector("tr[data-email]"))).hasSize(3);
    assertThat(browser.findElements(By.xpath("//button[text()='Show more users']"))).isEmpty();
    // the button pressed is gone: the focus is on the first row it brought, not lost to the page
    assertThat(focusedRow(browser, "data-email")).isEqualTo("third@example.org");
  }

  /**
   * An action on a row of a list shown a page at a time changes that row in place, as the
   * server's answer says: the pages shown stay, a row of a later page shows its new state, and a
   * user created comes at the top, marked new, above the pages shown.
   */
  @Test
  void actionsOnUsersKeepThePagesShown(AppPage page, ChromeDriver browser, TestServer fhirbox) throws Exception {
    UserStore users = fhirbox.server().signIn().users();
    User last = null;
    for (int i = 0; i < 104; i++) { // with the clinician, 105: a page of 100 and one of 5
      last = users.create("default", "u" + i + "@example.org", "U " + i, "Practitioner/u" + i, "user/*.rs", false)
          .orElseThrow();
    }
    String link = fhirbox.server().auth().passwordLinks().issue(last.id()).orElseThrow().token();
    fhirbox.server().auth().passwordLinks().setPassword(link, SmartApp.PASSWORD);
    page.signIn();
    page.button("Admin").click();
    page.waitFor(By.xpath("//caption[text()='Users']"));
    assertThat(rows(browser, "data-email")).isEqualTo(100);
    page.button("Show more users").click();
    BrowserFixture.waitUpTo(browser, 30).until(d -> rows(browser, "data-email") == 105);
    assertThat(page.rowText("data-email", "u103@example.org")).contains("active");

    page.button("Reset password of u103@example.org").click();
    String reset = page.onceValue();
    assertThat(reset).startsWith(fhirbox.baseUrl() + "account/set-password?token=");
    BrowserFixture.waitUpTo(browser, 30).until(d -> page.rowText("data-email", "u103@example.org")
        .contains("no password yet"));
    assertThat(rows(browser, "data-email")).as("rows after a reset").isEqualTo(105);

    page.button("Disable u102@example.org").click();
    confirm(browser, "Disable u102@example.org?");
    BrowserFixture.waitUpTo(browser, 30).until(d -> page.rowText("data-email", "u102@example.org")
        .contains("disabled"));
    assertThat(rows(browser, "data-email")).as("rows after disabling").isEqualTo(105);
    assertThat(browser.findElements(By.xpath("//button[text()='Disable u102@example.org']"))).isEmpty();
    // its Disable button is gone: the focus is on the row, where it was
    assertThat(focusedRow(browser, "data-email")).isEqualTo("u102@example.org");
    // the link shown once stays, not yet copied, with what the disable did below it
    assertThat(page.onceValue()).isEqualTo(reset);
    assertThat(browser.findElement(By.id("once")).getText()).contains("u102@example.org is disabled.");

    page.labelled("Email").sendKeys("newest@example.org");
    page.labelled("Name").sendKeys("Newest Person");
    page.labelled("FHIR user").sendKeys("Practitioner/newest");
    page.button("Create user").click();
    page.onceValue();
    BrowserFixture.waitUpTo(browser, 30).until(d -> rows(browser, "data-email") == 106);
    WebElement first = browser.findElement(By.cssSelector("tbody tr:first-child"));
    assertThat(first.getAttribute("data-email")).isEqualTo("newest@example.org");
    assertThat(first.getText()).startsWith("New").contains("no password yet");
    assertThat(page.rowText("data-email", "u103@example.org")).contains("no password yet");
    assertThat(page.labelled("Email").getAttribute("value")).as("the form, ready for the next").isEmpty();
    page.axe("the users page with a new row");
  }

  /**
   * A client created comes at the top, marked new, with the kind the server stored; when the page
   * that holds it is shown it is not shown twice; a disable or rotation on a later page keeps the
   * pages shown.
   */
  @Test
  void actionsOnClientsKeepThePagesShown(AppPage page, ChromeDriver browser, TestServer fhirbox) throws Exception {
    for (int i = 0; i < 100; i++) {
      fhirbox.server().auth().clients().create("default", "system/*.rs", false);
    }
    page.signIn();
    page.button("Admin").click();
    browser.findElement(By.linkText("Clients")).click();
    page.waitFor(By.xpath("//caption[text()='Clients']"));
    assertThat(rows(browser, "data-client")).isEqualTo(100);
    page.labelled("Admin client").click();
    page.button("Create client").click();
    String secret = page.onceValue();
    String clientId = browser.findElement(By.xpath("//div[@id='once']//h2")).getText()
        .replace("Secret for new client ", "");
    BrowserFixture.waitUpTo(browser, 30).until(d -> rows(browser, "data-client") == 101);
    WebElement first = browser.findElement(By.cssSelector("tbody tr:first-child"));
    assertThat(first.getAttribute("data-client")).isEqualTo(clientId);
    assertThat(first.getText()).startsWith("New").contains("admin").contains("active");

    page.button("Show more clients").click();
    page.waitFor(By.xpath("//tbody/tr[101]"));
    BrowserFixture.waitUpTo(browser, 30).until(d -> d.findElements(
        By.xpath("//button[text()='Show more clients']")).isEmpty());
    int all = app.json("admin/clients?_count=1000").get("clients").size();
    assertThat(rows(browser, "data-client")).as("every client, once").isEqualTo(all);
    assertThat(browser.findElements(By.cssSelector("tr[data-client='" + clientId + "']"))).hasSize(1);

    String later = browser.findElement(By.cssSelector("tbody tr:last-child")).getAttribute("data-client");
    page.button("Disable " + later).click();
    confirm(browser, "Disable client " + later + "?");
    BrowserFixture.waitUpTo(browser, 30).until(d -> page.rowText("data-client", later).contains("disabled"));
    assertThat(rows(browser, "data-client")).as("rows after disabling").isEqualTo(all);
    page.button("Rotate secret of " + clientId).click();
    BrowserFixture.waitUpTo(browser, 30).until(d -> !page.onceValue().equals(secret));
    assertThat(rows(browser, "data-client")).as("rows after a rotation").isEqualTo(all);
    assertThat(page.rowText("data-client", clientId)).startsWith("New").contains("admin");
  }

  /** The {@code attribute} of the row the focus is on (or in), else null. */
  private static String focusedRow(ChromeDriver browser, String attribute) {
    return (String) browser.executeScript("const r = document.activeElement.closest('tr');"
        + " return r ? r.getAttribute(arguments[0]) : null", attribute);
  }

  /** How many rows with {@code attribute} the page shows. */
  private static int rows(ChromeDriver browser, String attribute) {
    return browser.findElements(By.cssSelector("tr[" + attribute + "]")).size();
  }

  private static final String NO_ACTIONS = "None here: its id cannot be named in an address.";

  /** A whole HTTP/1.1 answer with the JSON {@code body}. */
  private static String json(String body) {
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n"
        + body;
  }

  private static String user(String id, String email) {
    return "{\"id\":\"" + id + "\",\"email\":\"" + email + "\",\"name\":\"N\",\"fhirUser\":\"Practitioner/1\","
        + "\"scope\":\"user/*.rs\",\"admin\":false,\"disabled\":false,\"hasPassword\":true}";
  }

  private static String client(String id) {
    return "{\"clientId\":\"" + id + "\",\"project\":\"default\",\"scope\":\"system/*.rs\",\"public\":false,"
        + "\"disabled\":false}";
  }

  /** Accepts the confirmation the page asks for, which starts with {@code question}. */
  private static void confirm(ChromeDriver browser, String question) {
    Alert alert = BrowserFixture.waitUpTo(browser, 10).until(ExpectedConditions.alertIsPresent());
    assertThat(alert.getText()).startsWith(question);
    alert.accept();
  }

  /** The status of a client-credentials token request with this secret. */
  private static int token(TestServer fhirbox, String clientId, String secret) throws Exception {
    return fhirbox.client().http().send(HttpRequest.newBuilder(URI.create(fhirbox.baseUrl() + "oauth2/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Authorization", "Basic " + Base64.getEncoder().encodeToString((clientId + ":" + secret)
            .getBytes(StandardCharsets.UTF_8)))
        .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode();
  }
}
