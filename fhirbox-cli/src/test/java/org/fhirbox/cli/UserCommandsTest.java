package org.fhirbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code fhirbox admin create-user | list-users | disable-user | reset-password} against a real server. */
class UserCommandsTest extends ServerFixture {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static JsonNode createUser(String project, String email, String... more) {
    String[] args = {"admin", "create-user", "--project", project, "--email", email, "--name", "Ada Lovelace",
        "--fhir-user", "Practitioner/123", "--scope", "user/*.cruds"};
    String[] all = new String[args.length + more.length];
    System.arraycopy(args, 0, all, 0, args.length);
    System.arraycopy(more, 0, all, args.length, more.length);
    Cli.Result r = cli.run(all);
    assertThat(r.exitCode()).as(r.toString()).isZero();
    return r.json();
  }

  private static int status(String url) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Accept", "text/html").GET().build(),
        HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  @Test
  void createUserPrintsTheUserAndAOneTimeLinkThatOpensTheSetPasswordPage() throws Exception {
    JsonNode user = createUser("ward-7", "ada@example.org", "--admin");

    assertThat(user.path("project").asText()).isEqualTo("ward-7");
    assertThat(user.path("email").asText()).isEqualTo("ada@example.org");
    assertThat(user.path("fhirUser").asText()).isEqualTo("Practitioner/123");
    assertThat(user.path("scope").asText()).isEqualTo("user/*.cruds admin");
    assertThat(user.path("admin").asBoolean()).isTrue();
    assertThat(user.path("hasPassword").asBoolean()).isFalse();
    assertThat(user.path("setPasswordExpires").asText()).isNotEmpty();
    String url = user.path("setPasswordUrl").asText();
    assertThat(url).startsWith(server.baseUrl() + "account/set-password?token=");
    assertThat(status(url)).isEqualTo(200);
  }

  @Test
  void listUsersShowsAProjectsUsersWithoutTheirLinks() {
    JsonNode user = createUser("ward-8", "list@example.org");

    Cli.Result r = cli.run("admin", "list-users", "--project", "ward-8");

    assertThat(r.exitCode()).as(r.toString()).isZero();
    JsonNode users = r.json().path("users");
    assertThat(users.size()).isEqualTo(1);
    assertThat(users.get(0).path("id").asText()).isEqualTo(user.path("id").asText());
    assertThat(r.out()).doesNotContain("setPasswordUrl").doesNotContain(user.path("setPasswordUrl").asText());
  }

  @Test
  void listUsersFollowsTheServersPagesOldestFirst() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ids.add(createUser("ward-pages", "page" + i + "@example.org").path("id").asText());
    }

    Cli.Result r = cli.run("admin", "list-users", "--project", "ward-pages", "--count", "2");

    assertThat(r.exitCode()).as(r.toString()).isZero();
    List<String> listed = new ArrayList<>();
    r.json().path("users").forEach(u -> listed.add(u.path("id").asText()));
    assertThat(listed).containsExactlyElementsOf(ids);
    assertThat(r.json().has("next")).isFalse();
  }

  @Test
  void disableUserMarksTheUserDisabled() {
    JsonNode user = createUser("ward-9", "off@example.org");

    Cli.Result r = cli.run("admin", "disable-user", user.path("id").asText());

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.json().path("disabled").asBoolean()).isTrue();
    assertThat(cli.run("admin", "list-users", "--project", "ward-9").json().path("users").get(0)
        .path("disabled").asBoolean()).isTrue();
  }

  @Test
  void resetPasswordPrintsANewLinkAndTheOldOneStopsWorking() throws Exception {
    JsonNode user = createUser("ward-10", "reset@example.org");
    String oldUrl = user.path("setPasswordUrl").asText();

    Cli.Result r = cli.run("admin", "reset-password", user.path("id").asText());

    assertThat(r.exitCode()).as(r.toString()).isZero();
    String newUrl = r.json().path("setPasswordUrl").asText();
    assertThat(newUrl).startsWith(server.baseUrl() + "account/set-password?token=").isNotEqualTo(oldUrl);
    assertThat(status(oldUrl)).isEqualTo(410);
    assertThat(status(newUrl)).isEqualTo(200);
  }

  @Test
  void wrongArgumentsAndServerRefusalsAreReportedOnOneLine() {
    Cli.Result missing = cli.run("admin", "create-user", "--email", "x@example.org");
    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.err()).contains("--fhir-user");

    Cli.Result system = cli.run("admin", "create-user", "--email", "sys@example.org", "--name", "S", "--fhir-user",
        "Practitioner/1", "--scope", "system/*.cruds");
    assertThat(system.exitCode()).isEqualTo(1);
    assertThat(system.err()).startsWith("fhirbox: 400 Bad Request: ").contains("user/ and patient/ scopes");

    Cli.Result unknown = cli.run("admin", "reset-password", "no-such-user");
    assertThat(unknown.exitCode()).isEqualTo(1);
    assertThat(unknown.err()).startsWith("fhirbox: 404 Not Found: ");
  }

  @Test
  void helpDescribesTheUserCommands() {
    Cli.Result admin = Cli.bare().run("admin", "--help");
    assertThat(admin.exitCode()).isZero();
    for (String command : new String[] {"create-user", "list-users", "disable-user", "reset-password"}) {
      assertThat(admin.out()).containsPattern("(?m)^  " + command + " +\\S");
    }
    Cli.Result create = Cli.bare().run("admin", "create-user", "--help");
    assertThat(create.exitCode()).isZero();
    assertThat(create.out()).contains("--email=EMAIL", "--name=NAME", "--fhir-user=TYPE/ID", "--scope=SCOPES",
        "--admin", "--project=NAME", "24 hours");
  }
}
