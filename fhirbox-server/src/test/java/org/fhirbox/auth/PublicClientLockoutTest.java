package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.testing.FormBrowser;
import org.fhirbox.testing.SmartApp;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestClock;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;

/**
 * A public client has no secret to guess, so a stranger's wrong secrets for its id cannot hold
 * back anyone else who uses it: over plain HTTP behind a trusted proxy that names the callers.
 */
class PublicClientLockoutTest {
  private static final String SCOPE = "openid offline_access user/*.rs";

  @Test
  void wrongSecretsForTheWebAppsIdFromManyAddressesLeaveItsSignInsAndRefreshesWorking() throws Exception {
    TestClock clock = new TestClock(); // held still: a block, once set, does not run out
    try (TestServer server = TestServer.start(Map.of("FHIRBOX_TRUST_PROXY", "true"), clock)) {
      SmartApp.user(server, AuthModule.SERVER_PROJECT, "casey@example.org", "Practitioner/casey", "user/*.rs");
      SmartApp app = SmartApp.publicClient(server, AppClients.APP_CLIENT, server.baseUrl() + "app/");
      TestClient stranger = new TestClient(server.baseUrl());
      int refused = 0;
      // 150 wrong secrets, 5 from each of 30 addresses, by client_secret_post and by Basic
      for (int i = 0; i < 150; i++) {
        HttpRequest.Builder b = stranger.request("oauth2/token")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("X-Forwarded-For", "198.51.100." + (i % 30));
        String form = "grant_type=client_credentials";
        if (i % 2 == 0) {
          form += "&client_id=" + AppClients.APP_CLIENT + "&client_secret=guess-" + i;
        } else {
          b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
              (AppClients.APP_CLIENT + ":guess-" + i).getBytes(StandardCharsets.UTF_8)));
        }
        HttpResponse<String> r = stranger.send(b.POST(HttpRequest.BodyPublishers.ofString(form)));
        assertThat(r.statusCode()).as("attempt %d: %s", i, r.body()).isIn(401, 429);
        refused += r.statusCode() == 401 ? 1 : 0;
      }

      // the app signs someone in from another address: the exchange and the refresh go through
      FormBrowser.Page back = app.signIn(new FormBrowser(), SCOPE, "casey@example.org", Map.of());
      HttpResponse<String> tokens = app.exchange(app.code(back));
      assertThat(tokens.statusCode()).as(tokens.body()).isEqualTo(200);
      String refreshToken = SmartApp.read(tokens.body()).get("refresh_token").asText();
      HttpResponse<String> refreshed = app.refresh(refreshToken, Optional.empty());
      assertThat(refreshed.statusCode()).as(refreshed.body()).isEqualTo(200);

      assertThat(refused).as("each guess was checked and refused, none held back by others' guesses")
          .isEqualTo(150);
      // an address that guessed is slowed down itself, for that client id
      HttpResponse<String> guesser = stranger.send(stranger.request("oauth2/token")
          .header("Content-Type", "application/x-www-form-urlencoded").header("X-Forwarded-For", "198.51.100.7")
          .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id="
              + AppClients.APP_CLIENT + "&client_secret=again")));
      assertThat(guesser.statusCode()).as(guesser.body()).isEqualTo(429);
    }
  }
}
