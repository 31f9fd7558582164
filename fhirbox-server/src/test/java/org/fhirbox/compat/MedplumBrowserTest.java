package org.fhirbox.compat;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.fhirbox.testing.BrowserFixture;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * Medplum's JS client in a real browser, on a page from another origin: CORS is what decides
 * whether it works. The client sends every request with {@code credentials: 'include'}, so the
 * server must name the page's origin and allow credentials, which it does for origins listed in
 * {@code FHIRBOX_CORS_ORIGINS} and never for {@code *}. Runs Debian's {@code chromium} through
 * {@code chromedriver}, like {@code SignedUrlBrowserTest}; missing binaries fail the test.
 */
@SlowTest
class MedplumBrowserTest {

  /** Logs in, uploads, links, reads and downloads; resolves to what it saw, or to the error. */
  private static final String CHECK = """
      const [baseUrl, clientId, clientSecret, done] = arguments;
      (async () => {
        const { MedplumClient } = await import('/medplum-core.mjs');
        const medplum = new MedplumClient({ baseUrl });
        await medplum.startClientLogin(clientId, clientSecret);
        const data = new TextEncoder().encode('hello from the browser');
        // with onProgress the client uploads through XMLHttpRequest, not fetch
        const progress = [];
        const attachment = await medplum.createAttachment({ data, filename: 'note.txt', contentType: 'text/plain',
          onProgress: (e) => progress.push(e.loaded) });
        const patient = await medplum.createResource({ resourceType: 'Patient', photo: [attachment] });
        const read = await medplum.readResource('Patient', patient.id);
        const binaryId = new URL(read.photo[0].url).pathname.split('/')[2];
        const downloaded = await (await medplum.download('Binary/' + binaryId)).text();
        const signed = await (await fetch(read.photo[0].url)).text();
        return { photoUrl: read.photo[0].url, downloaded, signed, progress };
      })().then(done, (e) => done({ error: String(e) }));
      """;

  @RegisterExtension
  static final BrowserFixture chromium = BrowserFixture.chromium().servingPages(() -> Map.of(
      "/medplum-core.mjs", Files.readAllBytes(MedplumPackage.esmBundle()),
      "/index.html", "<!doctype html><html><head><meta charset=\"utf-8\"><title>medplum</title></head><body></body></html>"
          .getBytes(StandardCharsets.UTF_8)));
  private static ChromeDriver browser;

  @BeforeAll
  static void start() {
    browser = chromium.driver();
  }

  @Test
  void medplumClientWorksFromAListedOrigin() throws Exception {
    try (TestServer fhirbox = serverListingThePage()) {
      Map<String, Object> out = runCheck(fhirbox);

      assertThat(out).doesNotContainKey("error");
      assertThat((String) out.get("photoUrl")).startsWith(fhirbox.baseUrl() + "storage/").contains("Signature=");
      assertThat(out.get("downloaded")).isEqualTo("hello from the browser");
      assertThat(out.get("signed")).isEqualTo("hello from the browser");
      assertThat((List<?>) out.get("progress")).as("upload progress, ending with every byte sent").isNotEmpty()
          .last().isEqualTo(22L);
    }
  }

  @Test
  void wildcardOriginsCannotServeMedplumsCredentialedRequests() throws Exception {
    try (TestServer fhirbox = TestServer.start()) {
      Map<String, Object> out = runCheck(fhirbox);

      // The browser drops the token response: credentials: 'include' with Access-Control-Allow-Origin: *.
      assertThat((String) out.get("error")).contains("Failed to fetch");
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> runCheck(TestServer fhirbox) {
    browser.get(pageOrigin() + "/index.html");
    return (Map<String, Object>) browser.executeAsyncScript(CHECK, fhirbox.baseUrl(), TestServer.ADMIN_ID,
        TestServer.ADMIN_SECRET);
  }

  /** A server whose CORS origins list the page server's. */
  private static TestServer serverListingThePage() throws Exception {
    return TestServer.start(Map.of("FHIRBOX_CORS_ORIGINS", pageOrigin()));
  }

  private static String pageOrigin() {
    return chromium.pageOrigin();
  }
}
