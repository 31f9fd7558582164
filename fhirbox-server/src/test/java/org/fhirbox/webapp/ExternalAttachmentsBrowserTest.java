package org.fhirbox.webapp;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.util.List;
import java.util.Map;
import org.fhirbox.testing.BrowserFixture;
import org.fhirbox.testing.S3Server;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * Attachments whose URL still names another server, as when ingestion is off for the project (or
 * failed): a patient's page shows each as a link to that server and fetches nothing from it (no
 * frame, player, image or thumbnail), while the files fhirbox stores preview as they always did.
 */
@SlowTest
class ExternalAttachmentsBrowserTest {
  // the outside server's certificate is its own: Chromium would refuse it before the page had a say
  @RegisterExtension
  static final WebApp app = new WebApp(Map.of("FHIRBOX_INGEST_DISABLED_PROJECTS", "default"),
      o -> o.addArguments("--ignore-certificate-errors"));

  @Test
  void anAttachmentOnAnotherServerIsALinkToItThatThePageNeverFetches(
      AppPage page, ChromeDriver browser, TestServer fhirbox) throws Exception {
    try (OutsideServer outside = OutsideServer.start()) {
      String patient = app.patient("Olive", "Outside", "MRN-66", "1966-06-06");
      TestClient admin = fhirbox.client();
      String pdf = TestClient.createdId(admin.send(admin.request("fhir/R4/Binary")
          .header("Content-Type", "application/pdf").header("X-Security-Context", "Patient/" + patient)
          .POST(HttpRequest.BodyPublishers.ofByteArray(WebApp.pdf()))));
      document(admin, patient, "{\"url\":\"Binary/" + pdf + "\",\"title\":\"report.pdf\"}");
      String jpeg = TestClient.createdId(admin.postBytes("fhir/R4/Binary", "image/jpeg", WebApp.jpeg()));
      app.media(patient, jpeg, "scan.jpg");

      String fake = outside.https("/fake.html");
      String lookalike = outside.https("/storage/" + jpeg + "/1");
      String letter = outside.https("/report.pdf");
      document(admin, patient, "{\"contentType\":\"application/pdf\",\"url\":\"" + fake
          + "\",\"title\":\"results.pdf\"}");
      document(admin, patient, "{\"contentType\":\"application/pdf\",\"url\":\"" + letter
          + "\",\"title\":\"letter.pdf\"}");
      media(admin, patient, "video/mp4", outside.https("/clip.mp4"), "clip.mp4");
      media(admin, patient, "audio/mpeg", outside.http("/voice.mp3"), "voice.mp3");
      media(admin, patient, "image/jpeg", lookalike, "lookalike.jpg");
      assertThat(admin.get("fhir/R4/Media?subject=Patient/" + patient).body()).as("kept as written")
          .contains(lookalike).contains(outside.http("/voice.mp3"));
      assertThat(admin.get("fhir/R4/DocumentReference?subject=Patient/" + patient).body()).contains(fake, letter);

      page.signIn();
      page.openPatient(patient, "Olive Outside");

      // the stored files preview as before: the PDF in its frame, the photo as its thumbnail (each
      // asked for once its tile is near the viewport)
      WebElement frame = page.scrollTo(By.cssSelector("#files iframe.pdf"));
      // the frame is given its URL once in view, a moment after the scroll
      BrowserFixture.waitUpTo(browser, 30).until(d -> {
        String src = frame.getAttribute("src");
        return src != null && !src.isEmpty();
      });
      assertThat(frame.getAttribute("src")).startsWith(fhirbox.baseUrl() + "storage/" + pdf + "/1?");
      browser.switchTo().frame(frame);
      BrowserFixture.waitUpTo(browser, 30).until(d ->
          "application/pdf".equals(((JavascriptExecutor) d).executeScript("return document.contentType")));
      browser.switchTo().defaultContent();
      page.scrollTo(By.cssSelector("li[data-binary='" + jpeg + "']"));
      WebElement thumb = page.waitFor(By.cssSelector("li[data-binary='" + jpeg + "'] img.thumb"));
      assertThat(thumb.getAttribute("src")).startsWith(fhirbox.baseUrl() + "storage/" + jpeg + "/1/thumbnail?");
      page.waitFor(By.linkText("Details of scan.jpg"));

      @SuppressWarnings("unchecked")
      List<String> sources = (List<String>) browser.executeScript("return [...document.querySelectorAll("
          + "'#files iframe, #files video, #files audio, #files img, #files source, #files embed, #files object')]"
          + ".map((e) => e.src || e.data || '')");
      assertThat(sources).as("what the files list loads").hasSize(2)
          .allSatisfy(src -> assertThat(src).startsWith(fhirbox.baseUrl() + "storage/"));

      external(browser, fake, "results.pdf");
      external(browser, letter, "letter.pdf");
      external(browser, outside.https("/clip.mp4"), "clip.mp4");
      external(browser, outside.http("/voice.mp3"), "voice.mp3");
      WebElement look = external(browser, lookalike, "lookalike.jpg");
      WebElement card = look.findElement(By.xpath("./ancestor::li[1]"));
      assertThat(card.getAttribute("data-binary")).as("a look-alike URL names no Binary").isEmpty();
      assertThat(card.findElements(By.tagName("img"))).isEmpty();
      assertThat(browser.findElements(By.linkText("Details of lookalike.jpg"))).isEmpty();

      // a player or frame asks at once; give a late one time to show up before saying none came
      Thread.sleep(1000);
      assertThat(outside.requests()).as("requests the other server received").isEmpty();
      page.axe("a patient's page with external links");
    }
  }

  /**
   * "." and ".." are FHIR ids by their grammar ({@code [A-Za-z0-9\-\.]{1,64}}, R4 datatypes.html#id)
   * but dot segments a URL resolves away (RFC 3986 §5.2.4): signing {@code Binary/{id}/_history/..}
   * would ask for the current version's URL, not the one named, and {@code Binary/..} for the FHIR
   * base's. Written as relative references and, with the s3 signer, as a {@code fhirbox-binary}
   * parameter of a URL under the bucket's prefix (which the app takes for signed), each names no
   * Binary: no thumbnail, no Details, no {@code $presigned-url}, as a look-alike URL. So does a
   * version the server never issues (versions are positive numbers here).
   */
  @Test
  void anAttachmentWhoseBinaryOrVersionIsADotSegmentNamesNoBinary(AppPage page, ChromeDriver browser)
      throws Exception {
    try (S3Server s3 = S3Server.start()) {
      S3Server.exportCredentials(); // read by the AWS SDK's default credential chain
      app.restart(Map.of("FHIRBOX_BLOB_STORE", "s3", "FHIRBOX_SIGNED_URL_MODE", "s3",
          "FHIRBOX_S3_BUCKET", S3Server.newBucketName(), "FHIRBOX_S3_ENDPOINT", s3.endpoint().toString(),
          "FHIRBOX_S3_PATH_STYLE", "true", "FHIRBOX_S3_CREATE_BUCKET", "true"));
      TestServer fhirbox = app.fhirbox();
      TestClient admin = fhirbox.client();
      String patient = app.patient("Dorothy", "Dots", "MRN-77", "1977-07-07");
      String photo = TestClient.createdId(admin.postBytes("fhir/R4/Binary", "image/jpeg", WebApp.jpeg()));
      app.media(patient, photo, "scan.jpg");
      String bucket = app.json("app/config.json").get("objectStoreUrl").asText();
      Map<String, String> dots = Map.of(
          "Binary/" + photo + "/_history/..", "relative-version.jpg",
          "Binary/" + photo + "/_history/.", "relative-dot.jpg",
          "Binary/" + photo + "/_history/0", "relative-never.jpg",
          bucket + "elsewhere?fhirbox-binary=Binary%2F" + photo + "%2F_history%2F..", "bucket-version.jpg",
          bucket + "elsewhere?fhirbox-binary=Binary%2F..", "bucket-type.jpg");
      dots.forEach((url, title) -> media(admin, patient, "image/jpeg", url, title));
      String stored = admin.get("fhir/R4/Media?subject=Patient/" + patient).body();
      assertThat(dots.keySet()).as("kept as written").allSatisfy(url -> assertThat(stored).contains(url));

      page.signIn();
      page.openPatient(patient, "Dorothy Dots");
      page.scrollTo(By.cssSelector("li[data-binary='" + photo + "']"));
      page.waitFor(By.cssSelector("li[data-binary='" + photo + "'] img.thumb"));
      // a thumbnail is asked for as its tile comes near the viewport; give a late one time to show up
      for (String title : dots.values()) {
        page.scrollTo(card(title));
      }
      Thread.sleep(1000);
      @SuppressWarnings("unchecked")
      List<String> signings = (List<String>) browser.executeScript("return performance.getEntriesByType("
          + "'resource').map((e) => e.name).filter((n) => n.includes('$presigned-url'))");
      assertThat(signings).as("the URLs signed").containsExactly(
          fhirbox.baseUrl() + "fhir/R4/Binary/" + photo + "/_history/1/$presigned-url?thumbnail=true");
      for (String title : dots.values()) {
        WebElement card = browser.findElement(card(title));
        assertThat(card.getAttribute("data-binary")).as("the Binary %s names", title).isEmpty();
        assertThat(card.findElements(By.partialLinkText("Details of"))).as(title).isEmpty();
        assertThat(card.findElements(By.tagName("img"))).as(title).isEmpty();
      }
      app.stop();
    } finally {
      S3Server.clearCredentials();
    }
  }

  /**
   * A file's page names by an id only what is a FHIR id and no dot segment (as an attachment's
   * Binary and version above): a holder whose subject is {@code Patient/..} leads back to the
   * patients, not to a patient page of "..", a {@code ref} of {@code Patient/..} is not read (it
   * would be the FHIR base), a holder read back under another id is not taken for the holder (a new
   * version would update that id), and a version the history calls ".." offers no View or Download
   * (signing {@code Binary/{id}/_history/..} would sign the current version).
   */
  @Test
  void aFilePageNamesNoPatientHolderOrVersionByADotSegment(AppPage page, ChromeDriver browser, TestServer fhirbox)
      throws Exception {
    String patient = app.patient("Dot", "Holder", "MRN-78", "1978-07-08");
    String binary = app.note(patient);
    String doc = TestClient.createdId(fhirbox.client().postJson("fhir/R4/DocumentReference", "{\"resourceType\":"
        + "\"DocumentReference\",\"status\":\"current\",\"subject\":{\"reference\":\"Patient/..\"},"
        + "\"content\":[{\"attachment\":{\"url\":\"Binary/" + binary + "\",\"title\":\"note.txt\"}}]}"));

    page.signIn();
    browser.executeScript("location.hash = arguments[0]", "#/file/" + binary + "?ref=DocumentReference/" + doc);
    page.waitFor(By.xpath("//h1[text()='note.txt']"));
    WebElement back = browser.findElement(By.cssSelector("#main > p:first-child > a"));
    assertThat(back.getText()).isEqualTo("← Patients");
    assertThat(back.getAttribute("href")).endsWith("/app/#/");

    browser.executeScript("performance.clearResourceTimings(); location.hash = arguments[0]",
        "#/file/" + binary + "?ref=Patient/..");
    page.waitFor(By.xpath("//h1[text()='Binary " + binary + "']"));
    @SuppressWarnings("unchecked")
    List<String> read = (List<String>) browser.executeScript("return performance.getEntriesByType('resource')"
        + ".map((e) => e.name)");
    assertThat(read).as("requests of the page").isNotEmpty()
        .noneMatch(url -> url.equals(fhirbox.baseUrl() + "fhir/R4/") || url.startsWith(fhirbox.baseUrl() + "fhir/R4/?"));
    assertThat(browser.findElements(By.cssSelector("#main .notice"))).as("warnings").isEmpty();

    // the holder read back names itself "..": a new version would update DocumentReference/..
    FailedSavesBrowserTest.answerOnce(browser, "GET", "/DocumentReference/" + doc + "$", 200, "{\"resourceType\":"
        + "\"DocumentReference\",\"id\":\"..\",\"status\":\"current\",\"content\":[{\"attachment\":{\"url\":"
        + "\"Binary/" + binary + "\",\"title\":\"note.txt\"}}]}");
    browser.executeScript("location.hash = arguments[0]", "#/file/" + binary + "?ref=DocumentReference/" + doc);
    page.waitFor(By.xpath("//h1[text()='Binary " + binary + "']"));
    assertThat(browser.findElement(By.cssSelector("#main .notice")).getText())
        .isEqualTo("The server's answer for DocumentReference/" + doc + " names another resource, so it is not shown"
            + " as this file's holder.");

    // the history names a version "..", which the server never issues
    String version = "{\"resourceType\":\"Binary\",\"id\":\"" + binary + "\",\"contentType\":\"text/plain\","
        + "\"meta\":{\"versionId\":\"%s\",\"lastUpdated\":\"2026-01-01T00:00:00Z\"}}";
    FailedSavesBrowserTest.answerOnce(browser, "GET", "/_history$", 200, "{\"resourceType\":\"Bundle\","
        + "\"type\":\"history\",\"entry\":[{\"resource\":" + version.formatted("1") + "},{\"resource\":"
        + version.formatted("..") + "}]}");
    browser.executeScript("location.hash = arguments[0]", "#/file/" + binary);
    page.waitFor(By.cssSelector("li[data-version='1'] a"));
    WebElement dots = page.waitFor(By.cssSelector("li[data-version='..']"));
    assertThat(dots.findElements(By.tagName("a"))).as("links of version ..").isEmpty();
    assertThat(dots.getText()).contains("cannot be opened here");
  }

  /** The card of the file titled {@code title}. */
  private static By card(String title) {
    return By.xpath("//li[.//strong[text()='" + title + "']]");
  }

  /** The link to {@code url}, which says it leaves fhirbox and for which host, and leaves no trail. */
  private static WebElement external(ChromeDriver browser, String url, String title) {
    List<WebElement> links = browser.findElements(By.cssSelector("#files a[href='" + url + "']"));
    assertThat(links).as("links to %s", url).hasSize(1);
    WebElement link = links.get(0);
    String host = url.replaceFirst("^https?://([^/]+)/.*$", "$1");
    assertThat(link.getText()).isEqualTo("External link to " + host + ": " + title);
    assertThat(link.getAttribute("target")).isEqualTo("_blank");
    assertThat(link.getAttribute("rel")).isEqualTo("noopener noreferrer");
    return link;
  }

  private static void document(TestClient admin, String patient, String attachment) {
    TestClient.createdId(admin.postJson("fhir/R4/DocumentReference", "{\"resourceType\":\"DocumentReference\","
        + "\"status\":\"current\",\"subject\":{\"reference\":\"Patient/" + patient + "\"},\"content\":[{\"attachment\":"
        + attachment + "}]}"));
  }

  private static void media(TestClient admin, String patient, String contentType, String url, String title) {
    TestClient.createdId(admin.postJson("fhir/R4/Media", "{\"resourceType\":\"Media\",\"status\":\"completed\","
        + "\"subject\":{\"reference\":\"Patient/" + patient + "\"},\"content\":{\"contentType\":\"" + contentType
        + "\",\"url\":\"" + url + "\",\"title\":\"" + title + "\"}}"));
  }
}
