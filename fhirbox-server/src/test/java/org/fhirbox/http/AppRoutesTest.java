package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.fhirbox.auth.AppClients;
import org.fhirbox.auth.OAuthClient;
import org.fhirbox.testing.FormBrowser;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.SmartApp;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The web app's routes: caching, compression, CSP, its first-party client; and what it needs of the API. */
class AppRoutesTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern IMPORT = Pattern.compile("from '\\./([a-z-]+\\.js)'");
  private static TestServer server;
  private static TestClient http;
  private static int port;

  @BeforeAll
  static void start() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    server = TestServer.start(Map.of("FHIRBOX_PORT", Integer.toString(port),
        "FHIRBOX_INGEST_ALLOWED_URL_PREFIXES", "http://127.0.0.1:" + port + "/nowhere/",
        "FHIRBOX_INGEST_POLL_MILLIS", "50"));
    http = new TestClient(server.baseUrl());
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static HttpResponse<byte[]> get(String path, String... headers) {
    HttpRequest.Builder b = http.request(path).GET();
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.sendBytes(b);
  }

  @Test
  void theRootSendsABrowserToTheApp() {
    HttpResponse<byte[]> r = get("");
    assertThat(r.statusCode()).isEqualTo(302);
    assertThat(r.headers().firstValue("Location")).contains(server.baseUrl() + "app/");
    assertThat(get("app").headers().firstValue("Location")).contains(server.baseUrl() + "app/");
  }

  @Test
  void indexIsRevalidatedUnderAStrictPolicyAndNamesTheVersionedFiles() throws Exception {
    HttpResponse<byte[]> r = get("app/", "Accept-Encoding", "gzip, br");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Cache-Control")).contains("no-cache");
    assertThat(r.headers().firstValue("Content-Encoding")).contains("gzip");
    assertThat(r.headers().firstValue("Vary")).contains("Accept-Encoding");
    String csp = r.headers().firstValue("Content-Security-Policy").orElseThrow();
    // a page that opened the app (window.open) keeps no handle to it, so it cannot later send the
    // app's tab to a look-alike sign-in page
    assertThat(r.headers().firstValue("Cross-Origin-Opener-Policy")).contains("same-origin");
    assertThat(csp).contains("script-src " + server.baseUrl() + "app/v/;", "frame-ancestors 'none'", "object-src 'none'")
        .doesNotContain("unsafe-inline", "unsafe-eval");
    String html = gunzip(r.body());
    assertThat(html).doesNotContain("@VERSION@").doesNotContain("<script>").contains("type=\"module\"");
    String etag = r.headers().firstValue("ETag").orElseThrow();
    assertThat(etag).startsWith("\"");
    HttpResponse<byte[]> notModified = get("app/", "Accept-Encoding", "gzip", "If-None-Match", etag);
    assertThat(notModified.statusCode()).isEqualTo(304);
    // a 304's Content-Length may only be the one a 200 would send (RFC 9110 §8.6): 0 is not it
    assertThat(notModified.headers().firstValue("Content-Length")).as("304's Content-Length").isEmpty();
    // RFC 9110 §5.3, §13.1.2: every field line is one list of entity tags, parsed, not searched as text
    assertThat(get("app/", "Accept-Encoding", "gzip", "If-None-Match", "\"other\"", "If-None-Match", etag)
        .statusCode()).as("the tag on a second field line").isEqualTo(304);
    assertThat(get("app/", "Accept-Encoding", "gzip", "If-None-Match", "x" + etag).statusCode())
        .as("a malformed value that holds the tag").isEqualTo(200);

    HttpResponse<byte[]> plain = get("app/");
    assertThat(plain.headers().firstValue("Content-Encoding")).isEmpty();
    assertThat(new String(plain.body())).isEqualTo(html);
    assertThat(get("app/", "Accept-Encoding", "gzip;q=0").headers().firstValue("Content-Encoding")).isEmpty();
    // RFC 9110 §12.4.2: the weight's "q" is case-insensitive
    assertThat(get("app/", "Accept-Encoding", "gzip; Q=0").headers().firstValue("Content-Encoding")).isEmpty();
  }

  @Test
  void theAppsFilesAreImmutableUnderTheirVersionAndTheFirstLoadIsSmall() throws Exception {
    String html = new String(get("app/").body());
    Matcher v = Pattern.compile("v/([0-9a-f]{16})/js/main\\.js").matcher(html);
    assertThat(v.find()).as(html).isTrue();
    String base = "app/v/" + v.group(1) + "/";

    HttpResponse<byte[]> main = get(base + "js/main.js", "Accept-Encoding", "gzip");
    assertThat(main.statusCode()).isEqualTo(200);
    assertThat(main.headers().firstValue("Cache-Control")).contains("public, max-age=31536000, immutable");
    assertThat(main.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
        .startsWith("text/javascript"));
    assertThat(get(base + "js/nothing.js").statusCode()).isEqualTo(404);
    // the page template is only ever the app's page, with its version filled in
    assertThat(get(base + "index.html").statusCode()).isEqualTo(404);
    // a page of another version (another node during a rolling deploy) gets this node's files,
    // revalidated rather than cached for good
    HttpResponse<byte[]> other = get("app/v/0000000000000000/js/main.js");
    assertThat(other.statusCode()).isEqualTo(200);
    assertThat(other.headers().firstValue("Cache-Control")).contains("no-cache");
    assertThat(other.body()).isEqualTo(get(base + "js/main.js").body());

    // every module main.js reaches, as a first load fetches them: compressed, under 300 KB in all
    long total = get("app/", "Accept-Encoding", "gzip").body().length
        + get(base + "app.css", "Accept-Encoding", "gzip").body().length
        + get(base + "icon.svg", "Accept-Encoding", "gzip").body().length;
    Set<String> seen = new LinkedHashSet<>();
    Deque<String> next = new ArrayDeque<>(java.util.List.of("main.js"));
    while (!next.isEmpty()) {
      String module = next.pop();
      if (!seen.add(module)) {
        continue;
      }
      HttpResponse<byte[]> r = get(base + "js/" + module, "Accept-Encoding", "gzip");
      assertThat(r.statusCode()).as(module).isEqualTo(200);
      total += r.body().length;
      Matcher m = IMPORT.matcher(gunzip(r.body()));
      while (m.find()) {
        next.push(m.group(1));
      }
    }
    assertThat(seen).contains("auth.js", "api.js", "tus.js", "upload.js", "file.js", "admin.js");
    assertThat(total).as("bytes of the first load, gzip").isLessThan(300_000);
  }

  @Test
  void theServerRegistersItsAppAsAFirstPartyPublicClient() throws Exception {
    JsonNode config = JSON.readTree(get("app/config.json").body());
    assertThat(config.get("clientId").asText()).isEqualTo(AppClients.APP_CLIENT);
    assertThat(config.get("redirectUri").asText()).isEqualTo(server.baseUrl() + "app/");
    OAuthClient app = server.server().auth().clients().find(AppClients.APP_CLIENT).orElseThrow();
    assertThat(app.publicClient()).isTrue();
    assertThat(app.firstParty()).isTrue();
    assertThat(app.redirectUris()).containsExactly(server.baseUrl() + "app/");
    assertThat(app.project()).isEqualTo("default");

  }

  @Test
  void theAppLoadsImagesMediaAndFramesOnlyFromWhereThisServersSignedUrlsPoint() throws Exception {
    String origin = server.baseUrl().substring(0, server.baseUrl().length() - 1);
    JsonNode config = JSON.readTree(get("app/config.json").body());
    assertThat(config.get("storageUrl").asText()).isEqualTo(server.baseUrl() + "storage/");
    assertThat(config.get("objectStoreUrl").isNull()).as("no bucket or CDN in the default mode").isTrue();
    assertThat(config.get("storageOrigins")).extracting(JsonNode::asText).containsExactly(origin);

    String html = new String(get("app/").body());
    Matcher v = Pattern.compile("v/([0-9a-f]{16})/js/main\\.js").matcher(html);
    assertThat(v.find()).as(html).isTrue();
    String sources = "'self' " + origin + ";";
    for (String path : new String[] {"app/", "app/config.json", "app/v/" + v.group(1) + "/js/main.js"}) {
      String csp = get(path).headers().firstValue("Content-Security-Policy").orElseThrow();
      assertThat(csp).as(path).contains("img-src " + sources, "media-src " + sources, "frame-src " + sources)
          .doesNotContain("https:;", "https: ", "blob:");
    }

    TestClient admin = server.client();
    String id = TestClient.createdId(admin.postBytes("fhir/R4/Binary", "text/plain", "a note".getBytes()));
    String signed = JSON.readTree(admin.get("fhir/R4/Binary/" + id + "/$presigned-url").body())
        .get("parameter").get(0).get("valueUrl").asText();
    assertThat(signed).startsWith(config.get("storageUrl").asText() + id + "/");
  }

  @Test
  void theAppRunsScriptOnlyFromItsOwnFolderNeverAStoredFileOfItsOrigin() throws Exception {
    // anyone who may upload can put a script on this origin: a stored text/javascript file, which
    // a <script src> runs whatever its Content-Disposition says, so 'self' would let it run here
    TestClient admin = server.client();
    String id = TestClient.createdId(admin.postBytes("fhir/R4/Binary", "text/javascript",
        "alert(document.domain)".getBytes()));
    String signed = JSON.readTree(admin.get("fhir/R4/Binary/" + id + "/$presigned-url").body())
        .get("parameter").get(0).get("valueUrl").asText();
    HttpResponse<byte[]> stored = http.sendBytes(http.request(signed).GET());
    assertThat(stored.statusCode()).isEqualTo(200);
    assertThat(stored.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
        .startsWith("text/javascript"));

    String html = new String(get("app/").body());
    Matcher v = Pattern.compile("v/([0-9a-f]{16})/js/main\\.js").matcher(html);
    assertThat(v.find()).as(html).isTrue();
    String folder = server.baseUrl() + "app/v/";
    for (String path : new String[] {"app/", "app/config.json", "app/v/" + v.group(1) + "/js/main.js"}) {
      String csp = get(path).headers().firstValue("Content-Security-Policy").orElseThrow();
      // and no markup is ever made from a string, nor a javascript: URL followed (Trusted Types)
      assertThat(csp).as(path).contains("require-trusted-types-for 'script'", "trusted-types 'none'");
      assertThat(csp).as(path).contains("script-src " + folder + ";", "style-src " + folder + ";")
          .doesNotContain("script-src 'self'", "style-src 'self'");
    }
    assertThat(signed).doesNotStartWith(folder);
  }

  /** Opened at another address than the base URL's, the app runs its own files from there. */
  @Test
  void openedUnderAnotherHostTheAppRunsItsOwnFilesFromThere() throws Exception {
    String folder = server.baseUrl() + "app/v/";
    TestClient other = new TestClient("http://127.0.0.1:" + port + "/");
    HttpResponse<byte[]> r = other.sendBytes(other.request("app/").GET());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Security-Policy").orElseThrow())
        .contains("script-src " + folder + " http://127.0.0.1:" + port + "/app/v/;")
        .contains("style-src " + folder + " http://127.0.0.1:" + port + "/app/v/;")
        .doesNotContain("script-src 'self'");
    // under the base URL's own host, its folder alone
    assertThat(get("app/").headers().firstValue("Content-Security-Policy").orElseThrow())
        .contains("script-src " + folder + ";");
  }

  @Test
  void underAnIpv6BaseUrlTheAppMayStillRunItsScript() throws Exception {
    int other;
    try (ServerSocket s = new ServerSocket(0)) {
      other = s.getLocalPort();
    }
    try (TestServer v6 = TestServer.start(Map.of("FHIRBOX_PORT", Integer.toString(other),
        "FHIRBOX_BASE_URL", "http://[::1]:" + other + "/"))) {
      TestClient local = new TestClient("http://127.0.0.1:" + other + "/");
      HttpResponse<byte[]> r = local.sendBytes(local.request("app/").GET());
      assertThat(r.statusCode()).isEqualTo(200);
      // CSP 3 §2.3.1: no host-source names an IPv6 literal, and one the browser cannot use allows no script
      assertThat(r.headers().firstValue("Content-Security-Policy").orElseThrow())
          .contains("script-src 'self';", "style-src 'self';").doesNotContain("[::1]:" + other + "/app");
    }
  }

  @Test
  void neitherTheConfigurationNorTheSignInPageTellsWhetherAProjectHasUsers() throws Exception {
    SmartApp.user(server, "clinic", "app-user@example.org", "Practitioner/1", "user/*.rs");
    HttpResponse<String> withUsers = http.get("app/config.json?project=clinic");
    HttpResponse<String> without = http.get("app/config.json?project=nobody-here");
    assertThat(withUsers.statusCode()).isEqualTo(without.statusCode()).isEqualTo(200);
    assertThat(withUsers.body().replace("clinic", "P")).isEqualTo(without.body().replace("nobody-here", "P"));
    assertThat(JSON.readTree(without.body()).get("clientId").asText()).isEqualTo("fhirbox-app.nobody-here");
    assertThat(server.server().auth().clients().find("fhirbox-app.clinic")).as("nothing registered yet").isEmpty();

    FormBrowser.Page[] refused = new FormBrowser.Page[2];
    String[] projects = {"clinic", "nobody-here"};
    for (int i = 0; i < 2; i++) {
      JsonNode config = JSON.readTree(http.get("app/config.json?project=" + projects[i]).body());
      String url = server.baseUrl() + "oauth2/authorize?" + FormBrowser.encode(Map.of("response_type", "code",
          "client_id", config.get("clientId").asText(), "redirect_uri", config.get("redirectUri").asText(),
          "scope", config.get("scope").asText(), "state", "s-1", "aud", server.fhirBase(),
          "code_challenge", SmartApp.challenge("a-verifier-of-more-than-forty-three-characters-0123"),
          "code_challenge_method", "S256"));
      FormBrowser browser = new FormBrowser();
      FormBrowser.Page signIn = browser.get(url);
      assertThat(signIn.status()).as(projects[i] + ": " + signIn.body()).isEqualTo(200);
      refused[i] = browser.submit(signIn, "oauth2/signin", Map.of("email", "app-user@example.org",
          "password", "not the password"));
    }
    assertThat(refused[0].status()).isEqualTo(refused[1].status()).isEqualTo(200);
    assertThat(refused[1].body()).contains("The email or password is not correct.");
    assertThat(server.server().auth().clients().find("fhirbox-app.clinic").orElseThrow().project())
        .as("registered by its first sign-in page").isEqualTo("clinic");
    assertThat(server.server().auth().clients().find("fhirbox-app.nobody-here")).isEmpty();
    assertThat(server.server().auth().users().list("nobody-here")).isEmpty();

    assertThat(http.get("app/config.json?project=-not-a-name").statusCode()).isEqualTo(400);
  }

  @Test
  void aShareLinkLivesTheChosenLifetime() throws Exception {
    TestClient admin = server.client();
    String id = TestClient.createdId(admin.postBytes("fhir/R4/Binary", "text/plain", "shared".getBytes()));
    HttpResponse<String> r = admin.get("fhir/R4/Binary/" + id + "/$presigned-url?expiresIn=86400");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    String url = JSON.readTree(r.body()).get("parameter").get(0).get("valueUrl").asText();
    long expires = Long.parseLong(url.replaceFirst(".*[?&]Expires=(\\d+).*", "$1"));
    assertThat(expires - Instant.now().getEpochSecond()).isBetween(86_390L, 86_401L);
    assertThat(new TestClient(server.baseUrl()).get(url).body()).isEqualTo("shared");

    for (String bad : new String[] {"59", "604801", "soon"}) {
      HttpResponse<String> refused = admin.get("fhir/R4/Binary/" + id + "/$presigned-url?expiresIn=" + bad);
      assertThat(refused.statusCode()).as(bad).isEqualTo(400);
      assertThat(refused.body()).contains("expiresIn must be whole seconds from 60 to 604800");
    }
  }

  @Test
  void anAdminRetriesAFailedIngestionJob() throws Exception {
    TestClient admin = server.client();
    String url = "http://127.0.0.1:" + port + "/nowhere/missing.png";
    TestClient.createdId(admin.postJson("fhir/R4/Media", "{\"resourceType\":\"Media\",\"status\":\"completed\","
        + "\"content\":{\"contentType\":\"image/png\",\"url\":\"" + url + "\"}}"));
    JsonNode failed = Poll.until("the job fails", () -> job(admin, url), j -> j != null && j.get("state").asText().equals("failed"));
    String id = failed.get("id").asText();

    TestClient reader = new ProjectClients(server).client("default", "system/*.rs");
    assertThat(reader.postJson("admin/jobs/" + id + "/retry", "").statusCode()).isEqualTo(403);
    assertThat(admin.send(admin.request("admin/jobs/" + id + "/retry").GET()).statusCode()).isEqualTo(405);

    HttpResponse<String> retried = admin.postJson("admin/jobs/" + id + "/retry", "");
    assertThat(retried.statusCode()).as(retried.body()).isEqualTo(200);
    JsonNode again = JSON.readTree(retried.body());
    assertThat(again.get("state").asText()).isEqualTo("queued");
    assertThat(again.get("attempts").asInt()).isZero();
    assertThat(again.get("lastError").isNull()).isTrue();
    JsonNode audited = Poll.until("the retry's AuditEvent", () -> JSON.readTree(
        admin.get("fhir/R4/AuditEvent?type=110100&entity-name=" + id).body()).path("entry"), e -> e.size() > 0)
        .get(0).get("resource");
    assertThat(audited.at("/subtype/0/code").asText()).isEqualTo("ingest-job-retried");
    assertThat(audited.at("/agent/0/altId").asText()).isEqualTo(TestServer.ADMIN_ID);
    JsonNode failedAgain = Poll.until("the job fails again", () -> job(admin, url), j -> j.get("state").asText().equals("failed"));
    assertThat(failedAgain.get("attempts").asInt()).as("the worker ran it once more").isEqualTo(1);

    assertThat(admin.postJson("admin/jobs/no-such-job/retry", "").statusCode()).isEqualTo(404);
  }

  private static JsonNode job(TestClient admin, String url) {
    try {
      for (JsonNode j : JSON.readTree(admin.get("admin/jobs").body()).get("jobs")) {
        if (j.get("url").asText().equals(url)) {
          return j;
        }
      }
      return null;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String gunzip(byte[] gz) throws IOException {
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
  }
}
