package org.fhirbox.webapp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.fhirbox.auth.PasswordLinks;
import org.fhirbox.auth.User;
import org.fhirbox.testing.BrowserFixture;
import org.fhirbox.testing.CuttingProxy;
import org.fhirbox.testing.SmartApp;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestImages;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The web app's test classes' fixture. For the class, a desktop Chromium (1280 × 900, media
 * autoplay, logs kept); for each test, a fhirbox of its own on a fixed port and data folder (so
 * it can be stopped and started again under an upload), a clinician who signs in with
 * {@link SmartApp#PASSWORD}, a folder for the files a test picks, and the browser reset. Register
 * it on a static field; a test method may take the {@link AppPage}, the {@link ChromeDriver} and
 * the {@link TestServer} as parameters:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final WebApp app = new WebApp();
 *
 * @Test
 * void signsIn(AppPage page, TestServer fhirbox) { ... }
 * }</pre>
 */
final class WebApp implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback,
    ParameterResolver {
  static final String EMAIL = "clinician@example.org";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final BrowserFixture chromium;
  private final Map<String, String> settings;
  private final boolean proxied;
  private CuttingProxy proxy;
  private Path data;
  private Path files;
  private int port;
  private TestServer fhirbox;
  /** Settings of this test's own ({@link #restart}), added to the class's. */
  private Map<String, String> extra = Map.of();

  WebApp() {
    this(Map.of(), o -> { });
  }

  /** With {@code settings} added to each server's and {@code options} to the browser's. */
  WebApp(Map<String, String> settings, Consumer<ChromeOptions> options) {
    this(settings, options, false);
  }

  private WebApp(Map<String, String> settings, Consumer<ChromeOptions> options, boolean proxied) {
    this.settings = Map.copyOf(settings);
    this.proxied = proxied;
    this.chromium = BrowserFixture.chromium(o -> {
      BrowserFixture.autoplayAndLogs(o);
      o.addArguments("--window-size=1280,900");
      options.accept(o);
    });
  }

  /**
   * A fixture whose servers are reached, by the browser and the admin client alike, through a
   * {@link CuttingProxy} of each test's own (their base URL: a new origin a test, so that nothing
   * the tab kept of the last test's sign-in is found), which a test may tell to answer a request
   * itself.
   */
  static WebApp behindProxy() {
    return new WebApp(Map.of(), o -> { }, true);
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    chromium.beforeAll(context);
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    chromium.afterAll(context);
  }

  @Override
  public void beforeEach(ExtensionContext context) throws Exception {
    data = Files.createTempDirectory("fhirbox-webapp");
    files = Files.createTempDirectory("fhirbox-webapp-files");
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    proxy = proxied ? new CuttingProxy() : null;
    extra = Map.of();
    start();
    User user = fhirbox.server().signIn().users().create("default", EMAIL, "Casey Clinician",
        "Practitioner/casey", "user/*.cruds", true).orElseThrow();
    String link = fhirbox.server().auth().passwordLinks().issue(user.id()).orElseThrow().token();
    assertThat(fhirbox.server().auth().passwordLinks().setPassword(link, SmartApp.PASSWORD))
        .isInstanceOf(PasswordLinks.PasswordSet.class);
    chromium.reset();
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    try {
      stop();
      if (proxy != null) {
        proxy.close();
      }
    } finally {
      TestServer.deleteTree(data);
      TestServer.deleteTree(files);
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == AppPage.class || type == ChromeDriver.class || type == TestServer.class;
  }

  /** The server as the test starts: after {@link #stop} and {@link #start}, {@link #fhirbox()} is the new one. */
  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == AppPage.class ? page() : type == ChromeDriver.class ? chromium.driver() : fhirbox;
  }

  /** Starts the server (again) on this test's port and data folder. */
  void start() throws Exception {
    Map<String, String> s = new HashMap<>(Map.of("FHIRBOX_PORT", Integer.toString(port),
        "FHIRBOX_DATA_DIR", data.toString(), "FHIRBOX_INGEST_ALLOWED_URL_PREFIXES", "http://127.0.0.1:" + port
        + "/nowhere/", "FHIRBOX_INGEST_POLL_MILLIS", "50"));
    s.putAll(settings);
    s.putAll(extra);
    if (proxy != null) {
      s.put("FHIRBOX_BASE_URL", proxy.forwardTo(port).baseUrl());
    }
    // a stop mid-test (under an upload) cuts the requests in flight, as a server that goes away would
    fhirbox = TestServer.start(s);
  }

  /**
   * Stops the server and starts it again on the same port and data with {@code more} settings
   * (a signing mode, say) added to the class's, for the rest of the test; the clinician stays.
   */
  void restart(Map<String, String> more) throws Exception {
    stop();
    extra = Map.copyOf(more);
    start();
  }

  /** Stops the server; {@link #start} brings it back on the same port and data. */
  void stop() throws Exception {
    if (fhirbox != null) {
      fhirbox.close();
      fhirbox = null;
    }
  }

  /** The proxy in front of the server ({@link #behindProxy}). */
  CuttingProxy proxy() {
    return proxy;
  }

  /** The class's browser. */
  BrowserFixture chromium() {
    return chromium;
  }

  TestServer fhirbox() {
    return fhirbox;
  }

  /** The app's page in the class's browser. */
  AppPage page() {
    return new AppPage(chromium.driver(), fhirbox.baseUrl());
  }

  /** The admin client's {@code GET} of {@code path}, its body as JSON. */
  JsonNode json(String path) throws IOException {
    return JSON.readTree(fhirbox.client().get(path).body());
  }

  /** A URL that ingestion may fetch from but that answers 404: its job fails. */
  private String missingImageUrl() {
    return "http://127.0.0.1:" + port + "/nowhere/x.png";
  }

  /** A file of this test's own, to pick in the browser. */
  Path write(String name, byte[] content) throws IOException {
    return Files.write(files.resolve(name), content);
  }

  Path file(String name) {
    return files.resolve(name);
  }

  String patient(String given, String family, String mrn, String birthDate) {
    return TestClient.createdId(fhirbox.client().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\","
        + "\"name\":[{\"given\":[\"" + given + "\"],\"family\":\"" + family + "\"}],\"identifier\":[{\"system\":"
        + "\"urn:mrn\",\"value\":\"" + mrn + "\"}],\"birthDate\":\"" + birthDate + "\"}"));
  }

  void media(String patient, String binary, String title) {
    TestClient.createdId(fhirbox.client().postJson("fhir/R4/Media", "{\"resourceType\":\"Media\",\"status\":"
        + "\"completed\",\"subject\":{\"reference\":\"Patient/" + patient + "\"},\"content\":{\"url\":\"Binary/"
        + binary + "\",\"title\":\"" + title + "\"}}"));
  }

  /** A text Binary of the patient's (its securityContext), named note.txt, holding "first words"; returns its id. */
  String note(String patient) {
    TestClient admin = fhirbox.client();
    return TestClient.createdId(admin.send(admin.request("fhir/R4/Binary?_filename=note.txt")
        .header("Content-Type", "text/plain").header("X-Security-Context", "Patient/" + patient)
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString("first words"))));
  }

  /** A DocumentReference of the patient that attaches {@code binary} as note.txt; returns its id. */
  String document(String patient, String binary, String description) {
    return TestClient.createdId(fhirbox.client().postJson("fhir/R4/DocumentReference", "{\"resourceType\":"
        + "\"DocumentReference\",\"status\":\"current\",\"subject\":{\"reference\":\"Patient/" + patient + "\"},"
        + (description == null ? "" : "\"description\":\"" + description + "\",")
        + "\"content\":[{\"attachment\":{\"url\":\"Binary/" + binary + "\",\"title\":\"note.txt\"}}]}"));
  }

  /** A Media whose content ingestion fetches from {@link #missingImageUrl}; returns its id. */
  String mediaToIngest() {
    return TestClient.createdId(fhirbox.client().postJson("fhir/R4/Media", "{\"resourceType\":\"Media\","
        + "\"status\":\"completed\",\"content\":{\"contentType\":\"image/png\",\"url\":\"" + missingImageUrl()
        + "\"}}"));
  }

  String awaitFailedJob() throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < end) {
      JsonNode jobs = json("admin/jobs?state=failed").get("jobs");
      if (jobs.size() > 0) {
        return jobs.get(0).get("id").asText();
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no job failed");
  }

  /** A 64×48 JPEG in two colours. */
  static byte[] jpeg() throws IOException {
    return TestImages.small("jpeg", 64, 48, false);
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
