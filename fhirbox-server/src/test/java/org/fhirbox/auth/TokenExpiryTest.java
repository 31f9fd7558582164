package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;

/** Access tokens stop working after FHIRBOX_TOKEN_TTL seconds. */
class TokenExpiryTest {

  @Test
  void expiredTokenIs401InvalidToken() throws Exception {
    try (TestServer server = TestServer.start(Map.of("FHIRBOX_TOKEN_TTL", "2"))) {
      ProjectClients clients = new ProjectClients(server);
      ProjectClients.Credentials c = clients.create("short-lived", "system/*.rs", false);
      assertThat(clients.tokenResponse(c).body()).contains("\"expires_in\":2");
      TestClient client = clients.bearer(c);
      Instant issued = Instant.now();
      assertThat(client.get("fhir/R4/Patient").statusCode()).isEqualTo(200);

      // bounded poll: the token must die between 2 s (its TTL) and a few seconds later
      Instant deadline = issued.plusSeconds(10);
      HttpResponse<String> r = client.get("fhir/R4/Patient");
      while (r.statusCode() == 200 && Instant.now().isBefore(deadline)) {
        Thread.sleep(100);
        r = client.get("fhir/R4/Patient");
      }
      assertThat(r.statusCode()).isEqualTo(401);
      assertThat(Duration.between(issued, Instant.now())).isGreaterThanOrEqualTo(Duration.ofMillis(900));
      assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"fhirbox\", error=\"invalid_token\"");
      assertThat(r.body()).contains("OperationOutcome").contains("expired");

      // a fresh token works again
      assertThat(clients.bearer(c).get("fhir/R4/Patient").statusCode()).isEqualTo(200);
    }
  }
}
