package org.fhirbox.compat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.fhirbox.testing.BrowserFixture;
import org.fhirbox.testing.CuttingProxy;
import org.fhirbox.testing.ServerJvm;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestBytes;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.Tus;
import org.fhirbox.testing.TwoNodes;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * {@code tus-js-client} 4.3.1 (npm), the tus team's own client, against fhirbox: in Node.js and,
 * from its browser build, in headless Chromium on another origin (CORS). In the interrupted cases
 * the client is held before a {@code PATCH} halfway through, the server is killed with SIGKILL and
 * started again on the same data and port, and the client, released, rides over the outage with
 * its {@code retryDelays} and resumes from the offset the server answers to {@code HEAD}; in Node
 * and in Chromium, its connection is also cut halfway through a piece while a load balancer moves
 * it from one node to another of two sharing PostgreSQL and S3. Each
 * compares the stored Binary's bytes and SHA-256 with what was sent. Missing Node, npm or Chromium
 * fail the test.
 */
@SlowTest
class TusJsClientTest {
  private static final Path DIR = Path.of("target", "tus-js-node").toAbsolutePath();
  private static final String PACKAGE = "tus-js-client@4.3.1";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int CHUNK = 512 * 1024;

  /** The browser page: uploads /content.bin, holds before the first PATCH at ?pauseAt until window.go(). */
  private static final String PAGE = """
      <!doctype html><html><head><meta charset="utf-8"><title>tus</title>
      <script src="/tus.min.js"></script></head><body><script>
      window.state = {};
      (async () => {
        const q = new URLSearchParams(location.search);
        const content = new Blob([await (await fetch('/content.bin')).arrayBuffer()]);
        const pauseAt = Number(q.get('pauseAt'));
        let paused = false;
        let release = null;
        window.go = () => release && release();
        const patches = [];
        let contentLocation = null;
        const upload = new tus.Upload(content, {
          endpoint: q.get('endpoint'),
          headers: { Authorization: q.get('authorization') },
          chunkSize: Number(q.get('chunk')),
          metadata: { filename: 'clip.mp4', filetype: 'video/mp4' },
          retryDelays: [0, 500, 1000, 2000, 3000, 5000, 5000, 5000, 5000, 5000, 10000],
          onBeforeRequest: async (req) => {
            if (req.getMethod() !== 'PATCH' || paused) return;
            const offset = Number(req.getHeader('Upload-Offset'));
            if (offset >= pauseAt) {
              paused = true;
              window.state.paused = offset;
              await new Promise((resolve) => { release = resolve; });
            }
          },
          onAfterResponse: (req, res) => {
            if (req.getMethod() === 'PATCH') patches.push({ offset: Number(req.getHeader('Upload-Offset')), status: res.getStatus() });
            const location = res.getHeader('Content-Location');
            if (location) contentLocation = location;
          },
          onError: (e) => { window.state = { done: true, error: String(e) }; },
          onSuccess: () => { window.state = { done: true, url: upload.url, contentLocation, patches }; },
        });
        upload.start();
      })().catch((e) => { window.state = { done: true, error: String(e) }; });
      </script></body></html>
      """;

  @TempDir
  Path work;

  private static final byte[] BROWSER_CONTENT = TestBytes.random(8 << 20, 161);

  @RegisterExtension
  static final BrowserFixture chromium = BrowserFixture.chromium().servingPages(() -> {
    install();
    return Map.of(
        "/tus.min.js", Files.readAllBytes(DIR.resolve("node_modules/tus-js-client/dist/tus.min.js")),
        "/content.bin", BROWSER_CONTENT,
        "/tus.html", PAGE.getBytes(StandardCharsets.UTF_8));
  });

  @BeforeAll
  static void start() throws Exception {
    install();
  }

  /** npm install into target/tus-js-node, once; later runs reuse it. */
  private static synchronized void install() throws Exception {
    MedplumPackage.requireNode();
    Path pkg = DIR.resolve("node_modules/tus-js-client/package.json");
    if (!Files.exists(pkg) || !JSON.readTree(pkg.toFile()).path("version").asText().equals("4.3.1")) {
      Files.createDirectories(DIR);
      Files.writeString(DIR.resolve("package.json"), "{\"name\":\"fhirbox-tus-js-compat\",\"private\":true}\n");
      MedplumPackage.Result r = MedplumPackage.run(List.of("npm", "install", "--no-audit", "--no-fund", "--cache",
          DIR.resolveSibling("npm-cache").toString(), PACKAGE), DIR, Map.of(), 300);
      if (r.exit() != 0) {
        fail("npm install %s failed (exit %d):%n%s%n%s", PACKAGE, r.exit(), r.stdout(), r.stderr());
      }
    }
    assertThat(JSON.readTree(pkg.toFile()).path("version").asText()).isEqualTo("4.3.1");
    try (InputStream in = TusJsClientTest.class.getResourceAsStream("/compat/tus-js-upload.mjs")) {
      Files.copy(in, DIR.resolve("tus-js-upload.mjs"), StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static String authorization() {
    return "Basic " + Base64.getEncoder().encodeToString(
        (TestServer.ADMIN_ID + ":" + TestServer.ADMIN_SECRET).getBytes(StandardCharsets.UTF_8));
  }

  /** The script in Node, its stdout lines as they come, its stdin for "go". */
  private static final class NodeUpload implements AutoCloseable {
    final Process process;
    final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    final Path stderr;

    NodeUpload(Map<String, String> env) throws Exception {
      stderr = Files.createTempFile("tus-js", ".err");
      ProcessBuilder pb = new ProcessBuilder("node", "tus-js-upload.mjs").directory(DIR.toFile())
          .redirectError(stderr.toFile());
      pb.environment().putAll(env);
      process = pb.start();
      Thread reader = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
            StandardCharsets.UTF_8))) {
          for (String line = r.readLine(); line != null; line = r.readLine()) {
            lines.add(line);
          }
        } catch (IOException ignored) {
          // the process ended
        }
      }, "tus-js-stdout");
      reader.setDaemon(true);
      reader.start();
    }

    JsonNode next() throws Exception {
      String line = lines.poll(120, TimeUnit.SECONDS);
      if (line == null) {
        fail("tus-js-upload.mjs said nothing for 120 s; stderr:%n%s", Files.readString(stderr));
      }
      return JSON.readTree(line);
    }

    void go() throws Exception {
      OutputStream in = process.getOutputStream();
      in.write("go\n".getBytes(StandardCharsets.UTF_8));
      in.flush();
    }

    @Override
    public void close() throws Exception {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
      Files.deleteIfExists(stderr);
    }
  }

  private Map<String, String> nodeEnv(String baseUrl, Path file, long pauseAt) {
    return Map.of("TUS_ENDPOINT", baseUrl + Tus.CREATE, "TUS_AUTHORIZATION", authorization(),
        "TUS_FILE", file.toString(), "TUS_CHUNK", Integer.toString(CHUNK),
        "TUS_PAUSE_AT", Long.toString(pauseAt));
  }

  /** The Binary named by Content-Location holds {@code content}: bytes, ETag (SHA-256) and type. */
  private static void assertStored(TestClient client, JsonNode result, byte[] content) throws Exception {
    assertThat(result.path("error").isMissingNode()).as("the client failed: %s", result).isTrue();
    String location = result.path("contentLocation").asText();
    assertThat(location).matches(".*/fhir/R4/Binary/[^/]+/_history/1");
    HttpResponse<byte[]> raw = client.sendBytes(client.request(location).header("Accept", "*/*").GET());
    assertThat(raw.statusCode()).isEqualTo(200);
    assertThat(raw.headers().firstValue("Content-Type")).contains("video/mp4");
    assertThat(raw.headers().firstValue("ETag")).contains("\"" + HexFormat.of().formatHex(
        MessageDigest.getInstance("SHA-256").digest(content)) + "\"");
    assertThat(raw.body()).isEqualTo(content);
  }

  @Test
  void nodeUploadsAFileInPiecesAndLearnsTheBinary() throws Exception {
    byte[] content = TestBytes.random(3 << 20, 160);
    Path file = work.resolve("clip.mp4");
    Files.write(file, content);
    try (TestServer server = TestServer.start();
        NodeUpload node = new NodeUpload(nodeEnv(server.baseUrl(), file, -1))) {
      JsonNode result = node.next();

      assertStored(server.client(), result, content);
      assertThat(result.path("patches")).hasSize(6);
      assertThat(result.path("patches").findValues("status")).allMatch(s -> s.asInt() == 204);
    }
  }

  @Test
  void nodeResumesAfterTheServerIsKilledAndStartedAgain() throws Exception {
    byte[] content = TestBytes.random(6 << 20, 162);
    Path file = work.resolve("clip.mp4");
    Files.write(file, content);
    Path data = work.resolve("data");
    ServerJvm first = ServerJvm.start(data, 0, Map.of());
    ServerJvm second = null;
    try (NodeUpload node = new NodeUpload(nodeEnv(first.baseUrl(), file, content.length / 2))) {
      long pausedAt = node.next().path("paused").asLong();
      assertThat(pausedAt).isBetween(content.length / 2L, content.length / 2L + CHUNK);

      first.kill();
      node.go(); // the PATCH meets a dead server; the client waits and tries again
      second = ServerJvm.start(data, first.port(), Map.of());
      JsonNode result = node.next();

      assertStored(second.client(), result, content);
      List<JsonNode> patches = List.copyOf(result.path("patches").findParents("offset"));
      assertThat(patches).allMatch(p -> p.path("status").asInt() == 204);
      assertThat(patches.stream().filter(p -> p.path("offset").asLong() == 0)).as("never started over").hasSize(1);
      assertThat(patches.stream().filter(p -> p.path("offset").asLong() == pausedAt)).as("the piece that failed,"
          + " sent again to the new server").hasSize(1);
    } finally {
      first.kill();
      if (second != null) {
        second.kill();
      }
    }
  }

  @Test
  void nodeResumesAfterACutConnectionOnTheOtherNode() throws Exception {
    byte[] content = TestBytes.random(6 << 20, 163);
    Path file = work.resolve("clip.mp4");
    Files.write(file, content);
    // Two nodes behind one address (the proxy, as a load balancer), sharing PostgreSQL and S3.
    try (CuttingProxy balancer = new CuttingProxy();
        TwoNodes nodes = TwoNodes.start(Map.of("FHIRBOX_BASE_URL", balancer.baseUrl()));
        NodeUpload node = new NodeUpload(nodeEnv(balancer.baseUrl(), file, content.length / 2))) {
      balancer.forwardTo(nodes.a().server().port());
      long pausedAt = node.next().path("paused").asLong();

      balancer.forwardTo(nodes.b().server().port());
      balancer.cutAfter(CHUNK / 2); // halfway through the next piece, on node a's connection
      node.go();
      JsonNode result = node.next();

      assertThat(balancer.cuts()).isEqualTo(1);
      assertStored(nodes.b().client(), result, content);
      assertSentOnce(result, pausedAt);
    }
  }

  /**
   * Every piece the server acknowledged was sent once: none before the interruption again, the
   * upload never started over, and it went on past where it was interrupted.
   */
  private static void assertSentOnce(JsonNode result, long pausedAt) {
    List<Long> offsets = result.path("patches").findValues("offset").stream().map(JsonNode::asLong).toList();
    assertThat(offsets).doesNotHaveDuplicates();
    assertThat(offsets.stream().filter(o -> o < pausedAt)).as("the pieces acknowledged before the interruption")
        .hasSize((int) (pausedAt / CHUNK));
    assertThat(offsets.stream().filter(o -> o > pausedAt)).as("went on from where it stopped").isNotEmpty();
  }

  @Test
  void aBrowserOnAnotherOriginResumesOnTheOtherNodeAfterACutConnection() throws Exception {
    try (CuttingProxy balancer = new CuttingProxy();
        TwoNodes nodes = TwoNodes.start(Map.of("FHIRBOX_BASE_URL", balancer.baseUrl(),
            "FHIRBOX_CORS_ORIGINS", chromium.pageOrigin()))) {
      balancer.forwardTo(nodes.a().server().port());
      ChromeDriver browser = chromium.driver();
      browser.get(chromium.pageOrigin() + "/tus.html?endpoint=" + enc(balancer.baseUrl() + Tus.CREATE)
          + "&authorization=" + enc(authorization()) + "&chunk=" + CHUNK + "&pauseAt=" + BROWSER_CONTENT.length / 2);
      JsonNode paused = await(browser, "paused");
      assertThat(paused.path("error").isMissingNode()).as("%s", paused).isTrue();
      long pausedAt = paused.path("paused").asLong();

      balancer.forwardTo(nodes.b().server().port());
      balancer.cutAfter(CHUNK / 2); // halfway through the next piece
      browser.executeScript("window.go()");
      JsonNode result = await(browser, "done");

      assertThat(balancer.cuts()).isEqualTo(1);
      assertStored(nodes.b().client(), result, BROWSER_CONTENT);
      assertSentOnce(result, pausedAt);
    }
  }

  @Test
  void aBrowserOnAnotherOriginResumesAfterTheServerIsKilledAndStartedAgain() throws Exception {
    Path data = work.resolve("data");
    ServerJvm first = ServerJvm.start(data, 0, Map.of("FHIRBOX_CORS_ORIGINS", chromium.pageOrigin()));
    ServerJvm second = null;
    ChromeDriver browser = chromium.driver();
    try {
      browser.get(chromium.pageOrigin() + "/tus.html?endpoint=" + enc(first.baseUrl() + Tus.CREATE)
          + "&authorization=" + enc(authorization()) + "&chunk=" + CHUNK + "&pauseAt=" + BROWSER_CONTENT.length / 2);
      JsonNode paused = await(browser, "paused");
      assertThat(paused.path("error").isMissingNode()).as("%s", paused).isTrue();

      first.kill();
      browser.executeScript("window.go()");
      second = ServerJvm.start(data, first.port(), Map.of("FHIRBOX_CORS_ORIGINS", chromium.pageOrigin()));
      JsonNode result = await(browser, "done");

      assertStored(second.client(), result, BROWSER_CONTENT);
      assertThat(result.path("url").asText()).startsWith(first.baseUrl() + "fhir/R4/Binary/$upload/");
    } finally {
      first.kill();
      if (second != null) {
        second.kill();
      }
    }
  }

  /** Polls the page's window.state until it has {@code field} (or an error), for up to 120 s. */
  private static JsonNode await(ChromeDriver browser, String field) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      JsonNode state = JSON.readTree((String) browser.executeScript("return JSON.stringify(window.state || {})"));
      if (state.has(field) || state.has("error")) {
        return state;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("the page never reached '" + field + "'");
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
