package org.fhirbox.testing;

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
  private TestServer server;

  public ServerForClass() {
    this(Map.of());
  }

  public ServerForClass(Map<String, String> settings) {
    this.settings = Map.copyOf(settings);
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    server = TestServer.start(settings);
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
