package org.fhirbox.http;

import java.util.Map;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * A contract run against one server per test class, on the database its subclass names; its tests
 * keep out of each other's way by the values they write.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ServerPerClassContract {
  TestServer server;
  TestClient http;

  /** Server settings naming the database. */
  protected abstract Map<String, String> settings();

  @BeforeAll
  void start() throws Exception {
    server = TestServer.start(settings());
    http = server.client();
  }

  @AfterAll
  void stop() throws Exception {
    server.close();
  }
}
