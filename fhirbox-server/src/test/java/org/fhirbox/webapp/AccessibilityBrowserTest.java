package org.fhirbox.webapp;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.fhirbox.testing.BrowserFixture;
import org.fhirbox.testing.Chromium;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.SmartApp;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.interactions.Actions;

/**
 * The web app for people who do not use a desktop mouse, in headless Chromium: every page on a
 * phone's 375 px (no sideways scrolling, axe-core), and the keyboard alone through sign-in,
 * search, paging and every stop of a patient page by its name.
 */
@SlowTest
class AccessibilityBrowserTest {
  @RegisterExtension
  static final WebApp app = new WebApp();

  @Test
  void onAPhoneEveryPageFitsTheWidthAndPassesAxe(TestServer fhirbox) throws Exception {
    String patient = app.patient("Pia", "Phone", "MRN-375", "1999-03-07");
    String photo = TestClient.createdId(fhirbox.client().postBytes("fhir/R4/Binary", "image/jpeg", WebApp.jpeg()));
    app.media(patient, photo, "a-photo-with-a-rather-long-file-name-from-a-phone-camera-20261202.jpg");
    String pdf = TestClient.createdId(fhirbox.client().postBytes("fhir/R4/Binary", "application/pdf", WebApp.pdf()));
    app.media(patient, pdf, "letter.pdf");
    String media = app.mediaToIngest();
    app.awaitFailedJob();

    try (Chromium phone = Chromium.start(o -> o.setExperimentalOption("mobileEmulation", Map.of("deviceMetrics",
        Map.of("width", 375, "height", 740, "pixelRatio", 2.0))))) {
      ChromeDriver browser = phone.driver();
      AppPage page = new AppPage(browser, fhirbox.baseUrl());
      browser.get(fhirbox.baseUrl() + "app/");
      page.waitFor(By.name("project"));
      assertThat(browser.executeScript("return window.innerWidth")).isEqualTo(375L);
      page.fitsAndPassesAxe("the signed-out page");
      page.button("Sign in").click();
      page.waitFor(By.id("email"));
      page.fitsAndPassesAxe("the sign-in page");
      page.fillSignInForm();
      page.waitFor(By.id("patient-search"));
      page.search("Phone");
      page.waitFor(By.linkText("Pia Phone"));
      page.fitsAndPassesAxe("the search page");

      page.openPatient(patient, "Pia Phone");
      page.labelled("Upload files").sendKeys(app.write("notes-from-the-ward.txt",
          "words".getBytes(StandardCharsets.UTF_8)).toString());
      page.upload("notes-from-the-ward.txt");
      page.scrollTo(By.cssSelector("#files .files-image"));
      page.waitFor(By.cssSelector("#files img.thumb"));
      page.fitsAndPassesAxe("the patient page");

      page.waitFor(By.partialLinkText("Details of letter.pdf")).click();
      page.waitFor(By.xpath("//h1[text()='letter.pdf']"));
      BrowserFixture.waitUpTo(browser, 30).until(d -> !d.findElements(By.tagName("table")).isEmpty());
      page.fitsAndPassesAxe("the file page");

      for (String[] admin : new String[][] {{"users", "Users"}, {"clients", "Clients"}, {"jobs", "Ingestion jobs"}}) {
        browser.get(fhirbox.baseUrl() + "app/#/admin/" + admin[0]);
        page.waitFor(By.xpath("//caption[text()='" + admin[1] + "']"));
        page.fitsAndPassesAxe("the " + admin[0] + " page");
      }
      assertThat(browser.findElement(By.id("main")).getText()).contains("Media/" + media);
    }
  }

  @Test
  void theKeyboardAloneSignsInSearchesAndReachesEveryControlByItsName(
      AppPage page, ChromeDriver browser, TestServer fhirbox) throws Exception {
    String patient = app.patient("Kim", "Keys", "MRN-77", "1977-07-07");
    String photo = TestClient.createdId(fhirbox.client().postBytes("fhir/R4/Binary", "image/jpeg", WebApp.jpeg()));
    app.media(patient, photo, "wound.jpg");

    browser.get(fhirbox.baseUrl() + "app/");
    page.waitFor(By.name("project"));
    page.tabTo("button", "Sign in").sendKeys(Keys.ENTER);
    page.waitFor(By.id("email"));
    page.tabTo("input", "Email").sendKeys(WebApp.EMAIL);
    new Actions(browser).sendKeys(Keys.TAB).perform();
    assertThat(browser.switchTo().activeElement().getAttribute("id")).isEqualTo("password");
    browser.switchTo().activeElement().sendKeys(SmartApp.PASSWORD, Keys.ENTER);
    page.waitFor(By.id("patient-search"));

    for (int i = 1; i <= 11; i++) {
      app.patient("Number" + i, "Pager", "MRN-P" + i, "1950-01-" + (10 + i));
    }
    page.tabTo("input", "Search patients").sendKeys("Pager", Keys.ENTER);
    BrowserFixture.waitUpTo(browser, 30).until(d -> d.findElements(By.cssSelector("#results li"))
        .size() == 10);
    page.tabTo("button", "Next page").sendKeys(Keys.ENTER);
    BrowserFixture.waitUpTo(browser, 30).until(d -> d.findElements(By.cssSelector("#results li"))
        .size() == 1);
    // the pressed button went with the page it was on: focus moves to the count, not to the body
    assertThat(page.focused().get("tag")).as("focus after paging").isNotEqualTo("BODY");
    assertThat(browser.switchTo().activeElement().getAttribute("id")).isEqualTo("results-count");
    WebElement search = page.tabTo("input", "Search patients");
    search.clear();
    search.sendKeys("Keys", Keys.ENTER);
    page.waitFor(By.linkText("Kim Keys"));
    page.tabTo("a", "Kim Keys").sendKeys(Keys.ENTER);
    page.waitFor(By.xpath("//h1[text()='Kim Keys']"));
    page.waitFor(By.cssSelector("#files img.thumb"));

    // from the first stop of the page (the skip link) to the last
    browser.executeScript("document.querySelector('a.skip').focus()");
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      Map<String, Object> focused = page.focused();
      if ("BODY".equals(focused.get("tag")) || i > 0 && names.get(0).equals(focused.get("name"))) {
        break;
      }
      assertThat((String) focused.get("name")).as("the name of %s", focused).isNotBlank();
      names.add((String) focused.get("name"));
      new Actions(browser).sendKeys(Keys.TAB).perform();
    }
    assertThat(names).as("every stop of the patient page, in order").contains("Skip to content", "Patients",
        "Admin", "Sign out", "Upload files", "Open wound.jpg full size", "Details of wound.jpg");

    // the skip link moves the focus to the content and leaves the page as it is
    browser.executeScript("document.querySelector('a.skip').focus()");
    browser.switchTo().activeElement().sendKeys(Keys.ENTER);
    BrowserFixture.waitUpTo(browser, 5).until(d -> "main".equals(d.switchTo().activeElement()
        .getAttribute("id")));
    Thread.sleep(100); // a route change would render at once
    assertThat(browser.findElement(By.tagName("h1")).getText()).isEqualTo("Kim Keys");
    assertThat(browser.switchTo().activeElement().getAttribute("id")).isEqualTo("main");

    page.tabTo("a", "Details of wound.jpg").sendKeys(Keys.ENTER);
    page.waitFor(By.xpath("//h1[text()='wound.jpg']"));
    page.tabTo("button", "Copy share link").sendKeys(Keys.ENTER);
    WebElement link = page.waitFor(By.id("share-link"));
    BrowserFixture.waitUpTo(browser, 10).until(d -> !link.getAttribute("value").isEmpty());
    assertThat(link.getAttribute("value")).contains("/storage/" + photo + "/1?");
  }

  /**
   * A search says what it found in a short polite status ("More than 10 patients found" when the
   * first page has no total, "1 patient found", "No patient found"), and the list of
   * results is in no live region, so a screen reader does not read it all again on each search.
   */
  @Test
  void aSearchIsSummedUpInAPoliteStatusAndItsListIsNotLive(AppPage page, ChromeDriver browser) {
    for (int i = 1; i <= 12; i++) {
      app.patient("Number" + i, "Lively", "MRN-L" + i, "1960-02-" + (10 + i));
    }
    app.patient("Uno", "Single", "MRN-S1", "1961-01-01");
    page.signIn();
    page.search("Lively");
    page.waitFor(By.linkText("Number12 Lively"));
    assertThat(browser.executeScript("return document.querySelector('#results ul')"
        + ".closest('[aria-live], [role=status], [role=alert], [role=log]')")).as("a live region around the list")
        .isNull();
    WebElement summary = browser.findElement(By.id("results-summary"));
    BrowserFixture.waitUpTo(browser, 10).until(d -> "More than 10 patients found".equals(summary.getAttribute("textContent")));
    assertThat(summary.getAttribute("role")).isEqualTo("status");
    assertThat(summary.getAttribute("aria-live")).isEqualTo("polite");
    assertThat(browser.executeScript("return arguments[0].contains(document.getElementById('results'))", summary))
        .as("the list inside the summary").isEqualTo(false);

    page.search("Single");
    BrowserFixture.waitUpTo(browser, 10).until(d -> "1 patient found".equals(summary.getAttribute("textContent")));
    page.search("Nobodyatall");
    BrowserFixture.waitUpTo(browser, 10).until(d -> "No patient found".equals(summary.getAttribute("textContent")));
  }

  /**
   * "Show older versions", pressed from the keyboard, is disabled while it reads, which drops the
   * focus: after the last page the focus is on the words that take its place, not on the page.
   */
  @Test
  void theFocusStaysInPlaceWhenTheLastOlderVersionsAreShown(AppPage page, ChromeDriver browser,
      TestServer fhirbox) throws Exception {
    TestClient admin = fhirbox.client();
    String binary = TestClient.createdId(admin.send(admin.request("fhir/R4/Binary").header("Content-Type",
        "text/plain").POST(HttpRequest.BodyPublishers.ofString("words 1"))));
    for (int i = 2; i <= 53; i++) {
      assertThat(admin.send(admin.request("fhir/R4/Binary/" + binary).header("Content-Type", "text/plain")
          .PUT(HttpRequest.BodyPublishers.ofString("words " + i))).statusCode()).isEqualTo(200);
    }
    page.signIn();
    browser.get(fhirbox.baseUrl() + "app/#/file/" + binary);
    page.waitFor(By.cssSelector("li[data-version='53']"));
    WebElement older = page.scrollTo(By.xpath("//button[text()='Show older versions']"));
    browser.executeScript("arguments[0].focus()", older);
    older.sendKeys(Keys.ENTER);
    page.waitFor(By.cssSelector("li[data-version='1']"));
    BrowserFixture.waitUpTo(browser, 10).until(d -> "Every version is shown.".equals(page.focused().get("name")));
  }

  /**
   * "Start upload", pressed from the keyboard, moves the focus to Pause; a refusal disables Pause,
   * which would drop the focus on the page: it goes to the row's words, which say why. Cancel takes
   * the row away, and the focus with it: it goes back to "Upload files". Each button names the file.
   */
  @Test
  void aRefusedUploadLeavesTheFocusOnItsReasonAndACancelOnUploadFiles(AppPage page, ChromeDriver browser)
      throws Exception {
    String patient = app.patient("Rea", "Refused", "MRN-R1", "1971-01-01");
    page.signIn();
    page.openPatient(patient, "Rea Refused");
    page.waitFor(By.xpath("//p[text()='No files yet.']"));
    page.labelled("Upload files").sendKeys(app.write("setup.exe", "MZ".getBytes(StandardCharsets.UTF_8))
        .toString());
    WebElement row = page.upload("setup.exe");
    // one row's buttons among several are told apart by the file they act on
    for (String[] button : new String[][] {{"Start upload", "Start upload of setup.exe"},
        {"Pause", "Pause upload of setup.exe"}, {"Resume", "Resume upload of setup.exe"},
        {"Cancel", "Cancel upload of setup.exe"}}) {
      assertThat(AppPage.buttonIn(row, button[0]).getAccessibleName()).isEqualTo(button[1]);
    }
    AppPage.startUpload(row);
    BrowserFixture.waitUpTo(browser, 20).until(d -> "refused".equals(row.getAttribute("data-state")));
    assertThat(row.getText()).contains("not accepted");
    assertThat(browser.executeScript("return document.activeElement === arguments[0].querySelector('.message')",
        row)).as("the focus after a refusal, on %s", page.focused()).isEqualTo(true);

    // Cancel, pressed from the keyboard, takes its row away: the focus goes back to "Upload files"
    AppPage.buttonIn(row, "Cancel").sendKeys(Keys.ENTER);
    BrowserFixture.waitUpTo(browser, 10).until(d -> d.findElements(By.cssSelector("li.upload")).isEmpty());
    assertThat(browser.switchTo().activeElement().getAttribute("id")).as("the focus after Cancel, on %s",
        page.focused()).isEqualTo("upload-files");
  }
}
