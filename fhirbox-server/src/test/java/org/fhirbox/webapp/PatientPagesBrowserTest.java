package org.fhirbox.webapp;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.fhirbox.testing.BrowserFixture;
import org.fhirbox.testing.Chromium;
import org.fhirbox.testing.S3Server;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.SmartApp;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestImages;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chromium.ChromiumNetworkConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web app's patient and file pages in headless Chromium, as a person uses them: the real
 * sign-in form, "Search patients", uploads through the file picker and their previews and
 * players, a share link opened in another browser, thumbnails of a large photo, the size of the
 * first load, and the README's screenshot; axe-core on every page.
 */
@SlowTest
class PatientPagesBrowserTest {
  /** Where {@link #firstLoadIsSmallAndTheReadmeScreenshotIsTheRealApp} writes its screenshot on every run. */
  private static final Path SCREENSHOT = Path.of("target", "webapp.png");
  /** The README's screenshot, replaced only with {@code -Dfhirbox.screenshot.update=true}. */
  private static final Path README_SCREENSHOT = Path.of("..", "docs", "webapp.png");

  @RegisterExtension
  static final WebApp app = new WebApp();

  @Test
  void signsInFindsAPatientUploadsAndPreviewsEachKind(
      AppPage page, ChromeDriver browser, TestServer fhirbox) throws Exception {
    String patient = app.patient("Ada", "Quinlan", "MRN-4711", "1980-04-02");
    app.patient("Bert", "Other", "MRN-1", "1970-01-01");

    browser.get(fhirbox.baseUrl());
    assertThat(browser.getCurrentUrl()).isEqualTo(fhirbox.baseUrl() + "app/");
    page.axe("the signed-out page");
    page.signIn();
    page.axe("the search page");

    page.search("Quinlan");
    WebElement result = page.waitFor(By.linkText("Ada Quinlan"));
    assertThat(browser.findElements(By.linkText("Bert Other"))).isEmpty();
    page.search("MRN-4711");
    page.waitFor(By.linkText("Ada Quinlan"));
    page.search("1980-04-02");
    result = page.waitFor(By.linkText("Ada Quinlan"));
    result.click();
    page.waitFor(By.xpath("//h1[text()='Ada Quinlan']"));

    Path jpeg = app.write("scan.jpg", WebApp.jpeg());
    Path pdf = app.write("report.pdf", WebApp.pdf());
    Path webm = Path.of("src/test/resources/media/testsrc2-160x120-3s.webm").toAbsolutePath();
    page.labelled("Upload files").sendKeys(jpeg + "\n" + pdf + "\n" + webm);
    for (String name : List.of("scan.jpg", "report.pdf", "testsrc2-160x120-3s.webm")) {
      WebElement row = page.upload(name);
      if (name.equals("report.pdf")) {
        assertThat(row.findElement(By.xpath(".//select")).getAttribute("value")).isEqualTo("DocumentReference");
        page.fieldIn(row, "Description").sendKeys("Discharge report");
      }
      AppPage.startUpload(row);
    }
    for (String name : List.of("scan.jpg", "report.pdf", "testsrc2-160x120-3s.webm")) {
      page.awaitUploaded(name);
    }

    // thumbnails are asked for as their tiles come near the viewport: scroll down to the files
    browser.executeScript("document.getElementById('files').scrollIntoView()");
    WebElement img = page.waitFor(By.cssSelector("#files img.thumb"));
    @SuppressWarnings("unchecked")
    Map<String, Object> image = (Map<String, Object>) browser.executeAsyncScript("""
        const done = arguments[arguments.length - 1];
        const img = arguments[0];
        img.decode().then(() => done({ naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight }),
          (e) => done({ error: String(e) }));
        """, img);
    assertThat(image).as("the thumbnail").containsEntry("naturalWidth", 64L).containsEntry("naturalHeight", 48L);

    WebElement frame = page.waitFor(By.cssSelector("#files iframe.pdf"));
    assertThat(frame.getAttribute("title")).isEqualTo("PDF preview: report.pdf");
    browser.switchTo().frame(frame);
    String pdfType = BrowserFixture.waitUpTo(browser, 30).until(d ->
        "application/pdf".equals(((JavascriptExecutor) d).executeScript("return document.contentType"))
            ? "application/pdf" : null);
    browser.switchTo().defaultContent();
    assertThat(pdfType).as("the PDF frame holds the PDF viewer's document").isEqualTo("application/pdf");
    assertThat(browser.findElement(By.cssSelector("#files")).getText()).contains("Discharge report");

    @SuppressWarnings("unchecked")
    Map<String, Object> video = (Map<String, Object>) browser.executeAsyncScript("""
        const done = arguments[arguments.length - 1];
        const v = document.querySelector('#files video');
        const finish = (stage) => done({ stage, error: v.error ? v.error.code : null, readyState: v.readyState,
          seekedTo: window.seekedTo === undefined ? null : window.seekedTo, duration: v.duration });
        const played = () => { if (v.currentTime > window.seekedTo + 0.2) { v.pause(); finish('played'); } };
        const seek = () => {
          v.addEventListener('seeked', () => {
            window.seekedTo = v.currentTime;
            v.addEventListener('timeupdate', played);
            v.muted = true;
            v.play().catch((e) => finish('play rejected: ' + e));
          }, { once: true });
          v.currentTime = 2;
        };
        if (v.error) finish('error');
        else if (v.readyState >= 1) seek();
        else v.addEventListener('loadedmetadata', seek, { once: true });
        """);
    assertThat(video).as("the video").containsEntry("stage", "played").containsEntry("error", null);
    assertThat(((Number) video.get("seekedTo")).doubleValue()).isBetween(1.9, 2.1);
    assertThat(app.chromium().responsesReceived(fhirbox.baseUrl() + "storage/")).as("storage responses")
        .anySatisfy(r -> assertThat(r.path("status").asInt()).isEqualTo(206));

    // A page left open past its signed URLs' lifetime: the player's URL as it reads once expired
    // (Expires in the past, which the server refuses) is signed afresh when it fails, and plays on;
    // a tile followed with such a URL is signed afresh before it is followed.
    @SuppressWarnings("unchecked")
    Map<String, Object> renewed = (Map<String, Object>) browser.executeAsyncScript("""
        const done = arguments[arguments.length - 1];
        const v = document.querySelector('#files video');
        const expired = new URL(v.currentSrc || v.src);
        expired.searchParams.set('Expires', '1');
        const fresh = () => Number(new URL(v.currentSrc || v.src).searchParams.get('Expires')) * 1000 > Date.now();
        const started = Date.now();
        const poll = () => {
          if (fresh() && v.readyState >= 1) done({ ok: true, error: v.error ? v.error.code : null });
          else if (Date.now() - started > 15000) done({ ok: false, src: v.src, readyState: v.readyState });
          else setTimeout(poll, 100);
        };
        v.src = expired.href;
        setTimeout(poll, 100);
        """);
    assertThat(renewed).as("the player on an expired URL").containsEntry("ok", true).containsEntry("error", null);
    List<String> followed = page.followEnded(browser.findElement(By.cssSelector("#files a.tile, #files a.thumb-link")),
        "Expires", "1");
    assertThat(followed).as("the hrefs a tile was followed with").hasSize(2);
    assertThat(Long.parseLong(followed.get(1).replaceAll(".*[?&]Expires=(\\d+).*", "$1")) * 1000)
        .isGreaterThan(System.currentTimeMillis());

    // A clock two hours ahead of the server's makes every signed URL look stale, the new one too: a
    // click signs afresh once and follows that URL. The page's own requests to the server, one after
    // another, give a loop of signings the time to show.
    @SuppressWarnings("unchecked")
    Map<String, Object> ahead = (Map<String, Object>) browser.executeAsyncScript("""
        const done = arguments[arguments.length - 1];
        const tile = document.querySelector('#files a.tile, #files a.thumb-link');
        const send = window.fetch;
        let signings = 0;
        window.fetch = (url, ...rest) => {
          if (String(url).includes('/$presigned-url') && !String(url).includes('thumbnail')) signings += 1;
          return send.call(window, url, ...rest);
        };
        const now = Date.now;
        Date.now = () => now.call(Date) + 2 * 3600 * 1000;
        const seen = [];
        document.addEventListener('click', (e) => { seen.push(e.target.closest('a').href); e.preventDefault(); });
        tile.click();
        const started = now.call(Date);
        const settle = async () => {
          for (let i = 0; i < 3; i++) await send.call(window, location.href, { cache: 'no-store' });
          Date.now = now;
          window.fetch = send;
          done({ clicks: seen.length, signings });
        };
        const poll = () => (seen.length >= 2 || now.call(Date) - started > 10000 ? settle() : setTimeout(poll, 100));
        poll();
        """);
    assertThat(ahead).as("a tile clicked with the clock two hours ahead")
        .containsEntry("clicks", 2L).containsEntry("signings", 1L);

    String details = fhirbox.client().get("fhir/R4/Media?subject=Patient/" + patient).body();
    assertThat(details).contains("\"hash\"").contains("\"size\"");
    assertThat(browser.findElement(By.id("files")).getText()).contains("SHA-1").contains("video/webm");
    page.axe("the patient page");
  }

  @Test
  void aFilePageSharesALinkThatOpensInAnotherBrowserWithoutCredentials(
      AppPage page, ChromeDriver browser, TestServer fhirbox) throws Exception {
    String patient = app.patient("Sam", "Share", "MRN-5", "1985-05-05");
    TestClient admin = fhirbox.client();
    String binary = app.note(patient);
    String doc = app.document(patient, binary, "A shared note");

    page.signIn();
    // a page left while it loads does not replace the one opened next
    browser.setNetworkConditions(new ChromiumNetworkConditions().setLatency(Duration.ofMillis(300)));
    browser.executeScript("location.hash = arguments[0]", "#/patient/" + patient);
    new WebDriverWait(browser, Duration.ofSeconds(10), Duration.ofMillis(20)).until(d -> (Boolean)
        ((JavascriptExecutor) d).executeScript("return document.getElementById('main').textContent === 'Loading…'"));
    browser.executeScript("location.hash = '#/'");
    new WebDriverWait(browser, Duration.ofSeconds(10), Duration.ofMillis(50)).until(d -> (Boolean)
        ((JavascriptExecutor) d).executeScript("return performance.getEntriesByType('resource')"
            + ".some((e) => e.name.endsWith(arguments[0]))", "/Patient/" + patient));
    Thread.sleep(200);
    browser.deleteNetworkConditions();
    assertThat(browser.findElement(By.tagName("h1")).getText()).isEqualTo("Patients");

    browser.get(fhirbox.baseUrl() + "app/#/patient/" + patient);
    page.waitFor(By.linkText("Details of note.txt")).click();
    page.waitFor(By.xpath("//h1[text()='note.txt']"));
    assertThat(browser.findElement(By.id("main")).getText()).contains("A shared note").contains("text/plain");
    BrowserFixture.waitUpTo(browser, 30).until(d -> !d.findElements(By.tagName("table")).isEmpty());
    assertThat(browser.findElement(By.tagName("table")).getText()).as("the audit trail").contains("test-admin");
    page.axe("the file page");

    new Select(page.labelled("Link lifetime")).selectByVisibleText("1 day");
    page.button("Copy share link").click();
    WebElement link = page.waitFor(By.id("share-link"));
    BrowserFixture.waitUpTo(browser, 10).until(d -> !link.getAttribute("value").isEmpty());
    String url = link.getAttribute("value");
    long expires = Long.parseLong(url.replaceFirst(".*[?&]Expires=(\\d+).*", "$1"));
    assertThat(expires - Instant.now().getEpochSecond()).as("lifetime").isBetween(86_300L, 86_410L);
    try (Chromium fresh = Chromium.start(o -> { })) {
      fresh.driver().get(url);
      assertThat(fresh.driver().findElement(By.tagName("body")).getText()).isEqualTo("first words");
    }

    // a new version of another name and type: the attachment takes both
    page.labelled("Upload new version");
    browser.executeScript("""
        const files = new DataTransfer();
        files.items.add(new File(['second words'], 'note-2.md', { type: 'text/markdown' }));
        const input = document.getElementById('new-version');
        input.files = files.files;
        input.dispatchEvent(new Event('change'));
        """);
    page.waitFor(By.cssSelector("li[data-version='2']"));
    assertThat(admin.send(admin.request("fhir/R4/Binary/" + binary).header("Accept", "*/*").GET()).body())
        .isEqualTo("second words");
    assertThat(admin.get("fhir/R4/DocumentReference/" + doc).body()).as("refilled from the new version")
        .contains("\"size\":12").contains("\"contentType\":\"text/markdown\"")
        .contains("\"title\":\"note-2.md\"");
    assertThat(browser.findElement(By.cssSelector("li[data-version='2'] a[download]")).getAttribute("href"))
        .contains("/storage/" + binary + "/2?");

    // a file with more versions and audit entries than a page holds shows the older ones on request
    for (int i = 3; i <= 53; i++) {
      assertThat(admin.send(admin.request("fhir/R4/Binary/" + binary).header("Content-Type", "text/plain")
          .PUT(HttpRequest.BodyPublishers.ofString("words " + i))).statusCode()).isEqualTo(200);
    }
    browser.get(fhirbox.baseUrl() + "app/#/file/" + binary);
    page.waitFor(By.cssSelector("li[data-version='53']"));
    assertThat(browser.findElements(By.cssSelector("#versions li"))).as("the first page").hasSize(50);
    page.scrollTo(By.xpath("//button[text()='Show older versions']"));
    page.button("Show older versions").click();
    page.waitFor(By.cssSelector("li[data-version='1']"));
    assertThat(browser.findElements(By.cssSelector("#versions li"))).as("every version").hasSize(53);
    assertThat(browser.findElements(By.xpath("//button[text()='Show older versions']"))).as("after the last page")
        .isEmpty();
    BrowserFixture.waitUpTo(browser, 30).until(d -> d.findElements(By.cssSelector("tbody tr")).size() == 50);
    page.scrollTo(By.xpath("//button[text()='Show older entries']"));
    page.button("Show older entries").click();
    BrowserFixture.waitUpTo(browser, 30).until(d -> d.findElements(By.cssSelector("tbody tr")).size() > 53);

    // a file held by a Media whose subject names no resource (a display only) has its page, which
    // leads back to the patients
    String unnamed = TestClient.createdId(admin.postJson("fhir/R4/Media", "{\"resourceType\":\"Media\","
        + "\"status\":\"completed\",\"subject\":{\"display\":\"x\"},\"content\":{\"url\":\"Binary/" + binary
        + "\",\"title\":\"unnamed.txt\"}}"));
    browser.get(fhirbox.baseUrl() + "app/#/file/" + binary + "?ref=Media/" + unnamed);
    page.waitFor(By.xpath("//h1[text()='unnamed.txt']"));
    assertThat(browser.findElement(By.linkText("← Patients")).getAttribute("href")).endsWith("/app/#/");

    // a ref that does not attach this file (another patient's document), or that cannot be read, is
    // not taken for its holder: the page leads back to the patients and says why
    String olga = app.patient("Olga", "Other", "MRN-6", "1990-06-06");
    String olgasDoc = app.document(olga, app.note(olga), null);
    browser.get(fhirbox.baseUrl() + "app/#/file/" + binary + "?ref=DocumentReference/" + olgasDoc);
    page.waitFor(By.xpath("//h1[text()='Binary " + binary + "']"));
    assertThat(browser.findElements(By.linkText("← Patient"))).isEmpty();
    assertThat(browser.findElement(By.id("main")).getText()).doesNotContain("Held in\nDocumentReference/")
        .contains("DocumentReference/" + olgasDoc + " does not attach this file");
    browser.get(fhirbox.baseUrl() + "app/#/file/" + binary + "?ref=DocumentReference/gone");
    assertThat(page.waitFor(By.cssSelector("#main .notice.warn")).getText())
        .isEqualTo("DocumentReference/gone could not be read, so it is not shown as this file's holder: "
            + "DocumentReference/gone is not known");

    // a patient with more files than one page of a search holds opens with the first page of each
    // kind and shows the rest on request, one page at a time
    String many = app.patient("Manny", "Many", "MRN-101", "1981-01-01");
    StringBuilder entries = new StringBuilder();
    for (int i = 1; i <= 101; i++) {
      entries.append(i > 1 ? "," : "").append("{\"resource\":{\"resourceType\":\"Media\",\"status\":\"completed\","
          + "\"subject\":{\"reference\":\"Patient/").append(many).append("\"},\"content\":{\"contentType\":"
          + "\"text/plain\",\"url\":\"Binary/").append(binary).append("\",\"title\":\"line-").append(i)
          .append(".txt\"}},\"request\":{\"method\":\"POST\",\"url\":\"Media\"}}");
    }
    HttpResponse<String> created = admin.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":"
        + "\"transaction\",\"entry\":[" + entries + "]}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
    browser.get(fhirbox.baseUrl() + "app/#/patient/" + many);
    BrowserFixture.waitUpTo(browser, 30).until(d -> !d.findElements(By.cssSelector("#files li.file"))
        .isEmpty());
    assertThat(browser.findElements(By.cssSelector("#files li.file")).size()).as("files shown first").isEqualTo(100);
    assertThat(browser.executeScript("return performance.getEntriesByType('resource').filter((e) =>"
        + " e.name.includes('/Media?') && e.name.includes(arguments[0])).length", many))
        .as("pages of the patient's Media search read").isEqualTo(1L);
    page.scrollTo(By.xpath("//button[text()='Show more files']"));
    page.button("Show more files").click();
    BrowserFixture.waitUpTo(browser, 30).until(d -> d.findElements(By.cssSelector("#files li.file"))
        .size() == 101);
    assertThat(browser.findElements(By.xpath("//button[text()='Show more files']"))).as("after the last page")
        .isEmpty();
    assertThat(browser.findElements(By.linkText("Details of line-101.txt"))).hasSize(1);
  }

  @Test
  void aPageLeftOpenSignsAfreshThePinnedVersionAndAFrameOrSaysWhyItCannot(
      AppPage page, ChromeDriver browser, TestServer fhirbox) throws Exception {
    String patient = app.patient("Pia", "Pinned", "MRN-21", "1983-03-21");
    TestClient admin = fhirbox.client();
    String binary = TestClient.createdId(admin.send(admin.request("fhir/R4/Binary?_filename=consent.txt")
        .header("Content-Type", "text/plain").header("X-Security-Context", "Patient/" + patient)
        .POST(HttpRequest.BodyPublishers.ofString("signed consent"))));
    assertThat(admin.send(admin.request("fhir/R4/Binary/" + binary).header("Content-Type", "text/plain")
        .PUT(HttpRequest.BodyPublishers.ofString("a later text"))).statusCode()).isEqualTo(200);
    admin.postJson("fhir/R4/DocumentReference", "{\"resourceType\":\"DocumentReference\",\"status\":"
        + "\"current\",\"subject\":{\"reference\":\"Patient/" + patient + "\"},\"content\":[{\"attachment\":"
        + "{\"contentType\":\"text/plain\",\"url\":\"Binary/" + binary + "/_history/1\",\"title\":\"consent.txt\"}}]}");

    page.signIn();
    page.openPatient(patient, "Pia Pinned");
    WebElement download = page.waitFor(By.linkText("Download consent.txt"));
    assertThat(download.getAttribute("href")).contains("/storage/" + binary + "/1?");
    // the page left open past the URL's end: the link followed then is signed afresh, for version 1
    List<String> followed = page.followEnded(download, "Expires", "1");
    assertThat(followed).as("the hrefs the link was followed with").hasSize(2);
    assertThat(followed.get(1)).contains("/storage/" + binary + "/1?").doesNotContain("Expires=1&");

    // opened again with the clock two hours ahead, as if left open: a PDF frame's URL is signed afresh
    // as it comes into view; a link that cannot be signed afresh (the server is away) says why
    String pdf = TestClient.createdId(admin.postBytes("fhir/R4/Binary", "application/pdf", WebApp.pdf()));
    admin.postJson("fhir/R4/DocumentReference", "{\"resourceType\":\"DocumentReference\",\"status\":\"current\","
        + "\"subject\":{\"reference\":\"Patient/" + patient + "\"},\"content\":[{\"attachment\":{\"contentType\":"
        + "\"application/pdf\",\"url\":\"Binary/" + pdf + "\",\"title\":\"report.pdf\"}}]}");
    String note = app.note(patient);
    app.document(patient, note, null);
    browser.executeScript("const now = Date.now; Date.now = () => now.call(Date) + 2 * 3600 * 1000;"
        + " location.hash = '#/'");
    page.waitFor(By.xpath("//h1[text()='Patients']"));
    browser.executeScript("location.hash = arguments[0]", "#/patient/" + patient);
    page.waitFor(By.cssSelector("#files iframe.pdf[src]"));
    assertThat(browser.executeScript("return performance.getEntriesByType('resource').filter((e) =>"
        + " e.name.endsWith('/Binary/' + arguments[0] + '/_history/1/$presigned-url')).length", pdf))
        .as("signings of the PDF's URL before its frame loads").isEqualTo(1L);
    WebElement noteLink = page.waitFor(By.linkText("Download note.txt"));
    app.stop();
    noteLink.click();
    WebElement said = page.waitFor(By.cssSelector("li[data-binary='" + note + "'] .notice.error"));
    assertThat(said.getText()).startsWith("This file cannot be opened now: The server cannot be reached.");
  }

  @Test
  void withTheS3SignerAFileHasItsDetailsThumbnailAndFreshUrls(AppPage page, ChromeDriver browser) throws Exception {
    try (S3Server s3 = S3Server.start()) {
      S3Server.exportCredentials(); // read by the AWS SDK's default credential chain
      app.restart(Map.of("FHIRBOX_BLOB_STORE", "s3", "FHIRBOX_SIGNED_URL_MODE", "s3",
          "FHIRBOX_S3_BUCKET", S3Server.newBucketName(), "FHIRBOX_S3_ENDPOINT", s3.endpoint().toString(),
          "FHIRBOX_S3_PATH_STYLE", "true", "FHIRBOX_S3_CREATE_BUCKET", "true"));
      String patient = app.patient("Stella", "Bucket", "MRN-33", "1986-06-03");
      String photo = TestClient.createdId(app.fhirbox().client().postBytes("fhir/R4/Binary", "image/jpeg", WebApp.jpeg()));
      app.media(patient, photo, "scan.jpg");
      String note = app.note(patient);
      String doc = app.document(patient, note, "A note in the bucket");

      page.signIn();
      page.openPatient(patient, "Stella Bucket");
      WebElement download = page.waitFor(By.linkText("Download note.txt"));
      assertThat(download.getAttribute("href")).as("a URL of the bucket")
          .startsWith(s3.endpoint().toString()).contains("fhirbox-binary=Binary%2F" + note + "%2F_history%2F1");
      page.waitFor(By.cssSelector("li[data-binary='" + photo + "'] img.thumb"));

      // a link followed after its URL's end (X-Amz-Date + X-Amz-Expires) is signed afresh first
      List<String> followed = page.followEnded(download, "X-Amz-Date", "20000101T000000Z");
      assertThat(followed).as("the hrefs the link was followed with").hasSize(2).element(1).asString()
          .doesNotContain("X-Amz-Date=20000101T000000Z");
      // a download from the bucket (another origin: "download" is ignored) opens a tab; the app stays
      String appTab = browser.getWindowHandle();
      download.click();
      BrowserFixture.waitUpTo(browser, 10).until(d -> d.getWindowHandles().size() == 2);
      assertThat(browser.getCurrentUrl()).contains("/app/#/patient/" + patient);
      browser.switchTo().window(browser.getWindowHandles().stream().filter(h -> !h.equals(appTab)).findFirst().get());
      browser.close();
      browser.switchTo().window(appTab);

      page.waitFor(By.linkText("Details of note.txt")).click();
      page.waitFor(By.xpath("//h1[text()='note.txt']"));
      assertThat(browser.findElement(By.id("main")).getText()).contains("A note in the bucket")
          .contains("DocumentReference/" + doc);
      app.stop();
    } finally {
      S3Server.clearCredentials();
    }
  }

  @Test
  void aFilePageSignsOnlyTheCurrentVersionUntilAnotherIsFollowed(
      AppPage page, ChromeDriver browser, TestServer fhirbox) throws Exception {
    TestClient admin = fhirbox.client();
    String binary = TestClient.createdId(admin.postBytes("fhir/R4/Binary", "text/plain",
        "words 1".getBytes(StandardCharsets.UTF_8)));
    for (int i = 2; i <= 4; i++) {
      assertThat(admin.send(admin.request("fhir/R4/Binary/" + binary).header("Content-Type", "text/plain")
          .PUT(HttpRequest.BodyPublishers.ofString("words " + i))).statusCode()).isEqualTo(200);
    }
    page.signIn();
    browser.get(fhirbox.baseUrl() + "app/#/file/" + binary);
    page.waitFor(By.cssSelector("li[data-version='1']"));
    // the audit trail is asked for after the versions are shown: every signing of the page is done
    page.waitFor(By.id("audit-title"));
    String signings = "return performance.getEntriesByType('resource').map((e) => e.name)"
        + ".filter((n) => n.includes('$presigned-url')).map((n) => n.split('/Binary/')[1])";
    assertThat(browser.executeScript(signings)).as("signings of the opened page")
        .isEqualTo(List.of(binary + "/_history/4/$presigned-url"));

    // version 1's Download is signed as it is followed; its View then needs no signing of its own
    @SuppressWarnings("unchecked")
    Map<String, Object> followed = (Map<String, Object>) browser.executeAsyncScript("""
        const done = arguments[arguments.length - 1];
        const [download, view] = arguments;
        const seen = [];
        document.addEventListener('click', (e) => {
          e.preventDefault();
          if (e.target.closest('a').hasAttribute('data-unsigned')) return;
          seen.push(e.target.closest('a').href);
          if (seen.length === 1) view.click();
          else fetch(seen[0]).then((r) => r.text()).then((text) => done({ seen, text }));
        });
        download.click();
        setTimeout(() => done({ seen }), 10000);
        """, browser.findElement(By.cssSelector("li[data-version='1'] a[download]")),
        browser.findElement(By.cssSelector("li[data-version='1'] a[target='_blank']")));
    assertThat(followed).as("version 1's links followed").containsEntry("text", "words 1");
    @SuppressWarnings("unchecked")
    List<String> seen = (List<String>) followed.get("seen");
    assertThat(seen).as("the hrefs followed, Download's and View's").hasSize(2).containsOnly(seen.get(0));
    assertThat(seen.get(0)).contains("/storage/" + binary + "/1?");
    assertThat(browser.executeScript(signings)).as("signings after version 1 was followed twice")
        .isEqualTo(List.of(binary + "/_history/4/$presigned-url", binary + "/_history/1/$presigned-url"));
  }

  @Test
  void anAttachmentWithItsContentInlineIsOfferedAsADownload(AppPage page, ChromeDriver browser, TestServer fhirbox)
      throws Exception {
    String patient = app.patient("Ina", "Inline", "MRN-22", "1984-04-22");
    String words = Base64.getEncoder().encodeToString("<p>inline words</p>".getBytes(StandardCharsets.UTF_8));
    fhirbox.client().postJson("fhir/R4/Media", "{\"resourceType\":\"Media\",\"status\":\"completed\",\"subject\":"
        + "{\"reference\":\"Patient/" + patient + "\"},\"content\":{\"contentType\":\"text/html\",\"data\":\""
        + words + "\",\"title\":\"inline.html\"}}");

    page.signIn();
    page.openPatient(patient, "Ina Inline");
    WebElement download = page.button("Download inline.html");
    assertThat(browser.findElement(By.id("files")).getText()).contains("Stored in the resource itself")
        .doesNotContain("You may not open this file.");
    // what the download would save: the bytes, as a file and never as a page of the app's origin
    @SuppressWarnings("unchecked")
    Map<String, Object> saved = (Map<String, Object>) browser.executeAsyncScript("""
        const done = arguments[arguments.length - 1];
        const make = URL.createObjectURL;
        let blob = null;
        URL.createObjectURL = (b) => { blob = b; return make.call(URL, b); };
        document.addEventListener('click', (e) => {
          const a = e.target.closest('a');
          if (!a || !blob) return;
          e.preventDefault();
          blob.text().then((text) => done({ download: a.download, type: blob.type, text,
            scheme: new URL(a.href).protocol }));
        }, true);
        arguments[0].click();
        setTimeout(() => done({ blob: String(blob) }), 10000);
        """, download);
    assertThat(saved).containsEntry("download", "inline.html").containsEntry("type", "application/octet-stream")
        .containsEntry("text", "<p>inline words</p>").containsEntry("scheme", "blob:");
  }

  @Test
  void aTwentyMegabytePhotoShowsAThumbnailOfAFewKilobytesAndBrokenContentKeepsItsTile(
      AppPage page, ChromeDriver browser, TestServer fhirbox) throws Exception {
    String patient = app.patient("Paula", "Photo", "MRN-20", "1982-02-20");
    Path photo = TestImages.noisyJpeg(app.file("ward-round.jpg"), 5200, 4000, 0.98f);
    assertThat(Files.size(photo)).as("a 20 MB photo").isBetween(19_000_000L, 24_000_000L);
    TestClient admin = fhirbox.client();
    String big = TestClient.createdId(admin.send(admin.request("fhir/R4/Binary").header("Content-Type", "image/jpeg")
        .POST(HttpRequest.BodyPublishers.ofFile(photo))));
    app.media(patient, big, "ward-round.jpg");
    String broken = TestClient.createdId(admin.postBytes("fhir/R4/Binary", "image/jpeg",
        "not a picture at all".getBytes(StandardCharsets.UTF_8)));
    app.media(patient, broken, "broken.jpg");

    page.signIn();
    browser.get(fhirbox.baseUrl() + "app/#/patient/" + patient);
    WebElement img = page.waitFor(By.cssSelector("li[data-binary='" + big + "'] img.thumb"));
    @SuppressWarnings("unchecked")
    Map<String, Object> shown = (Map<String, Object>) browser.executeAsyncScript("""
        const done = arguments[arguments.length - 1];
        const img = arguments[0];
        img.decode().then(() => done({ naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
          src: img.currentSrc }), (e) => done({ error: String(e) }));
        """, img);
    assertThat(shown).as("the thumbnail").containsEntry("naturalWidth", 256L).containsEntry("naturalHeight", 197L);
    String src = (String) shown.get("src");
    assertThat(src).contains("/storage/" + big + "/1/thumbnail?");
    Number transferred = (Number) browser.executeScript(
        "return performance.getEntriesByName(arguments[0])[0].transferSize", src);
    assertThat(transferred.longValue()).as("bytes transferred for the thumbnail of a %d-byte photo",
        Files.size(photo)).isPositive().isLessThan(30_000);
    @SuppressWarnings("unchecked")
    List<String> fetched = (List<String>) browser.executeScript(
        "return performance.getEntriesByType('resource').map(r => r.name)");
    assertThat(fetched).as("the photo itself is not downloaded").noneMatch(n -> n.contains("/storage/" + big + "/1?"));

    BrowserFixture.waitUpTo(browser, 30).until(d -> (Boolean) ((JavascriptExecutor) d).executeScript(
        "return performance.getEntriesByType('resource').some(r => r.name.includes(arguments[0]))",
        "/storage/" + broken + "/1/thumbnail?"));
    WebElement tile = browser.findElement(By.cssSelector("li[data-binary='" + broken + "'] .preview a"));
    assertThat(tile.getAttribute("class")).isEqualTo("tile");
    assertThat(tile.getText()).contains("open broken.jpg full size");
    assertThat(tile.findElements(By.tagName("img"))).isEmpty();
  }

  @Test
  void firstLoadIsSmallAndTheReadmeScreenshotIsTheRealApp(TestServer fhirbox) throws Exception {
    String patient = app.patient("Ada", "Quinlan", "MRN-4711", "1980-04-02");
    TestClient admin = fhirbox.client();
    String photo = TestClient.createdId(admin.postBytes("fhir/R4/Binary", "image/jpeg", WebApp.jpeg()));
    admin.postJson("fhir/R4/Media", "{\"resourceType\":\"Media\",\"status\":\"completed\",\"subject\":"
        + "{\"reference\":\"Patient/" + patient + "\"},\"createdDateTime\":\"2026-11-30T10:00:00Z\",\"content\":"
        + "{\"url\":\"Binary/" + photo + "\",\"title\":\"wound-day-3.jpg\"}}");

    try (Chromium fresh = Chromium.start(o -> o.addArguments("--window-size=1000,720"))) {
      ChromeDriver b = fresh.driver();
      b.get(fhirbox.baseUrl());
      BrowserFixture.waitUpTo(b, 30).until(d -> !d.findElements(By.name("project")).isEmpty());
      Number transferred = (Number) b.executeScript("""
          const nav = performance.getEntriesByType('navigation')[0];
          return performance.getEntriesByType('resource').reduce((n, r) => n + r.transferSize, nav.transferSize);
          """);
      @SuppressWarnings("unchecked")
      List<String> loaded = (List<String>) b.executeScript(
          "return performance.getEntriesByType('resource').map(r => r.name)");
      assertThat(loaded).as("the app's modules load").anyMatch(n -> n.endsWith("/js/main.js"))
          .anyMatch(n -> n.endsWith("/js/admin.js"));
      assertThat(transferred.longValue()).as("bytes of the first load, compressed").isPositive()
          .isLessThan(300_000);

      b.findElement(By.xpath("//button[text()='Sign in']")).click();
      BrowserFixture.waitUpTo(b, 30).until(d -> !d.findElements(By.id("email")).isEmpty());
      b.findElement(By.id("email")).sendKeys(WebApp.EMAIL);
      b.findElement(By.id("password")).sendKeys(SmartApp.PASSWORD);
      b.findElement(By.xpath("//button[text()='Sign in']")).click();
      BrowserFixture.waitUpTo(b, 30).until(d -> !d.findElements(By.id("patient-search")).isEmpty());
      b.get(fhirbox.baseUrl() + "app/#/patient/" + patient);
      BrowserFixture.waitUpTo(b, 30).until(d -> (Boolean) ((JavascriptExecutor) d).executeScript(
          "const i = document.querySelector('#files img.thumb'); return !!i && i.complete && i.naturalWidth > 0"));
      byte[] png = b.getScreenshotAs(OutputType.BYTES);
      BufferedImage shot = ImageIO.read(new ByteArrayInputStream(png));
      BufferedImage small = new BufferedImage(shot.getWidth() * 3 / 4, shot.getHeight() * 3 / 4,
          BufferedImage.TYPE_INT_RGB);
      Graphics2D g = small.createGraphics();
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.drawImage(shot, 0, 0, small.getWidth(), small.getHeight(), null);
      g.dispose();
      Files.createDirectories(SCREENSHOT.getParent());
      assertThat(ImageIO.write(small, "png", SCREENSHOT.toFile())).isTrue();
      assertThat(Files.size(SCREENSHOT)).as("a small PNG").isLessThan(150_000);
      if (Boolean.getBoolean("fhirbox.screenshot.update")) {
        Files.copy(SCREENSHOT, README_SCREENSHOT, StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }
}
