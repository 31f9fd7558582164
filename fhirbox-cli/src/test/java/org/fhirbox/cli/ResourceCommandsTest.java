package org.fhirbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** get, create, search, errors, credentials and help. */
class ResourceCommandsTest extends ServerFixture {
  private static final String NL = System.lineSeparator();

  @TempDir
  Path dir;

  @Test
  void createFromAFilePrintsTheStoredResourceAndGetReadsItAndItsVersions() throws Exception {
    Path file = Files.writeString(dir.resolve("obs.json"), "{\"resourceType\":\"Observation\",\"status\":\"final\","
        + "\"code\":{\"text\":\"heart rate\"}}");

    Cli.Result created = cli.run("create", file.toString());

    assertThat(created.exitCode()).as(created.toString()).isZero();
    JsonNode obs = created.json();
    assertThat(obs.path("id").asText()).isNotEmpty();
    assertThat(obs.path("meta").path("versionId").asText()).isEqualTo("1");
    String ref = "Observation/" + obs.path("id").asText();
    assertThat(cli.run("get", ref).json().path("code").path("text").asText()).isEqualTo("heart rate");
    assertThat(cli.run("get", ref + "/_history/1").json().path("status").asText()).isEqualTo("final");
  }

  @Test
  @SlowTest // the command in a JVM of its own, with another default charset
  void jsonIsWrittenAsUtf8WhateverTheLocalesCharset() throws Exception {
    Cli.Result created = cli.runWithStdin("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Müller-Łęcki 李\"}]}",
        "create", "-");
    String ref = "Patient/" + created.json().path("id").asText();
    // a process whose locale names no charset (LANG unset, as under cron or in many containers):
    // Java 17 then takes US-ASCII as the default charset
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dfile.encoding=US-ASCII", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "get", ref, "--server", server.baseUrl(), "--client-id", TestServer.ADMIN_ID,
        "--client-secret", TestServer.ADMIN_SECRET);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().keySet().removeIf(k -> k.equals("LANG") || k.startsWith("LC_"));
    Process p = pb.start();
    byte[] stdout = p.getInputStream().readAllBytes();

    assertThat(p.waitFor()).isZero();
    JsonNode read = new ObjectMapper().readTree(new String(stdout, java.nio.charset.StandardCharsets.UTF_8));
    assertThat(read.path("name").get(0).path("family").asText()).isEqualTo("Müller-Łęcki 李");
  }

  @Test
  @SlowTest // the command in a JVM of its own, with another default charset
  void errorsAreWrittenAsUtf8WhateverTheLocalesCharset() throws Exception {
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dfile.encoding=US-ASCII", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "create", "-", "--server", server.baseUrl(), "--client-id", TestServer.ADMIN_ID,
        "--client-secret", TestServer.ADMIN_SECRET);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD);
    pb.environment().keySet().removeIf(k -> k.equals("LANG") || k.startsWith("LC_"));
    Process p = pb.start();
    try (var stdin = p.getOutputStream()) {
      stdin.write("{\"resourceType\":\"Pätient李\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    byte[] stderr = p.getErrorStream().readAllBytes();

    assertThat(p.waitFor()).isEqualTo(2);
    assertThat(new String(stderr, java.nio.charset.StandardCharsets.UTF_8)).startsWith("fhirbox: ")
        .contains("Pätient李");
  }

  @Test
  void searchAllFollowsNextLinksAndPrintsOneResourcePerLine() throws Exception {
    String family = "Pager" + UUID.randomUUID().toString().substring(0, 8);
    for (int i = 0; i < 7; i++) {
      assertThat(cli.runWithStdin("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}]}",
          "create", "-").exitCode()).isZero();
    }

    Cli.Result page = cli.run("search", "Patient", "family=" + family + "&_count=3");
    Cli.Result all = cli.run("search", "Patient", "family=" + family + "&_count=3", "--all");

    assertThat(page.exitCode()).as(page.toString()).isZero();
    assertThat(page.json().path("resourceType").asText()).isEqualTo("Bundle");
    assertThat(page.json().path("entry").size()).isEqualTo(3);
    assertThat(all.exitCode()).as(all.toString()).isZero();
    List<String> lines = all.out().lines().toList();
    assertThat(lines).hasSize(7);
    ObjectMapper json = new ObjectMapper();
    for (String line : lines) {
      JsonNode p = json.readTree(line);
      assertThat(p.path("resourceType").asText()).isEqualTo("Patient");
      assertThat(p.path("name").get(0).path("family").asText()).isEqualTo(family);
    }
    assertThat(lines.stream().distinct()).hasSize(7);
  }

  @Test
  void searchAllIntoAFailingStdoutExitsOne() {
    String family = "Full" + UUID.randomUUID().toString().substring(0, 8);
    String id = null;
    for (int i = 0; i < 5; i++) {
      Cli.Result created = cli.runWithStdin("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}]}",
          "create", "-");
      assertThat(created.exitCode()).isZero();
      id = created.json().path("id").asText();
    }

    Cli.Result all = cli.runWithStdout(new PrintStream(Cli.failingAfter(100)), "search", "Patient",
        "family=" + family + "&_count=2", "--all");
    Cli.Result get = cli.runWithStdout(new PrintStream(Cli.failingAfter(10)), "get", "Patient/" + id);

    assertThat(all.exitCode()).as(all.toString()).isEqualTo(1);
    assertThat(all.err()).isEqualTo("fhirbox: cannot write to standard output" + NL);
    assertThat(get.exitCode()).as(get.toString()).isEqualTo(1);
    assertThat(get.err()).isEqualTo("fhirbox: cannot write to standard output" + NL);
  }

  @Test
  void aMissingResourceExitsNonZeroWithOneLineAndNoStackTrace() {
    Cli.Result r = cli.run("get", "Patient/does-not-exist");

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("fhirbox: 404 Not Found: ").endsWith(NL);
    assertThat(r.err().lines()).hasSize(1);
    assertThat(r.err()).contains("does-not-exist");
  }

  @Test
  void verboseAddsTheStackTrace() {
    Cli.Result r = cli.run("get", "Patient/does-not-exist", "--verbose");

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err().lines().findFirst().orElse("")).startsWith("fhirbox: 404 Not Found: ");
    assertThat(r.err()).contains("FhirboxException").contains("\tat ");
  }

  @Test
  void aWrongSecretIsReportedInOneLine() {
    Cli.Result r = Cli.withFlags(server.baseUrl(), TestServer.ADMIN_ID, "wrong").run("search", "Patient");

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).startsWith("fhirbox: 401 Unauthorized").doesNotContain("wrong");
    assertThat(r.err().lines()).hasSize(1);
  }

  @Test
  void badInputIsAUsageErrorWithExitCode2() {
    Cli.Result missing = cli.run("upload", dir.resolve("nope.bin").toString());
    Cli.Result badRef = cli.run("get", "not-a-reference");
    Cli.Result badType = cli.run("search", "Patients");

    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.err()).isEqualTo("fhirbox: no such file: " + dir.resolve("nope.bin") + NL);
    assertThat(badRef.exitCode()).isEqualTo(2);
    assertThat(badRef.err()).isEqualTo("fhirbox: 'not-a-reference' is not TYPE/ID or TYPE/ID/_history/VERSION" + NL);
    assertThat(badType.exitCode()).isEqualTo(2);
    assertThat(badType.err()).isEqualTo("fhirbox: 'Patients' is not a FHIR R4 resource type" + NL);
  }

  @Test
  void anElementR4DoesNotKnowIsAUsageErrorRatherThanDroppedFromWhatIsCreated() {
    // a misspelt element (birthdate for birthDate) must not vanish from the record without a word
    String family = "Unknown-" + System.nanoTime();
    Cli.Result r = cli.runWithStdin("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family
        + "\"}],\"birthdate\":\"1970-01-01\"}", "create", "-");

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
    assertThat(r.err()).startsWith("fhirbox: stdin is not a FHIR JSON resource: ").contains("birthdate");
    assertThat(r.err().lines()).hasSize(1);
    Cli.Result found = cli.run("search", "Patient", "family=" + family + "&_summary=count");
    assertThat(found.json().path("total").asInt()).isZero();
  }

  @Test
  void aFileThatIsThereButNotARegularFileIsNamedForWhatItIs() {
    Cli.Result createDir = cli.run("create", dir.toString());
    Cli.Result createDevice = cli.run("create", "/dev/null");
    Cli.Result uploadDir = cli.run("upload", dir.toString());

    assertThat(createDir.exitCode()).as(createDir.toString()).isEqualTo(2);
    assertThat(createDir.err()).isEqualTo("fhirbox: " + dir + " is a directory, not a regular file" + NL);
    assertThat(createDevice.exitCode()).as(createDevice.toString()).isEqualTo(2);
    assertThat(createDevice.err()).isEqualTo("fhirbox: /dev/null is not a regular file" + NL);
    assertThat(uploadDir.exitCode()).as(uploadDir.toString()).isEqualTo(2);
    assertThat(uploadDir.err()).isEqualTo("fhirbox: " + dir + " is a directory, not a regular file" + NL);
  }

  @Test
  void aReferenceOrUrlThatNamesNoContentIsAUsageErrorWithExitCode2() {
    Cli.Result notABinary = cli.run("url", "Patient/1");
    Cli.Result notAUrl = cli.run("download", "http://127.0.0.1:1/a b", "-o", dir.resolve("x").toString());
    Cli.Result notHttp = cli.run("download", "urn:uuid:53fefa32-fcbb-4ff8-8a92-55ee120877b7", "-o", dir.resolve("x").toString());

    assertThat(notABinary.exitCode()).as(notABinary.toString()).isEqualTo(2);
    assertThat(notABinary.err()).isEqualTo("fhirbox: not a Binary reference or URL: 'Patient/1'" + NL);
    assertThat(notAUrl.exitCode()).as(notAUrl.toString()).isEqualTo(2);
    assertThat(notAUrl.err()).startsWith("fhirbox: 'http://127.0.0.1:1/a b' is no reference or URL");
    assertThat(notHttp.exitCode()).as(notHttp.toString()).isEqualTo(2);
    assertThat(notHttp.err()).startsWith("fhirbox: 'urn:uuid:53fefa32-fcbb-4ff8-8a92-55ee120877b7' is no reference or http(s) URL");
  }

  @Test
  void anExplicitlyEmptyConnectionFlagIsAUsageErrorInsteadOfFallingBackToTheEnvironment() {
    Cli fromEnv = Cli.withEnv(Map.of("FHIRBOX_SERVER", server.baseUrl(),
        "FHIRBOX_CLIENT_ID", TestServer.ADMIN_ID, "FHIRBOX_CLIENT_SECRET", TestServer.ADMIN_SECRET));

    for (String flag : List.of("--server", "--client-id", "--client-secret")) {
      for (String value : List.of("", " ")) {
        Cli.Result r = fromEnv.run("search", "Patient", "_count=1", flag, value);
        assertThat(r.exitCode()).as(flag + " '" + value + "': " + r).isEqualTo(2);
        assertThat(r.err()).startsWith("fhirbox: " + flag + " is empty");
        assertThat(r.err().lines()).hasSize(1);
      }
    }
    Cli.Result signed = fromEnv.run("download", server.baseUrl() + "storage/x/1?Signature=s", "-o", "-",
        "--server", "");
    assertThat(signed.exitCode()).as(signed.toString()).isEqualTo(2);
    assertThat(signed.err()).startsWith("fhirbox: --server is empty");
  }

  @Test
  void credentialsComeFromTheEnvironmentAndFlagsOverrideIt() {
    Map<String, String> env = Map.of("FHIRBOX_SERVER", server.baseUrl(),
        "FHIRBOX_CLIENT_ID", TestServer.ADMIN_ID, "FHIRBOX_CLIENT_SECRET", TestServer.ADMIN_SECRET);
    Cli fromEnv = Cli.withEnv(env);
    Cli wrongEnv = Cli.withEnv(Map.of("FHIRBOX_SERVER", "http://127.0.0.1:1/",
        "FHIRBOX_CLIENT_ID", "nobody", "FHIRBOX_CLIENT_SECRET", "nothing"));

    assertThat(fromEnv.run("search", "Patient", "_count=1").exitCode()).isZero();
    Cli.Result overridden = wrongEnv.run("search", "Patient", "_count=1", "--server", server.baseUrl(),
        "--client-id", TestServer.ADMIN_ID, "--client-secret", TestServer.ADMIN_SECRET);
    assertThat(overridden.exitCode()).as(overridden.toString()).isZero();
    Cli.Result unreachable = wrongEnv.run("search", "Patient");
    assertThat(unreachable.exitCode()).isEqualTo(1);
    assertThat(unreachable.err()).startsWith("fhirbox: cannot connect to the server (check --server or FHIRBOX_SERVER)");
    Cli.Result none = Cli.bare().run("search", "Patient");
    assertThat(none.exitCode()).isEqualTo(2);
    assertThat(none.err()).startsWith("fhirbox: no credentials: set FHIRBOX_CLIENT_ID");
  }

  @Test
  void helpListsEveryCommandAndEachCommandsOptions() {
    Cli.Result help = Cli.bare().run("--help");

    assertThat(help.exitCode()).isZero();
    for (String command : List.of("serve", "upload", "download", "url", "get", "create", "search", "admin")) {
      assertThat(help.out()).containsPattern("(?m)^  " + command + " +\\S");
    }
    assertThat(Cli.bare().run("upload", "--help").out())
        .contains("--content-type", "--filename", "--security-context", "--attach-to", "--path",
            "--server", "--client-id", "--client-secret", "--verbose");
    assertThat(Cli.bare().run("download", "--help").out()).contains("-o, --output");
    assertThat(Cli.bare().run("url", "--help").out()).contains("--download");
    assertThat(Cli.bare().run("search", "--help").out()).contains("--all");
    assertThat(Cli.bare().run("admin", "--help").out())
        .contains("create-client", "list-clients", "disable-client", "rotate-secret", "jobs");
    assertThat(Cli.bare().run("admin", "create-client", "--help").out()).contains("--project", "--scope", "--admin");
    assertThat(Cli.bare().run("admin", "jobs", "--help").out()).contains("--state");
  }
}
