package org.fhirbox.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A file from an npm package, fetched for tests with {@code npm pack} (the tarball alone, no
 * install, no scripts run) into {@code target/npm-<name>} and reused by later runs. Missing npm
 * fails the test.
 */
public final class NpmPack {
  private NpmPack() {}

  /** {@code file} (e.g. {@code package/axe.min.js}) of {@code spec} (e.g. {@code axe-core@4.11.0}). */
  public static synchronized Path file(String spec, String file) throws Exception {
    Path dir = Path.of("target", "npm-" + spec.replaceAll("[^A-Za-z0-9.@-]", "_")).toAbsolutePath();
    Files.createDirectories(dir);
    // two JVMs of a tier may ask at once: one fetches while the other waits
    try (FileChannel lock = FileChannel.open(dir.resolveSibling(dir.getFileName() + ".lock"), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE); FileLock held = lock.lock()) {
      return fetched(spec, file, dir);
    }
  }

  private static Path fetched(String spec, String file, Path dir) throws Exception {
    Path wanted = dir.resolve(file);
    if (Files.exists(wanted)) {
      return wanted;
    }
    String tarball = run(dir, "npm", "pack", "--silent", "--cache", dir.resolveSibling("npm-cache").toString(), spec)
        .strip().lines().reduce((a, b) -> b).orElseThrow();
    run(dir, "tar", "xzf", tarball);
    assertThat(wanted).as("%s in %s", file, spec).exists();
    return wanted;
  }

  private static String run(Path dir, String... command) throws Exception {
    Path out = Files.createTempFile("npm-out", ".txt");
    Path err = Files.createTempFile("npm-err", ".txt");
    try {
      Process p;
      try {
        p = new ProcessBuilder(List.of(command)).directory(dir.toFile()).redirectOutput(out.toFile())
            .redirectError(err.toFile()).start();
      } catch (IOException e) {
        throw new AssertionError("'" + command[0] + "' is not on the PATH (Debian: apt-get install nodejs npm)", e);
      }
      assertThat(p.waitFor(300, TimeUnit.SECONDS)).as("%s finished", String.join(" ", command)).isTrue();
      assertThat(p.exitValue()).as("%s: %s", String.join(" ", command), Files.readString(err, StandardCharsets.UTF_8))
          .isZero();
      return Files.readString(out, StandardCharsets.UTF_8);
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }
}
