package org.fhirbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A server (or a proxy in front of it) that answers nonsense is a failure (exit 1), not a usage error (exit 2). */
class MalformedAnswerTest {
  @TempDir
  Path work;
  private HttpServer stub;

  /** A server on 127.0.0.1 that answers every request with {@code handler}, stopped after the test; its root URL. */
  private String stub(HttpHandler handler) throws IOException {
    stub = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    stub.createContext("/", handler);
    stub.start();
    return root(stub.getAddress().getPort());
  }

  private static String root(int port) {
    return "http://127.0.0.1:" + port + "/";
  }

  @AfterEach
  void stopStub() {
    if (stub != null) {
      stub.stop(0);
    }
  }

  private static void send(HttpExchange ex, int status, String contentType, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", contentType);
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Test
  void terminalControlSequencesInAServersDiagnosticsAreNotPrinted() throws Exception {
    // ESC ] 52 would write the terminal's clipboard, ESC [ 2 J clear the screen: a server's words are text only
    String root = stub(ex -> {
      ex.getRequestBody().readAllBytes();
      send(ex, 400, "application/fhir+json", "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":"
          + "\"error\",\"code\":\"invalid\",\"diagnostics\":\"bad\\u001b]52;c;Y3VybCBldmlsfHNo\\u0007 request"
          + "\\u001b[2J\\u009b1m\"}]}");
    });
    Cli.Result r = Cli.withEnv(Map.of("FHIRBOX_SERVER", root)).run("download", root + "files/x?Signature=s", "-o", "-");

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(FailureHandler.FAILED);
    assertThat(r.err()).startsWith("fhirbox: 400 Bad Request: bad").contains("request")
        .doesNotContain("\u001b").doesNotContain("\u0007").doesNotContain("\u009b");
  }

  @Test
  void aMalformedUploadOffsetFailsTheUploadWithExit1() throws Exception {
    String root = stub(ex -> {
      ex.getRequestBody().readAllBytes();
      if (ex.getRequestURI().getPath().endsWith("/oauth2/token")) {
        send(ex, 200, "application/json", "{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"expires_in\":3600}");
      } else {
        ex.getResponseHeaders().add("Location", root(ex.getLocalAddress().getPort()) + "fhir/R4/Binary/$upload/x");
        ex.getResponseHeaders().add("Upload-Offset", "zero");
        ex.sendResponseHeaders(201, -1);
      }
      ex.close();
    });
    Path file = work.resolve("a.bin");
    Files.write(file, new byte[10]);

    Cli.Result r = Cli.withEnv(Map.of("FHIRBOX_SERVER", root, "FHIRBOX_CLIENT_ID", "c", "FHIRBOX_CLIENT_SECRET", "s",
        "HOME", work.toString())).run("upload", "--resumable", file.toString());

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(FailureHandler.FAILED);
    assertThat(r.toString()).contains("malformed Upload-Offset");
  }

  @Test
  void aMalformedRedirectOfADownloadFailsWithExit1() throws Exception {
    String root = stub(ex -> {
      ex.getRequestBody().readAllBytes();
      ex.getResponseHeaders().add("Location", "http://[not a host/");
      ex.sendResponseHeaders(302, -1);
      ex.close();
    });
    String signed = root + "storage/b1/1?Expires=1&KeyId=k&Signature=s";
    Cli.Result r = Cli.withEnv(Map.of("FHIRBOX_SERVER", root)).run("download", signed, "-o",
        work.resolve("out.bin").toString());

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(FailureHandler.FAILED);
  }

  @Test
  void aServerThatRedirectsIsNamedWithTheStatusAndWhereTo() throws Exception {
    String root = stub(ex -> {
      ex.getRequestBody().readAllBytes();
      // as a front end that moved the service to https answers
      ex.getResponseHeaders().add("Location", "https://127.0.0.1" + ex.getRequestURI().getPath());
      ex.sendResponseHeaders(301, -1);
      ex.close();
    });
    Cli.Result r = Cli.withEnv(Map.of("FHIRBOX_SERVER", root, "FHIRBOX_CLIENT_ID", "c",
        "FHIRBOX_CLIENT_SECRET", "s")).run("get", "Patient/1");

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(FailureHandler.FAILED);
    assertThat(r.err()).startsWith("fhirbox: 301 Moved Permanently (")
        .contains("redirected to https://127.0.0.1/oauth2/token");
  }

  /**
   * An admin list's next link is followed with the client's credentials only to that list on
   * {@code --server}, and never back to a page already read; what was printed before stays.
   */
  @Test
  void anAdminListsNextLinkElsewhereOrBackIsNotFollowed() throws Exception {
    List<String> asked = new CopyOnWriteArrayList<>();
    String[] next = new String[1];
    String root = stub(ex -> {
      ex.getRequestBody().readAllBytes();
      if (ex.getRequestURI().getPath().endsWith("/oauth2/token")) {
        send(ex, 200, "application/json", "{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"expires_in\":3600}");
        return;
      }
      asked.add(ex.getRequestURI().toString());
      send(ex, 200, "application/json", "{\"clients\":[{\"clientId\":\"c" + asked.size() + "\"}],\"next\":\""
          + next[0] + "\"}");
    });
    Cli cli = Cli.withEnv(Map.of("FHIRBOX_SERVER", root, "FHIRBOX_CLIENT_ID", "c", "FHIRBOX_CLIENT_SECRET", "s"));

    // a link to another list is not followed
    next[0] = root + "admin/users?_count=1&_cursor=x";
    Cli.Result elsewhere = cli.run("admin", "list-clients");
    assertThat(elsewhere.exitCode()).as(elsewhere.toString()).isEqualTo(FailureHandler.FAILED);
    assertThat(elsewhere.err()).startsWith("fhirbox: the server's next link does not lead to admin/clients under "
        + root + ", so it is not followed");
    assertThat(elsewhere.out()).as("the page read before stays printed").contains("\"clientId\" : \"c1\"");
    assertThat(asked).containsExactly("/admin/clients");

    // a link written with the server's own base URL (a proxy's name) is followed on --server, and
    // one back to a page already read ends the command
    asked.clear();
    next[0] = "https://fhir.example.org/admin/clients?_count=1&_cursor=x";
    Cli.Result loop = cli.run("admin", "list-clients");
    assertThat(loop.exitCode()).as(loop.toString()).isEqualTo(FailureHandler.FAILED);
    assertThat(loop.err()).startsWith("fhirbox: the server's next link for admin/clients leads back to a page");
    assertThat(asked).containsExactly("/admin/clients", "/admin/clients?_count=1&_cursor=x");
  }

  @Test
  void onlyUsageAndParameterErrorsAreExit2() {
    FailureHandler handler = new FailureHandler();
    assertThat(handler.getExitCode(new NumberFormatException("For input string: \"x\""))).isEqualTo(FailureHandler.FAILED);
    assertThat(handler.getExitCode(new IllegalArgumentException("Illegal character in authority"))).isEqualTo(FailureHandler.FAILED);
    assertThat(handler.getExitCode(new UsageException("no such file"))).isEqualTo(FailureHandler.USAGE);
    Cli.Result badServer = Cli.withEnv(Map.of("FHIRBOX_SERVER", "ftp://example.org/", "FHIRBOX_CLIENT_ID", "c",
        "FHIRBOX_CLIENT_SECRET", "s")).run("search", "Patient");
    assertThat(badServer.exitCode()).as(badServer.toString()).isEqualTo(FailureHandler.USAGE);
    assertThat(badServer.err()).startsWith("fhirbox: --server or FHIRBOX_SERVER: baseUrl must be an absolute http(s) URL");
  }

  /** The CLI names its own flags and variables for the credentials, not the SDK's methods; the password is not shown. */
  @Test
  void aServerUrlWithUserAndPasswordNamesTheCredentialFlags() {
    for (String[] args : new String[][] {{"search", "Patient"}, {"download", "https://files.example.org/x.pdf"}}) {
      Cli.Result r = Cli.withEnv(Map.of("FHIRBOX_CLIENT_ID", "c", "FHIRBOX_CLIENT_SECRET", "s"))
          .run(concat(args, "--server", "http://admin:s3cret@localhost:8103/"));

      assertThat(r.exitCode()).as(r.toString()).isEqualTo(FailureHandler.USAGE);
      assertThat(r.err()).contains("--client-id", "--client-secret", "FHIRBOX_CLIENT_ID", "FHIRBOX_CLIENT_SECRET")
          .doesNotContain("clientCredentials(", "accessToken(", "s3cret", "admin");
    }
  }

  private static String[] concat(String[] a, String... b) {
    String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }
}
