package org.fhirbox.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.fhirbox.client.FhirboxClient;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code fhirbox admin ...}: the server's administration API ({@code /admin}), as JSON. Needs an admin client. */
@Command(name = "admin", mixinStandardHelpOptions = true,
    description = "Administer clients and users, and see ingestion jobs (needs a client with the admin scope).",
    subcommands = {AdminCommand.CreateClient.class, AdminCommand.ListClients.class, AdminCommand.DisableClient.class,
        AdminCommand.RotateSecret.class, AdminCommand.CreateUser.class, AdminCommand.ListUsers.class,
        AdminCommand.DisableUser.class, AdminCommand.ResetPassword.class, AdminCommand.Jobs.class,
        AdminCommand.RetryJob.class,
        CommandLine.HelpCommand.class})
final class AdminCommand {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String WHOLE_LIST = "Prints the whole list as one JSON object, fetching the server's pages one"
      + " after the other and printing each as it comes; --limit stops early.";

  /** Runs one admin request and prints its JSON answer. */
  abstract static class Request implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions options;

    private final String method;

    Request(String method) {
      this.method = method;
    }

    abstract String path();

    String body() {
      return null;
    }

    @Override
    public Integer call() {
      FhirboxClient client = options.client();
      String answer = client.sendJson(method, path(), body());
      new JsonOutput(client.fhirContext(), spec.commandLine().getOut()).json(answer);
      return 0;
    }

    /** A query value, form-encoded. */
    static String encode(String s) {
      return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /**
     * {@code value} of {@code flag}, null when the flag was left out; one given empty or blank
     * (often a shell variable that is not set) is a usage error naming it, never taken as left out.
     */
    static String given(String flag, String value) {
      if (value != null && value.isBlank()) {
        throw new UsageException(flag + " is empty: give a value, or leave the flag out");
      }
      return value;
    }

    /** A path segment: as a query value, but a space is {@code %20} ({@code +} is itself in a path). */
    static String segment(String s) {
      return encode(s).replace("+", "%20");
    }
  }

  @Command(name = "create-client", mixinStandardHelpOptions = true,
      description = "Create a client (and its project when new); prints its id and secret, shown only this once"
          + " (a --public client has none).")
  static final class CreateClient extends Request {
    @Option(names = "--project", required = true, paramLabel = "NAME", description = "project (tenant) of the client")
    String project;

    @Option(names = "--scope", paramLabel = "SCOPES",
        description = "space-separated SMART scopes, e.g. \"system/*.cruds\" (default system/*.cruds)")
    String scope;

    @Option(names = "--admin", description = "let the client administer its project")
    boolean admin;

    @Option(names = "--public",
        description = "a public client (browser or mobile app): no secret; people sign in through it (SMART App Launch)")
    boolean publicClient;

    @Option(names = "--redirect-uri", paramLabel = "URI",
        description = "a redirect URI people are sent back to after signing in, compared exactly (repeatable;"
            + " https, http on localhost, or a com.example.app: scheme)")
    List<String> redirectUris = new ArrayList<>();

    @Option(names = "--first-party", description = "the server's own app: people who sign in through it see no consent page")
    boolean firstParty;

    @Option(names = "--id-token-alg", paramLabel = "ALG",
        description = "how the app's ID tokens are signed: RS256 (default) or ES256 (OpenID Connect"
            + " id_token_signed_response_alg)")
    String idTokenAlg;

    CreateClient() {
      super("POST");
    }

    @Override
    String path() {
      return "admin/clients";
    }

    @Override
    String body() {
      ObjectNode body = JSON.createObjectNode().put("project", given("--project", project));
      if (given("--scope", scope) != null) {
        body.put("scope", scope);
      }
      if (admin) {
        body.put("admin", true);
      }
      if (publicClient) {
        body.put("public", true);
      }
      if (firstParty) {
        body.put("firstParty", true);
      }
      if (idTokenAlg != null) {
        body.put("idTokenSignedResponseAlg", idTokenAlg);
      }
      if (!redirectUris.isEmpty()) {
        ArrayNode uris = body.putArray("redirectUris");
        redirectUris.forEach(uris::add);
      }
      return body.toString();
    }
  }

  @Command(name = "list-clients", mixinStandardHelpOptions = true,
      description = {"List clients (never their secrets), of one project or of all you administer, oldest first.",
          WHOLE_LIST})
  static final class ListClients extends AdminList {
    @Option(names = "--project", paramLabel = "NAME", description = "only this project's clients")
    String project;

    ListClients() {
      super("clients");
    }

    @Override
    List<String> filters() {
      return Request.given("--project", project) == null ? List.of() : List.of("project=" + Request.encode(project));
    }
  }

  /** {@code POST admin/clients/{id}/{action}}. */
  abstract static class ClientAction extends Request {
    @Parameters(index = "0", paramLabel = "ID", description = "client id")
    String clientId;

    private final String action;

    ClientAction(String action) {
      super("POST");
      this.action = action;
    }

    @Override
    String path() {
      return "admin/clients/" + segment(clientId) + "/" + action;
    }
  }

  @Command(name = "disable-client", mixinStandardHelpOptions = true,
      description = "Disable a client: its tokens stop working within a minute.")
  static final class DisableClient extends ClientAction {
    DisableClient() {
      super("disable");
    }
  }

  @Command(name = "rotate-secret", mixinStandardHelpOptions = true,
      description = "Give a client a new secret (printed only this once); the old one stops working, and so do the"
          + " access tokens issued to the client before.")
  static final class RotateSecret extends ClientAction {
    RotateSecret() {
      super("rotate-secret");
    }
  }

  @Command(name = "create-user", mixinStandardHelpOptions = true,
      description = {"Create a person who signs in (and the project when new); prints the user and a one-time"
          + " link (setPasswordUrl) where they set their password.",
          "The link works once, for 24 hours; give it to the person over a channel you trust."})
  static final class CreateUser extends Request {
    @Option(names = "--project", paramLabel = "NAME",
        description = "project (tenant) of the user (default: your client's project)")
    String project;

    @Option(names = "--email", required = true, paramLabel = "EMAIL",
        description = "the email the person signs in with (unique in the project)")
    String email;

    @Option(names = "--name", required = true, paramLabel = "NAME", description = "the person's display name")
    String name;

    @Option(names = "--fhir-user", required = true, paramLabel = "TYPE/ID",
        description = "the resource the person is: Practitioner/ID, Patient/ID or RelatedPerson/ID")
    String fhirUser;

    @Option(names = "--scope", required = true, paramLabel = "SCOPES",
        description = "space-separated SMART user/ or patient/ scopes, e.g. \"user/*.cruds\"")
    String scope;

    @Option(names = "--admin", description = "let the user administer their project")
    boolean admin;

    CreateUser() {
      super("POST");
    }

    @Override
    String path() {
      return "admin/users";
    }

    @Override
    String body() {
      ObjectNode body = JSON.createObjectNode();
      if (given("--project", project) != null) {
        body.put("project", project);
      }
      body.put("email", email).put("name", name).put("fhirUser", fhirUser).put("scope", scope);
      if (admin) {
        body.put("admin", true);
      }
      return body.toString();
    }
  }

  @Command(name = "list-users", mixinStandardHelpOptions = true,
      description = {"List users (never passwords or links), of one project or of all you administer, oldest first.",
          WHOLE_LIST})
  static final class ListUsers extends AdminList {
    @Option(names = "--project", paramLabel = "NAME", description = "only this project's users")
    String project;

    ListUsers() {
      super("users");
    }

    @Override
    List<String> filters() {
      return Request.given("--project", project) == null ? List.of() : List.of("project=" + Request.encode(project));
    }
  }

  /** {@code POST admin/users/{id}/{action}}. */
  abstract static class UserAction extends Request {
    @Parameters(index = "0", paramLabel = "ID", description = "user id (see list-users)")
    String userId;

    private final String action;

    UserAction(String action) {
      super("POST");
      this.action = action;
    }

    @Override
    String path() {
      return "admin/users/" + segment(userId) + "/" + action;
    }
  }

  @Command(name = "disable-user", mixinStandardHelpOptions = true,
      description = "Disable a user: they cannot sign in, and their tokens stop working within a minute.")
  static final class DisableUser extends UserAction {
    DisableUser() {
      super("disable");
    }
  }

  @Command(name = "reset-password", mixinStandardHelpOptions = true,
      description = {"Reset a user's password: it stops working, their sessions end, and a new one-time link"
          + " (setPasswordUrl, 24 hours) is printed; older links stop working."})
  static final class ResetPassword extends UserAction {
    ResetPassword() {
      super("reset-password");
    }
  }

  @Command(name = "jobs", mixinStandardHelpOptions = true,
      description = {"List a project's ingestion jobs (external URLs fetched into Binaries), newest first.",
          "Your client's project by default; an admin of project default may name any project.", WHOLE_LIST})
  static final class Jobs extends AdminList {
    @Option(names = "--project", paramLabel = "NAME",
        description = "this project's jobs (another project than your client's needs an admin of project default)")
    String project;

    @Option(names = "--state", paramLabel = "STATE", description = "queued, running, done, failed or skipped")
    String state;

    Jobs() {
      super("jobs");
    }

    @Override
    List<String> filters() {
      List<String> query = new ArrayList<>();
      if (Request.given("--project", project) != null) {
        query.add("project=" + Request.encode(project));
      }
      if (Request.given("--state", state) != null) {
        query.add("state=" + Request.encode(state));
      }
      return query;
    }
  }

  @Command(name = "retry-job", mixinStandardHelpOptions = true,
      description = {"Queue a failed or skipped ingestion job again, due now, its attempts counted afresh.",
          "A job of another project than your client's needs --project and an admin of project default."})
  static final class RetryJob extends Request {
    @Parameters(index = "0", paramLabel = "ID", description = "job id (see jobs)")
    String jobId;

    @Option(names = "--project", paramLabel = "NAME", description = "the job's project (default: your client's)")
    String project;

    RetryJob() {
      super("POST");
    }

    @Override
    String path() {
      return "admin/jobs/" + segment(jobId) + "/retry"
          + (given("--project", project) == null ? "" : "?project=" + encode(project));
    }
  }
}
