package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestClock;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;

/** Access tokens stop working after FHIRBOX_TOKEN_TTL seconds, measured on the server's clock. */
class TokenExpiryTest {

  @Test
  void expiredTokenIs401InvalidToken() throws Exception {
    TestClock clock = new TestClock(Instant.now());
    try (TestServer server = TestServer.start(Map.of("FHIRBOX_TOKEN_TTL", "300"), clock)) {
      ProjectClients clients = new ProjectClients(server);
      ProjectClients.Credentials c = clients.create("short-lived", "system/*.rs", false);
      assertThat(clients.tokenResponse(c).body()).contains("\"expires_in\":300");
      TestClient client = clients.bearer(c);
      assertThat(client.get("fhir/R4/Patient").statusCode()).isEqualTo(200);

      clock.advance(Duration.ofSeconds(299));
      assertThat(client.get("fhir/R4/Patient").statusCode()).as("one second before expiry").isEqualTo(200);

      clock.advance(Duration.ofSeconds(1));
      HttpResponse<String> r = client.get("fhir/R4/Patient");
      assertThat(r.statusCode()).isEqualTo(401);
      assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"fhirbox\", error=\"invalid_token\"");
      assertThat(r.body()).contains("OperationOutcome").contains("expired");

      // a fresh token works again
      assertThat(clients.bearer(c).get("fhir/R4/Patient").statusCode()).isEqualTo(200);
    }
  }
}
