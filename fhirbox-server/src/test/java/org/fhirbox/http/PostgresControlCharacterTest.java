package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.fhirbox.testing.PostgresSchema;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * On PostgreSQL, which cannot hold U+0000 in text: a NUL in a search value is refused before any
 * SQL, and one that reaches the database another way (a client id in the token endpoint's form)
 * is 400, not 500.
 */
@SlowTest
class PostgresControlCharacterTest {
  @RegisterExtension
  static final PostgresSchema postgres = new PostgresSchema();
  static TestServer server;
  static TestClient http;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(postgres.serverSettings());
    http = server.client();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void aNulInASearchValueIs400() {
    HttpResponse<String> r = http.get("fhir/R4/Patient?name=a%00b");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains("U+0000");
  }

  @Test
  void aNulTheDatabaseRefusesIs400() {
    TestClient anonymous = new TestClient(server.baseUrl());
    HttpResponse<String> r = anonymous.send(anonymous.request("oauth2/token")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id=a%00b&client_secret=x")));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
  }
}
