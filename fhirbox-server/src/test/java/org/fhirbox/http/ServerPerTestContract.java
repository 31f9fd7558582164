package org.fhirbox.http;

import java.util.Map;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** A contract run against a fresh server per test, on the database its subclass names. */
abstract class ServerPerTestContract {
  TestServer server;
  TestClient http;

  /** Server settings naming the database. */
  protected abstract Map<String, String> settings();

  @BeforeEach
  void start() throws Exception {
    server = TestServer.start(settings());
    http = server.client();
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }
}
