package org.fhirbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;

/** {@code fhirbox serve} as a process: ready line, health, graceful SIGTERM. */
class ServeCommandTest {

  @Test
  @SlowTest
  void printsReadyLineAnswersHealthzAndDrainsInFlightRequestsOnSigterm() throws Exception {
    try (ServerProcess server = ServerProcess.start("256m")) {
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(server.baseUrl + "healthz")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).isEqualTo(200);

      // An upload that is still sending when SIGTERM arrives must complete.
      CountDownLatch sending = new CountDownLatch(1);
      InputStream slow = new InputStream() {
        int sent;

        @Override
        public int read() {
          byte[] b = new byte[1];
          return read(b, 0, 1) < 0 ? -1 : b[0];
        }

        @Override
        public int read(byte[] b, int off, int len) {
          if (sent >= 40) {
            return -1;
          }
          if (sent == 10) {
            sending.countDown(); // half a second in: the server is reading this body
          }
          try {
            Thread.sleep(50);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          b[off] = (byte) sent++;
          return 1;
        }
      };
      CompletableFuture<HttpResponse<String>> upload = http.sendAsync(
          HttpRequest.newBuilder(URI.create(server.baseUrl + "fhir/R4/Binary"))
              .header("Content-Type", "application/octet-stream").header("Authorization", server.authorization())
              .POST(HttpRequest.BodyPublishers.ofInputStream(() -> slow)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(sending.await(10, TimeUnit.SECONDS)).isTrue();
      server.process.destroy(); // SIGTERM
      HttpResponse<String> done = upload.get(30, TimeUnit.SECONDS);
      assertThat(done.statusCode()).as(done.body()).isEqualTo(201);
      assertThat(server.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(server.process.exitValue()).as(server.stderrAfterExit()).isZero();
    }
  }

  @Test
  @SlowTest
  void theLogLevelIsReadFromTheConfigFileAndAnUnknownLevelIsWarnedAboutInUtf8() throws Exception {
    Path dir = Files.createTempDirectory("fhirbox-log-level");
    Path quiet = dir.resolve("quiet.properties");
    Files.writeString(quiet, "FHIRBOX_LOG_LEVEL=ERROR\n");
    Path misspelt = dir.resolve("misspelt.properties");
    Files.writeString(misspelt, "FHIRBOX_LOG_LEVEL=DEBÜG\n", java.nio.charset.StandardCharsets.UTF_8);
    Map<String, String> unknownSetting = Map.of("FHIRBOX_MISSPELT_SETTING", "1");
    try {
      String atError = stderrOfAStart(unknownSetting, quiet);
      // a JVM whose default charset is US-ASCII, as Java 17 takes it where no locale is set
      String atUnknown = stderrOfAStart(Map.of("FHIRBOX_MISSPELT_SETTING", "1",
          "JAVA_TOOL_OPTIONS", "-Dfile.encoding=US-ASCII"), misspelt);

      assertThat(atError).doesNotContain("FHIRBOX_MISSPELT_SETTING");
      assertThat(atUnknown).contains("FHIRBOX_MISSPELT_SETTING is not a setting")
          .contains("FHIRBOX_LOG_LEVEL 'DEBÜG' is no log level");
    } finally {
      TestServer.deleteTree(dir);
    }
  }

  /** Starts {@code fhirbox serve --config FILE}, stops it with SIGTERM, and returns what it wrote to stderr. */
  private static String stderrOfAStart(Map<String, String> env, Path config) throws Exception {
    try (ServerProcess server = ServerProcess.withOwnLogging(env, "--config", config.toString())) {
      server.process.destroy();
      assertThat(server.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      return server.stderrAfterExit();
    }
  }

  @Test
  void aConfigFileThatIsNotThereIsAUsageError() {
    Cli.Result r = Cli.bare().run("serve", "--config", "no-such-fhirbox.properties");

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
    assertThat(r.err()).contains("fhirbox: no such file: no-such-fhirbox.properties");
  }

  @Test
  void aPortFlagOutOfRangeIsAUsageErrorNamingTheFlag() {
    for (String port : new String[] {"99999", "-1"}) {
      Cli.Result r = Cli.bare().run("serve", "--port", port, "--data-dir", "no-such-data-dir-is-made");

      assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
      assertThat(r.err()).contains("fhirbox: --port must be between 0 and 65535 (0 picks a free one), not " + port);
    }
    assertThat(Path.of("no-such-data-dir-is-made")).doesNotExist();
  }

  /** A config file that is there but cannot be read fails the start as a wrong setting does, saying why. */
  @Test
  void aConfigFileThatCannotBeReadStopsTheStartNamingWhy(@org.junit.jupiter.api.io.TempDir Path tmp)
      throws Exception {
    Path latin1 = Files.write(tmp.resolve("latin1.properties"),
        "FHIRBOX_PORT=0\n# caf\u00e9\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));

    Cli.Result directory = Cli.bare().run("serve", "--config", tmp.toString());
    Cli.Result notUtf8 = Cli.bare().run("serve", "--config", latin1.toString());

    assertThat(directory.exitCode()).as(directory.toString()).isEqualTo(1);
    assertThat(directory.err()).contains("fhirbox: the config file " + tmp + " cannot be read: it is a directory");
    assertThat(notUtf8.exitCode()).as(notUtf8.toString()).isEqualTo(1);
    assertThat(notUtf8.err()).contains("fhirbox: the config file " + latin1 + " cannot be read: line 2 is not UTF-8");
  }

  @Test
  void aDataDirectoryThatIsAFileStopsTheStartNamingTheSetting(@org.junit.jupiter.api.io.TempDir Path tmp)
      throws Exception {
    Path file = java.nio.file.Files.writeString(tmp.resolve("data"), "not a directory");

    Cli.Result r = Cli.bare().run("serve", "--port", "0", "--data-dir", file.toString());

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
    assertThat(r.err()).contains("fhirbox: FHIRBOX_DATA_DIR (--data-dir) " + file + " is no directory");
  }

  @Test
  void aDataDirectoryBelowAFileStopsTheStartNamingTheFileInTheWay(@org.junit.jupiter.api.io.TempDir Path tmp)
      throws Exception {
    Path file = Files.writeString(tmp.resolve("data"), "not a directory");

    Cli.Result r = Cli.bare().run("serve", "--port", "0", "--data-dir", file.resolve("sub").toString());

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
    assertThat(r.err()).contains("fhirbox: FHIRBOX_DATA_DIR (--data-dir) " + file.resolve("sub") + " cannot be used: "
        + file + " is a file where a directory belongs");
  }

  /**
   * The database and the blobs under it are health data: no other account on the host may list or
   * read them. A start makes its data directory before it opens the database or its port, so one
   * that stops at a port in use (held here, so that no server process is needed) has made it.
   */
  @Test
  void aDataDirectoryTheStartCreatesIsItsOwnersOnly(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
    Path data = tmp.resolve("new").resolve("data");
    try (ServerSocket holder = new ServerSocket(0)) {
      Cli.Result r = Cli.bare().run("serve", "--port", Integer.toString(holder.getLocalPort()),
          "--data-dir", data.toString());

      assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
    }
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data))).isEqualTo("rwx------");
  }

  @Test
  @SlowTest
  void aPortInUseStopsTheStartSayingSoAndLeavesTheDatabaseClosed(@org.junit.jupiter.api.io.TempDir Path tmp)
      throws Exception {
    Path data = tmp.resolve("data");
    try (ServerSocket holder = new ServerSocket(0)) {
      int port = holder.getLocalPort();
      Cli.Result r = Cli.bare().run("serve", "--port", Integer.toString(port), "--data-dir", data.toString());

      assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
      assertThat(r.err()).contains("fhirbox: port " + port + " is in use")
          .contains("--port").doesNotContain("Exception").doesNotContain("\tat ");
    }
    // the failed start closed its database: a later one opens it without recovering it
    try (ServerProcess next = new ServerProcess(data, "256m", Map.of())) {
      next.process.destroy();
      assertThat(next.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(next.stderrAfterExit()).doesNotContain("not closed cleanly");
    }
  }

  @Test
  @SlowTest
  void aConfigFileHoldingASecretThatOthersMayReadIsWarnedAboutWithoutShowingIt(
      @org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
    Path config = Files.writeString(tmp.resolve("fhirbox.properties"),
        "FHIRBOX_LOG_LEVEL=WARN\nFHIRBOX_BOOTSTRAP_CLIENT_SECRET=" + TestServer.ADMIN_SECRET + "\n");
    Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r--r--"));
    String shared = stderrOfAStart(Map.of(), config);
    Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-------"));
    String ownerOnly = stderrOfAStart(Map.of(), config);

    assertThat(shared).contains("the config file " + config + " is readable by others (rw-r--r--) and holds"
        + " FHIRBOX_BOOTSTRAP_CLIENT_SECRET").contains("chmod 600").doesNotContain(TestServer.ADMIN_SECRET);
    assertThat(ownerOnly).doesNotContain("is readable by");
  }

  @Test
  void helpListsTheCommands() {
    java.io.StringWriter out = new java.io.StringWriter();
    picocli.CommandLine cl = new picocli.CommandLine(new Main());
    cl.setOut(new java.io.PrintWriter(out));
    assertThat(cl.execute("--help")).isZero();
    assertThat(out.toString()).contains("serve");
  }
}
