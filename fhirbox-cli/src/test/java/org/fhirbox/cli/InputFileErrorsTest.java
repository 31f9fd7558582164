package org.fhirbox.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A file to upload or create from that cannot be read is a usage error (exit 2), found before anything is sent. */
class InputFileErrorsTest extends ServerFixture {
  @TempDir
  Path dir;

  /**
   * A file that exists but cannot be opened for reading: chmod 000 where that binds (not root),
   * else a write-only kernel attribute, which nobody can open for reading; empty when neither is at hand.
   */
  static Optional<Path> unreadableFile(Path dir) throws IOException {
    Path file = Files.writeString(dir.resolve("secret.jpg"), "x");
    if (file.toFile().setReadable(false, false) && !Files.isReadable(file)) {
      return Optional.of(file);
    }
    try (Stream<Path> found = Files.find(Path.of("/sys/devices"), 4,
        (p, a) -> a.isRegularFile() && p.getFileName().toString().equals("rescan"))) {
      return found.filter(p -> {
        try (var in = Files.newInputStream(p)) {
          return false;
        } catch (IOException denied) {
          return true;
        }
      }).findFirst();
    } catch (IOException | SecurityException none) {
      return Optional.empty();
    }
  }

  private static String binaryCount() {
    Cli.Result r = cli.run("search", "Binary", "_summary=count");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    return r.json().path("total").asText();
  }

  @Test
  void anUnreadableFileIsAUsageErrorBeforeAnyUpload() throws Exception {
    Optional<Path> unreadable = unreadableFile(dir);
    assumeTrue(unreadable.isPresent(), "no unreadable file can be made here");
    String file = unreadable.get().toString();
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
}
