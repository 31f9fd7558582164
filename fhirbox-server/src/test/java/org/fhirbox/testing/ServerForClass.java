package org.fhirbox.testing;

import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One {@link TestServer} for a test class, started before its first test and closed after its
 * last:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final ServerForClass fhirbox = new ServerForClass();
 *
 * @Test
 * void readsWhatItCreates() {
 *   String id = TestClient.createdId(fhirbox.http().postJson("fhir/R4/Patient", json));
 * }
 * }</pre>
 */
public final class ServerForClass implements BeforeAllCallback, AfterAllCallback {
  private final Map<String, String> settings;
  private final Clock clock;
  private TestServer server;

  public ServerForClass() {
    this(Map.of());
  }

  public ServerForClass(Map<String, String> settings) {
    this(settings, Clock.systemUTC());
  }

  /** A server whose every expiry (tokens, signed URLs) follows {@code clock}, e.g. a {@link TestClock}. */
  public ServerForClass(Map<String, String> settings, Clock clock) {
    this.settings = Map.copyOf(settings);
    this.clock = clock;
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    server = TestServer.start(settings, clock);
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (server != null) {
      server.close();
    }
  }

  public TestServer server() {
    return server;
  }

  /** An HTTP client acting as the bootstrap admin. */
  public TestClient http() {
    return server.client();
  }
}
