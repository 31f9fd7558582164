package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.fhirbox.testing.FormBrowser;
import org.fhirbox.testing.FormBrowser.Page;
import org.fhirbox.testing.SmartApp;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;

/**
 * Behind https: a server whose public base URL is https marks the sign-in cookie Secure and asks
 * browsers to reach it over https only.
 */
class SignInCookieTest {
  @Test
  void behindHttpsTheSignInCookieIsSecureAndScopedToTheBasePath() throws Exception {
    try (TestServer server = TestServer.start(Map.of("FHIRBOX_BASE_URL", "https://fhirbox.example.org/box/"))) {
      // the server is reached directly here, not through the https base URL, which does not resolve
      ClientCredentials app = server.server().auth().clients().create("tls", "user/*.rs", false,
          ClientProfile.of(true, false, List.of("https://app.example.org/cb")));
      String direct = "http://127.0.0.1:" + server.server().port() + "/oauth2/authorize?" + FormBrowser.encode(Map.of(
          "response_type", "code", "client_id", app.clientId(), "redirect_uri", "https://app.example.org/cb",
          "scope", "user/*.rs", "state", "s1", "aud", "https://fhirbox.example.org/box/fhir/R4",
          "code_challenge", SmartApp.challenge("v".repeat(43)), "code_challenge_method", "S256"));

      Page page = new FormBrowser().get(direct);

      assertThat(page.status()).as(page.body()).isEqualTo(200);
      assertThat(page.header("Set-Cookie").orElseThrow()).contains("; Secure", "HttpOnly", "SameSite=Lax",
          "Path=/box/oauth2/");
      // the form posts beside the page, under whichever address the browser reached it at
      assertThat(page.body()).contains("action=\"signin\"");
    }
  }

  @Test
  void behindHttpsEveryAnswerTellsBrowsersToUseHttpsOnly() throws Exception {
    // the scheme's case is not told apart (RFC 3986 §3.1); a host name with '_', which java.net.URI
    // parses no host from, is a host name all the same
    try (TestServer server = TestServer.start(Map.of("FHIRBOX_BASE_URL", "HTTPS://fhir_box.example.org/box/"))) {
      // reached directly, as above; answers with and without credentials alike, and Jetty's own
      // error for an ambiguous path
      TestClient http = new TestClient("http://127.0.0.1:" + server.server().port() + "/");
      for (String path : List.of("healthz", "app/", "fhir/R4/metadata", "fhir/R4/Patient/missing", "fhir/R4/Nothing",
          "oauth2/authorize", "storage/x/1?Expires=1", "fhir/R4/Patient/a%2Fb")) {
        HttpResponse<String> r = http.send(http.request(path));

        assertThat(r.headers().firstValue("Strict-Transport-Security")).as(path + " " + r.statusCode())
            .contains("max-age=31536000");
      }
    }
    try (TestServer plain = TestServer.start(Map.of())) {
      HttpResponse<String> r = plain.client().send(plain.client().request("fhir/R4/Patient/missing"));
      assertThat(r.statusCode()).isEqualTo(404);
      assertThat(r.headers().firstValue("Strict-Transport-Security")).as("an http base URL").isEmpty();
    }
    // https on localhost would pin every local port to https for a year; browsers ignore it for IP literals
    for (String base : List.of("https://localhost:8443/", "https://localhost./", "https://127.0.0.1:8443/",
        "https://[::1]:8443/")) {
      try (TestServer local = TestServer.start(Map.of("FHIRBOX_BASE_URL", base))) {
        TestClient http = new TestClient("http://127.0.0.1:" + local.server().port() + "/");
        assertThat(http.send(http.request("healthz")).headers().firstValue("Strict-Transport-Security")).as(base)
            .isEmpty();
      }
    }
  }

  @Test
  void aPersonSignsInAtAnAddressOtherThanTheBaseUrl() throws Exception {
    // the issuer a load balancer answers at, where the discovery documents send a person, is
    // another address than this node's base URL, which the browser may not reach
    try (TestServer server = TestServer.start(Map.of("FHIRBOX_BASE_URL", "https://node1.internal.example.org/"))) {
      ClientCredentials app = server.server().auth().clients().create("elsewhere", "user/*.rs", false,
          ClientProfile.of(true, true, List.of("https://app.example.org/cb")));
      SmartApp.user(server, "elsewhere", "eve@example.org", "Practitioner/e1", "user/*.rs");
      String direct = "http://127.0.0.1:" + server.server().port() + "/oauth2/authorize?" + FormBrowser.encode(Map.of(
          "response_type", "code", "client_id", app.clientId(), "redirect_uri", "https://app.example.org/cb",
          "scope", "user/*.rs", "state", "s1", "code_challenge", SmartApp.challenge("v".repeat(43)),
          "code_challenge_method", "S256"));
      FormBrowser browser = new FormBrowser();
      Page page = browser.get(direct);
      assertThat(page.status()).as(page.body()).isEqualTo(200);

      Page done = browser.submit(page, "signin", Map.of("email", "eve@example.org", "password", SmartApp.PASSWORD));

      assertThat(done.status()).as(done.body()).isEqualTo(303);
      assertThat(done.redirectParams()).containsKey("code").containsEntry("state", "s1");
    }
  }
}
