package org.fhirbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;

/** {@code fhirbox admin ...} against a real server. */
class AdminCommandsTest extends ServerFixture {

  private static JsonNode createClient(String project) {
    Cli.Result r = cli.run("admin", "create-client", "--project", project, "--scope", "system/*.cruds");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    return r.json();
  }

  private static Cli as(JsonNode credentials) {
    return Cli.withFlags(server.baseUrl(), credentials.path("clientId").asText(),
        credentials.path("clientSecret").asText());
  }

  @Test
  void createClientPrintsCredentialsThatWorkInTheNewProject() {
    JsonNode cred = createClient("clinic-a");

    assertThat(cred.path("project").asText()).isEqualTo("clinic-a");
    assertThat(cred.path("clientId").asText()).isNotEmpty();
    assertThat(cred.path("clientSecret").asText()).isNotEmpty();
    Cli.Result created = as(cred).runWithStdin("{\"resourceType\":\"Patient\",\"active\":true}", "create", "-");
    assertThat(created.exitCode()).as(created.toString()).isZero();
    String ref = "Patient/" + created.json().path("id").asText();
    assertThat(as(cred).run("get", ref).exitCode()).isZero();
    // Tenants never see each other: the default project's admin gets 404 for clinic-a's patient.
    assertThat(cli.run("get", ref).exitCode()).isEqualTo(1);
  }

  @Test
  void listClientsShowsAProjectsClientsWithoutSecrets() {
    JsonNode cred = createClient("clinic-list");

    Cli.Result r = cli.run("admin", "list-clients", "--project", "clinic-list");

    assertThat(r.exitCode()).as(r.toString()).isZero();
    JsonNode clients = r.json().path("clients");
    assertThat(clients.size()).isEqualTo(1);
    assertThat(clients.get(0).path("clientId").asText()).isEqualTo(cred.path("clientId").asText());
    assertThat(r.out()).doesNotContain(cred.path("clientSecret").asText());
  }

  /**
   * A filter given empty (often a shell variable that is not set) is a usage error naming it, not
   * the list of every project (or every state), nor the client's own project for another's.
   */
  @Test
  void aProjectOrStateGivenEmptyIsAUsageErrorNamingIt() {
    for (String[] args : new String[][] {{"admin", "list-clients", "--project", ""},
        {"admin", "list-users", "--project", " "}, {"admin", "jobs", "--project", ""},
        {"admin", "create-client", "--project", ""}, {"admin", "create-client", "--project", "p", "--scope", " "},
        {"admin", "jobs", "--state", ""}, {"admin", "retry-job", "some-job", "--project", ""},
        {"admin", "create-user", "--project", "", "--email", "e@example.org", "--name", "E",
            "--fhir-user", "Practitioner/1", "--scope", "user/*.rs"}}) {
      Cli.Result r = cli.run(args);
      int blank = 0;
      while (!args[blank].isBlank()) {
        blank++;
      }
      String flag = args[blank - 1];
      assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
      assertThat(r.err()).as(r.toString()).startsWith("fhirbox: " + flag + " is empty");
      assertThat(r.out()).as(r.toString()).isEmpty();
    }
  }

  private static List<String> values(JsonNode list, String field) {
    List<String> out = new ArrayList<>();
    list.forEach(entry -> out.add(entry.path(field).asText()));
    return out;
  }

  /** GET {@code url} as the admin client (Basic, as the admin API takes it), as JSON. */
  private static JsonNode getAsAdmin(String url) throws Exception {
    String basic = Base64.getEncoder().encodeToString((TestServer.ADMIN_ID + ":" + TestServer.ADMIN_SECRET)
        .getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> resp = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
        .header("Authorization", "Basic " + basic).header("Accept", "application/json").build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(resp.statusCode()).as(resp.body()).isEqualTo(200);
    return new ObjectMapper().readTree(resp.body());
  }

  @Test
  void listClientsFollowsTheServersPagesAndPrintsTheWholeListAsOnePageIsPrinted() throws Exception {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ids.add(createClient("clinic-pages").path("clientId").asText());
    }

    Cli.Result all = cli.run("admin", "list-clients", "--project", "clinic-pages", "--count", "2");

    assertThat(all.exitCode()).as(all.toString()).isZero();
    assertThat(values(all.json().path("clients"), "clientId")).containsExactlyElementsOf(ids);
    assertThat(all.json().has("next")).as("every page was read").isFalse();
    assertThat(all.out()).as("one JSON object, printed as a single page is")
        .isEqualTo(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(all.json())
            + System.lineSeparator());

    Cli.Result three = cli.run("admin", "list-clients", "--project", "clinic-pages", "--count", "2", "--limit", "3");
    assertThat(three.exitCode()).as(three.toString()).isZero();
    assertThat(values(three.json().path("clients"), "clientId")).containsExactlyElementsOf(ids.subList(0, 3));
    // the last page asked for only the one entry the limit left, so its next link goes on right after it
    String next = three.json().path("next").asText();
    assertThat(next).startsWith(server.baseUrl() + "admin/clients?project=clinic-pages&_count=1&_cursor=");
    assertThat(values(getAsAdmin(next).path("clients"), "clientId")).containsExactly(ids.get(3));

    Cli.Result zero = cli.run("admin", "list-clients", "--count", "0");
    assertThat(zero.exitCode()).as(zero.toString()).isEqualTo(2);
    assertThat(zero.err()).startsWith("fhirbox: --count must be 1 or more");
    Cli.Result tooMany = cli.run("admin", "list-clients", "--count", "1001");
    assertThat(tooMany.exitCode()).as(tooMany.toString()).isEqualTo(1);
    assertThat(tooMany.err()).startsWith("fhirbox: 400 Bad Request: _count must be");
  }

  @Test
  void jobsFollowsTheServersPagesNewestFirst() {
    Cli.Result cred = cli.run("admin", "create-client", "--project", "clinic-jobpages", "--scope", "system/*.cruds",
        "--admin");
    assertThat(cred.exitCode()).as(cred.toString()).isZero();
    Cli admin = as(cred.json());
    for (int i = 0; i < 3; i++) {
      Cli.Result created = admin.runWithStdin("{\"resourceType\":\"Patient\",\"photo\":[{\"contentType\":"
          + "\"image/jpeg\",\"url\":\"https://example.invalid/photo-" + i + ".jpg\"}]}", "create", "-");
      assertThat(created.exitCode()).as(created.toString()).isZero();
    }

    Cli.Result all = admin.run("admin", "jobs", "--count", "2");

    assertThat(all.exitCode()).as(all.toString()).isZero();
    assertThat(values(all.json().path("jobs"), "url")).containsExactly("https://example.invalid/photo-2.jpg",
        "https://example.invalid/photo-1.jpg", "https://example.invalid/photo-0.jpg");
    assertThat(all.json().has("next")).isFalse();
    Cli.Result one = admin.run("admin", "jobs", "--limit", "1");
    assertThat(values(one.json().path("jobs"), "url")).containsExactly("https://example.invalid/photo-2.jpg");
    assertThat(one.json().path("next").asText()).startsWith(server.baseUrl() + "admin/jobs?");
  }

  @Test
  void disableClientMarksItDisabledAndItCanNoLongerGetATokenOrWork() {
    JsonNode cred = createClient("clinic-b");
    String id = cred.path("clientId").asText();
    assertThat(as(cred).run("search", "Patient").exitCode()).isZero();

    Cli.Result disabled = cli.run("admin", "disable-client", id);

    assertThat(disabled.exitCode()).as(disabled.toString()).isZero();
    assertThat(disabled.json().path("disabled").asBoolean()).isTrue();
    JsonNode listed = cli.run("admin", "list-clients", "--project", "clinic-b").json().path("clients").get(0);
    assertThat(listed.path("disabled").asBoolean()).isTrue();
    Cli.Result refused = as(cred).run("search", "Patient");
    assertThat(refused.exitCode()).isEqualTo(1);
    assertThat(refused.err()).startsWith("fhirbox: 40");
  }

  @Test
  void rotateSecretPrintsANewSecretThatWorks() {
    JsonNode cred = createClient("clinic-c");

    Cli.Result rotated = cli.run("admin", "rotate-secret", cred.path("clientId").asText());

    assertThat(rotated.exitCode()).as(rotated.toString()).isZero();
    JsonNode fresh = rotated.json();
    assertThat(fresh.path("clientId").asText()).isEqualTo(cred.path("clientId").asText());
    assertThat(fresh.path("clientSecret").asText()).isNotEqualTo(cred.path("clientSecret").asText());
    assertThat(as(fresh).run("search", "Patient").exitCode()).isZero();
    assertThat(as(cred).run("search", "Patient").exitCode()).isEqualTo(1);
  }

  @Test
  void jobsListsTheProjectsIngestionJobsAndNeedsTheAdminScope() {
    Cli.Result failed = cli.run("admin", "jobs", "--state", "failed");

    assertThat(failed.exitCode()).as(failed.toString()).isZero();
    assertThat(failed.json().path("jobs").isArray()).isTrue();
    Cli.Result badState = cli.run("admin", "jobs", "--state", "exploded");
    assertThat(badState.exitCode()).isEqualTo(1);
    assertThat(badState.err()).startsWith("fhirbox: 400 Bad Request: state must be one of");

    Cli.Result notAdmin = as(createClient("clinic-d")).run("admin", "jobs");
    assertThat(notAdmin.exitCode()).isEqualTo(1);
    assertThat(notAdmin.err()).startsWith("fhirbox: 403 Forbidden: ");
  }

  @Test
  void theServerAdminListsAndRetriesAnotherProjectsJobsAndAProjectAdminStaysInItsOwn() {
    Cli.Result listed = cli.run("admin", "jobs", "--project", "clinic-jobs", "--state", "failed");
    assertThat(listed.exitCode()).as(listed.toString()).isZero();
    assertThat(listed.json().path("jobs").isArray()).isTrue();
    Cli.Result retry = cli.run("admin", "retry-job", "no-such-job", "--project", "clinic-jobs");
    assertThat(retry.exitCode()).as(retry.toString()).isEqualTo(1);
    assertThat(retry.err()).startsWith("fhirbox: 404 Not Found: job 'no-such-job' not found");
    // an id goes into the path as itself: a space is %20 there, not the '+' of a query
    Cli.Result spaced = cli.run("admin", "retry-job", "no such job", "--project", "clinic-jobs");
    assertThat(spaced.err()).startsWith("fhirbox: 404 Not Found: job 'no such job' not found");

    Cli.Result cred = cli.run("admin", "create-client", "--project", "clinic-jobs", "--scope", "system/*.cruds",
        "--admin");
    assertThat(cred.exitCode()).as(cred.toString()).isZero();
    Cli.Result elsewhere = as(cred.json()).run("admin", "jobs", "--project", "default");
    assertThat(elsewhere.exitCode()).as(elsewhere.toString()).isEqualTo(1);
    assertThat(elsewhere.err()).startsWith("fhirbox: 400 Bad Request: ").contains("project");
    assertThat(as(cred.json()).run("admin", "jobs", "--project", "clinic-jobs").exitCode()).isZero();
  }

  @Test
  void createClientMakesAPublicClientWithItsRedirectUris() {
    Cli.Result r = cli.run("admin", "create-client", "--project", "clinic-app", "--scope",
        "patient/*.rs openid fhirUser launch/patient", "--public", "--redirect-uri", "https://app.example.org/cb",
        "--redirect-uri", "http://localhost:3000/cb");

    assertThat(r.exitCode()).as(r.toString()).isZero();
    JsonNode c = r.json();
    assertThat(c.path("public").asBoolean()).isTrue();
    assertThat(c.has("clientSecret")).isFalse();
    assertThat(c.path("redirectUris").toString()).isEqualTo("[\"https://app.example.org/cb\",\"http://localhost:3000/cb\"]");
    assertThat(c.path("idTokenSignedResponseAlg").asText()).isEqualTo("RS256");

    Cli.Result firstParty = cli.run("admin", "create-client", "--project", "clinic-app", "--scope", "user/*.rs",
        "--first-party", "--redirect-uri", "https://app.example.org/cb");
    assertThat(firstParty.exitCode()).as(firstParty.toString()).isZero();
    assertThat(firstParty.json().path("firstParty").asBoolean()).isTrue();
    assertThat(firstParty.json().path("clientSecret").asText()).isNotEmpty();

    Cli.Result es256 = cli.run("admin", "create-client", "--project", "clinic-app", "--public", "--redirect-uri",
        "https://app.example.org/cb", "--id-token-alg", "ES256");
    assertThat(es256.exitCode()).as(es256.toString()).isZero();
    assertThat(es256.json().path("idTokenSignedResponseAlg").asText()).isEqualTo("ES256");
    Cli.Result hs256 = cli.run("admin", "create-client", "--project", "clinic-app", "--public", "--redirect-uri",
        "https://app.example.org/cb", "--id-token-alg", "HS256");
    assertThat(hs256.exitCode()).isEqualTo(1);
    assertThat(hs256.err()).contains("400").contains("RS256 or ES256");

    Cli.Result noRedirect = cli.run("admin", "create-client", "--project", "clinic-app", "--public");
    assertThat(noRedirect.exitCode()).isEqualTo(1);
    assertThat(noRedirect.err()).contains("400").contains("redirect URI");
  }
}
