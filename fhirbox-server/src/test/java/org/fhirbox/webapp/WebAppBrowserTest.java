package org.fhirbox.webapp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.logging.Level;
import javax.imageio.ImageIO;
import org.fhirbox.auth.PasswordLinks;
import org.fhirbox.auth.User;
import org.fhirbox.testing.Chromium;
import org.fhirbox.testing.NpmPack;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.SmartApp;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestImages;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriverException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.chromium.ChromiumNetworkConditions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web app at {@code /app/} in headless Chromium, as a person uses it: the real sign-in form,
 * "Search patients", uploads through the file picker, previews, players, a share link opened
 * in another browser, sign-out, the admin pages; axe-core (npm) on every page.
 */
@SlowTest
class WebAppBrowserTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String AXE = "axe-core@4.14.1";
  private static final String EMAIL = "clinician@example.org";
  /** Where {@link #firstLoadIsSmallAndTheReadmeScreenshotIsTheRealApp} writes its screenshot on every run. */
  private static final Path SCREENSHOT = Path.of("target", "webapp.png");
  /** The README's screenshot, replaced only with {@code -Dfhirbox.screenshot.update=true}. */
  private static final Path README_SCREENSHOT = Path.of("..", "docs", "webapp.png");

  private static Chromium chromium;
  private static ChromeDriver browser;
  private static Path files;
  private Path data;
  private int port;
  private TestServer fhirbox;

  @BeforeAll
  static void startBrowser() throws Exception {
    chromium = Chromium.start(WebAppBrowserTest::networkLogAndAutoplay);
    browser = chromium.driver();
    files = Files.createTempDirectory("fhirbox-webapp-files");
  }

  @AfterAll
  static void stopBrowser() throws Exception {
    if (chromium != null) {
      chromium.close();
    }
    TestServer.deleteTree(files);
  }

  @BeforeEach
  void startServer() throws Exception {
    data = Files.createTempDirectory("fhirbox-webapp");
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    fhirbox = start();
    User user = fhirbox.server().signIn().users().create("default", EMAIL, "Casey Clinician",
        "Practitioner/casey", "user/*.cruds", true).orElseThrow();
    String link = fhirbox.server().auth().passwordLinks().issue(user.id()).orElseThrow().token();
    assertThat(fhirbox.server().auth().passwordLinks().setPassword(link, SmartApp.PASSWORD))
        .isInstanceOf(PasswordLinks.PasswordSet.class);
    try {
      browser.deleteNetworkConditions();
    } catch (WebDriverException noneWereSet) {
      // a test that throttled or cut the network and failed before restoring it leaves them set
    }
    browser.manage().deleteAllCookies();
    browser.get("about:blank");
    browser.manage().logs().get(LogType.PERFORMANCE);
  }

  private TestServer start() throws Exception {
    return TestServer.start(Map.of("FHIRBOX_PORT", Integer.toString(port), "FHIRBOX_DATA_DIR", data.toString(),
        "FHIRBOX_INGEST_ALLOWED_URL_PREFIXES", "http://127.0.0.1:" + port + "/nowhere/",
        "FHIRBOX_INGEST_POLL_MILLIS", "50"));
  }

  @AfterEach
  void stopServer() throws Exception {
    if (fhirbox != null) {
      fhirbox.close();
    }
    TestServer.deleteTree(data);
  }

  @Test
  void signsInFindsAPatientUploadsAndPreviewsEachKind() throws Exception {
    String patient = patient("Ada", "Quinlan", "MRN-4711", "1980-04-02");
    patient("Bert", "Other", "MRN-1", "1970-01-01");

    browser.get(fhirbox.baseUrl());
    assertThat(browser.getCurrentUrl()).isEqualTo(fhirbox.baseUrl() + "app/");
    axe("the signed-out page");
    signIn();
    axe("the search page");

    search("Quinlan");
    WebElement result = waitFor(By.linkText("Ada Quinlan"));
    assertThat(browser.findElements(By.linkText("Bert Other"))).isEmpty();
    search("MRN-4711");
    waitFor(By.linkText("Ada Quinlan"));
    search("1980-04-02");
    result = waitFor(By.linkText("Ada Quinlan"));
    result.click();
    waitFor(By.xpath("//h1[text()='Ada Quinlan']"));

    Path jpeg = write("scan.jpg", jpeg());
    Path pdf = write("report.pdf", pdf());
    Path webm = Path.of("src/test/resources/media/testsrc2-160x120-3s.webm").toAbsolutePath();
    labelled("Upload files").sendKeys(jpeg + "\n" + pdf + "\n" + webm);
    for (String name : List.of("scan.jpg", "report.pdf", "testsrc2-160x120-3s.webm")) {
      WebElement row = upload(name);
      if (name.equals("report.pdf")) {
        assertThat(row.findElement(By.xpath(".//select")).getAttribute("value")).isEqualTo("DocumentReference");
        fieldIn(row, "Description").sendKeys("Discharge report");
      }
      buttonIn(row, "Start upload").click();
    }
    for (String name : List.of("scan.jpg", "report.pdf", "testsrc2-160x120-3s.webm")) {
      awaitUploaded(name);
    }

    // thumbnails are asked for as their tiles come near the viewport: scroll down to the files
    browser.executeScript("document.getElementById('files').scrollIntoView()");
    WebElement img = waitFor(By.cssSelector("#files img.thumb"));
    @SuppressWarnings("unchecked")
    Map<String, Object> image = (Map<String, Object>) browser.executeAsyncScript("""
        const done = arguments[arguments.length - 1];
        const img = arguments[0];
        img.decode().then(() => done({ naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight }),
          (e) => done({ error: String(e) }));
        """, img);
    assertThat(image).as("the thumbnail").containsEntry("naturalWidth", 64L).containsEntry("naturalHeight", 48L);

    WebElement frame = waitFor(By.cssSelector("#files iframe.pdf"));
    assertThat(frame.getAttribute("title")).isEqualTo("PDF preview: report.pdf");
    browser.switchTo().frame(frame);
    String pdfType = new WebDriverWait(browser, Duration.ofSeconds(30)).until(d ->
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
    assertThat(responses(fhirbox.baseUrl() + "storage/")).as("storage responses")
        .anySatisfy(r -> assertThat(r.path("status").asInt()).isEqualTo(206));

    String details = fhirbox.client().get("fhir/R4/Media?subject=Patient/" + patient).body();
    assertThat(details).contains("\"hash\"").contains("\"size\"");
    assertThat(browser.findElement(By.id("files")).getText()).contains("SHA-1").contains("video/webm");
    axe("the patient page");
  }

  @Test
  void aLargeUploadResumesAfterTheServerRestarts() throws Exception {
    String patient = patient("Rita", "Restart", "MRN-9", "1990-09-09");
    byte[] content = new byte[24 * 1024 * 1024];
    new Random(7).nextBytes(content);
    Path big = write("big.bin", content);

    signIn();
    browser.get(fhirbox.baseUrl() + "app/#/patient/" + patient);
    waitFor(By.xpath("//h1[text()='Rita Restart']"));
    browser.executeScript("document.body.dataset.chunkSize = String(512 * 1024)");
    labelled("Upload files").sendKeys(big.toString());
    WebElement row = upload("big.bin");
    buttonIn(row, "Start upload").click();
    new WebDriverWait(browser, Duration.ofSeconds(60)).until(d -> sent(row) >= 3 * 1024 * 1024);

    fhirbox.close();
    fhirbox = null;
    long before = sent(row);
    assertThat(before).as("cut off halfway").isLessThan(content.length);
    new WebDriverWait(browser, Duration.ofSeconds(30)).until(d -> row.getText().contains("Retrying"));
    fhirbox = start();

    awaitUploaded("big.bin");
    String binary = row.getAttribute("data-binary");
    HttpResponse<String> head = fhirbox.client().send(fhirbox.client().request("fhir/R4/Binary/" + binary)
        .header("Accept", "*/*").method("HEAD", HttpRequest.BodyPublishers.noBody()));
    assertThat(head.headers().firstValue("ETag")).contains("\"" + sha256(content) + "\"");
    assertThat(head.headers().firstValue("Content-Length")).contains(Integer.toString(content.length));
  }

  @Test
  void aFilePageSharesALinkThatOpensInAnotherBrowserWithoutCredentials() throws Exception {
    String patient = patient("Sam", "Share", "MRN-5", "1985-05-05");
    TestClient admin = fhirbox.client();
    String binary = TestClient.createdId(admin.send(admin.request("fhir/R4/Binary?_filename=note.txt")
        .header("Content-Type", "text/plain").header("X-Security-Context", "Patient/" + patient)
        .POST(HttpRequest.BodyPublishers.ofString("first words"))));
    String doc = TestClient.createdId(admin.postJson("fhir/R4/DocumentReference", "{\"resourceType\":"
        + "\"DocumentReference\",\"status\":\"current\",\"subject\":{\"reference\":\"Patient/" + patient + "\"},"
        + "\"description\":\"A shared note\",\"content\":[{\"attachment\":{\"url\":\"Binary/" + binary
        + "\",\"title\":\"note.txt\"}}]}"));

    signIn();
    browser.get(fhirbox.baseUrl() + "app/#/patient/" + patient);
    waitFor(By.linkText("Details of note.txt")).click();
    waitFor(By.xpath("//h1[text()='note.txt']"));
    assertThat(browser.findElement(By.id("main")).getText()).contains("A shared note").contains("text/plain");
    new WebDriverWait(browser, Duration.ofSeconds(30)).until(d -> !d.findElements(By.tagName("table")).isEmpty());
    assertThat(browser.findElement(By.tagName("table")).getText()).as("the audit trail").contains("test-admin");
    axe("the file page");

    new org.openqa.selenium.support.ui.Select(labelled("Link lifetime")).selectByVisibleText("1 day");
    button("Copy share link").click();
    WebElement link = waitFor(By.id("share-link"));
    new WebDriverWait(browser, Duration.ofSeconds(10)).until(d -> !link.getAttribute("value").isEmpty());
    String url = link.getAttribute("value");
    long expires = Long.parseLong(url.replaceFirst(".*[?&]Expires=(\\d+).*", "$1"));
    assertThat(expires - Instant.now().getEpochSecond()).as("lifetime").isBetween(86_300L, 86_410L);
    try (Chromium fresh = Chromium.start(o -> { })) {
      fresh.driver().get(url);
      assertThat(fresh.driver().findElement(By.tagName("body")).getText()).isEqualTo("first words");
    }

    Path second = write("note-2.txt", "second words".getBytes(StandardCharsets.UTF_8));
    labelled("Upload new version").sendKeys(second.toString());
    waitFor(By.cssSelector("li[data-version='2']"));
    assertThat(admin.send(admin.request("fhir/R4/Binary/" + binary).header("Accept", "*/*").GET()).body())
        .isEqualTo("second words");
    assertThat(admin.get("fhir/R4/DocumentReference/" + doc).body()).as("size refilled from the new version")
        .contains("\"size\":12");
    assertThat(browser.findElement(By.cssSelector("li[data-version='1'] a[download]")).getAttribute("href"))
        .contains("/storage/" + binary + "/1?");
  }

  @Test
  void signOutRevokesTheRefreshTokenAndAnEndedSignInReturnsToItsPage() throws Exception {
    String patient = patient("Eve", "Expiry", "MRN-3", "1975-03-03");
    signIn();
    browser.get(fhirbox.baseUrl() + "app/#/patient/" + patient);
    waitFor(By.xpath("//h1[text()='Eve Expiry']"));
    String who = browser.findElement(By.id("who")).getText();
    assertThat(who).contains("Casey Clinician").contains("Project default").contains("Signed in until");

    // the sign-in ended: no refresh token, an access token the server refuses
    browser.executeScript("const s = JSON.parse(sessionStorage.getItem('fhirbox.session'));"
        + " s.access = 'x.e30.x'; s.refresh = null; sessionStorage.setItem('fhirbox.session', JSON.stringify(s));");
    browser.navigate().refresh();
    waitFor(By.id("email"));
    fillSignInForm();
    waitFor(By.xpath("//h1[text()='Eve Expiry']"));
    assertThat(browser.getCurrentUrl()).endsWith("/app/#/patient/" + patient);

    String refresh = (String) browser.executeScript(
        "return JSON.parse(sessionStorage.getItem('fhirbox.session')).refresh");
    assertThat(refresh).isNotBlank();
    button("Sign out").click();
    waitFor(By.xpath("//*[contains(text(),'You are signed out.')]"));
    assertThat(browser.executeScript("return sessionStorage.getItem('fhirbox.session')")).isNull();
    assertThat(browser.executeScript("return Object.keys(localStorage).length")).isEqualTo(0L);
    HttpResponse<String> reuse = fhirbox.client().http().send(HttpRequest.newBuilder(
        URI.create(fhirbox.baseUrl() + "oauth2/token")).header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("grant_type=refresh_token&client_id=fhirbox-app&refresh_token="
            + refresh)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(reuse.statusCode()).isEqualTo(400);
    assertThat(reuse.body()).contains("invalid_grant");
  }

  @Test
  void anAdminManagesUsersClientsAndJobs() throws Exception {
    String media = TestClient.createdId(fhirbox.client().postJson("fhir/R4/Media", "{\"resourceType\":\"Media\","
        + "\"status\":\"completed\",\"content\":{\"contentType\":\"image/png\",\"url\":\"http://127.0.0.1:" + port
        + "/nowhere/x.png\"}}"));
    signIn();

    button("Admin").click();
    waitFor(By.xpath("//caption[text()='Users']"));
    axe("the users page");
    labelled("Email").sendKeys("new.person@example.org");
    labelled("Name").sendKeys("New Person");
    labelled("FHIR user").sendKeys("Practitioner/new");
    button("Create user").click();
    String setPassword = onceValue();
    assertThat(setPassword).startsWith(fhirbox.baseUrl() + "account/set-password?token=");
    button("Reset password of new.person@example.org").click();
    new WebDriverWait(browser, Duration.ofSeconds(30)).until(d -> !onceValue().equals(setPassword));
    assertThat(onceValue()).startsWith(fhirbox.baseUrl() + "account/set-password?token=");
    button("Disable new.person@example.org").click();
    new WebDriverWait(browser, Duration.ofSeconds(30)).until(d -> rowText("data-email", "new.person@example.org")
        .contains("disabled"));

    browser.findElement(By.linkText("Clients")).click();
    waitFor(By.xpath("//caption[text()='Clients']"));
    axe("the clients page");
    button("Create client").click();
    String secret = onceValue();
    String clientId = browser.findElement(By.xpath("//div[@id='once']//h2")).getText().replace("Secret for new client ", "");
    assertThat(secret).isNotBlank();
    assertThat(token(clientId, secret)).isEqualTo(200);
    button("Rotate secret of " + clientId).click();
    new WebDriverWait(browser, Duration.ofSeconds(30)).until(d -> !onceValue().equals(secret));
    assertThat(token(clientId, secret)).isEqualTo(401);
    assertThat(token(clientId, onceValue())).isEqualTo(200);
    button("Disable " + clientId).click();
    new WebDriverWait(browser, Duration.ofSeconds(30)).until(d -> rowText("data-client", clientId)
        .contains("disabled"));

    String job = awaitFailedJob();
    browser.findElement(By.linkText("Ingestion jobs")).click();
    waitFor(By.xpath("//caption[text()='Ingestion jobs']"));
    assertThat(rowText("data-job", job)).contains("Media/" + media).contains("failed").contains("404");
    axe("the jobs page");
    button("Retry job " + job).click();
    waitFor(By.xpath("//*[contains(text(),'The job is queued again.')]"));
    JsonNode after = JSON.readTree(fhirbox.client().get("admin/jobs").body()).get("jobs").get(0);
    assertThat(after.get("attempts").asInt()).as("counted afresh").isLessThanOrEqualTo(1);
  }

  @Test
  void firstLoadIsSmallAndTheReadmeScreenshotIsTheRealApp() throws Exception {
    String patient = patient("Ada", "Quinlan", "MRN-4711", "1980-04-02");
    TestClient admin = fhirbox.client();
    String photo = TestClient.createdId(admin.postBytes("fhir/R4/Binary", "image/jpeg", jpeg()));
    admin.postJson("fhir/R4/Media", "{\"resourceType\":\"Media\",\"status\":\"completed\",\"subject\":"
        + "{\"reference\":\"Patient/" + patient + "\"},\"createdDateTime\":\"2026-11-30T10:00:00Z\",\"content\":"
        + "{\"url\":\"Binary/" + photo + "\",\"title\":\"wound-day-3.jpg\"}}");

    try (Chromium fresh = Chromium.start(o -> o.addArguments("--window-size=1000,720"))) {
      ChromeDriver b = fresh.driver();
      b.get(fhirbox.baseUrl());
      new WebDriverWait(b, Duration.ofSeconds(30)).until(d -> !d.findElements(By.name("project")).isEmpty());
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
      new WebDriverWait(b, Duration.ofSeconds(30)).until(d -> !d.findElements(By.id("email")).isEmpty());
      b.findElement(By.id("email")).sendKeys(EMAIL);
      b.findElement(By.id("password")).sendKeys(SmartApp.PASSWORD);
      b.findElement(By.xpath("//button[text()='Sign in']")).click();
      new WebDriverWait(b, Duration.ofSeconds(30)).until(d -> !d.findElements(By.id("patient-search")).isEmpty());
      b.get(fhirbox.baseUrl() + "app/#/patient/" + patient);
      new WebDriverWait(b, Duration.ofSeconds(30)).until(d -> (Boolean) ((JavascriptExecutor) d).executeScript(
          "const i = document.querySelector('#files img.thumb'); return !!i && i.complete && i.naturalWidth > 0"));
      byte[] png = b.getScreenshotAs(OutputType.BYTES);
      BufferedImage shot = ImageIO.read(new java.io.ByteArrayInputStream(png));
      BufferedImage small = new BufferedImage(shot.getWidth() * 3 / 4, shot.getHeight() * 3 / 4,
          BufferedImage.TYPE_INT_RGB);
      Graphics2D g = small.createGraphics();
      g.setRenderingHint(java.awt.RenderingHints.KEY_INTERPOLATION, java.awt.RenderingHints.VALUE_INTERPOLATION_BILINEAR);
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

  @Test
  void aTwentyMegabytePhotoShowsAThumbnailOfAFewKilobytesAndBrokenContentKeepsItsTile() throws Exception {
    String patient = patient("Paula", "Photo", "MRN-20", "1982-02-20");
    Path photo = TestImages.noisyJpeg(files.resolve("ward-round.jpg"), 5200, 4000, 0.98f);
    assertThat(Files.size(photo)).as("a 20 MB photo").isBetween(19_000_000L, 24_000_000L);
    TestClient admin = fhirbox.client();
    String big = TestClient.createdId(admin.send(admin.request("fhir/R4/Binary").header("Content-Type", "image/jpeg")
        .POST(HttpRequest.BodyPublishers.ofFile(photo))));
    media(patient, big, "ward-round.jpg");
    String broken = TestClient.createdId(admin.postBytes("fhir/R4/Binary", "image/jpeg",
        "not a picture at all".getBytes(StandardCharsets.UTF_8)));
    media(patient, broken, "broken.jpg");

    signIn();
    browser.get(fhirbox.baseUrl() + "app/#/patient/" + patient);
    WebElement img = waitFor(By.cssSelector("li[data-binary='" + big + "'] img.thumb"));
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

    new WebDriverWait(browser, Duration.ofSeconds(30)).until(d -> (Boolean) ((JavascriptExecutor) d).executeScript(
        "return performance.getEntriesByType('resource').some(r => r.name.includes(arguments[0]))",
        "/storage/" + broken + "/1/thumbnail?"));
    WebElement tile = browser.findElement(By.cssSelector("li[data-binary='" + broken + "'] .preview a"));
    assertThat(tile.getAttribute("class")).isEqualTo("tile");
    assertThat(tile.getText()).contains("open broken.jpg full size");
    assertThat(tile.findElements(By.tagName("img"))).isEmpty();
  }

  @Test
  void onAPhoneEveryPageFitsTheWidthAndPassesAxe() throws Exception {
    String patient = patient("Pia", "Phone", "MRN-375", "1999-03-07");
    String photo = TestClient.createdId(fhirbox.client().postBytes("fhir/R4/Binary", "image/jpeg", jpeg()));
    media(patient, photo, "a-photo-with-a-rather-long-file-name-from-a-phone-camera-20261202.jpg");
    String pdf = TestClient.createdId(fhirbox.client().postBytes("fhir/R4/Binary", "application/pdf", pdf()));
    media(patient, pdf, "letter.pdf");
    String media = TestClient.createdId(fhirbox.client().postJson("fhir/R4/Media", "{\"resourceType\":\"Media\","
        + "\"status\":\"completed\",\"content\":{\"contentType\":\"image/png\",\"url\":\"http://127.0.0.1:" + port
        + "/nowhere/x.png\"}}"));
    awaitFailedJob();

    ChromeDriver desktop = browser;
    try (Chromium phone = Chromium.start(o -> o.setExperimentalOption("mobileEmulation", Map.of("deviceMetrics",
        Map.of("width", 375, "height", 740, "pixelRatio", 2.0))))) {
      browser = phone.driver();
      browser.get(fhirbox.baseUrl() + "app/");
      waitFor(By.name("project"));
      assertThat(browser.executeScript("return window.innerWidth")).isEqualTo(375L);
      fitsAndPassesAxe("the signed-out page");
      button("Sign in").click();
      waitFor(By.id("email"));
      fitsAndPassesAxe("the sign-in page");
      fillSignInForm();
      waitFor(By.id("patient-search"));
      search("Phone");
      waitFor(By.linkText("Pia Phone"));
      fitsAndPassesAxe("the search page");

      browser.get(fhirbox.baseUrl() + "app/#/patient/" + patient);
      waitFor(By.xpath("//h1[text()='Pia Phone']"));
      labelled("Upload files").sendKeys(write("notes-from-the-ward.txt", "words".getBytes(StandardCharsets.UTF_8))
          .toString());
      upload("notes-from-the-ward.txt");
      browser.executeScript("document.getElementById('files').scrollIntoView()");
      waitFor(By.cssSelector("#files img.thumb"));
      fitsAndPassesAxe("the patient page");

      waitFor(By.partialLinkText("Details of letter.pdf")).click();
      waitFor(By.xpath("//h1[text()='letter.pdf']"));
      new WebDriverWait(browser, Duration.ofSeconds(30)).until(d -> !d.findElements(By.tagName("table")).isEmpty());
      fitsAndPassesAxe("the file page");

      for (String[] page : new String[][] {{"users", "Users"}, {"clients", "Clients"}, {"jobs", "Ingestion jobs"}}) {
        browser.get(fhirbox.baseUrl() + "app/#/admin/" + page[0]);
        waitFor(By.xpath("//caption[text()='" + page[1] + "']"));
        fitsAndPassesAxe("the " + page[0] + " page");
      }
      assertThat(browser.findElement(By.id("main")).getText()).contains("Media/" + media);
    } finally {
      browser = desktop;
    }
  }

  @Test
  void theKeyboardAloneSignsInSearchesAndReachesEveryControlByItsName() throws Exception {
    String patient = patient("Kim", "Keys", "MRN-77", "1977-07-07");
    String photo = TestClient.createdId(fhirbox.client().postBytes("fhir/R4/Binary", "image/jpeg", jpeg()));
    media(patient, photo, "wound.jpg");

    browser.get(fhirbox.baseUrl() + "app/");
    waitFor(By.name("project"));
    tabTo("button", "Sign in").sendKeys(Keys.ENTER);
    waitFor(By.id("email"));
    tabTo("input", "Email").sendKeys(EMAIL);
    new Actions(browser).sendKeys(Keys.TAB).perform();
    assertThat(browser.switchTo().activeElement().getAttribute("id")).isEqualTo("password");
    browser.switchTo().activeElement().sendKeys(SmartApp.PASSWORD, Keys.ENTER);
    waitFor(By.id("patient-search"));

    for (int i = 1; i <= 11; i++) {
      patient("Number" + i, "Pager", "MRN-P" + i, "1950-01-" + (10 + i));
    }
    tabTo("input", "Search patients").sendKeys("Pager", Keys.ENTER);
    new WebDriverWait(browser, Duration.ofSeconds(30)).until(d -> d.findElements(By.cssSelector("#results li"))
        .size() == 10);
    tabTo("button", "Next page").sendKeys(Keys.ENTER);
    new WebDriverWait(browser, Duration.ofSeconds(30)).until(d -> d.findElements(By.cssSelector("#results li"))
        .size() == 1);
    WebElement search = tabTo("input", "Search patients");
    search.clear();
    search.sendKeys("Keys", Keys.ENTER);
    waitFor(By.linkText("Kim Keys"));
    tabTo("a", "Kim Keys").sendKeys(Keys.ENTER);
    waitFor(By.xpath("//h1[text()='Kim Keys']"));
    waitFor(By.cssSelector("#files img.thumb"));

    // from the first stop of the page (the skip link) to the last
    browser.executeScript("document.querySelector('a.skip').focus()");
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      Map<String, Object> focused = focused();
      if ("BODY".equals(focused.get("tag")) || i > 0 && names.get(0).equals(focused.get("name"))) {
        break;
      }
      assertThat((String) focused.get("name")).as("the name of %s", focused).isNotBlank();
      names.add((String) focused.get("name"));
      new Actions(browser).sendKeys(Keys.TAB).perform();
    }
    assertThat(names).as("every stop of the patient page, in order").contains("Skip to content", "Patients",
        "Admin", "Sign out", "Upload files", "Open wound.jpg full size", "Details of wound.jpg");

    tabTo("a", "Details of wound.jpg").sendKeys(Keys.ENTER);
    waitFor(By.xpath("//h1[text()='wound.jpg']"));
    tabTo("button", "Copy share link").sendKeys(Keys.ENTER);
    WebElement link = waitFor(By.id("share-link"));
    new WebDriverWait(browser, Duration.ofSeconds(10)).until(d -> !link.getAttribute("value").isEmpty());
    assertThat(link.getAttribute("value")).contains("/storage/" + photo + "/1?");
  }

  @Test
  void offlineIsShownAndErrorsAndRefusalsAreTheServersWords() throws Exception {
    String patient = patient("Otto", "Offline", "MRN-0", "1960-06-06");
    signIn();

    browser.setNetworkConditions(offline());
    WebElement banner = waitFor(By.xpath("//div[@id='status']//*[contains(text(),'You are offline')]"));
    assertThat(banner.getAttribute("role")).isEqualTo("status");
    search("Offline");
    assertThat(browser.findElement(By.id("results")).getText()).contains("You are offline. Reconnect and try again.");
    browser.deleteNetworkConditions();
    new WebDriverWait(browser, Duration.ofSeconds(30)).until(d -> d.findElement(By.id("status")).getText().isEmpty());
    search("Offline");
    waitFor(By.linkText("Otto Offline"));

    String diagnostics = JSON.readTree(fhirbox.client().get("fhir/R4/Patient/no-such-patient").body())
        .get("issue").get(0).get("diagnostics").asText();
    browser.get(fhirbox.baseUrl() + "app/#/patient/no-such-patient");
    waitFor(By.xpath("//h1[text()='Something went wrong']"));
    assertThat(browser.findElement(By.cssSelector("#main [role=alert]")).getText()).isEqualTo(diagnostics);

    browser.get(fhirbox.baseUrl() + "app/#/patient/" + patient);
    waitFor(By.xpath("//h1[text()='Otto Offline']"));
    labelled("Upload files").sendKeys(write("setup.exe", new byte[] {'M', 'Z', 0, 0}).toString());
    WebElement row = upload("setup.exe");
    buttonIn(row, "Start upload").click();
    new WebDriverWait(browser, Duration.ofSeconds(30)).until(d -> "refused".equals(row.getAttribute("data-state")));
    assertThat(row.findElement(By.cssSelector("[role=alert]")).getText()).contains("exe").contains("not accepted");
  }

  @Test
  void filesAreDroppedOrPickedAndAnUploadPausesResumesAndCancels() throws Exception {
    String patient = patient("Uma", "Upload", "MRN-8", "1988-08-08");
    byte[] content = new byte[6 * 1024 * 1024];
    new Random(8).nextBytes(content);
    Path paused = write("paused.bin", content);
    Path cancelled = write("cancelled.bin", content);

    signIn();
    browser.get(fhirbox.baseUrl() + "app/#/patient/" + patient);
    waitFor(By.xpath("//h1[text()='Uma Upload']"));
    browser.executeScript("document.body.dataset.chunkSize = String(256 * 1024)");
    // 200 ms a request: 24 pieces a file, slow enough to pause and cancel halfway
    browser.setNetworkConditions(new ChromiumNetworkConditions()
        .setLatency(Duration.ofMillis(200)));
    browser.executeScript("""
        const files = new DataTransfer();
        files.items.add(new File(['dropped words'], 'dropped.txt', { type: 'text/plain' }));
        document.querySelector('.drop').dispatchEvent(new DragEvent('drop', { dataTransfer: files, bubbles: true }));
        """);
    assertThat(upload("dropped.txt").getText()).contains("dropped.txt").contains("text/plain");
    labelled("Upload files").sendKeys(paused + "\n" + cancelled);
    WebElement row = upload("paused.bin");
    buttonIn(row, "Start upload").click();
    new WebDriverWait(browser, Duration.ofSeconds(60)).until(d -> sent(row) >= 512 * 1024);
    buttonIn(row, "Pause").click();
    new WebDriverWait(browser, Duration.ofSeconds(10)).until(d -> row.getText().contains("Paused"));
    long atPause = sent(row);
    Thread.sleep(1500); // a paused upload sends nothing more, however long it waits
    assertThat(sent(row)).as("sent while paused").isEqualTo(atPause).isLessThan(content.length);
    buttonIn(row, "Resume").click();
    awaitUploaded("paused.bin");
    HttpResponse<String> head = fhirbox.client().send(fhirbox.client().request("fhir/R4/Binary/"
        + row.getAttribute("data-binary")).header("Accept", "*/*").method("HEAD", HttpRequest.BodyPublishers.noBody()));
    assertThat(head.headers().firstValue("ETag")).contains("\"" + sha256(content) + "\"");

    WebElement other = upload("cancelled.bin");
    buttonIn(other, "Start upload").click();
    new WebDriverWait(browser, Duration.ofSeconds(60)).until(d -> sent(other) >= 256 * 1024);
    buttonIn(other, "Cancel").click();
    new WebDriverWait(browser, Duration.ofSeconds(10)).until(d ->
        d.findElements(By.cssSelector("li.upload[data-file='cancelled.bin']")).isEmpty());
    browser.deleteNetworkConditions();
    assertThat(JSON.readTree(fhirbox.client().get("fhir/R4/DocumentReference?subject=Patient/" + patient).body())
        .path("entry").size()).as("only the finished upload became a DocumentReference").isEqualTo(1);
  }

  // ---- helpers ----

  private void media(String patient, String binary, String title) {
    TestClient.createdId(fhirbox.client().postJson("fhir/R4/Media", "{\"resourceType\":\"Media\",\"status\":"
        + "\"completed\",\"subject\":{\"reference\":\"Patient/" + patient + "\"},\"content\":{\"url\":\"Binary/"
        + binary + "\",\"title\":\"" + title + "\"}}"));
  }

  private String patient(String given, String family, String mrn, String birthDate) {
    return TestClient.createdId(fhirbox.client().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\","
        + "\"name\":[{\"given\":[\"" + given + "\"],\"family\":\"" + family + "\"}],\"identifier\":[{\"system\":"
        + "\"urn:mrn\",\"value\":\"" + mrn + "\"}],\"birthDate\":\"" + birthDate + "\"}"));
  }

  /** From the app's signed-out page through the server's sign-in form, back to the app. */
  private void signIn() {
    browser.get(fhirbox.baseUrl() + "app/");
    waitFor(By.name("project"));
    assertThat(labelled("Project").getAttribute("value")).isEqualTo("default");
    button("Sign in").click();
    waitFor(By.id("email"));
    assertThat(browser.getCurrentUrl()).startsWith(fhirbox.baseUrl() + "oauth2/");
    fillSignInForm();
    waitFor(By.id("patient-search"));
    assertThat(browser.getCurrentUrl()).doesNotContain("code=");
  }

  private void fillSignInForm() {
    browser.findElement(By.id("email")).sendKeys(EMAIL);
    browser.findElement(By.id("password")).sendKeys(SmartApp.PASSWORD);
    button("Sign in").click();
  }

  private void search(String text) {
    WebElement field = labelled("Search patients");
    field.clear();
    field.sendKeys(text);
    button("Search").click();
    new WebDriverWait(browser, Duration.ofSeconds(30)).until(d -> !d.findElement(By.id("results")).getText()
        .contains("Searching"));
  }

  private WebElement upload(String name) {
    return waitFor(By.cssSelector("li.upload[data-file='" + name + "']"));
  }

  private static long sent(WebElement row) {
    String s = row.getAttribute("data-sent");
    return s == null ? 0 : Long.parseLong(s);
  }

  private void awaitUploaded(String name) {
    WebElement row = upload(name);
    try {
      new WebDriverWait(browser, Duration.ofSeconds(20)).until(d -> {
        String state = row.getAttribute("data-state");
        if ("refused".equals(state)) {
          throw new AssertionError(name + " was refused: " + row.getText());
        }
        return "done".equals(state);
      });
    } catch (org.openqa.selenium.TimeoutException e) {
      StringBuilder net = new StringBuilder();
      for (LogEntry entry : browser.manage().logs().get(LogType.PERFORMANCE)) {
        try {
          JsonNode m = JSON.readTree(entry.getMessage()).path("message");
          JsonNode p = m.path("params");
          net.append(m.path("method").asText()).append(' ').append(p.path("request").path("method").asText())
              .append(' ').append(p.path("request").path("url").asText()).append(p.path("response").path("url").asText())
              .append(' ').append(p.path("response").path("status").asText()).append(p.path("errorText").asText())
              .append('\n');
        } catch (IOException x) {
          net.append(x);
        }
      }
      throw new AssertionError(name + " did not finish: " + row.getText() + "\nconsole: "
          + browser.manage().logs().get(LogType.BROWSER).getAll() + "\nnetwork:\n" + net, e);
    }
  }

  private String awaitFailedJob() throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < end) {
      JsonNode jobs = JSON.readTree(fhirbox.client().get("admin/jobs?state=failed").body()).get("jobs");
      if (jobs.size() > 0) {
        return jobs.get(0).get("id").asText();
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no job failed");
  }

  private int token(String clientId, String secret) throws Exception {
    return fhirbox.client().http().send(HttpRequest.newBuilder(URI.create(fhirbox.baseUrl() + "oauth2/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString((clientId + ":" + secret)
            .getBytes(StandardCharsets.UTF_8)))
        .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  /** The value shown once; read by script, as the page re-renders it. */
  private static String onceValue() {
    return new WebDriverWait(browser, Duration.ofSeconds(30)).until(d -> (String) ((JavascriptExecutor) d)
        .executeScript("const e = document.getElementById('once-value'); return e && e.value ? e.value : null"));
  }

  /** A table row's text, read by script: the page re-renders its tables after each action. */
  private static String rowText(String attribute, String value) {
    return new WebDriverWait(browser, Duration.ofSeconds(30)).until(d -> (String) ((JavascriptExecutor) d)
        .executeScript("const r = document.querySelector(arguments[0]); return r ? r.textContent : null",
            "tr[" + attribute + "='" + value + "']"));
  }

  /** The control a visible label names, as a person finds it. */
  private static WebElement labelled(String text) {
    WebElement label = waitFor(By.xpath("//label[normalize-space(text())='" + text + "']"));
    return browser.findElement(By.id(label.getAttribute("for")));
  }

  private static WebElement fieldIn(WebElement scope, String text) {
    WebElement label = scope.findElement(By.xpath(".//label[normalize-space(text())='" + text + "']"));
    return browser.findElement(By.id(label.getAttribute("for")));
  }

  private static WebElement button(String text) {
    return new WebDriverWait(browser, Duration.ofSeconds(30)).until(d -> d.findElements(
        By.xpath("//button[normalize-space(text())='" + text + "'] | //a[normalize-space(text())='" + text + "']"))
        .stream().filter(WebElement::isDisplayed).findFirst().orElse(null));
  }

  private static WebElement buttonIn(WebElement scope, String text) {
    return scope.findElement(By.xpath(".//button[normalize-space(text())='" + text + "']"));
  }

  private static WebElement waitFor(By by) {
    try {
      return new WebDriverWait(browser, Duration.ofSeconds(30)).until(d -> d.findElements(by).stream().findFirst()
          .orElse(null));
    } catch (RuntimeException e) {
      throw new AssertionError("not found: " + by + " at " + browser.getCurrentUrl() + "\n"
          + browser.findElement(By.tagName("body")).getText(), e);
    }
  }

  /** No sideways scrolling, and axe-core finds no serious or critical violation. */
  private static void fitsAndPassesAxe(String page) throws Exception {
    Number overflow = (Number) browser.executeScript(
        "return document.documentElement.scrollWidth - window.innerWidth");
    assertThat(overflow.longValue()).as("pixels %s is wider than the screen", page).isLessThanOrEqualTo(0);
    axe(page);
  }

  /** Presses Tab until the focused element is a {@code tag} named {@code name}; fails after 80 presses. */
  private static WebElement tabTo(String tag, String name) {
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
  private static Map<String, Object> focused() {
    return (Map<String, Object>) browser.executeScript("""
        const e = document.activeElement;
        const label = e.labels && e.labels.length ? e.labels[0].textContent : null;
        const name = e.getAttribute('aria-label') || label || e.textContent || e.getAttribute('title') || '';
        return { tag: e.tagName, name: name.trim().replace(/\\s+/g, ' ') };
        """);
  }

  private static ChromiumNetworkConditions offline() {
    ChromiumNetworkConditions c = new ChromiumNetworkConditions();
    c.setOffline(true);
    return c;
  }

  private static Path write(String name, byte[] content) throws IOException {
    return Files.write(files.resolve(name), content);
  }

  /** axe-core in the page: no serious or critical violation. */
  private static void axe(String page) throws Exception {
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

  private static List<JsonNode> responses(String prefix) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (LogEntry entry : browser.manage().logs().get(LogType.PERFORMANCE)) {
      JsonNode message = JSON.readTree(entry.getMessage()).path("message");
      JsonNode response = message.path("params").path("response");
      if (message.path("method").asText().equals("Network.responseReceived")
          && response.path("url").asText().startsWith(prefix)) {
        out.add(response);
      }
    }
    return out;
  }

  private static void networkLogAndAutoplay(ChromeOptions options) {
    options.addArguments("--autoplay-policy=no-user-gesture-required", "--window-size=1280,900");
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.PERFORMANCE, Level.ALL);
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    options.setExperimentalOption("perfLoggingPrefs", Map.of("enableNetwork", true, "enablePage", false));
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  /** A 64×48 JPEG in two colours. */
  static byte[] jpeg() throws IOException {
    BufferedImage image = new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setColor(new Color(0x2a6f97));
    g.fillRect(0, 0, 64, 48);
    g.setColor(new Color(0xf4a259));
    g.fillOval(16, 8, 32, 32);
    g.dispose();
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    assertThat(ImageIO.write(image, "jpeg", out)).isTrue();
    return out.toByteArray();
  }

  /** A one-page PDF 1.4 with one line of text, its cross-reference table at the right offsets. */
  static byte[] pdf() {
    String text = "BT /F1 24 Tf 40 100 Td (Hello fhirbox) Tj ET";
    List<String> objects = List.of("<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        "<< /Length " + text.length() + " >>\nstream\n" + text + "\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
    StringBuilder pdf = new StringBuilder("%PDF-1.4\n");
    List<Integer> offsets = new ArrayList<>();
    for (int i = 0; i < objects.size(); i++) {
      offsets.add(pdf.length());
      pdf.append(i + 1).append(" 0 obj\n").append(objects.get(i)).append("\nendobj\n");
    }
    int xref = pdf.length();
    pdf.append("xref\n0 ").append(objects.size() + 1).append("\n0000000000 65535 f \n");
    offsets.forEach(o -> pdf.append(String.format("%010d 00000 n \n", o)));
    pdf.append("trailer\n<< /Size ").append(objects.size() + 1).append(" /Root 1 0 R >>\nstartxref\n").append(xref)
        .append("\n%%EOF\n");
    return pdf.toString().getBytes(StandardCharsets.US_ASCII);
  }
}
