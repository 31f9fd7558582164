package org.fhirbox.scaleout;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.fhirbox.auth.AppClients;
import org.fhirbox.auth.ClientProfile;
import org.fhirbox.http.AppRoutes;
import org.fhirbox.signing.SigningKeys;
import org.fhirbox.signing.StorageUrlSigner;
import org.fhirbox.storage.S3BlobStore;
import org.fhirbox.storage.S3Settings;
import org.fhirbox.storage.StallingStream;
import org.fhirbox.testing.ConditionalRace;
import org.fhirbox.testing.FormBrowser;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.S3Server;
import org.fhirbox.testing.TestClock;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.SmartApp;
import org.fhirbox.testing.TestBytes;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.Tus;
import org.fhirbox.testing.TwoNodes;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Scale-out: stateless nodes sharing one PostgreSQL database and one S3 server (s3proxy with
 * signature checking). Whatever a request needs must be shared, never local to a node.
 */
@SlowTest
class MultiNodeTest {
  static TwoNodes nodes;
  static Map<String, String> shared;
  static TestServer a;
  static TestServer b;
  static final TestClock clock = new TestClock(Instant.now());

  @BeforeAll
  static void start() throws Exception {
    // the least grace, 20 minutes: the sweep test moves the shared clock past it, and tokens stay valid.
    // No FHIRBOX_SIGNING_KEYS: the nodes find the key of signed URLs in the database.
    nodes = TwoNodes.start(Map.of("FHIRBOX_TOKEN_ISSUER", "https://fhirbox.example.org/",
        "FHIRBOX_ORPHAN_GRACE", "1200"), clock, false);
    shared = nodes.shared();
    a = nodes.a();
    b = nodes.b();
  }

  @AfterAll
  static void stop() throws Exception {
    nodes.close();
  }

  static String token(TestServer node) {
    HttpResponse<String> r = node.client().send(node.client().request("oauth2/token")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")));
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body().replaceAll(".*\"access_token\":\"([^\"]+)\".*", "$1");
  }

  static String signedUrl(String binaryJson) {
    return binaryJson.replaceAll(".*\"url\":\"([^\"]+)\".*", "$1");
  }

  @Test
  void uploadOnOneNodeReadAndSignOnTheOther() {
    byte[] content = new byte[12 << 20];
    new java.util.Random(7).nextBytes(content);
    HttpResponse<String> created = a.client().postBytes("fhir/R4/Binary", "video/mp4", content);
    assertThat(created.statusCode()).isEqualTo(201);
    String id = a.client().parse(created, Binary.class).getIdElement().getIdPart();

    HttpResponse<byte[]> raw = b.client().sendBytes(b.client().request("fhir/R4/Binary/" + id).header("Accept", "*/*"));
    assertThat(raw.statusCode()).isEqualTo(200);
    assertThat(raw.body()).isEqualTo(content);

    // A URL signed by node B, served by node A: only the host differs, and it is not signed.
    String fromB = signedUrl(b.client().get("fhir/R4/Binary/" + id).body());
    assertThat(fromB).startsWith(b.baseUrl() + "storage/" + id + "/1?");
    String onA = fromB.replace(b.baseUrl(), a.baseUrl());
    HttpResponse<byte[]> ranged = a.client().sendBytes(a.client().request(onA).header("Range", "bytes=100-199"));
    assertThat(ranged.statusCode()).isEqualTo(206);
    assertThat(ranged.body()).isEqualTo(java.util.Arrays.copyOfRange(content, 100, 200));

    // Tokens issued by one node are accepted by the other (the signing key lives in the database).
    String tokenFromA = token(a);
    TestClient bearer = new TestClient(b.baseUrl()).withHeader("Authorization", "Bearer " + tokenFromA);
    assertThat(bearer.get("fhir/R4/Binary/" + id).statusCode()).isEqualTo(200);
  }

  @Test
  void concurrentConditionalCreatesOnBothNodesCreateOnePatient() throws Exception {
    ConditionalRace.run(List.of(a.client(), b.client()), "create-" + java.util.UUID.randomUUID(), false);
  }

  @Test
  void concurrentConditionalUpdatesOnBothNodesThatMatchNothingCreateOnePatient() throws Exception {
    ConditionalRace.run(List.of(a.client(), b.client()), "update-" + java.util.UUID.randomUUID(), true);
  }

  @Test
  void aUrlSignedOnOneNodeWithoutConfiguredSigningKeysIsServedByTheOther() {
    assertThat(shared).doesNotContainKey("FHIRBOX_SIGNING_KEYS");
    HttpResponse<String> created = a.client().postBytes("fhir/R4/Binary", "text/plain",
        "signed on a".getBytes(StandardCharsets.UTF_8));
    String id = a.client().parse(created, Binary.class).getIdElement().getIdPart();
    String fromA = signedUrl(a.client().get("fhir/R4/Binary/" + id).body());
    assertThat(fromA).startsWith(a.baseUrl() + "storage/" + id + "/1?");

    HttpResponse<String> onB = b.client().send(b.client().request(fromA.replace(a.baseUrl(), b.baseUrl())));
    assertThat(onB.statusCode()).isEqualTo(200);
    assertThat(onB.body()).isEqualTo("signed on a");
  }

  @Test
  void aShareLinkEndedByADeletionOnTheOtherNodeStaysEndedWhenTheBinaryIsCreatedAgain() {
    HttpResponse<String> created = a.client().postBytes("fhir/R4/Binary", "text/plain",
        "shared, then deleted".getBytes(StandardCharsets.UTF_8));
    String id = a.client().parse(created, Binary.class).getIdElement().getIdPart();
    HttpResponse<String> asked = a.client().get("fhir/R4/Binary/" + id + "/$presigned-url?expiresIn=86400");
    assertThat(asked.statusCode()).isEqualTo(200);
    String link = asked.body().replaceAll("(?s).*\"valueUrl\":\"([^\"]+)\".*", "$1");
    assertThat(link).contains("&Share=1");
    assertThat(a.client().send(a.client().request(link)).body()).isEqualTo("shared, then deleted");

    assertThat(b.client().delete("fhir/R4/Binary/" + id).statusCode()).isEqualTo(200);
    assertThat(a.client().send(a.client().request(link)).statusCode()).isEqualTo(410);
    // an update that creates the Binary again (version 3) brings none of its old share links back
    HttpResponse<String> again = b.client().send(b.client().request("fhir/R4/Binary/" + id)
        .header("Content-Type", "text/plain").PUT(HttpRequest.BodyPublishers.ofString("created again")));
    assertThat(again.statusCode()).isEqualTo(201);
    HttpResponse<String> afterwards = a.client().send(a.client().request(link));
    assertThat(afterwards.statusCode()).isEqualTo(410);
    assertThat(afterwards.body()).contains("was deleted; its share links ended with it");
    String onB = link.replace(a.baseUrl(), b.baseUrl());
    assertThat(b.client().send(b.client().request(onB)).statusCode()).isEqualTo(410);
  }

  @Test
  void aKeyFileLeftInTheDataFolderStillVerifiesTheUrlsItSigned() throws Exception {
    HttpResponse<String> created = a.client().postBytes("fhir/R4/Binary", "text/plain",
        "signed with the file".getBytes(StandardCharsets.UTF_8));
    String id = a.client().parse(created, Binary.class).getIdElement().getIdPart();
    // what a node on this database signed with before the key moved into the database
    Path data = Files.createTempDirectory("fhirbox-keyfile");
    try {
      Files.writeString(data.resolve(SigningKeys.FILE_NAME),
          "kfile:" + Base64.getEncoder().encodeToString(TestBytes.random(32, 7)) + "\n");
      SigningKeys written = SigningKeys.readIfPresent(data).orElseThrow();
      Map<String, String> settings = new HashMap<>(shared);
      settings.put("FHIRBOX_DATA_DIR", data.toString());
      try (TestServer c = TestServer.start(settings, clock)) {
        String old = new StorageUrlSigner(written, Duration.ofHours(1), clock).sign(c.baseUrl(), id, "1", null);
        assertThat(c.client().send(c.client().request(old)).body()).isEqualTo("signed with the file");

        // new URLs are signed with the database's key, which every node honours
        String fresh = signedUrl(c.client().get("fhir/R4/Binary/" + id).body());
        assertThat(fresh).doesNotContain("KeyId=" + written.currentKeyId());
        assertThat(b.client().send(b.client().request(fresh.replace(c.baseUrl(), b.baseUrl()))).statusCode())
            .isEqualTo(200);
      }
    } finally {
      try (var files = Files.walk(data)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  @Test
  void concurrentUpdatesAcrossNodesEachGetTheirOwnVersion() throws Exception {
    Patient p = a.client().parse(a.client().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"),
        Patient.class);
    String id = p.getIdElement().getIdPart();
    // a checked secret on each node first (the shared clock may have moved past the last one):
    // ten first checks of one client at once would be more than the throttle lets run together
    assertThat(b.client().get("fhir/R4/Patient/" + id).statusCode()).isEqualTo(200);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        TestServer node = i % 2 == 0 ? a : b;
        String body = "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\"N" + i + "\"}]}";
        results.add(pool.submit(() -> node.client().putJson("fhir/R4/Patient/" + id, body).statusCode()));
      }
      for (Future<Integer> f : results) {
        assertThat(f.get()).isEqualTo(200);
      }
    } finally {
      pool.shutdownNow();
    }
    Bundle history = b.client().parse(b.client().get("fhir/R4/Patient/" + id + "/_history?_count=100"),
        Bundle.class);
    assertThat(history.getEntry()).hasSize(21);
    assertThat(history.getEntry()).extracting(e -> e.getResource().getMeta().getVersionId()).doesNotHaveDuplicates();
    assertThat(a.client().parse(a.client().get("fhir/R4/Patient/" + id), Patient.class).getMeta().getVersionId())
        .isEqualTo("21");
  }

  @Test
  void aNodeStartedLaterWithAnEmptyDataDirServesEverything() throws Exception {
    HttpResponse<String> created = a.client().postBytes("fhir/R4/Binary", "text/plain",
        "from node a".getBytes(StandardCharsets.UTF_8));
    String id = a.client().parse(created, Binary.class).getIdElement().getIdPart();
    String patient = a.client().postJson("fhir/R4/Patient",
        "{\"resourceType\":\"Patient\",\"photo\":[{\"url\":\"Binary/" + id + "\"}]}").body();
    String patientId = patient.replaceAll(".*?\"id\":\"([^\"]+)\".*", "$1");
    try (TestServer c = TestServer.start(shared)) {
      Patient read = c.client().parse(c.client().get("fhir/R4/Patient/" + patientId), Patient.class);
      String url = read.getPhotoFirstRep().getUrl();
      assertThat(url).startsWith(c.baseUrl() + "storage/" + id + "/1?");
      HttpResponse<String> viaC = c.client().send(c.client().request(url));
      assertThat(viaC.body()).isEqualTo("from node a");
      HttpResponse<String> viaB = b.client().send(b.client().request(url.replace(c.baseUrl(), b.baseUrl())));
      assertThat(viaB.body()).isEqualTo("from node a");
      assertThat(c.client().get("readyz").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void aSlowUploadOnOneNodeOutlivesTheSweepOfTheOther() throws Exception {
    int size = 7 << 20;
    // 6 MiB, then nothing until resumed: node A has sent part 1 (5 MiB) and waits for part 2
    StallingStream body = new StallingStream(new ByteArrayInputStream(new byte[size]), 6 << 20);
    // the clock stands still between tests: bring it to the time S3 dates parts by
    clock.advance(Duration.between(clock.instant(), Instant.now()));
    ExecutorService client = Executors.newSingleThreadExecutor();
    try (var s3 = S3BlobStore.newClient(S3Settings.builder(nodes.bucket()).endpoint(nodes.s3().endpoint())
        .pathStyle(true).build(), S3Server.credentials())) {
      Future<HttpResponse<String>> upload = client.submit(() -> a.client().send(a.client().request("fhir/R4/Binary")
          .header("Content-Type", "application/octet-stream")
          .POST(HttpRequest.BodyPublishers.ofInputStream(() -> body))));
      assertThat(body.stalled.await(30, TimeUnit.SECONDS)).isTrue();
      Poll.until("part 1 stored", () -> s3.listMultipartUploads(r -> r.bucket(nodes.bucket())).uploads().stream()
          .mapToInt(u -> s3.listParts(r -> r.bucket(nodes.bucket()).key(u.key()).uploadId(u.uploadId())).parts()
              .size()).sum(), parts -> parts == 1);

      // past the grace of 20 minutes since part 1; node A's lease ended less than the grace ago
      clock.advance(Duration.ofSeconds(1230));
      b.server().sweeper().sweep();
      assertThat(s3.listMultipartUploads(r -> r.bucket(nodes.bucket())).uploads()).hasSize(1);

      body.resume.countDown();
      assertThat(upload.get(60, TimeUnit.SECONDS).statusCode()).isEqualTo(201);
    } finally {
      body.resume.countDown();
      client.shutdownNow();
    }
  }

  @Test
  void theWebAppSignsPeopleInThroughEitherNodeWhenBothRegisterItsClientAtOnce() throws Exception {
    // The nodes' base URLs differ (their ports): each registers its own app page with the project's
    // app client when someone first opens the sign-in page through it.
    String created = "race-" + java.util.UUID.randomUUID().toString().substring(0, 8);
    SmartApp.user(a, created, "ada@example.org", "Practitioner/1", "user/*.rs");
    // each node's first sign-in page, which registers nothing (no users), so that neither is slow to come
    assertThat(List.of(signInPage(a, "nobody-here"), signInPage(b, "nobody-here"))).containsExactly(200, 200);
    assertThat(signInPagesOpenedAtOnce(created)).as("both insert the client").containsExactly(200, 200);
    assertThat(List.of(signInPage(a, created), signInPage(b, created))).containsExactly(200, 200);

    String extended = "race-" + java.util.UUID.randomUUID().toString().substring(0, 8);
    SmartApp.user(a, extended, "ada@example.org", "Practitioner/1", "user/*.rs");
    a.server().auth().clients().createPublicIfAbsent("fhirbox-app." + extended, extended, AppClients.SCOPE,
        ClientProfile.of(true, true, List.of("https://elsewhere.example/app/")));
    assertThat(signInPagesOpenedAtOnce(extended)).as("both extend its redirect URIs").containsExactly(200, 200);
    assertThat(List.of(signInPage(a, extended), signInPage(b, extended))).containsExactly(200, 200);
    assertThat(a.server().auth().clients().find("fhirbox-app." + extended).orElseThrow().redirectUris())
        .containsExactlyInAnyOrder("https://elsewhere.example/app/", AppRoutes.appUrl(a.baseUrl()),
            AppRoutes.appUrl(b.baseUrl()));
  }

  /**
   * The statuses of the app's sign-in page of {@code project} opened through node A and node B at
   * once, each node having read the app's client before either writes it: the test holds a lock
   * on the table that lets reads through and holds writes until both nodes wait on it.
   */
  private static List<Integer> signInPagesOpenedAtOnce(String project) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (Connection db = DriverManager.getConnection(shared.get("FHIRBOX_DATABASE_URL"));
        Statement st = db.createStatement()) {
      db.setAutoCommit(false);
      st.execute("LOCK TABLE oauth_client IN EXCLUSIVE MODE");
      Future<Integer> viaA = pool.submit(() -> signInPage(a, project));
      Future<Integer> viaB = pool.submit(() -> signInPage(b, project));
      // the second write within 1.5 s of the first, well within the nodes' lock_timeout of 2 s
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      int waiting = 0;
      while (waiting < 2 && System.nanoTime() < deadline) {
        Thread.sleep(10);
        try (ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity"
            + " WHERE pg_backend_pid() = ANY (pg_blocking_pids(pid))")) {
          rs.next();
          if (waiting == 0 && rs.getInt(1) > 0) {
            deadline = Math.min(deadline, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500));
          }
          waiting = rs.getInt(1);
        }
      }
      db.commit();
      assertThat(waiting).as("writes of both nodes waiting for the test's lock (then answered %s, %s)",
          viaA.get(30, TimeUnit.SECONDS), viaB.get(30, TimeUnit.SECONDS)).isEqualTo(2);
      return List.of(viaA.get(30, TimeUnit.SECONDS), viaB.get(30, TimeUnit.SECONDS));
    } finally {
      pool.shutdownNow();
    }
  }

  /** The status of the web app's sign-in page of {@code project} opened through {@code node}. */
  private static int signInPage(TestServer node, String project) {
    String url = node.baseUrl() + "oauth2/authorize?" + FormBrowser.encode(Map.of("response_type", "code",
        "client_id", "fhirbox-app." + project, "redirect_uri", AppRoutes.appUrl(node.baseUrl()),
        "scope", "openid user/*.rs", "state", "s-1", "aud", node.fhirBase(),
        "code_challenge", SmartApp.challenge("a-verifier-of-more-than-forty-three-characters-0123"),
        "code_challenge_method", "S256"));
    TestClient browser = new TestClient(node.baseUrl());
    return browser.send(browser.request(url).GET()).statusCode();
  }

  @Test
  void aPieceWhosePartTheStoreIsSlowToTakeKeepsItsUploadFromANodeWithAnotherPartSize() throws Exception {
    int mib = 1 << 20;
    byte[] content = TestBytes.random(13 * mib, 64);
    Map<String, String> settings = new HashMap<>(shared);
    settings.put("FHIRBOX_S3_PART_SIZE", Integer.toString(6 * mib)); // a rolling change of the part size
    try (TestServer c = TestServer.start(settings, clock)) {
      Tus onA = new Tus(a.client());
      Tus onC = new Tus(c.client());
      String url = onA.upload(content.length, null);
      String urlOnC = c.baseUrl() + url.substring(url.indexOf("fhir/R4/"));
      // part 1 (5 MiB on node A) and a tail of 2 MiB
      assertThat(onA.patch(url, 0, Arrays.copyOf(content, 7 * mib)).statusCode()).isEqualTo(204);

      S3Server.HeldPart slow = nodes.s3().holdPart(2);
      ExecutorService client = Executors.newSingleThreadExecutor();
      try {
        Future<HttpResponse<String>> onSlowStore = client.submit(() -> onA.patch(url, 7 * mib,
            Arrays.copyOfRange(content, 7 * mib, 12 * mib)));
        assertThat(slow.arrived()).as("node A's part 2 at the store").isTrue();
        // longer than a lease (15 s) passes while the store takes the part, as time does: step by step
        for (int i = 0; i < 4; i++) {
          clock.advance(Duration.ofSeconds(4));
          Thread.sleep(300);
        }
        // the client gave up on node A and sends the piece again through node C (6 MiB parts)
        HttpResponse<String> again = onC.patch(urlOnC, 7 * mib, Arrays.copyOfRange(content, 7 * mib, 12 * mib));
        slow.release();
        HttpResponse<String> first = onSlowStore.get(60, TimeUnit.SECONDS);
        // node A kept its lease while the store took its part: the piece sent again waits for it
        assertThat(again.statusCode()).as(again.body()).isEqualTo(423);
        assertThat(first.statusCode()).as(first.body()).isEqualTo(204);
      } finally {
        slow.release();
        client.shutdownNow();
      }

      assertThat(onC.offset(urlOnC)).isEqualTo(12 * mib);
      HttpResponse<String> last = onC.patch(urlOnC, 12 * mib, Arrays.copyOfRange(content, 12 * mib, 13 * mib));
      assertThat(last.statusCode()).as(last.body()).isEqualTo(204);
      assertThat(b.client().sendBytes(b.client().request("fhir/R4/" + Tus.binaryVersion(last))
          .header("Accept", "*/*").GET()).body()).isEqualTo(content);
    }
  }
}
