package org.fhirbox.browser;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import javax.imageio.ImageIO;
import org.fhirbox.testing.BrowserFixture;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Media;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * Signed storage URLs as a browser uses them: a page from another origin shows a Patient photo in
 * {@code <img>} and a Media video in {@code <video>}, both with {@code crossorigin="anonymous"}, and
 * the URLs are the ones the FHIR API signed at read time. Runs Debian's {@code chromium} through
 * {@code chromedriver} (paths overridable with {@code -Dfhirbox.chromium} and
 * {@code -Dfhirbox.chromedriver}); when either is missing the test fails, because CI installs them.
 */
@SlowTest
class SignedUrlBrowserTest {
  private static final String VIDEO = "/media/testsrc2-160x120-3s.webm";
  private static final Color LEFT = new Color(200, 30, 60);
  private static final Color RIGHT = new Color(20, 160, 90);
  private static final ObjectMapper JSON = new ObjectMapper();

  private static final Map<String, byte[]> pages = new ConcurrentHashMap<>();
  @RegisterExtension
  static final BrowserFixture chromium = BrowserFixture.chromium(BrowserFixture::autoplayAndLogs)
      .servingPages(() -> pages);
  private static TestServer fhirbox;
  private static ChromeDriver browser;

  @BeforeAll
  static void start() throws Exception {
    browser = chromium.driver();
    browser.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
    fhirbox = TestServer.start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (fhirbox != null) {
      fhirbox.close();
    }
  }

  @BeforeEach
  void forgetEarlierNetworkEvents() {
    chromium.forgetNetworkEvents();
  }

  @Test
  void patientPhotoDecodesInImgOnAnotherOrigin() throws Exception {
    String binaryId = uploadBinary("image/png", twoColourPng());
    Patient created = create(new Patient().addPhoto(
        new Attachment().setContentType("image/png").setUrl("Binary/" + binaryId)), Patient.class);
    String photoUrl = read("Patient/" + created.getIdElement().getIdPart(), Patient.class)
        .getPhotoFirstRep().getUrl();
    assertThat(photoUrl).startsWith(fhirbox.baseUrl() + "storage/" + binaryId + "/").contains("Signature=");

    browser.get(page("photo.html",
        "<img id=\"photo\" crossorigin=\"anonymous\" src=\"" + attribute(photoUrl) + "\">"));
    @SuppressWarnings("unchecked")
    Map<String, Object> img = (Map<String, Object>) browser.executeAsyncScript("""
        const done = arguments[arguments.length - 1];
        const img = document.getElementById('photo');
        const state = (decoded, error) => {
          const s = {decoded, error: error ? String(error) : null, complete: img.complete,
              naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
              pageOrigin: location.origin, srcOrigin: new URL(img.currentSrc || img.src).origin,
              left: null, right: null, canvasError: null};
          if (decoded) {
            // Reading pixels back fails on a canvas tainted by a non-CORS cross-origin image.
            try {
              const c = document.createElement('canvas');
              c.width = img.naturalWidth;
              c.height = img.naturalHeight;
              const g = c.getContext('2d');
              g.drawImage(img, 0, 0);
              s.left = Array.from(g.getImageData(10, 24, 1, 1).data.slice(0, 3));
              s.right = Array.from(g.getImageData(54, 24, 1, 1).data.slice(0, 3));
            } catch (e) {
              s.canvasError = String(e);
            }
          }
          return s;
        };
        img.decode().then(() => done(state(true, null)), e => done(state(false, e)));
        """);

    assertThat(img).as("img state").containsEntry("decoded", true).containsEntry("canvasError", null)
        .containsEntry("naturalWidth", 64L).containsEntry("naturalHeight", 48L)
        .containsEntry("left", rgb(LEFT)).containsEntry("right", rgb(RIGHT));
    assertThat(img.get("pageOrigin")).as("the page is on another origin than the storage URL")
        .isNotEqualTo(img.get("srcOrigin"));
    List<JsonNode> responses = chromium.responsesReceived(fhirbox.baseUrl() + "storage/" + binaryId + "/");
    assertThat(responses).as("responses the browser received for the photo")
        .anySatisfy(r -> {
          assertThat(r.path("status").asInt()).isEqualTo(200);
          assertThat(header(r, "Access-Control-Allow-Origin")).contains("*");
        });
  }

  @Test
  void mediaVideoLoadsSeeksAndPlaysOnAnotherOriginWithRangeResponses() throws Exception {
    String binaryId = uploadBinary("video/webm", resource(VIDEO));
    Media created = create(new Media().setStatus(Media.MediaStatus.COMPLETED).setContent(
        new Attachment().setContentType("video/webm").setUrl("Binary/" + binaryId)), Media.class);
    String videoUrl = read("Media/" + created.getIdElement().getIdPart(), Media.class).getContent().getUrl();
    assertThat(videoUrl).startsWith(fhirbox.baseUrl() + "storage/" + binaryId + "/").contains("Signature=");

    browser.get(page("video.html", "<video id=\"video\" crossorigin=\"anonymous\" muted preload=\"auto\" src=\""
        + attribute(videoUrl) + "\"></video>"));
    @SuppressWarnings("unchecked")
    Map<String, Object> video = (Map<String, Object>) browser.executeAsyncScript("""
        const done = arguments[arguments.length - 1];
        const v = document.getElementById('video');
        let finished = false;
        const finish = (stage) => {
          if (finished) return;
          finished = true;
          done({stage, readyState: v.readyState, networkState: v.networkState,
              duration: Number.isFinite(v.duration) ? v.duration : String(v.duration),
              currentTime: v.currentTime, seekedTo: window.seekedTo ?? null,
              videoWidth: v.videoWidth, videoHeight: v.videoHeight,
              error: v.error ? {code: v.error.code, message: v.error.message} : null,
              pageOrigin: location.origin, srcOrigin: new URL(v.currentSrc || v.src).origin});
        };
        // Answer before the 30 s script timeout so a stall reports the element's state.
        setTimeout(() => finish('timeout'), 20000);
        v.addEventListener('error', () => finish('error'), {once: true});
        const played = () => {
          if (v.currentTime > window.seekedTo) finish('played');
        };
        const seek = () => {
          v.addEventListener('seeked', () => {
            window.seekedTo = v.currentTime;
            if (v.readyState < 2) {
              finish('seeked');
              return;
            }
            v.addEventListener('timeupdate', played);
            v.play().catch(e => finish('play rejected: ' + e));
          }, {once: true});
          v.currentTime = 2;
        };
        if (v.error) finish('error');
        else if (v.readyState >= 1) seek();
        else v.addEventListener('loadedmetadata', seek, {once: true});
        """);

    assertThat(video).as("video state").containsEntry("stage", "played").containsEntry("error", null)
        .containsEntry("videoWidth", 160L).containsEntry("videoHeight", 120L);
    assertThat(((Number) video.get("duration")).doubleValue()).as("duration").isBetween(2.9, 3.1);
    assertThat(((Number) video.get("seekedTo")).doubleValue()).as("position after seeking").isBetween(1.9, 2.1);
    assertThat(((Number) video.get("readyState")).intValue()).as("readyState").isGreaterThanOrEqualTo(2);
    assertThat(video.get("pageOrigin")).as("the page is on another origin than the storage URL")
        .isNotEqualTo(video.get("srcOrigin"));
    List<JsonNode> responses = chromium.responsesReceived(fhirbox.baseUrl() + "storage/" + binaryId + "/");
    assertThat(responses).as("responses the browser received for the video")
        .anySatisfy(r -> {
          assertThat(r.path("status").asInt()).isEqualTo(206);
          assertThat(header(r, "Content-Range")).hasValueSatisfying(v -> assertThat(v).startsWith("bytes 0-"));
          assertThat(header(r, "Access-Control-Allow-Origin")).contains("*");
        });
  }

  private static String page(String name, String bodyHtml) {
    pages.put("/" + name, ("<!doctype html><html><head><meta charset=\"utf-8\"><title>" + name
        + "</title></head><body>" + bodyHtml + "</body></html>").getBytes(StandardCharsets.UTF_8));
    return chromium.pageOrigin() + "/" + name;
  }

  private static String attribute(String value) {
    return value.replace("&", "&amp;").replace("\"", "&quot;").replace("<", "&lt;");
  }

  private static String uploadBinary(String contentType, byte[] content) throws IOException {
    HttpResponse<String> resp = fhirbox.client().postBytes("fhir/R4/Binary", contentType, content);
    assertThat(resp.statusCode()).as("POST Binary: %s", resp.body()).isEqualTo(201);
    // Read as plain JSON: the response carries fhirbox's signed `url`, which HAPI's Binary lacks.
    return JSON.readTree(resp.body()).path("id").asText();
  }

  private static <T extends Resource> T create(T resource, Class<T> type) {
    HttpResponse<String> resp = fhirbox.client().postJson("fhir/R4/" + resource.fhirType(),
        fhirbox.client().json(resource));
    assertThat(resp.statusCode()).as("POST %s: %s", resource.fhirType(), resp.body()).isEqualTo(201);
    return fhirbox.client().parse(resp, type);
  }

  private static <T extends Resource> T read(String path, Class<T> type) {
    HttpResponse<String> resp = fhirbox.client().get("fhir/R4/" + path);
    assertThat(resp.statusCode()).as("GET %s: %s", path, resp.body()).isEqualTo(200);
    return fhirbox.client().parse(resp, type);
  }

  private static Optional<String> header(JsonNode response, String name) {
    for (Map.Entry<String, JsonNode> h : response.path("headers").properties()) {
      if (h.getKey().equalsIgnoreCase(name)) {
        return Optional.of(h.getValue().asText());
      }
    }
    return Optional.empty();
  }

  /** A 64×48 PNG, left half {@link #LEFT}, right half {@link #RIGHT}. */
  private static byte[] twoColourPng() throws IOException {
    BufferedImage image = new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setColor(LEFT);
    g.fillRect(0, 0, 32, 48);
    g.setColor(RIGHT);
    g.fillRect(32, 0, 32, 48);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(ImageIO.write(image, "png", out)).as("a PNG writer").isTrue();
    return out.toByteArray();
  }

  private static List<Long> rgb(Color c) {
    return List.of((long) c.getRed(), (long) c.getGreen(), (long) c.getBlue());
  }

  private static byte[] resource(String name) {
    try (InputStream in = SignedUrlBrowserTest.class.getResourceAsStream(name)) {
      assertThat(in).as("test resource %s", name).isNotNull();
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
