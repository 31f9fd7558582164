package org.fhirbox.testing;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.fhirbox.app.FhirboxServer;
import org.fhirbox.config.FhirboxConfig;

/**
 * The real server in a JVM of its own, on a data folder that outlives it, so that a test can kill
 * it with SIGKILL (no shutdown hook, no close of anything) and start another on the same data and
 * port, as an operator's restart after a crash does. It bootstraps {@link TestServer}'s admin
 * client.
 */
public final class ServerJvm implements AutoCloseable {
  private static final String READY = "server-jvm ready at ";
  private final Process process;
  private final String baseUrl;
  private final int port;

  private ServerJvm(Process process, String baseUrl, int port) {
    this.process = process;
    this.baseUrl = baseUrl;
    this.port = port;
  }

  /** Starts a server on {@code dataDir} and {@code port} (0: any free one) with extra {@code settings}. */
  public static ServerJvm start(Path dataDir, int port, Map<String, String> settings) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        // a server that lives seconds: the C1 compiler alone and the serial collector start it in
        // about half the CPU time of the defaults
        "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
        ServerJvm.class.getName()));
    Map<String, String> s = new HashMap<>(settings);
    s.put("FHIRBOX_PORT", Integer.toString(port));
    s.put("FHIRBOX_BIND", "127.0.0.1");
    s.put("FHIRBOX_DATA_DIR", dataDir.toString());
    s.put("FHIRBOX_BOOTSTRAP_CLIENT_ID", TestServer.ADMIN_ID);
    s.put("FHIRBOX_BOOTSTRAP_CLIENT_SECRET", TestServer.ADMIN_SECRET);
    s.forEach((k, v) -> cmd.add(k + "=" + v));
    Path log = Files.createTempFile("server-jvm", ".log");
    Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    for (String line = out.readLine(); line != null; line = out.readLine()) {
      if (line.startsWith(READY)) {
        Files.deleteIfExists(log);
        String[] ready = line.substring(READY.length()).strip().split(" on port ");
        return new ServerJvm(p, ready[0], Integer.parseInt(ready[1]));
      }
    }
    p.waitFor(10, TimeUnit.SECONDS);
    String err = Files.readString(log);
    Files.deleteIfExists(log);
    throw new IllegalStateException("the server JVM ended before it was ready:\n" + err);
  }

  /** The child: settings as KEY=value arguments; runs until killed. */
  public static void main(String[] args) throws Exception {
    Map<String, String> settings = new HashMap<>();
    for (String a : args) {
      int eq = a.indexOf('=');
      settings.put(a.substring(0, eq), a.substring(eq + 1));
    }
    FhirboxServer server = new FhirboxServer(FhirboxConfig.of(settings)).start();
    System.out.println(READY + server.baseUrl() + " on port " + server.port());
    System.out.flush();
    new CountDownLatch(1).await();
  }

  /** The base URL clients use: the server's own, or the {@code FHIRBOX_BASE_URL} it was given (a proxy's). */
  public String baseUrl() {
    return baseUrl;
  }

  /** The port the server listens on. */
  public int port() {
    return port;
  }

  /** An HTTP client with the admin's credentials. */
  public TestClient client() {
    return new TestClient(baseUrl).withHeader("Authorization", "Basic " + Base64.getEncoder().encodeToString(
        (TestServer.ADMIN_ID + ":" + TestServer.ADMIN_SECRET).getBytes(StandardCharsets.UTF_8)));
  }

  /** SIGKILL, and waits until the process is gone. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    kill();
  }
}
