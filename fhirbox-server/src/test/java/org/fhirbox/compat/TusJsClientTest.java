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
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.fhirbox.testing.BrowserFixture;
import org.fhirbox.testing.CuttingProxy;
import org.fhirbox.testing.Poll;
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
 * the client is held before the {@code PATCH} halfway through, then: the server is killed with
 * SIGKILL (for the client in Node.js while the server has half of that {@code PATCH}, for the one
 * in Chromium before it) and started again on the same data and port, and the client rides over the outage with its {@code retryDelays}; or a proxy
 * cuts its connection halfway through that piece, on the one node or while, as a load balancer,
 * it moves the client to the other of two nodes sharing PostgreSQL and S3. Each compares the
 * stored Binary's bytes and SHA-256 with what was sent, and reads from the client's log of its
 * requests that it went on with the one upload it created, from the offset the server answered
 * to {@code HEAD}, sending again no byte but those of the piece the interruption broke off.
 * Missing Node, npm or Chromium fail the test.
 */
@SlowTest
class TusJsClientTest {
  private static final Path DIR = Path.of("target", "tus-js-node").toAbsolutePath();
  private static final String PACKAGE = "tus-js-client@4.3.1";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int CHUNK = 512 * 1024;
  /** What the interrupted uploads send: 16 pieces, the client held before the ninth. */
  private static final byte[] CONTENT = TestBytes.random(8 << 20, 161);
  private static final long HALFWAY = CONTENT.length / 2;

  /** The browser page: uploads /content.bin, holds before the first PATCH at ?pauseAt until window.go(). */
  private static final String PAGE = """
      <!doctype html><html><head><meta charset="utf-8"><title>tus</title>
      <script src="/tus.min.js"></script></head><body><script type="module">
      import { startUpload } from '/tus-js-logged-upload.mjs';
      window.state = {};
      let release = null;
      window.go = () => release && release();
      try {
        const q = new URLSearchParams(location.search);
        const content = new Blob([await (await fetch('/content.bin')).arrayBuffer()]);
        startUpload(tus, content, { endpoint: q.get('endpoint'), authorization: q.get('authorization'),
            chunkSize: Number(q.get('chunk')), pauseAt: Number(q.get('pauseAt')) }, {
          paused: (offset) => {
            window.state = { paused: offset };
            return new Promise((resolve) => { release = resolve; });
          },
          done: (result) => { window.state = { done: true, ...result }; },
        });
      } catch (e) {
        window.state = { done: true, error: String(e) };
      }
      </script></body></html>
      """;

  @TempDir
  Path work;

  @RegisterExtension
  static final BrowserFixture chromium = BrowserFixture.chromium().servingPages(() -> {
    install();
    return Map.of(
        "/tus.min.js", Files.readAllBytes(DIR.resolve("node_modules/tus-js-client/dist/tus.min.js")),
        "/tus-js-logged-upload.mjs", Files.readAllBytes(DIR.resolve("tus-js-logged-upload.mjs")),
        "/content.bin", CONTENT,
        "/tus.html", PAGE.getBytes(StandardCharsets.UTF_8));
  });

  @BeforeAll
  static void start() throws Exception {
    install();
  }

  /** npm install into target/tus-js-node, once; later runs reuse it. The scripts are copied each time. */
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
    for (String script : List.of("tus-js-upload.mjs", "tus-js-logged-upload.mjs")) {
      try (InputStream in = TusJsClientTest.class.getResourceAsStream("/compat/" + script)) {
        Files.copy(in, DIR.resolve(script), StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  private static String authorization() {
    return "Basic " + Base64.getEncoder().encodeToString(
        (TestServer.ADMIN_ID + ":" + TestServer.ADMIN_SECRET).getBytes(StandardCharsets.UTF_8));
  }

  /** tus-js-client uploading {@link #CONTENT}, held before the first PATCH at or past {@link #HALFWAY}. */
  private interface Upload extends AutoCloseable {
    /** Waits until the client holds; the offset of the PATCH it holds. */
    long paused() throws Exception;

    /** Lets the client go on. */
    void go() throws Exception;

    /** Waits for the outcome: the upload URL, Content-Location and the requests made, or an error. */
    JsonNode result() throws Exception;

    /**
     * Whether the client's HTTP stack sends a request again by itself when the connection it
     * reused breaks before the answer (Chromium does; the page never sees that failure).
     */
    default boolean resendsOnReusedConnections() {
      return false;
    }
  }

  /** Starts an {@link Upload} against the server at {@code baseUrl}: in Node.js or in Chromium. */
  @FunctionalInterface
  private interface Uploader {
    Upload start(String baseUrl) throws Exception;
  }

  private Upload inNode(String baseUrl) throws Exception {
    Path file = work.resolve("clip.mp4");
    Files.write(file, CONTENT);
    return new NodeUpload(nodeEnv(baseUrl, file, HALFWAY));
  }

  private Upload inChromium(String baseUrl) {
    ChromeDriver browser = chromium.driver();
    browser.get(chromium.pageOrigin() + "/tus.html?endpoint=" + enc(baseUrl + Tus.CREATE)
        + "&authorization=" + enc(authorization()) + "&chunk=" + CHUNK + "&pauseAt=" + HALFWAY);
    return new Upload() {
      @Override
      public long paused() throws Exception {
        return pausedAt(await(browser, "paused"));
      }

      @Override
      public void go() {
        browser.executeScript("window.go()");
      }

      @Override
      public JsonNode result() throws Exception {
        return await(browser, "done");
      }

      @Override
      public boolean resendsOnReusedConnections() {
        return true;
      }

      @Override
      public void close() {
        browser.get("about:blank"); // a failed test's upload stops retrying
      }
    };
  }

  private static long pausedAt(JsonNode state) {
    assertThat(state.has("paused")).as("the client held before a PATCH: %s", state).isTrue();
    return state.path("paused").asLong();
  }

  /** The script in Node, its stdout lines as they come, its stdin for "go". */
  private static final class NodeUpload implements Upload {
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

    @Override
    public long paused() throws Exception {
      return pausedAt(next());
    }

    @Override
    public void go() throws Exception {
      OutputStream in = process.getOutputStream();
      in.write("go\n".getBytes(StandardCharsets.UTF_8));
      in.flush();
    }

    @Override
    public JsonNode result() throws Exception {
      return next();
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

  /** The Binary named by Content-Location holds {@code content}: bytes, a blob ETag and the type. */
  private static void assertStored(TestClient client, JsonNode result, byte[] content) throws Exception {
    assertThat(result.path("error").isMissingNode()).as("the client failed: %s", result).isTrue();
    String location = result.path("contentLocation").asText();
    assertThat(location).matches(".*/fhir/R4/Binary/[^/]+/_history/1");
    HttpResponse<byte[]> raw = client.sendBytes(client.request(location).header("Accept", "*/*").GET());
    assertThat(raw.statusCode()).isEqualTo(200);
    assertThat(raw.headers().firstValue("Content-Type")).contains("video/mp4");
    TestBytes.assertBlobEtag(raw.headers());
    assertThat(raw.body()).isEqualTo(content);
  }

  /** The requests the client began, in order, from its log. */
  private static List<JsonNode> requests(JsonNode result) {
    List<JsonNode> requests = new ArrayList<>();
    result.path("requests").forEach(requests::add);
    return requests;
  }

  private static boolean is(JsonNode request, String method) {
    return request.path("method").asText().equals(method);
  }

  /**
   * From the client's log of {@link #CONTENT}'s upload: it created one upload (one POST) and sent
   * every HEAD and PATCH to that upload's URL (under {@code base}); each PATCH starts at the offset
   * the server answered last (to a PATCH or, after the interruption, to a HEAD), which never goes
   * below an offset it acknowledged; the only piece cut off is the one that was in flight at
   * {@code interruptedAt}, and the upload never started over.
   *
   * <p>One race is the protocol's, not a fault: the client's first retry comes at once, and its
   * HEAD can reach the server before the cut PATCH has taken the upload's lease (on a busy host,
   * the server is still reading that PATCH's headers). The HEAD then answers the offset before the
   * piece, the server goes on to keep what of the piece arrived, and the retried piece is refused
   * with 409 (tus: the offsets differ) before the server reads it, or with 423 when the cut PATCH
   * still holds the upload after the retry waited 3 s for it; the client asks HEAD again. So
   * PATCHes refused with 409 or 423 at {@code interruptedAt}, right after the cut, are allowed; no
   * byte but those of the piece in flight and of such refused retries is sent twice.
   */
  private static void assertResumed(JsonNode result, String base, long interruptedAt) {
    List<JsonNode> requests = requests(result);
    String url = result.path("url").asText();
    assertThat(url).startsWith(base + Tus.CREATE + "/");
    assertThat(requests.get(0).path("method").asText()).isEqualTo("POST");
    assertThat(requests).filteredOn(r -> is(r, "POST")).as("uploads created").hasSize(1);
    assertThat(requests).filteredOn(r -> !is(r, "POST")).as("every HEAD and PATCH to the one upload")
        .allMatch(r -> r.path("url").asText().equals(url));
    Long answered = 0L; // the offset the client knows from the server; null after a piece failed
    long acknowledged = 0;
    long sent = 0;
    long refusedBytes = 0;
    List<Long> failed = new ArrayList<>();
    List<Long> refused = new ArrayList<>();
    for (JsonNode r : requests) {
      if (is(r, "PATCH")) {
        long offset = r.path("offset").asLong();
        assertThat(offset).as("a PATCH from the offset the server answered last (after a failed piece: to HEAD)"
            + " in %s", requests).isEqualTo(answered);
        long piece = Math.min(CHUNK, CONTENT.length - offset);
        sent += piece;
        int status = r.path("status").asInt();
        if (status == 204) {
          answered = acknowledged = r.path("uploadOffset").asLong();
        } else if ((status == 409 || status == 423) && !failed.isEmpty()) {
          refused.add(offset);
          refusedBytes += piece;
          answered = null;
        } else {
          failed.add(offset);
          answered = null;
        }
      } else if (is(r, "HEAD") && r.path("status").asInt() == 200) {
        answered = r.path("uploadOffset").asLong();
        assertThat(answered).as("HEAD keeps what was acknowledged").isGreaterThanOrEqualTo(acknowledged);
      }
    }
    assertThat(failed).as("the pieces cut off or failed: the one in flight, in %s", requests)
        .containsExactly(interruptedAt);
    assertThat(refused).as("retries refused with 409: of the piece in flight, in %s", requests)
        .allMatch(offset -> offset == interruptedAt);
    assertThat(sent - refusedBytes - CONTENT.length)
        .as("bytes put in a PATCH twice, besides refused retries: the piece in flight's at most")
        .isLessThanOrEqualTo(CHUNK);
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
      List<JsonNode> requests = requests(result);
      assertThat(requests).extracting(r -> r.path("method").asText())
          .containsExactly("POST", "PATCH", "PATCH", "PATCH", "PATCH", "PATCH", "PATCH");
      assertThat(requests).filteredOn(r -> is(r, "PATCH")).extracting(r -> r.path("status").asInt())
          .containsOnly(204);
    }
  }

  @Test
  void nodeResumesAfterTheServerIsKilledMidPatch() throws Exception {
    resumesAfterTheServerIsKilled(this::inNode, true);
  }

  @Test
  void nodeResumesOnTheSameNodeAfterACutConnection() throws Exception {
    resumesOnTheSameNodeAfterACut(this::inNode);
  }

  @Test
  void nodeResumesAfterACutConnectionOnTheOtherNode() throws Exception {
    resumesOnTheOtherNodeAfterACut(this::inNode);
  }

  /**
   * After a cut, the client's HEAD meets another request committing the upload (given here by
   * the proxy: so small a completion is too quick to meet) and is answered 423 with Retry-After:
   * tus-js-client asks again on its retryDelays and keeps its upload. To any other 4xx answer to
   * its HEAD it forgets the upload and sends the whole file again as a new one (a second Binary).
   */
  @Test
  void nodeAsksAgainAfterAHeadAnswered423AndKeepsItsUpload() throws Exception {
    try (CuttingProxy proxy = new CuttingProxy();
        TestServer node = TestServer.start(Map.of("FHIRBOX_BASE_URL", proxy.baseUrl()));
        Upload upload = inNode(proxy.forwardTo(node.server().port()).baseUrl())) {
      proxy.answerOnce("HEAD /" + Tus.CREATE + "/",
          "HTTP/1.1 423 Locked\r\nTus-Resumable: 1.0.0\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n");

      resumesAfterACut(proxy, upload, node);

      assertThat(proxy.answered()).as("HEADs answered 423").isEqualTo(1);
    }
  }

  @Test
  void aBrowserOnAnotherOriginResumesAfterTheServerIsKilledBetweenPieces() throws Exception {
    resumesAfterTheServerIsKilled(this::inChromium, false);
  }

  @Test
  void aBrowserOnAnotherOriginResumesOnTheSameNodeAfterACutConnection() throws Exception {
    resumesOnTheSameNodeAfterACut(this::inChromium);
  }

  @Test
  void aBrowserOnAnotherOriginResumesOnTheOtherNodeAfterACutConnection() throws Exception {
    resumesOnTheOtherNodeAfterACut(this::inChromium);
  }

  /**
   * The client is held before the PATCH halfway; the server is killed with SIGKILL then, or
   * ({@code midPatch}) once that PATCH is under way and a proxy in front has passed half of the
   * piece on and holds back the rest, so that the server dies reading it. Another server starts on
   * the same data and port, and the client, on its {@code retryDelays}, resumes.
   */
  private void resumesAfterTheServerIsKilled(Uploader uploader, boolean midPatch) throws Exception {
    Path data = work.resolve("data");
    try (CuttingProxy proxy = new CuttingProxy()) {
      Map<String, String> settings = new HashMap<>(Map.of("FHIRBOX_CORS_ORIGINS", chromium.pageOrigin()));
      if (midPatch) {
        settings.put("FHIRBOX_BASE_URL", proxy.baseUrl());
      }
      ServerJvm first = ServerJvm.start(data, 0, settings);
      ServerJvm second = null;
      String base = midPatch ? proxy.forwardTo(first.port()).baseUrl() : first.baseUrl();
      try (Upload upload = uploader.start(base)) {
        long pausedAt = upload.paused();
        assertThat(pausedAt).isEqualTo(HALFWAY);
        if (midPatch) {
          proxy.stallAfter(CHUNK / 2);
          upload.go();
          Poll.until("half of the piece through the proxy", () -> proxy.stalls() == 1);
          first.kill();
        } else {
          first.kill();
          upload.go(); // the PATCH meets a dead server; the client waits and tries again
        }
        second = ServerJvm.start(data, first.port(), settings);
        JsonNode result = upload.result();

        assertStored(second.client(), result, CONTENT);
        assertResumed(result, base, pausedAt);
      } finally {
        first.kill();
        if (second != null) {
          second.kill();
        }
      }
    }
  }

  /** One node behind a proxy that cuts the client's connection halfway through the piece it was held before. */
  private void resumesOnTheSameNodeAfterACut(Uploader uploader) throws Exception {
    try (CuttingProxy proxy = new CuttingProxy();
        TestServer node = TestServer.start(Map.of("FHIRBOX_BASE_URL", proxy.baseUrl(),
            "FHIRBOX_CORS_ORIGINS", chromium.pageOrigin()));
        Upload upload = uploader.start(proxy.forwardTo(node.server().port()).baseUrl())) {
      resumesAfterACut(proxy, upload, node);
    }
  }

  /**
   * Two nodes behind one address (the proxy, as a load balancer), sharing PostgreSQL and S3: the
   * client starts on node a, and the balancer moves it to node b as it cuts the connection.
   */
  private void resumesOnTheOtherNodeAfterACut(Uploader uploader) throws Exception {
    try (CuttingProxy balancer = new CuttingProxy();
        TwoNodes nodes = TwoNodes.start(Map.of("FHIRBOX_BASE_URL", balancer.baseUrl(),
            "FHIRBOX_CORS_ORIGINS", chromium.pageOrigin()));
        Upload upload = uploader.start(balancer.forwardTo(nodes.a().server().port()).baseUrl())) {
      resumesAfterACut(balancer, upload, nodes.b());
    }
  }

  /** Cuts the connection halfway through the piece the client holds before; it resumes on {@code next}. */
  private static void resumesAfterACut(CuttingProxy proxy, Upload upload, TestServer next) throws Exception {
    long pausedAt = upload.paused();
    assertThat(pausedAt).isEqualTo(HALFWAY);

    proxy.forwardTo(next.server().port()); // new connections; the one under way stays where it is
    if (upload.resendsOnReusedConnections()) {
      // the held client's idle connection goes, so that the piece goes on a new one: a piece
      // that broke on a reused connection Chromium sends again by itself, and tus-js-client
      // would never see the cut
      proxy.dropConnections();
    }
    proxy.cutAfter(CHUNK / 2);
    upload.go();
    JsonNode result = upload.result();

    assertThat(proxy.cuts()).isEqualTo(1);
    assertStored(next.client(), result, CONTENT);
    assertResumed(result, proxy.baseUrl(), pausedAt);
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
