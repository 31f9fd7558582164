package org.fhirbox.webapp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.StreamSupport;
import org.fhirbox.testing.BrowserFixture;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestBytes;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chromium.ChromiumNetworkConditions;

/**
 * Uploads in the web app, in headless Chromium, through a proxy in front of the server: a large
 * upload that goes on after the server restarts, files dropped or picked, and an upload paused,
 * resumed (while the server is committing its Binary) and cancelled; an upload URL outside the upload
 * endpoint, named by a creation or remembered, is never sent the token.
 */
@SlowTest
class UploadsBrowserTest {
  /** What the server answers a HEAD while another request commits the upload's Binary. */
  private static final String COMMITTING = "HTTP/1.1 423 Locked\r\nTus-Resumable: 1.0.0\r\nRetry-After: 1\r\n"
      + "Content-Length: 0\r\n\r\n";

  @RegisterExtension
  static final WebApp app = WebApp.behindProxy();

  @Test
  void aLargeUploadResumesAfterTheServerRestarts(AppPage page, ChromeDriver browser) throws Exception {
    String patient = app.patient("Rita", "Restart", "MRN-9", "1990-09-09");
    byte[] content = new byte[12 * 1024 * 1024];
    new Random(7).nextBytes(content);
    Path big = app.write("big.bin", content);

    page.signIn();
    page.openPatient(patient, "Rita Restart");
    browser.executeScript("document.body.dataset.chunkSize = String(512 * 1024)");
    // 200 ms a request until the restart: the 24 pieces cannot all go while the server stops,
    // however fast the machine
    browser.setNetworkConditions(new ChromiumNetworkConditions().setLatency(Duration.ofMillis(200)));
    page.labelled("Upload files").sendKeys(big.toString());
    WebElement row = page.upload("big.bin");
    AppPage.buttonIn(row, "Start upload").click();
    BrowserFixture.waitUpTo(browser, 60).until(d -> AppPage.sent(row) >= 3 * 1024 * 1024);

    app.stop();
    long before = AppPage.sent(row);
    assertThat(before).as("cut off halfway").isLessThan(content.length);
    BrowserFixture.waitUpTo(browser, 30).until(d -> row.getText().contains("Retrying"));
    app.start();
    browser.deleteNetworkConditions();
    TestServer fhirbox = app.fhirbox();

    // the client may be sitting out its longest retry delay (10 s) as the server comes back
    page.awaitUploaded("big.bin", Duration.ofSeconds(60));
    String binary = row.getAttribute("data-binary");
    HttpResponse<byte[]> stored = fhirbox.client().sendBytes(fhirbox.client().request("fhir/R4/Binary/" + binary)
        .header("Accept", "*/*").GET());
    TestBytes.assertBlobEtag(stored.headers());
    assertThat(stored.body()).as("the file's bytes").isEqualTo(content);
  }

  @Test
  void filesAreDroppedOrPickedAndAnUploadPausesResumesAndCancels(
      AppPage page, ChromeDriver browser, TestServer fhirbox) throws Exception {
    String patient = app.patient("Uma", "Upload", "MRN-8", "1988-08-08");
    byte[] content = new byte[6 * 1024 * 1024];
    new Random(8).nextBytes(content);
    Path paused = app.write("paused.bin", content);
    Path cancelled = app.write("cancelled.bin", content);

    page.signIn();
    page.openPatient(patient, "Uma Upload");
    browser.executeScript("document.body.dataset.chunkSize = String(256 * 1024)");
    // 200 ms a request: 24 pieces a file, slow enough to pause and cancel halfway
    browser.setNetworkConditions(new ChromiumNetworkConditions()
        .setLatency(Duration.ofMillis(200)));
    browser.executeScript("""
        const files = new DataTransfer();
        files.items.add(new File(['dropped words'], 'dropped.txt', { type: 'text/plain' }));
        document.querySelector('.drop').dispatchEvent(new DragEvent('drop', { dataTransfer: files, bubbles: true }));
        """);
    WebElement dropped = page.upload("dropped.txt");
    assertThat(dropped.getText()).contains("dropped.txt").contains("text/plain");
    // answers that do not say how much of the file the server has (no Upload-Offset, as behind a
    // proxy that drops the header) end the upload with the reason, not with the file sent again and again
    hideUploadOffset(browser, true);
    AppPage.buttonIn(dropped, "Start upload").click();
    BrowserFixture.waitUpTo(browser, 10).until(d -> "refused".equals(dropped.getAttribute("data-state")));
    assertThat(dropped.getText()).contains("did not say how much of the file it has (no Upload-Offset)");
    hideUploadOffset(browser, false);
    page.labelled("Upload files").sendKeys(paused + "\n" + cancelled);
    WebElement row = page.upload("paused.bin");
    AppPage.buttonIn(row, "Start upload").click();
    BrowserFixture.waitUpTo(browser, 60).until(d -> AppPage.sent(row) >= 512 * 1024);
    AppPage.buttonIn(row, "Pause").click();
    BrowserFixture.waitUpTo(browser, 10).until(d -> row.getText().contains("Paused"));
    long atPause = AppPage.sent(row);
    Thread.sleep(1500); // a paused upload sends nothing more, however long it waits
    assertThat(AppPage.sent(row)).as("sent while paused").isEqualTo(atPause).isLessThan(content.length);
    // resumed while the server commits the upload's Binary (given here by the proxy, since the
    // server's own completion of so small a file is too quick to meet): the HEAD's 423 with
    // Retry-After is asked again after the wait, and the upload becomes a DocumentReference
    // instead of ending refused and forgotten
    app.proxy().answerOnce("HEAD /fhir/R4/Binary/$upload/", COMMITTING);
    browser.deleteNetworkConditions(); // the rest of it at full speed
    AppPage.buttonIn(row, "Resume").click();
    page.awaitUploaded("paused.bin");
    assertThat(app.proxy().answered()).as("HEADs answered 423").isEqualTo(1);
    HttpResponse<byte[]> stored = fhirbox.client().sendBytes(fhirbox.client().request("fhir/R4/Binary/"
        + row.getAttribute("data-binary")).header("Accept", "*/*").GET());
    TestBytes.assertBlobEtag(stored.headers());
    assertThat(stored.body()).as("the file's bytes").isEqualTo(content);

    WebElement other = page.upload("cancelled.bin");
    browser.setNetworkConditions(new ChromiumNetworkConditions().setLatency(Duration.ofMillis(200)));
    AppPage.buttonIn(other, "Start upload").click();
    BrowserFixture.waitUpTo(browser, 60).until(d -> AppPage.sent(other) >= 256 * 1024);
    AppPage.buttonIn(other, "Cancel").click();
    BrowserFixture.waitUpTo(browser, 10).until(d ->
        d.findElements(By.cssSelector("li.upload[data-file='cancelled.bin']")).isEmpty());
    assertThat(app.json("fhir/R4/DocumentReference?subject=Patient/" + patient)
        .path("entry").size()).as("only the finished upload became a DocumentReference").isEqualTo(1);

    // the same file paused on one patient's page is a new upload on another's, in that patient's context
    String second = app.patient("Bea", "Second", "MRN-7", "1987-07-07");
    // 16 pieces of 256 KiB at 200 ms each: still running when Pause is pressed and when the second
    // row starts, however loaded the machine (at 1 MiB it could finish before the next click)
    Path shared = app.write("shared.bin", Arrays.copyOf(content, 4 * 1024 * 1024));
    page.labelled("Upload files").sendKeys(shared.toString());
    WebElement first = page.upload("shared.bin");
    AppPage.buttonIn(first, "Start upload").click();
    BrowserFixture.waitUpTo(browser, 60).until(d -> AppPage.sent(first) >= 256 * 1024);
    AppPage.buttonIn(first, "Pause").click();
    BrowserFixture.waitUpTo(browser, 10).until(d -> first.getText().contains("Paused"));
    page.openPatient(second, "Bea Second");
    browser.executeScript("document.body.dataset.chunkSize = String(256 * 1024)");
    // picked twice there: the second row does not run the same upload beside the first
    page.labelled("Upload files").sendKeys(shared.toString());
    page.labelled("Upload files").sendKeys(shared.toString());
    List<WebElement> rows = browser.findElements(By.cssSelector("li.upload[data-file='shared.bin']"));
    assertThat(rows).hasSize(2);
    AppPage.buttonIn(rows.get(0), "Start upload").click();
    AppPage.buttonIn(rows.get(1), "Start upload").click();
    BrowserFixture.waitUpTo(browser, 10)
        .until(d -> "refused".equals(rows.get(1).getAttribute("data-state")));
    assertThat(rows.get(1).getText()).contains("already being uploaded");
    browser.deleteNetworkConditions();
    page.awaitUploaded("shared.bin");
    String binary = page.upload("shared.bin").getAttribute("data-binary");
    assertThat(app.json("fhir/R4/Binary/" + binary).path("securityContext").path("reference").asText())
        .isEqualTo("Patient/" + second);

    // an upload goes on while the person is on another page; back on the patient's page its row is
    // there again, running, with a Pause that works, and it is saved as it was described
    Path away = app.write("away.bin", content);
    browser.setNetworkConditions(new ChromiumNetworkConditions().setLatency(Duration.ofMillis(200)));
    page.labelled("Upload files").sendKeys(away.toString());
    WebElement leaving = page.upload("away.bin");
    page.fieldIn(leaving, "Description").sendKeys("Sent while away");
    AppPage.buttonIn(leaving, "Start upload").click();
    BrowserFixture.waitUpTo(browser, 60).until(d -> AppPage.sent(leaving) >= 256 * 1024);
    browser.executeScript("location.hash = '#/'");
    page.waitFor(By.id("patient-search"));
    assertThat(leavingAsks(browser)).as("leaving the app while an upload runs asks first").isTrue();
    browser.executeScript("location.hash = arguments[0]", "#/patient/" + second);
    page.waitFor(By.xpath("//h1[text()='Bea Second']"));
    WebElement back = page.upload("away.bin");
    long seen = AppPage.sent(back);
    BrowserFixture.waitUpTo(browser, 10).until(d -> AppPage.sent(back) > seen);
    AppPage.buttonIn(back, "Pause").click();
    BrowserFixture.waitUpTo(browser, 10).until(d -> back.getText().contains("Paused"));
    assertThat(AppPage.sent(back)).as("sent before the pause").isLessThan(content.length);
    assertThat(leavingAsks(browser)).as("leaving with the upload paused asks nothing").isFalse();
    browser.deleteNetworkConditions();
    AppPage.buttonIn(back, "Resume").click();
    page.awaitUploaded("away.bin");
    String awayBinary = back.getAttribute("data-binary");
    page.waitFor(By.cssSelector("#files li[data-binary='" + awayBinary + "']"));
    JsonNode awayDoc = StreamSupport.stream(app.json("fhir/R4/DocumentReference?subject=Patient/" + second)
        .path("entry").spliterator(), false).map(e -> e.path("resource"))
        .filter(r -> r.path("content").path(0).path("attachment").path("title").asText().equals("away.bin"))
        .findFirst().orElseThrow();
    assertThat(awayDoc.path("description").asText()).isEqualTo("Sent while away");

    // a new version that finishes after the person has left the file's page leaves the page they
    // are on as it is
    browser.executeScript("location.hash = arguments[0]", "#/file/" + awayBinary + "?ref=DocumentReference/"
        + awayDoc.path("id").asText());
    page.waitFor(By.xpath("//h1[text()='away.bin']"));
    browser.executeScript("""
        performance.clearResourceTimings();
        window.shownAgain = 0;
        window.addEventListener('hashchange', (e) => { if (!e.isTrusted) window.shownAgain += 1; });
        const files = new DataTransfer();
        files.items.add(new File(['second words'], 'away-2.txt', { type: 'text/plain' }));
        const input = document.getElementById('new-version');
        input.files = files.files;
        input.dispatchEvent(new Event('change'));
        location.hash = arguments[0];
        """, "#/patient/" + second);
    page.waitFor(By.xpath("//h1[text()='Bea Second']"));
    // the holder's GET and PUT of the new version's name: then the upload has nothing left to do
    Object reshown = browser.executeAsyncScript("""
        const done = arguments[arguments.length - 1];
        const holder = (e) => e.name.endsWith('/DocumentReference/' + arguments[0]);
        const check = () => performance.getEntriesByType('resource').filter(holder).length >= 2
          ? setTimeout(() => done(window.shownAgain), 300) : setTimeout(check, 50);
        check();
        """, awayDoc.path("id").asText());
    assertThat(reshown).as("pages shown again by the finished new version").isEqualTo(0L);
    assertThat(app.json("fhir/R4/DocumentReference/" + awayDoc.path("id").asText()).path("content").path(0)
        .path("attachment").path("title").asText()).isEqualTo("away-2.txt");
  }

  @Test
  void anUploadUrlOutsideTheUploadEndpointIsNotSentTheToken(AppPage page, ChromeDriver browser) throws Exception {
    String patient = app.patient("Otto", "Outside", "MRN-6", "1986-06-06");
    String base = app.fhirbox().baseUrl();
    page.signIn();
    page.openPatient(patient, "Otto Outside");
    recordTokens(browser);
    // the creation answered (here by the proxy, as by a server or proxy gone wrong) with an upload
    // URL on another origin: the upload stops before any request is opened there
    String elsewhere = "http://localhost:" + URI.create(base).getPort() + "/fhir/R4/Binary/$upload/"
        + "00112233445566778899aabbccddeeff";
    app.proxy().answerOnce("POST /fhir/R4/Binary/$upload ", "HTTP/1.1 201 Created\r\nTus-Resumable: 1.0.0\r\n"
        + "Location: " + elsewhere + "\r\nUpload-Offset: 0\r\nContent-Length: 0\r\n\r\n");
    Path away = app.write("away.txt", "sent to no other origin".getBytes(StandardCharsets.UTF_8));
    page.labelled("Upload files").sendKeys(away.toString());
    WebElement awayRow = page.upload("away.txt");
    AppPage.buttonIn(awayRow, "Start upload").click();
    BrowserFixture.waitUpTo(browser, 20).until(d -> "refused".equals(awayRow.getAttribute("data-state"))
        || !tokensSentElsewhere(browser, base).isEmpty());
    assertThat(tokensSentElsewhere(browser, base)).as("requests with the token to another origin").isEmpty();
    assertThat(awayRow.getText()).contains("outside its upload endpoint");

    // the creation answered (here by the proxy, as by a server or proxy gone wrong) with an upload
    // URL of this origin beside the upload endpoint, not under it
    app.proxy().answerOnce("POST /fhir/R4/Binary/$upload ", "HTTP/1.1 201 Created\r\nTus-Resumable: 1.0.0\r\n"
        + "Location: " + base + "fhir/R4/Binary/$upload-url/0123456789abcdef0123456789abcdef\r\n"
        + "Upload-Offset: 0\r\nContent-Length: 0\r\n\r\n");
    Path named = app.write("named.txt", "sent nowhere else".getBytes(StandardCharsets.UTF_8));
    page.labelled("Upload files").sendKeys(named.toString());
    WebElement row = page.upload("named.txt");
    AppPage.buttonIn(row, "Start upload").click();
    BrowserFixture.waitUpTo(browser, 20).until(d -> "refused".equals(row.getAttribute("data-state"))
        || !tokensSentElsewhere(browser, base).isEmpty());
    assertThat(app.proxy().answered()).as("creations answered by the proxy").isEqualTo(2);
    assertThat(tokensSentElsewhere(browser, base)).as("requests with the token outside the upload endpoint").isEmpty();
    assertThat(row.getText()).contains("The server named an upload address outside its upload endpoint, so the"
        + " file was not sent there and the upload stopped.");

    // an upload URL read back from sessionStorage that lies elsewhere is dropped: the same file,
    // picked again after a reload, is uploaded afresh
    byte[] content = new byte[4 * 1024 * 1024];
    new Random(6).nextBytes(content);
    Path kept = app.write("kept.bin", content);
    browser.executeScript("document.body.dataset.chunkSize = String(256 * 1024)");
    browser.setNetworkConditions(new ChromiumNetworkConditions().setLatency(Duration.ofMillis(200)));
    page.labelled("Upload files").sendKeys(kept.toString());
    WebElement first = page.upload("kept.bin");
    AppPage.buttonIn(first, "Start upload").click();
    BrowserFixture.waitUpTo(browser, 60).until(d -> AppPage.sent(first) >= 256 * 1024);
    AppPage.buttonIn(first, "Pause").click();
    BrowserFixture.waitUpTo(browser, 10).until(d -> first.getText().contains("Paused"));
    Object rewritten = browser.executeScript("""
        const keys = Object.keys(sessionStorage).filter((k) => k.startsWith('fhirbox.tus:'));
        keys.forEach((k) => sessionStorage.setItem(k, arguments[0]));
        return keys.length;
        """, base + "uploads/fedcba9876543210fedcba9876543210");
    assertThat(rewritten).as("uploads remembered").isEqualTo(1L);
    browser.deleteNetworkConditions();
    browser.navigate().refresh();
    page.waitFor(By.xpath("//h1[text()='Otto Outside']"));
    recordTokens(browser);
    page.labelled("Upload files").sendKeys(kept.toString());
    AppPage.buttonIn(page.upload("kept.bin"), "Start upload").click();
    page.awaitUploaded("kept.bin");
    assertThat(tokensSentElsewhere(browser, base)).as("requests with the token outside the upload endpoint").isEmpty();
    String binary = page.upload("kept.bin").getAttribute("data-binary");
    assertThat(app.fhirbox().client().sendBytes(app.fhirbox().client().request("fhir/R4/Binary/" + binary)
        .header("Accept", "*/*").GET()).body()).as("the file's bytes").isEqualTo(content);
  }

  /**
   * A file saved by an upload comes at the top of its kind, marked new, read back with its signed
   * URL; the pages of files shown with "Show more files" stay.
   */
  @Test
  void aSavedUploadKeepsThePagesOfFilesShown(AppPage page, ChromeDriver browser, TestServer fhirbox)
      throws Exception {
    String patient = app.patient("Pam", "Pages", "MRN-7", "1987-07-07");
    String binary = app.note(patient);
    StringBuilder entries = new StringBuilder();
    for (int i = 1; i <= 201; i++) {
      entries.append(i > 1 ? "," : "").append("{\"resource\":{\"resourceType\":\"Media\",\"status\":\"completed\","
          + "\"subject\":{\"reference\":\"Patient/").append(patient).append("\"},\"content\":{\"contentType\":"
          + "\"text/plain\",\"url\":\"Binary/").append(binary).append("\",\"title\":\"line-").append(i)
          .append(".txt\"}},\"request\":{\"method\":\"POST\",\"url\":\"Media\"}}");
    }
    HttpResponse<String> created = fhirbox.client().postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":"
        + "\"transaction\",\"entry\":[" + entries + "]}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
    page.signIn();
    page.openPatient(patient, "Pam Pages");
    BrowserFixture.waitUpTo(browser, 30).until(d -> files(browser) == 100);
    page.scrollTo(By.xpath("//button[text()='Show more files']"));
    page.button("Show more files").click();
    BrowserFixture.waitUpTo(browser, 30).until(d -> files(browser) == 200);
    // disabled while the pages were read, the button dropped the focus: it has it back
    BrowserFixture.waitUpTo(browser, 10).until(d -> "Show more files".equals(page.focused().get("name")));
    page.button("Show more files").click();
    BrowserFixture.waitUpTo(browser, 30).until(d -> files(browser) == 201);

    page.labelled("Upload files").sendKeys(app.write("fresh.txt", "fresh words".getBytes()).toString());
    WebElement row = page.upload("fresh.txt");
    AppPage.startUpload(row);
    page.awaitUploaded("fresh.txt");
    // the row's buttons are disabled once it is saved: the focus, which was on them, is on its words
    assertThat(browser.executeScript("const f = document.activeElement;"
        + " return arguments[0].contains(f) ? f.textContent : f.tagName", row)).isEqualTo("Saved as "
        + row.findElement(By.cssSelector(".message")).getText().replace("Saved as ", ""));
    BrowserFixture.waitUpTo(browser, 30).until(d -> files(browser) == 202);
    WebElement first = browser.findElement(By.cssSelector("#files .files-other li.file"));
    assertThat(first.getText()).startsWith("Download fresh.txt").contains("New fresh.txt");
    assertThat(first.getAttribute("data-binary")).isEqualTo(row.getAttribute("data-binary"));
    assertThat(first.findElement(By.linkText("Download fresh.txt")).getAttribute("href"))
        .as("a signed URL").startsWith(fhirbox.baseUrl() + "storage/");
    assertThat(browser.findElements(By.linkText("Details of line-1.txt"))).as("shown before the upload").hasSize(1);
    assertThat(browser.findElements(By.linkText("Details of line-201.txt"))).as("shown before the upload").hasSize(1);
    assertThat(browser.findElement(By.id("files-status")).getAttribute("textContent"))
        .isEqualTo("fresh.txt is added at the top of the files.");
  }

  /**
   * A file's page uploads one new version at a time: while one runs, "Upload new version" is
   * disabled, a pick that reaches it all the same is refused in words and starts no upload, and it
   * is available again once the upload is cancelled, refused or saved.
   */
  @Test
  void aFilePageUploadsOneNewVersionAtATime(AppPage page, ChromeDriver browser, TestServer fhirbox)
      throws Exception {
    String binary = TestClient.createdId(fhirbox.client().postBytes("fhir/R4/Binary", "text/plain",
        "words 1".getBytes(StandardCharsets.UTF_8)));
    page.signIn();
    browser.executeScript("location.hash = arguments[0]", "#/file/" + binary);
    page.waitFor(By.xpath("//h1[text()='Binary " + binary + "']"));
    // the new version's pieces are held until the test lets them go: the upload is still running
    // while the second file is picked
    browser.executeScript("""
        const xhr = XMLHttpRequest.prototype;
        const open = xhr.open;
        const send = xhr.send;
        window.creations = 0;
        window.held = [];
        window.holdPieces = true;
        xhr.open = function (method, url, ...rest) {
          this.method = method;
          if (method === 'POST' && String(url).endsWith('/Binary/$upload')) window.creations += 1;
          return open.call(this, method, url, ...rest);
        };
        xhr.send = function (body) {
          if (this.method === 'PATCH' && window.holdPieces) {
            window.held.push(this);
            return undefined;
          }
          return send.call(this, body);
        };
        """);
    WebElement picker = page.labelled("Upload new version");
    picker.sendKeys(app.write("first.txt", "first words".getBytes(StandardCharsets.UTF_8)).toString());
    BrowserFixture.waitUpTo(browser, 10).until(d -> ((Number) browser.executeScript("return window.held.length"))
        .intValue() == 1);
    assertThat(picker.isEnabled()).as("the picker while a new version uploads").isFalse();
    browser.executeScript("""
        const files = new DataTransfer();
        files.items.add(new File(['other words'], 'other.txt', { type: 'text/plain' }));
        const input = document.getElementById('new-version');
        input.files = files.files;
        input.dispatchEvent(new Event('change'));
        """);
    assertThat(page.waitFor(By.xpath("//*[@role='alert'][contains(., 'still uploading')]")).getText())
        .isEqualTo("A new version is still uploading, so other.txt was not sent. Wait for it to end, or cancel it.");
    assertThat(browser.executeScript("return window.creations")).as("uploads created").isEqualTo(1L);

    page.button("Cancel upload").click();
    BrowserFixture.waitUpTo(browser, 20).until(d -> picker.isEnabled());
    assertThat(browser.findElement(By.id("main")).getText()).contains("Cancelled").doesNotContain("still uploading");
    assertThat(browser.findElements(By.xpath("//button[text()='Cancel upload']")).get(0).isDisplayed()).isFalse();
    browser.executeScript("window.holdPieces = false");

    // refused: available again, with the refusal
    app.proxy().answerOnce("POST /fhir/R4/Binary/$upload ", "HTTP/1.1 403 Forbidden\r\nTus-Resumable: 1.0.0\r\n"
        + "Content-Length: 0\r\n\r\n");
    picker.sendKeys(app.write("refused.txt", "refused words".getBytes(StandardCharsets.UTF_8)).toString());
    page.waitFor(By.cssSelector("#main [role=alert]"));
    BrowserFixture.waitUpTo(browser, 20).until(d -> picker.isEnabled());

    // saved: the page shows the new version, with the picker available
    page.labelled("Upload new version").sendKeys(app.write("saved.txt", "words 2".getBytes(StandardCharsets.UTF_8))
        .toString());
    page.waitFor(By.cssSelector("li[data-version='2']"));
    assertThat(page.labelled("Upload new version").isEnabled()).isTrue();
    assertThat(browser.executeScript("return window.creations")).as("uploads created").isEqualTo(3L);
  }

  /**
   * Cancel after the last piece reached the server, before its answer did: the new version is
   * saved, so the upload ends as saved (the page shows version 2), not cancelled, and is not deleted.
   */
  @Test
  void cancelAfterTheLastPieceWasSavedEndsAsSaved(AppPage page, ChromeDriver browser, TestServer fhirbox)
      throws Exception {
    WebElement picker = openFilePage(page, browser, fhirbox);
    pickHolding(browser, picker, "PATCH", "late.txt", "late words");
    page.button("Cancel upload").click();
    page.waitFor(By.cssSelector("li[data-version='2']"));
    assertThat(browser.findElement(By.id("main")).getText()).doesNotContain("Cancelled");
    assertThat(sent(browser)).noneMatch(r -> r.startsWith("DELETE "));
  }

  /**
   * Cancel while the upload is being created does not abort the creation: once it is answered,
   * the upload it made is deleted, and then the page says Cancelled.
   */
  @Test
  void cancelWhileTheUploadIsCreatedDeletesTheUploadMade(AppPage page, ChromeDriver browser, TestServer fhirbox)
      throws Exception {
    WebElement picker = openFilePage(page, browser, fhirbox);
    pickHolding(browser, picker, "POST", "early.txt", "early words");
    page.button("Cancel upload").click();
    browser.executeScript("if (window.heldLoad) window.heldLoad()");
    BrowserFixture.waitUpTo(browser, 20).until(d -> picker.isEnabled());
    assertThat(browser.findElement(By.id("main")).getText()).contains("Cancelled");
    assertThat(sent(browser)).anyMatch(r -> r.startsWith("DELETE ") && r.contains("/Binary/$upload/"))
        .noneMatch(r -> r.startsWith("PATCH "));
  }

  /**
   * Pause while the upload is being created does not abort the creation (the server may have
   * handled it): Resume goes on with the upload its answer named, so no second one is created and
   * none is left behind.
   */
  @Test
  void pauseWhileTheUploadIsCreatedKeepsTheUploadMadeForResume(AppPage page, ChromeDriver browser) throws Exception {
    String patient = app.patient("Pia", "Pause", "MRN-5", "1985-05-05");
    Path file = app.write("paused-early.txt", "paused early".getBytes(StandardCharsets.UTF_8));
    page.signIn();
    page.openPatient(patient, "Pia Pause");
    page.labelled("Upload files").sendKeys(file.toString());
    WebElement row = page.upload("paused-early.txt");
    holdAnswer(browser, "POST");
    AppPage.buttonIn(row, "Start upload").click();
    awaitHeld(browser);
    AppPage.buttonIn(row, "Pause").click();
    BrowserFixture.waitUpTo(browser, 10).until(d -> row.getText().contains("Paused"));
    browser.executeScript("if (window.heldLoad) window.heldLoad()");
    AppPage.buttonIn(row, "Resume").click();
    page.awaitUploaded("paused-early.txt");
    assertThat(sent(browser).stream().filter(r -> r.startsWith("POST ") && r.contains("/Binary/$upload")))
        .as("uploads created").hasSize(1);
    assertThat(sent(browser)).noneMatch(r -> r.startsWith("DELETE "));
  }

  /**
   * Picks a new version, a text file {@code name} holding {@code text}, with the answer of its
   * first request of {@code method} held ({@link #holdAnswer}); returns once that answer arrived.
   */
  private static void pickHolding(ChromeDriver browser, WebElement picker, String method, String name, String text)
      throws Exception {
    holdAnswer(browser, method);
    picker.sendKeys(app.write(name, text.getBytes(StandardCharsets.UTF_8)).toString());
    awaitHeld(browser);
  }

  /** Waits until the answer {@link #holdAnswer} holds has reached the page. */
  private static void awaitHeld(ChromeDriver browser) {
    BrowserFixture.waitUpTo(browser, 10).until(d -> browser.executeScript("return window.heldLoad") != null);
  }

  private static WebElement openFilePage(AppPage page, ChromeDriver browser, TestServer fhirbox) throws Exception {
    String binary = TestClient.createdId(fhirbox.client().postBytes("fhir/R4/Binary", "text/plain",
        "words 1".getBytes(StandardCharsets.UTF_8)));
    page.signIn();
    browser.executeScript("location.hash = arguments[0]", "#/file/" + binary);
    page.waitFor(By.xpath("//h1[text()='Binary " + binary + "']"));
    return page.labelled("Upload new version");
  }

  /**
   * Records the page's requests (window.sent) and holds the answer of the next one of {@code method}
   * after the server has handled it: window.heldLoad delivers it; aborting it meanwhile aborts it.
   */
  private static void holdAnswer(ChromeDriver browser, String method) {
    browser.executeScript("""
        const xhr = XMLHttpRequest.prototype;
        const open = xhr.open;
        const send = xhr.send;
        window.sent = [];
        window.hold = arguments[0];
        window.heldLoad = null;
        xhr.open = function (method, url, ...rest) {
          this.opened = `${method} ${url}`;
          return open.call(this, method, url, ...rest);
        };
        xhr.send = function (body) {
          window.sent.push(this.opened);
          if (window.hold && this.opened.startsWith(`${window.hold} `)) {
            window.hold = null;
            const load = this.onload;
            const aborted = this.onabort;
            const abort = this.abort.bind(this);
            this.onload = () => { window.heldLoad = () => { window.heldLoad = null; load(); }; };
            this.abort = () => {
              if (!window.heldLoad) return abort();
              window.heldLoad = null;
              return aborted();
            };
          }
          return send.call(this, body);
        };
        """, method);
  }

  @SuppressWarnings("unchecked")
  private static List<String> sent(ChromeDriver browser) {
    return (List<String>) browser.executeScript("return window.sent");
  }

  /** How many files the patient's page shows. */
  private static int files(ChromeDriver browser) {
    return browser.findElements(By.cssSelector("#files li.file")).size();
  }

  /** Records, in the page, every request opened with XMLHttpRequest that is given an Authorization header. */
  private static void recordTokens(ChromeDriver browser) {
    browser.executeScript("""
        const xhr = XMLHttpRequest.prototype;
        const open = xhr.open;
        const header = xhr.setRequestHeader;
        window.tokensSent = [];
        xhr.open = function (method, url, ...rest) {
          this.opened = `${method} ${new URL(url, location.href).href}`;
          return open.call(this, method, url, ...rest);
        };
        xhr.setRequestHeader = function (name, value) {
          if (/^authorization$/i.test(name)) window.tokensSent.push(this.opened);
          return header.call(this, name, value);
        };
        """);
  }

  /** The recorded requests with the token whose URL is neither the upload endpoint nor under it. */
  @SuppressWarnings("unchecked")
  private static List<String> tokensSentElsewhere(ChromeDriver browser, String base) {
    String endpoint = base + "fhir/R4/Binary/$upload";
    return ((List<String>) browser.executeScript("return window.tokensSent || []")).stream()
        .filter(r -> !r.endsWith(" " + endpoint) && !r.contains(" " + endpoint + "/")).toList();
  }

  /** Makes the page's uploads find no Upload-Offset in any answer ({@code hidden}), or find it again. */
  private static void hideUploadOffset(ChromeDriver browser, boolean hidden) {
    browser.executeScript("""
        const xhr = XMLHttpRequest.prototype;
        xhr.pageHeader = xhr.pageHeader || xhr.getResponseHeader;
        xhr.getResponseHeader = arguments[0]
          ? function (name) { return /^upload-offset$/i.test(name) ? null : this.pageHeader(name); }
          : xhr.pageHeader;
        """, hidden);
  }

  /** Whether leaving the page now would ask the person first: a beforeunload handler cancels it. */
  private static boolean leavingAsks(ChromeDriver browser) {
    return (Boolean) browser.executeScript("const e = new Event('beforeunload', { cancelable: true });"
        + " window.dispatchEvent(e); return e.defaultPrevented");
  }
}
