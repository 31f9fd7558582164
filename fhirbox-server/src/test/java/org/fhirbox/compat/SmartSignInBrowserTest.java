package org.fhirbox.compat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.fhirbox.testing.BrowserFixture;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.SmartApp;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * People sign in from apps nobody here wrote, in a real browser, through fhirbox's own sign-in
 * and consent pages: the SMART team's {@code fhirclient} (npm, its browser build) in a standalone
 * patient launch, and Medplum's {@code @medplum/core} with authorization code + PKCE. Each app is
 * served from another origin, as a real app would be, so discovery, the token exchange, the FHIR
 * reads and the signed photo download all cross origins (CORS). Missing Chromium, Node or npm
 * fail the test.
 */
@SlowTest
class SmartSignInBrowserTest {
  private static final Path FHIRCLIENT_DIR = Path.of("target", "fhirclient-node").toAbsolutePath();
  private static final String FHIRCLIENT = "fhirclient@2.6.3";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PHOTO = "a patient's photo, read through its signed URL";

  /** fhirclient: the launch page sends the browser to fhirbox's authorize endpoint (discovery, PKCE S256, aud). */
  private static final String FHIRCLIENT_LAUNCH = """
      <!doctype html><html><head><meta charset="utf-8"><title>launch</title>
      <script src="/fhir-client.js"></script></head><body><script>
      const q = new URLSearchParams(location.search);
      FHIR.oauth2.authorize({ iss: q.get('iss'), clientId: q.get('client_id'), redirectUri: '/app.html',
        scope: 'launch/patient openid fhirUser patient/*.rs', pkceMode: 'required' });
      </script></body></html>
      """;

  /** fhirclient: the redirect page trades the code, reads the launch patient and downloads its photo. */
  private static final String FHIRCLIENT_APP = """
      <!doctype html><html><head><meta charset="utf-8"><title>app</title>
      <script src="/fhir-client.js"></script></head><body><script>
      FHIR.oauth2.ready().then(async (client) => {
        const patient = await client.patient.read();
        const url = patient.photo && patient.photo[0] && patient.photo[0].url;
        const photo = url ? await (await fetch(url)).text() : null;
        const idToken = client.getIdToken();
        return { context: client.patient.id, id: patient.id, url, photo,
          fhirUser: idToken ? idToken.fhirUser : null, hasRefreshToken: !!client.state.tokenResponse.refresh_token };
      }).catch((e) => ({ error: String(e) })).then((r) => {
        document.body.setAttribute('data-result', JSON.stringify(r));
        document.title = 'done';
      });
      </script></body></html>
      """;

  /** Medplum: one page both starts the sign-in and, back with a code, trades it and reads. */
  private static final String MEDPLUM_APP = """
      <!doctype html><html><head><meta charset="utf-8"><title>medplum</title></head><body>
      <script type="module">
      import { MedplumClient } from '/medplum-core.mjs';
      const q = new URLSearchParams(location.search);
      if (q.get('base')) {
        sessionStorage.setItem('cfg', JSON.stringify({ base: q.get('base'), clientId: q.get('client_id'),
          patient: q.get('patient') }));
      }
      const cfg = JSON.parse(sessionStorage.getItem('cfg'));
      const medplum = new MedplumClient({ baseUrl: cfg.base, clientId: cfg.clientId });
      const redirectUri = location.origin + '/medplum.html';
      const finish = (r) => { document.body.setAttribute('data-result', JSON.stringify(r)); document.title = 'done'; };
      (async () => {
        if (!q.get('code')) {
          await medplum.signInWithRedirect({ redirectUri, scope: 'openid fhirUser user/*.rs' });
          return;
        }
        await medplum.processCode(q.get('code'), { redirectUri, clientId: cfg.clientId });
        const patient = await medplum.readResource('Patient', cfg.patient);
        const photo = await (await fetch(patient.photo[0].url)).text();
        finish({ id: patient.id, url: patient.photo[0].url, photo, state: q.get('state') });
      })().catch((e) => finish({ error: String(e) }));
      </script></body></html>
      """;

  @RegisterExtension
  static final BrowserFixture chromium = BrowserFixture.chromium().servingPages(() -> Map.of(
      "/fhir-client.js", Files.readAllBytes(fhirclientBrowserBuild()),
      "/medplum-core.mjs", Files.readAllBytes(MedplumPackage.esmBundle()),
      "/launch.html", FHIRCLIENT_LAUNCH.getBytes(StandardCharsets.UTF_8),
      "/app.html", FHIRCLIENT_APP.getBytes(StandardCharsets.UTF_8),
      "/medplum.html", MEDPLUM_APP.getBytes(StandardCharsets.UTF_8)));
  private static ChromeDriver browser;

  @BeforeAll
  static void start() {
    browser = chromium.driver();
  }

  @Test
  void fhirclientLaunchesStandaloneSignsInThroughTheFormAndReadsThePatientAndItsPhoto() throws Exception {
    try (TestServer fhirbox = serverListingThePage()) {
      String patient = patientWithPhoto(fhirbox);
      SmartApp.user(fhirbox, "default", "pat@example.org", "Patient/" + patient, "patient/*.rs");
      SmartApp app = SmartApp.register(fhirbox, "default", "patient/*.rs openid fhirUser launch/patient", true,
          false, pageOrigin() + "/app.html");

      browser.manage().deleteAllCookies();
      browser.get(pageOrigin() + "/launch.html?iss=" + enc(fhirbox.fhirBase()) + "&client_id=" + app.clientId());
      signIn(fhirbox, "pat@example.org");
      allow();
      JsonNode out = result();

      assertThat(out.has("error")).as(out.toString()).isFalse();
      assertThat(out.get("context").asText()).isEqualTo(patient);
      assertThat(out.get("id").asText()).isEqualTo(patient);
      assertThat(out.get("url").asText()).startsWith(fhirbox.baseUrl() + "storage/").contains("Signature=");
      assertThat(out.get("photo").asText()).isEqualTo(PHOTO);
      assertThat(out.get("fhirUser").asText()).endsWith("Patient/" + patient);
      assertThat(out.get("hasRefreshToken").asBoolean()).isFalse(); // offline_access was not asked for
    }
  }

  @Test
  void medplumClientSignsInWithPkceAndReadsAResource() throws Exception {
    try (TestServer fhirbox = serverListingThePage()) {
      String patient = patientWithPhoto(fhirbox);
      SmartApp.user(fhirbox, "default", "doc@example.org", "Practitioner/doc-1", "user/*.rs");
      SmartApp app = SmartApp.register(fhirbox, "default", "user/*.rs openid fhirUser", true, false,
          pageOrigin() + "/medplum.html");

      browser.manage().deleteAllCookies();
      browser.get(pageOrigin() + "/medplum.html?base=" + enc(fhirbox.baseUrl()) + "&client_id=" + app.clientId()
          + "&patient=" + patient);
      signIn(fhirbox, "doc@example.org");
      allow();
      JsonNode out = result();

      assertThat(out.has("error")).as(out.toString()).isFalse();
      assertThat(out.get("id").asText()).isEqualTo(patient);
      assertThat(out.get("url").asText()).startsWith(fhirbox.baseUrl() + "storage/");
      assertThat(out.get("photo").asText()).isEqualTo(PHOTO);
      assertThat(out.get("state").asText()).isNotBlank();
    }
  }

  /** A Patient whose photo is a Binary uploaded by the admin client. */
  private static String patientWithPhoto(TestServer fhirbox) {
    TestClient admin = fhirbox.client();
    String binary = TestClient.createdId(admin.postBytes("fhir/R4/Binary", "text/plain",
        PHOTO.getBytes(StandardCharsets.UTF_8)));
    return TestClient.createdId(admin.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":"
        + "\"Launch\"}],\"photo\":[{\"contentType\":\"text/plain\",\"url\":\"Binary/" + binary + "\"}]}"));
  }

  /** Fills fhirbox's sign-in form as a person would: by its labels' fields and its button. */
  private static void signIn(TestServer fhirbox, String email) {
    WebDriverWait wait = BrowserFixture.waitUpTo(browser, 30);
    wait.until(d -> !d.findElements(By.id("email")).isEmpty());
    assertThat(browser.getCurrentUrl()).startsWith(fhirbox.baseUrl() + "oauth2/");
    browser.findElement(By.id("email")).sendKeys(email);
    browser.findElement(By.id("password")).sendKeys(SmartApp.PASSWORD);
    button("Sign in").click();
  }

  /** The consent page of a third-party app: allow what it asked for. */
  private static void allow() {
    WebDriverWait wait = BrowserFixture.waitUpTo(browser, 30);
    wait.until(d -> d.getPageSource().contains(">Allow<") || "done".equals(d.getTitle()));
    if (!"done".equals(browser.getTitle())) {
      button("Allow").click();
    }
  }

  private static WebElement button(String text) {
    return browser.findElements(By.tagName("button")).stream().filter(b -> b.getText().strip().equals(text))
        .findFirst().orElseThrow(() -> new AssertionError("no button '" + text + "' on " + browser.getCurrentUrl()
            + ":\n" + browser.getPageSource()));
  }

  private static JsonNode result() throws IOException {
    try {
      BrowserFixture.waitUpTo(browser, 30).until(d -> "done".equals(d.getTitle()));
    } catch (RuntimeException e) {
      fail("the app did not finish at %s:%n%s", browser.getCurrentUrl(), browser.getPageSource());
    }
    return JSON.readTree(browser.findElement(By.tagName("body")).getAttribute("data-result"));
  }

  /** fhirclient's browser build (a UMD script defining {@code FHIR}), from its npm tarball alone. */
  private static Path fhirclientBrowserBuild() throws Exception {
    Path build = FHIRCLIENT_DIR.resolve("package/build/fhir-client.min.js");
    if (Files.exists(build)) {
      return build;
    }
    MedplumPackage.install(); // checks Node and npm
    Files.createDirectories(FHIRCLIENT_DIR);
    MedplumPackage.Result pack = MedplumPackage.run(List.of("npm", "pack", "--silent", "--cache",
        FHIRCLIENT_DIR.resolveSibling("npm-cache").toString(), FHIRCLIENT), FHIRCLIENT_DIR, Map.of(), 300);
    assertThat(pack.exit()).as("npm pack %s: %s", FHIRCLIENT, pack.stderr()).isZero();
    String tarball = pack.stdout().strip().lines().reduce((a, b) -> b).orElseThrow();
    MedplumPackage.Result untar = MedplumPackage.run(List.of("tar", "xzf", tarball), FHIRCLIENT_DIR, Map.of(), 60);
    assertThat(untar.exit()).as("tar: %s", untar.stderr()).isZero();
    assertThat(build).exists();
    return build;
  }

  /** A server whose CORS origins list the page server's. */
  private static TestServer serverListingThePage() throws Exception {
    return TestServer.start(Map.of("FHIRBOX_CORS_ORIGINS", pageOrigin()));
  }

  private static String pageOrigin() {
    return chromium.pageOrigin();
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
