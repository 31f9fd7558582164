package org.fhirbox.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fhirbox.testing.TestServer;

/** {@code fhirbox serve} in its own JVM (own heap limit, real signals), as a user runs it. */
final class ServerProcess implements AutoCloseable {
  private static final Pattern READY = Pattern.compile("fhirbox ready at (http://\\S+/) ");
  final Process process;
  final String baseUrl;
  final String stdoutBeforeReady;
  final Path dataDir;
  final StringBuilder stderr = new StringBuilder();
  private final CompletableFuture<Void> stderrDone;

  ServerProcess(Path dataDir, String heap, Map<String, String> env) throws Exception {
    this(dataDir, heap, env, 0);
  }

  /** A server on {@code port} (0: any free one), e.g. started again on the data of one that was killed. */
  ServerProcess(Path dataDir, String heap, Map<String, String> env, int port) throws Exception {
    this(dataDir, heap, env, port, System.getProperty("java.class.path"), List.of());
  }

  private ServerProcess(Path dataDir, String heap, Map<String, String> env, int port, String classPath,
      List<String> serveArgs) throws Exception {
    this.dataDir = dataDir;
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx" + heap,
        // a test server lives seconds: the C1 compiler alone and the serial collector start it in
        // half the CPU time of the defaults (measured 3.0 s against 6.1 s to ready on 2 loaded cores)
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
        "-cp", classPath, Main.class.getName(),
        "serve", "--port", Integer.toString(port), "--data-dir", dataDir.toString()));
    cmd.addAll(serveArgs);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().remove("FHIRBOX_LOG_LEVEL");
    pb.environment().put("FHIRBOX_BIND", "127.0.0.1");
    pb.environment().put("FHIRBOX_BOOTSTRAP_CLIENT_ID", TestServer.ADMIN_ID);
    pb.environment().put("FHIRBOX_BOOTSTRAP_CLIENT_SECRET", TestServer.ADMIN_SECRET);
    pb.environment().putAll(env);
    this.process = pb.start();
    this.stderrDone = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(),
          StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          synchronized (stderr) {
            stderr.append(line).append('\n');
          }
        }
      } catch (IOException ignored) {
        // process ended
      }
      stderrDone.complete(null);
    }, "server-stderr");
    reader.setDaemon(true);
    reader.start();
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    StringBuilder before = new StringBuilder();
    String found = null;
    for (String line = out.readLine(); line != null; line = out.readLine()) {
      Matcher m = READY.matcher(line);
      if (m.find()) {
        found = m.group(1);
        break;
      }
      before.append(line).append('\n');
    }
    if (found == null) {
      process.waitFor(10, TimeUnit.SECONDS);
      throw new IllegalStateException("server exited before it was ready:\n" + before + stderr());
    }
    this.stdoutBeforeReady = before.toString();
    this.baseUrl = found;
  }

  /**
   * A server that sets up its logging as an installed one does: the class path without the tests'
   * {@code logback-test.xml}, which would take over from fhirbox's own console logging.
   */
  static ServerProcess withOwnLogging(Map<String, String> env, String... serveArgs) throws Exception {
    List<String> entries = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
      Path p = Path.of(entry);
      boolean testLogging = Files.isDirectory(p) ? Files.exists(p.resolve("logback-test.xml"))
          : entry.endsWith(".jar") && hasEntry(p, "logback-test.xml");
      if (!testLogging) {
        entries.add(entry);
      }
    }
    return new ServerProcess(Files.createTempDirectory("fhirbox-proc"), "256m", env, 0,
        String.join(java.io.File.pathSeparator, entries), List.of(serveArgs));
  }

  private static boolean hasEntry(Path jar, String name) throws IOException {
    try (java.util.jar.JarFile j = new java.util.jar.JarFile(jar.toFile())) {
      return j.getEntry(name) != null;
    }
  }

  static ServerProcess start(String heap) throws Exception {
    return new ServerProcess(Files.createTempDirectory("fhirbox-proc"), heap, Map.of());
  }

  String stderr() {
    synchronized (stderr) {
      return stderr.toString();
    }
  }

  /** Everything the process wrote to stderr, once it has exited. */
  String stderrAfterExit() throws Exception {
    stderrDone.get(10, TimeUnit.SECONDS);
    return stderr();
  }

  int port() {
    return URI.create(baseUrl).getPort();
  }

  /** SIGKILL: the process gets no chance to finish anything; its data stays for a successor. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  String authorization() {
    return "Basic " + java.util.Base64.getEncoder().encodeToString(
        (TestServer.ADMIN_ID + ":" + TestServer.ADMIN_SECRET).getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public void close() throws Exception {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
    TestServer.deleteTree(dataDir);
  }
}
