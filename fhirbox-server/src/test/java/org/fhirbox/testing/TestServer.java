package org.fhirbox.testing;

import ca.uhn.fhir.context.FhirContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.fhirbox.app.FhirboxServer;
import org.fhirbox.auth.PasswordHasher;
import org.fhirbox.binary.HostResolver;
import org.fhirbox.config.FhirboxConfig;

/**
 * A real fhirbox server on 127.0.0.1 and a free port, with its own temporary data directory.
 * Close it to stop the server; the data directory is deleted.
 */
public final class TestServer implements AutoCloseable {
  /** One FhirContext per test JVM: building it costs a second or two. */
  public static final FhirContext FHIR = FhirContext.forR4Cached();

  /** The admin client every test server bootstraps. */
  public static final String ADMIN_ID = "test-admin";
  public static final String ADMIN_SECRET = "test-admin-secret-" + java.util.UUID.randomUUID();
  /**
   * PBKDF2 iterations of the secrets and passwords a test server stores: the same hash as
   * production's, stretched less, since production's 600,000 cost a second or more of CPU at
   * every start (the bootstrap secret) and at every first check, on a host that runs hundreds.
   * {@link #startStretchingFully} keeps production's.
   */
  public static final int ITERATIONS = 1_000;

  private final Path dataDir;
  private final FhirboxServer server;
  private final TestClient client;

  private TestServer(Map<String, String> settings, Clock clock) throws Exception {
    this(settings, clock, HostResolver.SYSTEM);
  }

  private TestServer(Map<String, String> settings, Clock clock, HostResolver resolver) throws Exception {
    this(settings, clock, resolver, new PasswordHasher(new SecureRandom(), ITERATIONS));
  }

  private TestServer(Map<String, String> settings, Clock clock, HostResolver resolver, PasswordHasher hasher)
      throws Exception {
    this(settings, clock, resolver, hasher, server -> { });
  }

  private TestServer(Map<String, String> settings, Clock clock, HostResolver resolver, PasswordHasher hasher,
      Consumer<FhirboxServer> beforeStart) throws Exception {
    this.dataDir = Files.createTempDirectory("fhirbox-test");
    Map<String, String> s = new HashMap<>();
    s.put("FHIRBOX_PORT", "0");
    s.put("FHIRBOX_BIND", "127.0.0.1");
    s.put("FHIRBOX_DATA_DIR", dataDir.toString());
    s.put("FHIRBOX_BOOTSTRAP_CLIENT_ID", ADMIN_ID);
    s.put("FHIRBOX_BOOTSTRAP_CLIENT_SECRET", ADMIN_SECRET);
    // a stop without waiting for requests in flight, unless the test sets a timeout (one that tests
    // a stop does): a graceful one takes 1.0-1.7 s right after a client's requests, Jetty's shutdown
    // idle timeout for their kept-alive connections, about 10 ms with 0
    s.put("FHIRBOX_SHUTDOWN_TIMEOUT", "0");
    s.putAll(settings);
    FhirboxServer made = new FhirboxServer(FhirboxConfig.of(s), FHIR, clock, resolver, hasher);
    beforeStart.accept(made);
    this.server = made.start();
    this.client = new TestClient(server.baseUrl()).withHeader("Authorization", "Basic "
        + java.util.Base64.getEncoder().encodeToString((ADMIN_ID + ":" + ADMIN_SECRET).getBytes()));
  }

  public static TestServer start() throws Exception {
    return new TestServer(Map.of(), Clock.systemUTC());
  }

  public static TestServer start(Map<String, String> settings) throws Exception {
    return new TestServer(settings, Clock.systemUTC());
  }

  /** A server that stretches secrets and passwords as production does, for tests of what that costs. */
  public static TestServer startStretchingFully() throws Exception {
    return new TestServer(Map.of(), Clock.systemUTC(), HostResolver.SYSTEM, new PasswordHasher());
  }

  /**
   * A server given to {@code beforeStart} once it is made and before it starts: work a test puts
   * on its threads then comes before the start's own (the warm-ups, the re-indexing).
   */
  public static TestServer start(Map<String, String> settings, Consumer<FhirboxServer> beforeStart) throws Exception {
    return new TestServer(settings, Clock.systemUTC(), HostResolver.SYSTEM,
        new PasswordHasher(new SecureRandom(), ITERATIONS), beforeStart);
  }

  /** A server whose every expiry (tokens, signed URLs) follows {@code clock}, e.g. a {@link TestClock}. */
  public static TestServer start(Map<String, String> settings, Clock clock) throws Exception {
    return new TestServer(settings, clock);
  }

  /** A server whose ingestion resolves host names with {@code resolver} instead of the system's DNS. */
  public static TestServer start(Map<String, String> settings, HostResolver resolver) throws Exception {
    return new TestServer(settings, Clock.systemUTC(), resolver);
  }

  public FhirboxServer server() {
    return server;
  }

  public Path dataDir() {
    return dataDir;
  }

  public String baseUrl() {
    return server.baseUrl();
  }

  public String fhirBase() {
    return server.baseUrl() + "fhir/R4";
  }

  /**
   * Files of the file blob store: stored blobs, and with {@code temporary} the files of writes
   * under way too. Empty blob files are left out: the store makes those ahead of time, in the
   * background, for uploads to come (a stored empty blob is left out as well).
   */
  public long blobFiles(boolean temporary) throws IOException {
    Path blobs = dataDir.resolve("blobs");
    try (var files = Files.walk(blobs)) {
      return files.filter(Files::isRegularFile).filter(p -> {
        boolean inTmp = p.getParent().equals(blobs.resolve("tmp"));
        return inTmp ? temporary : p.toFile().length() > 0;
      }).count();
    }
  }

  /** An HTTP client that talks to this server with admin credentials. */
  public TestClient client() {
    return client;
  }

  @Override
  public void close() throws Exception {
    try {
      server.close();
    } finally {
      deleteTree(dataDir);
    }
  }

  public static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (var walk = Files.walk(root)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
