package org.fhirbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.UnreadableFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A file to upload or create from that cannot be read is a usage error (exit 2), found before anything is sent. */
class InputFileErrorsTest extends ServerFixture {
  @TempDir
  Path dir;

  private static String binaryCount() {
    Cli.Result r = cli.run("search", "Binary", "_summary=count");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    return r.json().path("total").asText();
  }

  @Test
  void anUnreadableFileIsAUsageErrorBeforeAnyUpload() throws Exception {
    String file = UnreadableFiles.make(dir).toString();
    Path cache = dir.resolve("cache");
    Cli withCache = Cli.withEnv(Map.of("FHIRBOX_SERVER", server.baseUrl(),
        "FHIRBOX_CLIENT_ID", TestServer.ADMIN_ID,
        "FHIRBOX_CLIENT_SECRET", TestServer.ADMIN_SECRET, "XDG_CACHE_HOME", cache.toString()));
    String before = binaryCount();

    for (String[] args : new String[][] {{"upload", file}, {"upload", file, "--resumable"},
        {"upload", file, "--direct"}, {"create", file}}) {
      Cli.Result r = withCache.run(args);
      assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
      assertThat(r.err()).as(String.join(" ", args)).isEqualTo("fhirbox: cannot read " + file + ": permission denied\n");
    }

    assertThat(binaryCount()).isEqualTo(before);
    assertThat(cache).doesNotExist();
  }

  @Test
  void aFlagSentAsAHeaderThatAHeaderCannotCarryIsAUsageErrorNamingItBeforeAnyUpload() throws Exception {
    String file = Files.writeString(dir.resolve("note.txt"), "hello").toString();
    String before = binaryCount();

    for (String[] flag : new String[][] {{"--content-type", "text/plain\r\nX-Injected: 1"},
        {"--content-type", "text/plain; name=caf\u00e9"}, {"--security-context", "Patient/1\nX-Injected: 1"}}) {
      Cli.Result r = cli.run("upload", file, flag[0], flag[1]);
      assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
      assertThat(r.err()).as(r.toString()).startsWith("fhirbox: " + flag[0] + " ").contains("header");
      assertThat(r.err().lines()).hasSize(1);
    }

    assertThat(binaryCount()).isEqualTo(before);
  }
  /**
   * An upload flag given empty (often a shell variable that is not set) would otherwise upload
   * all the same: without the security context asked for (with --attach-to, without the one it
   * defaults to), as application/octet-stream, or with no file name.
   */
  @Test
  void anUploadFlagGivenEmptyIsAUsageErrorNamingItBeforeAnyUpload() throws Exception {
    String file = Files.writeString(dir.resolve("note.txt"), "hello").toString();
    Cli.Result patient = cli.runWithStdin("{\"resourceType\":\"Patient\"}", "create", "-");
    assertThat(patient.exitCode()).as(patient.toString()).isZero();
    String patientRef = "Patient/" + patient.json().path("id").asText();
    String before = binaryCount();

    for (String flag : new String[] {"--security-context", "--content-type", "--filename"}) {
      for (String blank : new String[] {"", " "}) {
        for (String[] args : new String[][] {{"upload", file, flag, blank},
            {"upload", file, flag, blank, "--resumable"}, {"upload", file, flag, blank, "--direct"},
            {"upload", file, flag, blank, "--attach-to", patientRef, "--path", "photo"}}) {
          Cli.Result r = cli.run(args);
          assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
          assertThat(r.err()).as(r.toString()).startsWith("fhirbox: " + flag + " is empty");
          assertThat(r.err().lines()).hasSize(1);
        }
      }
    }

    assertThat(binaryCount()).isEqualTo(before);
  }
}
