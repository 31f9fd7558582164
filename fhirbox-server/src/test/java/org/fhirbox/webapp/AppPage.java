package org.fhirbox.webapp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.fhirbox.testing.BrowserFixture;
import org.fhirbox.testing.NpmPack;
import org.fhirbox.testing.SmartApp;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.TimeoutException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web app in one browser, found as a person finds things: controls by their visible labels
 * and buttons by their words; a wait gives up after 30 s (20 s for an upload).
 */
final class AppPage {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String AXE = "axe-core@4.14.1";

  private final ChromeDriver browser;
  private final String baseUrl;

  AppPage(ChromeDriver browser, String baseUrl) {
    this.browser = browser;
    this.baseUrl = baseUrl;
  }

  ChromeDriver browser() {
    return browser;
  }

  /** From the app's signed-out page through the server's sign-in form, back to the app. */
  void signIn() {
    browser.get(baseUrl + "app/");
    waitFor(By.name("project"));
    assertThat(labelled("Project").getAttribute("value")).isEqualTo("default");
    button("Sign in").click();
    waitFor(By.id("email"));
    assertThat(browser.getCurrentUrl()).startsWith(baseUrl + "oauth2/");
    fillSignInForm();
    waitFor(By.id("patient-search"));
    assertThat(browser.getCurrentUrl()).doesNotContain("code=");
  }

  void fillSignInForm() {
    browser.findElement(By.id("email")).sendKeys(WebApp.EMAIL);
    browser.findElement(By.id("password")).sendKeys(SmartApp.PASSWORD);
    button("Sign in").click();
  }

  /** Opens a patient's page and waits for its heading. */
  void openPatient(String id, String name) {
    browser.get(baseUrl + "app/#/patient/" + id);
    waitFor(By.xpath("//h1[text()='" + name + "']"));
  }

  void search(String text) {
    WebElement field = labelled("Search patients");
    field.clear();
    field.sendKeys(text);
    button("Search").click();
    BrowserFixture.waitUpTo(browser, 30).until(d -> !d.findElement(By.id("results")).getText()
        .contains("Searching"));
  }

  /** The upload row of a picked or dropped file. */
  WebElement upload(String name) {
    return waitFor(By.cssSelector("li.upload[data-file='" + name + "']"));
  }

  /** The bytes an upload row says it has sent. */
  static long sent(WebElement row) {
    String s = row.getAttribute("data-sent");
    return s == null ? 0 : Long.parseLong(s);
  }

  /** Waits up to 20 s for an upload to finish; on a timeout, fails with the console and the network log. */
  void awaitUploaded(String name) {
    awaitUploaded(name, Duration.ofSeconds(20));
  }

  /**
   * Waits up to {@code limit} for an upload to finish, e.g. longer for one that may sit out a
   * retry delay of up to 10 s before it goes on.
   */
  void awaitUploaded(String name, Duration limit) {
    WebElement row = upload(name);
    try {
      new WebDriverWait(browser, limit, BrowserFixture.POLL).until(d -> {
        String state = row.getAttribute("data-state");
        if ("refused".equals(state)) {
          throw new AssertionError(name + " was refused: " + row.getText());
        }
        return "done".equals(state);
      });
    } catch (TimeoutException e) {
      StringBuilder net = new StringBuilder();
      // the API's requests and their answers only: the app's own files and the protocol's chatter
      // would push them past what a build log keeps
      for (LogEntry entry : browser.manage().logs().get(LogType.PERFORMANCE)) {
        try {
          JsonNode m = JSON.readTree(entry.getMessage()).path("message");
          JsonNode p = m.path("params");
          String method = m.path("method").asText();
          String url = p.path("request").path("url").asText() + p.path("response").path("url").asText();
          String error = p.path("errorText").asText();
          if (!method.startsWith("Network.") || method.endsWith("ExtraInfo") || url.contains("/app/")
              || url.isEmpty() && error.isEmpty()) {
            continue;
          }
          net.append(method).append(' ').append(p.path("request").path("method").asText()).append(' ').append(url)
              .append(' ').append(p.path("response").path("status").asText()).append(error).append('\n');
        } catch (IOException x) {
          net.append(x);
        }
      }
      throw new AssertionError(name + " did not finish (data-state " + row.getAttribute("data-state") + "): "
          + row.getText() + "\nconsole: "
          + browser.manage().logs().get(LogType.BROWSER).getAll() + "\nnetwork:\n" + net, e);
    }
  }

  /** The value shown once; read by script, as the page re-renders it. */
  String onceValue() {
    return BrowserFixture.waitUpTo(browser, 30).until(d -> (String) ((JavascriptExecutor) d)
        .executeScript("const e = document.getElementById('once-value'); return e && e.value ? e.value : null"));
  }

  /** A table row's text, read by script: the page re-renders its tables after each action. */
  String rowText(String attribute, String value) {
    return BrowserFixture.waitUpTo(browser, 30).until(d -> (String) ((JavascriptExecutor) d)
        .executeScript("const r = document.querySelector(arguments[0]); return r ? r.textContent : null",
            "tr[" + attribute + "='" + value + "']"));
  }

  /** The control a visible label names, as a person finds it. */
  WebElement labelled(String text) {
    WebElement label = waitFor(By.xpath("//label[normalize-space(text())='" + text + "']"));
    return browser.findElement(By.id(label.getAttribute("for")));
  }

  WebElement fieldIn(WebElement scope, String text) {
    WebElement label = scope.findElement(By.xpath(".//label[normalize-space(text())='" + text + "']"));
    return browser.findElement(By.id(label.getAttribute("for")));
  }

  WebElement button(String text) {
    return BrowserFixture.waitUpTo(browser, 30).until(d -> d.findElements(
        By.xpath("//button[normalize-space(text())='" + text + "'] | //a[normalize-space(text())='" + text + "']"))
        .stream().filter(WebElement::isDisplayed).findFirst().orElse(null));
  }

  /**
   * Starts a row's upload from the keyboard (focus, Enter). The rows above it grow as their own
   * uploads end (a "Saved as" line), and a pointer click whose press and release straddle that
   * shift is a click on neither button: the row would stay "Ready".
   */
  static void startUpload(WebElement row) {
    buttonIn(row, "Start upload").sendKeys(Keys.ENTER);
  }

  static WebElement buttonIn(WebElement scope, String text) {
    return scope.findElement(By.xpath(".//button[normalize-space(text())='" + text + "']"));
  }

  WebElement waitFor(By by) {
    try {
      return BrowserFixture.waitUpTo(browser, 30).until(d -> d.findElements(by).stream().findFirst()
          .orElse(null));
    } catch (RuntimeException e) {
      throw new AssertionError("not found: " + by + " at " + browser.getCurrentUrl() + "\n"
          + browser.findElement(By.tagName("body")).getText(), e);
    }
  }

  /**
   * Waits for {@code by}, then scrolls it to the middle of the viewport: the page asks for a
   * thumbnail or a lazy frame only as its tile comes near the viewport, and a scroll made before
   * the list rendered (or to its far end) leaves a tile out of reach.
   */
  WebElement scrollTo(By by) {
    WebElement el = waitFor(by);
    browser.executeScript("arguments[0].scrollIntoView({block: 'center'})", el);
    return el;
  }

  /** No sideways scrolling, and axe-core finds no serious or critical violation. */
  void fitsAndPassesAxe(String page) throws Exception {
    Number overflow = (Number) browser.executeScript(
        "return document.documentElement.scrollWidth - window.innerWidth");
    assertThat(overflow.longValue()).as("pixels %s is wider than the screen", page).isLessThanOrEqualTo(0);
    axe(page);
  }

  /** axe-core in the page: no serious or critical violation. */
  void axe(String page) throws Exception {
    String source = Files.readString(NpmPack.file(AXE, "package/axe.min.js"));
    browser.executeScript(source);
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> violations = (List<Map<String, Object>>) browser.executeAsyncScript("""
        const done = arguments[arguments.length - 1];
        axe.run(document, { resultTypes: ['violations'] }).then((r) => done(r.violations
          .filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => n.html).slice(0, 3) }))), (e) => done([{ id: 'axe failed', help: String(e) }]));
        """);
    assertThat(violations).as("axe-core on %s", page).isEmpty();
  }

  /**
   * Clicks {@code link} with its URL's {@code param} set to {@code value} (a URL that has ended, as
   * on a page left open) and returns the hrefs the click went to (none is really followed): the
   * first is the ended URL, a second one the link was signed afresh with. Waits up to 10 s for two.
   */
  @SuppressWarnings("unchecked")
  List<String> followEnded(WebElement link, String param, String value) {
    return (List<String>) browser.executeAsyncScript("""
        const [link, param, value, done] = arguments;
        const ended = new URL(link.href);
        ended.searchParams.set(param, value);
        link.href = ended.href;
        const seen = [];
        const held = (e) => { seen.push(e.target.closest('a').href); e.preventDefault(); };
        document.addEventListener('click', held);
        link.click();
        const started = Date.now();
        const end = () => { document.removeEventListener('click', held); done(seen); };
        const poll = () => (seen.length >= 2 || Date.now() - started > 10000 ? end() : setTimeout(poll, 100));
        poll();
        """, link, param, value);
  }

  /** Presses Tab until the focused element is a {@code tag} named {@code name}; fails after 80 presses. */
  WebElement tabTo(String tag, String name) {
    for (int i = 0; i < 80; i++) {
      Map<String, Object> f = focused();
      if (tag.equalsIgnoreCase((String) f.get("tag")) && name.equals(f.get("name"))) {
        return browser.switchTo().activeElement();
      }
      new Actions(browser).sendKeys(Keys.TAB).perform();
    }
    throw new AssertionError("Tab never reached the " + tag + " named " + name);
  }

  /** The focused element's tag and accessible name, as a screen reader would announce it (simplified). */
  @SuppressWarnings("unchecked")
  Map<String, Object> focused() {
    return (Map<String, Object>) browser.executeScript("""
        const e = document.activeElement;
        const label = e.labels && e.labels.length ? e.labels[0].textContent : null;
        const name = e.getAttribute('aria-label') || label || e.textContent || e.getAttribute('title') || '';
        return { tag: e.tagName, name: name.trim().replace(/\\s+/g, ' ') };
        """);
  }
}
