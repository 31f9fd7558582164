package org.fhirbox.compat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code @medplum/core} 4.x from npm, installed once into {@code target/medplum-node} (npm's cache
 * in {@code target/npm-cache}) and reused by later runs. Missing Node or npm fails the test.
 */
final class MedplumPackage {
  static final Path DIR = Path.of("target", "medplum-node").toAbsolutePath();
  private static final ObjectMapper JSON = new ObjectMapper();

  private MedplumPackage() {}

  /** The result of a finished process. */
  record Result(int exit, String stdout, String stderr) {}

  /** Ensures Node 20+ and npm are present and the package is installed; returns {@link #DIR}. */
  static synchronized Path install() throws Exception {
    requireNode();
    Files.createDirectories(DIR);
    // the slow tier's two JVMs may both get here first: one installs while the other waits, and
    // never reads a package.json that an npm install under way has not written yet
    try (FileChannel file = FileChannel.open(DIR.resolveSibling("medplum-node.lock"), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE); FileLock held = file.lock()) {
      return installed();
    }
  }

  private static Path installed() throws Exception {
    Path pkg = DIR.resolve("node_modules/@medplum/core/package.json");
    if (Files.exists(pkg) && JSON.readTree(pkg.toFile()).path("version").asText().startsWith("4.")) {
      return DIR;
    }
    // Its own package.json keeps npm from installing into a parent folder's project.
    Files.writeString(DIR.resolve("package.json"), "{\"name\":\"fhirbox-medplum-compat\",\"private\":true}\n",
        StandardCharsets.UTF_8);
    Result r = run(List.of("npm", "install", "--no-audit", "--no-fund", "--cache",
        DIR.resolveSibling("npm-cache").toString(), "@medplum/core@4"), DIR, Map.of(), 300);
    if (r.exit() != 0) {
      fail("npm install @medplum/core@4 failed (exit %d):%n%s%n%s", r.exit(), r.stdout(), r.stderr());
    }
    assertThat(JSON.readTree(pkg.toFile()).path("version").asText()).startsWith("4.");
    return DIR;
  }

  /** The package's browser-ready ES module (it has no dependencies of its own). */
  static Path esmBundle() throws Exception {
    return install().resolve("node_modules/@medplum/core/dist/esm/index.mjs");
  }

  /** Medplum 4 needs Node 20 or later (global fetch, Blob); it is never skipped for lack of Node. */
  static void requireNode() throws Exception {
    for (String tool : List.of("node", "npm")) {
      Result r;
      try {
        r = run(List.of(tool, "--version"), Path.of("."), Map.of(), 30);
      } catch (IOException e) {
        throw new AssertionError("'" + tool + "' is not on the PATH; the Medplum compatibility tests need"
            + " Node.js 20 and npm (Debian: apt-get install nodejs npm)", e);
      }
      assertThat(r.exit()).as("%s --version: %s", tool, r.stderr()).isZero();
    }
    String version = run(List.of("node", "--version"), Path.of("."), Map.of(), 30).stdout().strip();
    int major = Integer.parseInt(version.replaceFirst("^v(\\d+).*", "$1"));
    assertThat(major).as("node %s: @medplum/core 4 needs Node 20 or later", version).isGreaterThanOrEqualTo(20);
  }

  static Result run(List<String> command, Path dir, Map<String, String> env, int timeoutSeconds) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
    pb.environment().putAll(env);
    Path err = Files.createTempFile("compat-stderr", ".txt");
    Path out = Files.createTempFile("compat-stdout", ".txt");
    try {
      pb.redirectOutput(out.toFile()).redirectError(err.toFile());
      Process p = pb.start();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        fail("%s did not finish within %d s; stderr:%n%s", command, timeoutSeconds, Files.readString(err));
      }
      return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    } finally {
      Files.deleteIfExists(err);
      Files.deleteIfExists(out);
    }
  }
}
