package org.fhirbox.client;

import ca.uhn.fhir.context.FhirContext;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.time.Clock;
import org.fhirbox.app.FhirboxServer;
import org.fhirbox.auth.PasswordHasher;
import org.fhirbox.binary.HostResolver;
import org.fhirbox.config.FhirboxConfig;

/**
 * The real server in-process on 127.0.0.1:0 with a temp data folder, and the one place that
 * says how tests authenticate: an admin client bootstrapped from the configuration.
 */
final class TestServer implements AutoCloseable {
  static final String CLIENT_ID = "test-admin";
  /**
   * PBKDF2 iterations for the admin secret: a test stretches it less than production's (each start
   * hashes it), as the server's own test servers do; how secrets are hashed is the server's to test.
   */
  private static final int STRETCHING = 1_000;

  private final String secret;
  private final FhirboxServer server;

  private TestServer(String secret, FhirboxServer server) {
    this.secret = secret;
    this.server = server;
  }

  static TestServer start(Path dataDir) throws Exception {
    return start(dataDir, 0);
  }

  /** A server on {@code port} (0: any free one), e.g. one started again where another stopped. */
  static TestServer start(Path dataDir, int port) throws Exception {
    byte[] random = new byte[24];
    new SecureRandom().nextBytes(random);
    String secret = HexFormat.of().formatHex(random);
    FhirboxServer server = new FhirboxServer(FhirboxConfig.of(Map.of(
        "FHIRBOX_PORT", Integer.toString(port),
        "FHIRBOX_BIND", "127.0.0.1",
        "FHIRBOX_DATA_DIR", dataDir.toString(),
        "FHIRBOX_BOOTSTRAP_CLIENT_ID", CLIENT_ID,
        "FHIRBOX_BOOTSTRAP_CLIENT_SECRET", secret)), FhirContext.forR4Cached(), Clock.systemUTC(),
        HostResolver.SYSTEM, new PasswordHasher(new SecureRandom(), STRETCHING)).start();
    return new TestServer(secret, server);
  }

  int port() {
    return java.net.URI.create(server.baseUrl()).getPort();
  }

  String baseUrl() {
    return server.baseUrl();
  }

  /** A client authenticated as the bootstrap admin. */
  FhirboxClient client() {
    return FhirboxClient.builder()
        .baseUrl(server.baseUrl())
        .basicAuth(CLIENT_ID, secret)
        .retryPolicy(new RetryPolicy(2, Duration.ofMillis(20), Duration.ofMillis(100), Duration.ofSeconds(1)))
        .build();
  }

  @Override
  public void close() throws Exception {
    server.close();
  }
}
