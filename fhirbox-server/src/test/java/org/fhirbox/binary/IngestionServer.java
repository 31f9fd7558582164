package org.fhirbox.binary;

import java.util.Map;
import java.util.function.Function;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * An {@link Upstream} and a {@link TestServer} whose ingestion fetches from it, for a test class:
 * started before its first test (the upstream first, since the settings name its origin) and
 * closed after its last.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final IngestionServer fhirbox = new IngestionServer(up -> up.ingestSettings());
 * }</pre>
 */
final class IngestionServer implements BeforeAllCallback, AfterAllCallback {
  private final Function<Upstream, Map<String, String>> settings;
  private Upstream upstream;
  private TestServer server;

  /** {@code settings}: the server's, given the upstream it fetches from. */
  IngestionServer(Function<Upstream, Map<String, String>> settings) {
    this.settings = settings;
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    upstream = new Upstream();
    server = TestServer.start(settings.apply(upstream));
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    try (Upstream u = upstream) {
      if (server != null) {
        server.close();
      }
    }
  }

  Upstream upstream() {
    return upstream;
  }

  TestServer server() {
    return server;
  }

  /** An HTTP client acting as the bootstrap admin. */
  TestClient http() {
    return server.client();
  }
}
