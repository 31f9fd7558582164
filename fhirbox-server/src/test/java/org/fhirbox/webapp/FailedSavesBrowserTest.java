package org.fhirbox.webapp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.List;
import org.fhirbox.testing.BrowserFixture;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.Select;

/**
 * The web app in headless Chromium when a request fails after the person acted (an upload's
 * save, a new version's holder, the Patient read again after a save, a share link): the page's own
 * {@code fetch} answers one chosen request itself (an error, or the server's answer lost on the way
 * back), and the person sees what went wrong, nothing out of date stays on screen as if it were
 * current, and a save is done again without uploading the file again.
 */
@SlowTest
class FailedSavesBrowserTest {
  @RegisterExtension
  static final WebApp app = new WebApp();

  @Test
  void aNewVersionWhoseHolderIsNotUpdatedSaysSoUntilItIsUpdatedAgain(
      AppPage page, ChromeDriver browser, TestServer fhirbox) throws Exception {
    String patient = app.patient("Hal", "Holder", "MRN-31", "1981-03-01");
    String binary = app.note(patient);
    String doc = app.document(patient, binary, null);

    page.signIn();
    browser.get(fhirbox.baseUrl() + "app/#/file/" + binary + "?ref=DocumentReference/" + doc);
    page.waitFor(By.xpath("//h1[text()='note.txt']"));
    failOnce(browser, "PUT", "/DocumentReference/" + doc + "$", false);
    pickNewVersion(browser, "note-2.md", "text/markdown");
    awaitFailed(browser);
    // the page would be shown again with the new version, read afresh, once the page's requests are
    // done: it stays, with the error
    page.waitFor(By.cssSelector("#main [role=alert]"));
    awaitQuiet(browser);
    WebElement alert = page.waitFor(By.cssSelector("#main [role=alert]"));
    assertThat(alert.getText()).contains("The new version is stored, but DocumentReference/" + doc)
        .contains("Refused here");
    assertThat(app.json("fhir/R4/DocumentReference/" + doc).path("content").path(0).path("attachment")
        .path("title").asText()).isEqualTo("note.txt");

    page.button("Update DocumentReference/" + doc + " again").click();
    page.waitFor(By.cssSelector("li[data-version='2']"));
    JsonNode attachment = app.json("fhir/R4/DocumentReference/" + doc).path("content").path(0).path("attachment");
    assertThat(attachment.path("title").asText()).isEqualTo("note-2.md");
    assertThat(attachment.path("contentType").asText()).isEqualTo("text/markdown");
    assertThat(attachment.path("size").asLong()).isEqualTo(12);
  }

  /**
   * A new version refused, the same file picked again, is tried again: the file field is emptied
   * after each pick, so picking the file it held still counts as a pick.
   */
  @Test
  void aNewVersionRefusedIsTriedAgainWhenTheSameFileIsPickedAgain(AppPage page, ChromeDriver browser,
      TestServer fhirbox) throws Exception {
    String binary = app.note(app.patient("Abe", "Again", "MRN-35", "1985-03-05"));
    Path exe = app.write("setup.exe", new byte[] {'M', 'Z', 0, 0});
    page.signIn();
    browser.get(fhirbox.baseUrl() + "app/#/file/" + binary);
    page.waitFor(By.xpath("//h1[text()='Binary " + binary + "']"));
    WebElement picker = browser.findElement(By.id("new-version"));
    picker.sendKeys(exe.toString());
    BrowserFixture.waitUpTo(browser, 20).until(d -> versionRefusals(browser) == 1);
    picker.sendKeys(exe.toString());
    BrowserFixture.waitUpTo(browser, 20).until(d -> versionRefusals(browser) == 2);
  }

  /** How many uploads of a new version were asked for and refused ("not accepted"). */
  private static int versionRefusals(ChromeDriver browser) {
    return ((Number) browser.executeScript("return document.querySelector('[aria-labelledby=version-title]')"
        + ".textContent.includes('not accepted') ? performance.getEntriesByType('resource')"
        + ".filter((e) => e.name.endsWith('/Binary/$upload')).length : 0")).intValue();
  }

  @Test
  void anUploadWhoseSaveIsLostKeepsItsBinaryAndIsSavedAgainOnce(
      AppPage page, ChromeDriver browser) throws Exception {
    String patient = app.patient("Sue", "Saved", "MRN-32", "1982-03-02");
    page.signIn();
    page.openPatient(patient, "Sue Saved");
    // the DocumentReference is created, but its answer never reaches the page
    failOnce(browser, "POST", "/fhir/R4/DocumentReference$", true);
    page.labelled("Upload files").sendKeys(app.write("lost.txt", "lost words".getBytes()).toString());
    WebElement row = page.upload("lost.txt");
    AppPage.buttonIn(row, "Start upload").click();
    awaitFailed(browser);
    BrowserFixture.waitUpTo(browser, 20).until(d -> row.getText().contains("Not saved"));
    String binary = row.getAttribute("data-binary");
    assertThat(binary).as("the uploaded Binary, kept on the row").isNotBlank();
    assertThat(row.getText()).contains("Binary/" + binary).contains("cannot be reached");

    AppPage.buttonIn(row, "Save again").click();
    page.awaitUploaded("lost.txt");
    JsonNode docs = app.json("fhir/R4/DocumentReference?subject=Patient/" + patient).path("entry");
    assertThat(docs.size()).as("DocumentReferences of the patient").isEqualTo(1);
    assertThat(docs.path(0).path("resource").path("content").path(0).path("attachment").path("url").asText())
        .contains(binary);
    assertThat(row.getText()).contains("Saved as DocumentReference/" + docs.path(0).path("resource").path("id")
        .asText());
    page.waitFor(By.cssSelector("#files li[data-binary='" + binary + "']"));
  }

  /**
   * An upload whose Content-Location names its Binary by ".." (a FHIR id by its grammar, but a
   * path segment a URL resolves away), as a proxy might rewrite it, is not saved as a
   * {@code Binary/..} attachment: the row says it was not saved and why.
   */
  @Test
  void anUploadWhoseBinaryIsNamedByADotSegmentIsNotSaved(AppPage page, ChromeDriver browser, TestServer fhirbox)
      throws Exception {
    String patient = app.patient("Dee", "Dots", "MRN-35", "1985-03-05");
    page.signIn();
    page.openPatient(patient, "Dee Dots");
    browser.executeScript("""
        const xhr = XMLHttpRequest.prototype;
        const real = xhr.getResponseHeader;
        xhr.getResponseHeader = function (name) {
          const value = real.call(this, name);
          return /^content-location$/i.test(name) && value ? value.replace(/Binary\\/[^/]+/, 'Binary/..') : value;
        };
        """);
    page.labelled("Upload files").sendKeys(app.write("dots.txt", "dotted words".getBytes()).toString());
    WebElement row = page.upload("dots.txt");
    AppPage.buttonIn(row, "Start upload").click();
    BrowserFixture.waitUpTo(browser, 20).until(d -> List.of("refused", "done").contains(row.getAttribute("data-state")));
    assertThat(row.getAttribute("data-binary")).as("the Binary the row names").isNull();
    assertThat(row.getText()).contains("Not saved").contains("did not say which file it became");
    assertThat(app.json("fhir/R4/DocumentReference?subject=Patient/" + patient).path("entry").size())
        .as("DocumentReferences of the patient").isZero();
  }

  @Test
  void aSavedFileNotReadBackIsSaidAndTheFilesShownStay(AppPage page, ChromeDriver browser) throws Exception {
    String patient = app.patient("Rae", "Reread", "MRN-33", "1983-03-03");
    app.media(patient, app.note(patient), "earlier.txt");
    page.signIn();
    page.openPatient(patient, "Rae Reread");
    page.waitFor(By.linkText("Details of earlier.txt"));
    // the upload is saved; reading it back for the list fails
    failOnce(browser, "GET", "/fhir/R4/DocumentReference/[^/]+$", false);
    page.labelled("Upload files").sendKeys(app.write("kept.txt", "kept words".getBytes()).toString());
    WebElement row = page.upload("kept.txt");
    AppPage.buttonIn(row, "Start upload").click();
    page.awaitUploaded("kept.txt");
    awaitFailed(browser);
    String saved = row.findElement(By.cssSelector(".message")).getText().replace("Saved as ", "").replace(".", "");
    String words = saved + " is saved, but it could not be read back to show it here: Refused here.";
    BrowserFixture.waitUpTo(browser, 10).until(d -> d.findElement(By.id("files")).getText().contains(words));
    assertThat(browser.findElements(By.linkText("Details of earlier.txt"))).as("the files shown").hasSize(1);
    // the list is no live region (a screen reader would read every file at each reload): what is
    // said of it comes from a small live region of its own
    assertThat(browser.findElement(By.id("files")).getAttribute("aria-live")).isNull();
    WebElement said = browser.findElement(By.id("files-status"));
    assertThat(said.getAttribute("role")).isEqualTo("status");
    assertThat(said.getAttribute("textContent")).isEqualTo(words);
  }

  @Test
  void aShareLinkThatFailsLeavesNoEarlierLinkOnScreen(AppPage page, ChromeDriver browser, TestServer fhirbox)
      throws Exception {
    String patient = app.patient("Lin", "Link", "MRN-34", "1984-03-04");
    TestClient admin = fhirbox.client();
    String binary = TestClient.createdId(admin.send(admin.request("fhir/R4/Binary?_filename=share.txt")
        .header("Content-Type", "text/plain").header("X-Security-Context", "Patient/" + patient)
        .POST(HttpRequest.BodyPublishers.ofString("shared words"))));
    page.signIn();
    browser.get(fhirbox.baseUrl() + "app/#/file/" + binary);
    page.waitFor(By.xpath("//h1[text()='Binary " + binary + "']"));
    page.button("Copy share link").click();
    WebElement link = page.waitFor(By.id("share-link"));
    BrowserFixture.waitUpTo(browser, 10).until(d -> !link.getAttribute("value").isEmpty());

    // a link for seven days is asked for and refused: the one-hour link is no longer offered
    failOnce(browser, "GET", "/\\$presigned-url$", false);
    new Select(page.labelled("Link lifetime")).selectByVisibleText("7 days");
    page.button("Copy share link").click();
    awaitFailed(browser);
    page.waitFor(By.xpath("//p[@role='alert'][contains(., 'Refused here.')]"));
    assertThat(link.getAttribute("value")).as("the share link field").isEmpty();
    assertThat(link.isDisplayed()).as("the share link field is shown").isFalse();

    // an answer that holds no link says so in words
    answerOnce(browser, "GET", "/\\$presigned-url$", 200, "{\"resourceType\":\"Parameters\"}");
    page.button("Copy share link").click();
    awaitFailed(browser);
    assertThat(page.waitFor(By.xpath("//p[@role='alert'][contains(., 'share link')]")).getText())
        .isEqualTo("The server did not send a share link for this file. Try again later.");
    assertThat(link.isDisplayed()).as("the share link field is shown").isFalse();
  }

  /**
   * The page's next {@code method} request whose URL matches {@code pattern} is answered here, once:
   * 403 with an OperationOutcome, or (with {@code lost}) passed to the server and then failed as a
   * broken connection.
   */
  static void failOnce(ChromeDriver browser, String method, String pattern, boolean lost) {
    intercept(browser, method, pattern, lost, 403, "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":"
        + "\"error\",\"code\":\"forbidden\",\"diagnostics\":\"Refused here.\"}]}");
  }

  /** As {@link #failOnce}, answered with {@code status} and the FHIR JSON {@code body}. */
  static void answerOnce(ChromeDriver browser, String method, String pattern, int status, String body) {
    intercept(browser, method, pattern, false, status, body);
  }

  private static void intercept(ChromeDriver browser, String method, String pattern, boolean lost, int status,
      String body) {
    browser.executeScript("""
        const [method, pattern, lost, status, body] = arguments;
        // the page's own fetch, however many times a test intercepts
        const send = window.pageFetch = window.pageFetch || window.fetch;
        window.failed = 0;
        const answer = async function (url, options) {
          const m = ((options && options.method) || 'GET').toUpperCase();
          if (window.failed === 0 && m === method && new RegExp(pattern).test(String(url).split('?')[0])) {
            window.failed += 1;
            if (lost) {
              await send.apply(this, arguments);
              throw new TypeError('Failed to fetch');
            }
            return new Response(body, { status, headers: { 'Content-Type': 'application/fhir+json' } });
          }
          return send.apply(this, arguments);
        };
        // the requests in flight, and when the last one began or ended (for awaitQuiet)
        window.fetching = 0;
        window.fetched = performance.now();
        window.fetch = async function (...args) {
          window.fetching += 1;
          window.fetched = performance.now();
          try {
            return await answer.apply(this, args);
          } finally {
            window.fetching -= 1;
            window.fetched = performance.now();
          }
        };
        """, method, pattern, lost, status, body);
  }

  /** Waits until no request of the page's ({@code fetch}, after {@link #failOnce}) has begun or ended for 300 ms. */
  static void awaitQuiet(ChromeDriver browser) {
    BrowserFixture.waitUpTo(browser, 20).until(d -> (Boolean) ((JavascriptExecutor) d)
        .executeScript("return window.fetching === 0 && performance.now() - window.fetched > 300"));
  }

  /** Waits until the request {@link #failOnce} names has been answered. */
  static void awaitFailed(ChromeDriver browser) {
    BrowserFixture.waitUpTo(browser, 20).until(d -> ((Number) ((JavascriptExecutor) d)
        .executeScript("return window.failed || 0")).intValue() == 1);
  }

  private static void pickNewVersion(ChromeDriver browser, String name, String type) {
    browser.executeScript("""
        const files = new DataTransfer();
        files.items.add(new File(['second words'], arguments[0], { type: arguments[1] }));
        const input = document.getElementById('new-version');
        input.files = files.files;
        input.dispatchEvent(new Event('change'));
        """, name, type);
  }
}
