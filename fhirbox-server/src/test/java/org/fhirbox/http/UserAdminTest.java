package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.auth.AuthModule;
import org.fhirbox.auth.OAuthClient;
import org.fhirbox.auth.PasswordLinks;
import org.fhirbox.auth.Scopes;
import org.fhirbox.auth.SignIn;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestClock;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code /admin/users} over HTTP, as an operator and as project admins use it. */
class UserAdminTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TestClock CLOCK = new TestClock();
  private static TestServer server;
  private static TestClient admin;
  private static ProjectClients clients;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(Map.of(), CLOCK);
    admin = server.client();
    clients = new ProjectClients(server);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static Map<String, Object> user(String project, String email) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("project", project);
    body.put("email", email);
    body.put("name", "Grace Hopper");
    body.put("fhirUser", "Practitioner/gh-1");
    body.put("scope", "user/*.cruds");
    return body;
  }

  private static HttpResponse<String> post(TestClient as, String path, Object body) throws Exception {
    HttpRequest.Builder b = as.request(path).header("Content-Type", "application/json");
    return as.send(body == null ? b.POST(HttpRequest.BodyPublishers.noBody())
        : b.POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))));
  }

  private static JsonNode created(TestClient as, Map<String, Object> body) throws Exception {
    HttpResponse<String> r = post(as, "admin/users", body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return JSON.readTree(r.body());
  }

  private static JsonNode json(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body());
  }

  private static String token(String setPasswordUrl) {
    return setPasswordUrl.substring(setPasswordUrl.indexOf("token=") + "token=".length());
  }

  private static AuthModule auth() {
    return server.server().auth();
  }

  /** An access token for a person, as the sign-in flow issues them (through the bootstrap client). */
  private static TestClient signedIn(String userId) {
    OAuthClient app = auth().clients().find(TestServer.ADMIN_ID).orElseThrow();
    String t = auth().tokens().issue(app, Scopes.parse("user/*.rs"), Optional.of(userId), Optional.empty())
        .accessToken();
    return new TestClient(server.baseUrl()).withHeader("Authorization", "Bearer " + t);
  }

  @Test
  void createdUserComesWithAnAbsoluteOneTimeSetPasswordUrlThatTheListNeverShows() throws Exception {
    Map<String, Object> body = user("clinic-u1", " Grace@Example.org ");
    body.put("admin", true);
    JsonNode u = created(admin, body);

    assertThat(u.get("id").asText()).isNotBlank();
    assertThat(u.get("project").asText()).isEqualTo("clinic-u1");
    assertThat(u.get("email").asText()).isEqualTo("grace@example.org");
    assertThat(u.get("name").asText()).isEqualTo("Grace Hopper");
    assertThat(u.get("fhirUser").asText()).isEqualTo("Practitioner/gh-1");
    assertThat(u.get("scope").asText()).isEqualTo("user/*.cruds admin");
    assertThat(u.get("admin").asBoolean()).isTrue();
    assertThat(u.get("disabled").asBoolean()).isFalse();
    assertThat(u.get("hasPassword").asBoolean()).isFalse();
    String url = u.get("setPasswordUrl").asText();
    assertThat(url).matches(java.util.regex.Pattern.quote(server.baseUrl() + "account/set-password?token=")
        + "[A-Za-z0-9_-]{43}");
    assertThat(Instant.parse(u.get("setPasswordExpires").asText()))
        .isEqualTo(CLOCK.instant().plus(Duration.ofHours(24)));
    assertThat(auth().passwordLinks().check(token(url))).isInstanceOf(PasswordLinks.Open.class);

    HttpResponse<String> list = admin.send(admin.request("admin/users?project=clinic-u1").GET());
    assertThat(list.statusCode()).isEqualTo(200);
    assertThat(json(list).get("users")).singleElement()
        .satisfies(l -> assertThat(l.get("id").asText()).isEqualTo(u.get("id").asText()));
    assertThat(list.body()).doesNotContain(token(url)).doesNotContain("setPasswordUrl").doesNotContain("pbkdf2");
  }

  @Test
  void malformedOrDuplicateUsersAreRefusedWithAnOperationOutcome() throws Exception {
    created(admin, user("clinic-u2", "dup@example.org"));
    HttpResponse<String> dup = post(admin, "admin/users", user("clinic-u2", "DUP@example.org"));
    assertThat(dup.statusCode()).isEqualTo(409);
    assertThat(json(dup).at("/resourceType").asText()).isEqualTo("OperationOutcome");

    Map<String, Object> noEmail = user("clinic-u2", "x@example.org");
    noEmail.remove("email");
    assertOutcome(post(admin, "admin/users", noEmail), 400, "email is required", "email");
    assertOutcome(post(admin, "admin/users", with(user("clinic-u2", "x@example.org"), "email", "not-an-email")), 400,
        "is not an email address", "email");
    assertOutcome(post(admin, "admin/users", with(user("clinic-u2", "x@example.org"), "fhirUser", "Organization/1")),
        400, "fhirUser must be", "fhirUser");
    assertOutcome(post(admin, "admin/users", with(user("clinic-u2", "x@example.org"), "scope", "system/*.cruds")),
        400, "a user's scopes are user/ and patient/ scopes", "scope");
    assertOutcome(post(admin, "admin/users", with(user("clinic-u2", "x@example.org"), "scope", "user/Patient.zz")),
        400, "scope", "scope");
    assertOutcome(post(admin, "admin/users", with(user("clinic-u2", "x@example.org"), "project", "no spaces")), 400,
        "project names", "project");
    // a user's scope is stored as a client's is: each scope once, and at most what its column holds
    StringBuilder distinct = new StringBuilder();
    for (String type : TestServer.FHIR.getResourceTypes()) {
      distinct.append(" user/").append(type).append(".r patient/").append(type).append(".s");
    }
    assertOutcome(post(admin, "admin/users", with(user("clinic-u2", "long@example.org"), "scope",
        distinct.toString().trim())), 400, "at most 4000", "scope");
    HttpResponse<String> wrongMethod = admin.send(admin.request("admin/users").DELETE());
    assertThat(wrongMethod.statusCode()).isEqualTo(405);
    HttpResponse<String> unknown = post(admin, "admin/users/no-such-user/disable", null);
    assertOutcome(unknown, 404, "user 'no-such-user' not found", null);
  }

  @Test
  void aFieldTheAdminApiDoesNotTakeIsRefusedNotIgnored() throws Exception {
    // a misspelt "scope" would otherwise create a client with the default, every system scope
    assertOutcome(post(admin, "admin/clients", Map.of("project", "clinic-u9", "scopes", "system/Patient.rs")), 400,
        "'scopes' is not a field", "scopes");
    HttpResponse<String> none = admin.send(admin.request("admin/clients?project=clinic-u9").GET());
    assertThat(json(none).get("clients")).isEmpty();
    assertOutcome(post(admin, "admin/users", with(user("clinic-u9", "typo@example.org"), "Admin", true)), 400,
        "'Admin' is not a field", "Admin");
    HttpResponse<String> users = admin.send(admin.request("admin/users?project=clinic-u9").GET());
    assertThat(json(users).get("users")).isEmpty();

    HttpResponse<String> made = post(admin, "admin/clients", Map.of("project", "clinic-u9", "scope", "system/Patient.rs"));
    assertThat(made.statusCode()).as(made.body()).isEqualTo(201);
    String id = json(made).get("clientId").asText();
    for (Map.Entry<String, Map<String, Object>> put : Map.of(
        "scope", Map.<String, Object>of("scope", "system/Patient.rs", "admin", true),
        "redirect-uris", Map.<String, Object>of("redirectUris", List.of(), "redirectUri", "https://app.example/cb"))
        .entrySet()) {
      HttpResponse<String> r = admin.send(admin.request("admin/clients/" + id + "/" + put.getKey())
          .header("Content-Type", "application/json")
          .PUT(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(put.getValue()))));
      assertOutcome(r, 400, "is not a field", put.getKey().equals("scope") ? "admin" : "redirectUri");
    }
  }

  @Test
  void aBodyThatIsNotSentAsJsonIsRefusedAndChangesNothing() throws Exception {
    // a cross-site form can post text/plain, a form or multipart without a preflight; only JSON is taken
    String body = JSON.writeValueAsString(Map.of("project", "clinic-json", "scope", "system/Patient.rs"));
    for (String type : List.of("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
        "text/csv", "")) {
      HttpRequest.Builder b = admin.request("admin/clients").POST(HttpRequest.BodyPublishers.ofString(body));
      HttpResponse<String> r = admin.send(type.isEmpty() ? b : b.header("Content-Type", type));
      assertOutcome(r, 415, "send the body as application/json", null);
      HttpRequest.Builder u = admin.request("admin/users")
          .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(user("clinic-json", "form@example.org"))));
      assertOutcome(admin.send(type.isEmpty() ? u : u.header("Content-Type", type)), 415, "application/json", null);
    }
    assertThat(json(admin.send(admin.request("admin/clients?project=clinic-json").GET())).get("clients")).isEmpty();
    assertThat(json(admin.send(admin.request("admin/users?project=clinic-json").GET())).get("users")).isEmpty();

    HttpResponse<String> made = post(admin, "admin/clients", Map.of("project", "clinic-json", "scope", "system/Patient.rs"));
    String id = json(made).get("clientId").asText();
    HttpResponse<String> scope = admin.send(admin.request("admin/clients/" + id + "/scope").header("Content-Type",
        "text/plain").PUT(HttpRequest.BodyPublishers.ofString("{\"scope\":\"system/*.cruds\"}")));
    assertOutcome(scope, 415, "application/json", null);
    // JSON under any JSON type, parameters and case aside, is taken
    HttpResponse<String> uris = admin.send(admin.request("admin/clients/" + id + "/redirect-uris")
        .header("Content-Type", "Application/JSON; charset=utf-8")
        .PUT(HttpRequest.BodyPublishers.ofString("{\"redirectUris\":[]}")));
    assertThat(uris.statusCode()).as(uris.body()).isEqualTo(200);
    assertThat(json(admin.send(admin.request("admin/clients?project=clinic-json").GET())).at("/clients/0/scope")
        .asText()).isEqualTo("system/Patient.rs");
  }

  /**
   * Follows the next links from {@code first} to the end: each entry's {@code key} in order. Each
   * page's Link header names the same next page as its body.
   */
  private static List<String> allPages(String first, String field, String key) throws Exception {
    List<String> seen = new ArrayList<>();
    String url = first;
    for (int pages = 0; url != null; pages++) {
      assertThat(pages).as("pages followed").isLessThan(20);
      HttpResponse<String> r = admin.send(admin.request(url).GET());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      JsonNode body = json(r);
      body.get(field).forEach(n -> seen.add(n.get(key).asText()));
      url = body.path("next").isTextual() ? body.get("next").asText() : null;
      assertThat(r.headers().firstValue("Link"))
          .isEqualTo(url == null ? Optional.empty() : Optional.of("<" + url + ">; rel=\"next\""));
    }
    return seen;
  }

  private static String userIn(String project, String email) {
    return auth().users().create(project, email, "Paged Person", "Practitioner/p-1", "user/*.rs", false)
        .orElseThrow().id();
  }

  @Test
  void usersComePagedByCursorAndAUserCreatedBetweenPagesNeitherRepeatsNorHidesOne() throws Exception {
    List<String> ids = new ArrayList<>();
    // three created in the same millisecond: the id orders them
    for (int i = 0; i < 3; i++) {
      ids.add(userIn("clinic-p1", "same-" + i + "@example.org"));
    }
    CLOCK.advance(Duration.ofSeconds(1));
    ids.add(userIn("clinic-p1", "later@example.org"));
    List<String> ordered = new ArrayList<>(ids.subList(0, 3).stream().sorted().toList());
    ordered.add(ids.get(3));

    HttpResponse<String> first = admin.send(admin.request("admin/users?project=clinic-p1&_count=2").GET());
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    assertThat(json(first).get("users").findValuesAsText("id")).isEqualTo(ordered.subList(0, 2));
    String next = json(first).get("next").asText();
    assertThat(next).startsWith(server.baseUrl() + "admin/users?project=clinic-p1&_count=2&_cursor=");
    HttpResponse<String> head = admin.send(admin.request("admin/users?project=clinic-p1&_count=2")
        .method("HEAD", HttpRequest.BodyPublishers.noBody()));
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
    assertThat(head.headers().firstValue("Link")).contains("<" + next + ">; rel=\"next\"");

    // created after the first page was read: it comes at the end, and nothing before it moves
    CLOCK.advance(Duration.ofSeconds(1));
    ordered.add(userIn("clinic-p1", "meanwhile@example.org"));
    List<String> rest = allPages(next, "users", "id");
    assertThat(rest).isEqualTo(ordered.subList(2, ordered.size()));

    // the first page holds 100 unless _count says otherwise
    for (int i = 0; i < 101; i++) {
      userIn("clinic-p2", "many-" + i + "@example.org");
    }
    HttpResponse<String> many = admin.send(admin.request("admin/users?project=clinic-p2").GET());
    assertThat(json(many).get("users")).hasSize(100);
    assertThat(allPages(server.baseUrl() + "admin/users?project=clinic-p2", "users", "id")).hasSize(101)
        .doesNotHaveDuplicates();
    assertThat(json(admin.send(admin.request("admin/users?project=clinic-p2&_count=1000").GET())).has("next"))
        .isFalse();
  }

  @Test
  void clientsComePagedAndABadCountOrCursorIs400() throws Exception {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ids.add(auth().clients().create("clinic-p3", "system/*.rs", false).clientId());
      CLOCK.advance(Duration.ofMillis(1));
    }
    assertThat(allPages("admin/clients?project=clinic-p3&_count=2", "clients", "clientId")).isEqualTo(ids);
    String clientCursor = cursorOf(admin.get("admin/clients?project=clinic-p3&_count=1"));

    for (String count : List.of("0", "1001", "two", "-1")) {
      assertOutcome(admin.get("admin/clients?_count=" + count), 400, "_count must be a whole number from 1 to 1000",
          "_count");
    }
    for (String cursor : List.of("not-a-cursor!", "WyIxIl0", "e30", clientCursor + "x")) {
      assertOutcome(admin.get("admin/clients?project=clinic-p3&_cursor=" + cursor), 400,
          "_cursor is not a cursor this server gave", "_cursor");
    }
    // a position in one list means nothing in another: another path, another project
    assertOutcome(admin.get("admin/users?project=clinic-p3&_cursor=" + clientCursor), 400,
        "_cursor belongs to another list", "_cursor");
    assertOutcome(admin.get("admin/clients?project=clinic-p1&_cursor=" + clientCursor), 400,
        "_cursor belongs to another list", "_cursor");
    assertThat(admin.send(admin.request("admin/clients?_count=0").method("HEAD", HttpRequest.BodyPublishers.noBody()))
        .statusCode()).isEqualTo(400);
  }

  private static String cursorOf(HttpResponse<String> page) throws Exception {
    String next = json(page).get("next").asText();
    return next.substring(next.indexOf("_cursor=") + "_cursor=".length());
  }

  private static Map<String, Object> with(Map<String, Object> body, String field, Object value) {
    body.put(field, value);
    return body;
  }

  private static void assertOutcome(HttpResponse<String> r, int status, String diagnostics, String expression)
      throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    JsonNode issue = json(r).at("/issue/0");
    assertThat(json(r).get("resourceType").asText()).isEqualTo("OperationOutcome");
    assertThat(issue.get("diagnostics").asText()).contains(diagnostics);
    if (expression != null) {
      assertThat(issue.at("/expression/0").asText()).isEqualTo(expression);
    }
  }

  @Test
  void aProjectAdminSeesAndManagesOnlyItsOwnProjectsUsers() throws Exception {
    JsonNode other = created(admin, user("clinic-u4", "other@example.org"));
    TestClient projectAdmin = clients.bearer(clients.create("clinic-u3", "system/*.cruds", true));

    JsonNode own = created(projectAdmin, user(null, "own@example.org"));
    assertThat(own.get("project").asText()).isEqualTo("clinic-u3");
    HttpResponse<String> list = projectAdmin.send(projectAdmin.request("admin/users").GET());
    assertThat(json(list).get("users")).singleElement()
        .satisfies(u -> assertThat(u.get("email").asText()).isEqualTo("own@example.org"));
    assertThat(projectAdmin.send(projectAdmin.request("admin/users?project=clinic-u4").GET()).statusCode())
        .isEqualTo(403);
    // an empty project is as if absent: the caller's own
    assertThat(json(projectAdmin.send(projectAdmin.request("admin/users?project=").GET())).get("users")).hasSize(1);
    assertThat(post(projectAdmin, "admin/users", user("clinic-u4", "sneaky@example.org")).statusCode())
        .isEqualTo(403);
    String otherId = other.get("id").asText();
    assertOutcome(post(projectAdmin, "admin/users/" + otherId + "/disable", null), 404, "not found", null);
    assertOutcome(post(projectAdmin, "admin/users/" + otherId + "/reset-password", null), 404, "not found", null);
    assertThat(auth().users().find(otherId).orElseThrow().disabled()).isFalse();

    // the server's admins see every project (on one page: another test here makes more than 100 users)
    HttpResponse<String> all = admin.send(admin.request("admin/users?_count=1000").GET());
    assertThat(all.body()).contains("own@example.org", "other@example.org");

    TestClient notAdmin = clients.client("clinic-u3", "system/*.cruds");
    assertThat(notAdmin.send(notAdmin.request("admin/users").GET()).statusCode()).isEqualTo(403);
    assertThat(post(notAdmin, "admin/users", user(null, "nope@example.org")).statusCode()).isEqualTo(403);
  }

  @Test
  void aSignedInPersonsBinaryReadIsAuditedNamingThePersonBesideTheApp() throws Exception {
    String id = created(admin, with(user("default", "reader@example.org"), "scope", "user/*.rs")).get("id").asText();
    String binary = TestClient.createdId(admin.postBytes("fhir/R4/Binary", "text/plain",
        "read by a person".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    HttpResponse<String> read = signedIn(id).get("fhir/R4/Binary/" + binary);
    assertThat(read.statusCode()).as(read.body()).isEqualTo(200);

    JsonNode event = Poll.until("the read's audit event", () -> {
      for (JsonNode e : json(admin.get("fhir/R4/AuditEvent?entity=Binary/" + binary)).path("entry")) {
        if (e.at("/resource/action").asText().equals("R")) {
          return e.get("resource");
        }
      }
      return null;
    }, e -> e != null);
    assertThat(event.at("/agent/0/altId").asText()).isEqualTo(TestServer.ADMIN_ID);
    assertThat(event.at("/agent/1/who/identifier/system").asText()).isEqualTo("urn:fhirbox:user-id");
    assertThat(event.at("/agent/1/who/identifier/value").asText()).isEqualTo(id);
    assertThat(event.at("/agent/1/altId").asText()).isEqualTo(id);
    assertThat(event.at("/agent/1/requestor").asBoolean()).isTrue();
    assertThat(json(admin.get("fhir/R4/AuditEvent?altid=" + id + "&entity=Binary/" + binary)).path("entry"))
        .isNotEmpty();
  }

  @Test
  void aDisabledUserCannotSignInAndTheirTokensStopWorkingWithinAMinute() throws Exception {
    JsonNode u = created(admin, with(user("default", "off@example.org"),
        "scope", "user/*.rs"));
    String id = u.get("id").asText();
    auth().passwordLinks().setPassword(token(u.get("setPasswordUrl").asText()), "a long enough password");
    TestClient person = signedIn(id);
    assertThat(person.get("fhir/R4/Patient").statusCode()).isEqualTo(200);

    HttpResponse<String> disabled = post(admin, "admin/users/" + id + "/disable", null);

    assertThat(disabled.statusCode()).isEqualTo(200);
    assertThat(json(disabled).get("disabled").asBoolean()).isTrue();
    assertThat(auth().signIn().authenticate("default", "off@example.org", "a long enough password", "192.0.2.9"))
        .isInstanceOf(SignIn.BadCredentials.class);
    CLOCK.advance(Duration.ofSeconds(60));
    HttpResponse<String> refused = person.get("fhir/R4/Patient");
    assertThat(refused.statusCode()).isEqualTo(401);
    assertThat(refused.body()).contains("user of the access token is disabled or unknown");
  }

  @Test
  void resetPasswordGivesANewLinkAndEndsThePasswordTheOldLinksAndTheSessions() throws Exception {
    JsonNode u = created(admin, with(user("default", "reset@example.org"), "scope", "user/*.rs"));
    String id = u.get("id").asText();
    String firstToken = token(u.get("setPasswordUrl").asText());
    auth().passwordLinks().setPassword(firstToken, "the first password");
    TestClient person = signedIn(id);
    assertThat(person.get("fhir/R4/Patient").statusCode()).isEqualTo(200);
    CLOCK.advance(Duration.ofSeconds(2));

    HttpResponse<String> reset = post(admin, "admin/users/" + id + "/reset-password", null);

    assertThat(reset.statusCode()).as(reset.body()).isEqualTo(200);
    JsonNode r = json(reset);
    assertThat(r.get("id").asText()).isEqualTo(id);
    assertThat(r.get("hasPassword").asBoolean()).isFalse();
    String secondToken = token(r.get("setPasswordUrl").asText());
    assertThat(secondToken).isNotEqualTo(firstToken);
    assertThat(Instant.parse(r.get("setPasswordExpires").asText()))
        .isEqualTo(CLOCK.instant().plus(Duration.ofHours(24)));
    assertThat(auth().users().find(id).orElseThrow().sessionsSince()).isEqualTo(CLOCK.instant());
    assertThat(auth().signIn().authenticate("default", "reset@example.org", "the first password", "192.0.2.10"))
        .isInstanceOf(SignIn.BadCredentials.class);
    assertThat(auth().passwordLinks().check(firstToken)).isInstanceOf(PasswordLinks.Closed.class);
    CLOCK.advance(Duration.ofSeconds(60));
    assertThat(person.get("fhir/R4/Patient").statusCode()).isEqualTo(401);

    assertThat(auth().passwordLinks().setPassword(secondToken, "the second password"))
        .isInstanceOf(PasswordLinks.PasswordSet.class);
    assertThat(auth().signIn().authenticate("default", "reset@example.org", "the second password", "192.0.2.10"))
        .isInstanceOf(SignIn.SignedIn.class);
  }

  /** A lone surrogate is valid JSON but no character: refused as in a resource, not stored to come back changed. */
  @Test
  void aNameWithAnUnpairedSurrogateIsRefused() throws Exception {
    String body = "{\"project\":\"clinic\",\"email\":\"ada-surrogate@example.org\",\"name\":\"Ada \\ud800\","
        + "\"fhirUser\":\"Practitioner/1\",\"scope\":\"user/*.rs\"}";
    HttpResponse<String> r = admin.send(admin.request("admin/users").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(json(r).path("resourceType").asText()).isEqualTo("OperationOutcome");
    assertThat(r.body()).contains("name contains an unpaired surrogate \\\\uD800");
    HttpResponse<String> pair = admin.send(admin.request("admin/users").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.replace("\\ud800", "\\ud83d\\ude00"))));
    assertThat(pair.statusCode()).as(pair.body()).isEqualTo(201);
    assertThat(json(pair).path("name").asText()).isEqualTo("Ada \ud83d\ude00");
  }

  /**
   * A field twice is ambiguous (which one counts?), and a control character is in no name, email or
   * scope: both are 400, as in a resource body, whatever the database would have kept.
   */
  @Test
  void aFieldTwiceOrAControlCharacterIsRefused() throws Exception {
    String body = "{\"project\":\"clinic-u10\",\"email\":\"twice@example.org\",\"name\":\"Ada\","
        + "\"fhirUser\":\"Practitioner/1\",\"scope\":\"user/*.rs\"}";
    HttpResponse<String> twice = admin.send(admin.request("admin/users").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.replace("}", ",\"project\":\"default\"}"))));
    assertOutcome(twice, 400, "'project' appears twice", "project");
    HttpResponse<String> control = admin.send(admin.request("admin/users").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.replace("Ada", "Ada\\u0000\\u001b[31m"))));
    assertOutcome(control, 400, "name contains the control character U+0000", "name");
    HttpResponse<String> users = admin.send(admin.request("admin/users?project=clinic-u10").GET());
    assertThat(json(users).get("users")).isEmpty();
    HttpResponse<String> clientTwice = admin.send(admin.request("admin/clients").header("Content-Type",
        "application/json").POST(HttpRequest.BodyPublishers.ofString(
            "{\"project\":\"clinic-u10\",\"scope\":\"system/*.rs\",\"scope\":\"system/Patient.r\"}")));
    assertOutcome(clientTwice, 400, "'scope' appears twice", "scope");
    assertThat(admin.send(admin.request("admin/users").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body))).statusCode()).isEqualTo(201);
  }
}
