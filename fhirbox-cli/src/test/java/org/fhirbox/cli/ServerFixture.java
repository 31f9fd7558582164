package org.fhirbox.cli;

import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** A real server per test class, and the CLI signed in as its admin client. */
abstract class ServerFixture {
  static TestServer server;
  static Cli cli;

  @BeforeAll
  static void startServer() throws Exception {
    server = TestServer.start();
    cli = Cli.withFlags(server.baseUrl(), TestServer.ADMIN_ID, TestServer.ADMIN_SECRET);
  }

  @AfterAll
  static void stopServer() throws Exception {
    server.close();
  }
}
