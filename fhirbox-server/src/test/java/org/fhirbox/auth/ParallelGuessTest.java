package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;

/**
 * Guesses sent in parallel are held to the same limits as guesses sent one after another: the
 * throttle counts an attempt from before its secret is hashed, not only once it has failed.
 */
class ParallelGuessTest {
  private static final int GUESSES = 16;

  @Test
  void parallelWrongSecretsForOneClientFromOneAddressGetAtMostFiveChecksAndThe429Rest() throws Exception {
    // stretched as in production, so that the checks take long enough to overlap
    try (TestServer server = TestServer.startStretchingFully()) {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
      for (int i = 0; i < GUESSES; i++) {
        // the bootstrap client's secret was chosen, so each check is a full PBKDF2 hash
        String basic = Base64.getEncoder().encodeToString((TestServer.ADMIN_ID + ":guess-" + i)
            .getBytes(StandardCharsets.UTF_8));
        answers.add(http.sendAsync(HttpRequest.newBuilder(URI.create(server.baseUrl() + "oauth2/token"))
            .header("Authorization", "Basic " + basic).header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")).build(),
            HttpResponse.BodyHandlers.ofString()));
      }
      int checked = 0;
      for (CompletableFuture<HttpResponse<String>> a : answers) {
        HttpResponse<String> r = a.get();
        assertThat(r.statusCode()).as(r.body()).isIn(401, 429);
        if (r.statusCode() == 401) {
          checked++;
        } else {
          assertThat(r.headers().firstValue("Retry-After")).isPresent();
        }
      }
      assertThat(checked).as("guesses whose secret was checked").isBetween(1, 5);
    }
  }
}
