package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.fhirbox.testing.FormBrowser;
import org.fhirbox.testing.FormBrowser.Page;
import org.fhirbox.testing.SmartApp;
import org.fhirbox.testing.TestClock;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;

/**
 * Each valid authorization request is stored until the person finishes; one caller address may
 * start only {@code FHIRBOX_AUTHORIZE_REQUESTS_PER_MINUTE} of them a minute, over plain HTTP
 * behind a trusted proxy that names the caller. A HEAD request starts none.
 */
class AuthorizeRequestLimitTest {
  private static final String SCOPE = "user/*.rs";

  @Test
  void anAddressPastItsLimitGetsA429PageWhileAnotherAddressStillSignsIn() throws Exception {
    TestClock clock = new TestClock();
    try (TestServer server = TestServer.start(Map.of("FHIRBOX_AUTHORIZE_REQUESTS_PER_MINUTE", "3",
        "FHIRBOX_TRUST_PROXY", "true"), clock)) {
      SmartApp app = SmartApp.register(server, "limits", SCOPE, true, true, "https://app.example.org/cb");
      Map<String, String> busy = Map.of("X-Forwarded-For", "203.0.113.7");
      // HEAD is safe (RFC 9110 §9.2.1, §9.3.2): the header fields GET would have, but nothing stored or counted
      String url = app.authorizeUrl(SCOPE, Map.of());
      Page get = new FormBrowser().get(url, Map.of("X-Forwarded-For", "203.0.113.9"));
      for (int i = 0; i < 4; i++) {
        Page head = new FormBrowser().send("HEAD", url, busy);
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.header("Set-Cookie")).isEmpty();
        for (String field : List.of("Content-Type", "Content-Length", "Content-Security-Policy", "Cache-Control")) {
          assertThat(head.header(field)).as(field).isPresent().isEqualTo(get.header(field));
        }
      }
      for (int i = 0; i < 3; i++) {
        Page page = new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of()), busy);
        assertThat(page.status()).as(page.body()).isEqualTo(200);
      }
      Page refused = new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of()), busy);
      assertThat(refused.status()).isEqualTo(429);
      assertThat(refused.header("Content-Type").orElseThrow()).startsWith("text/html");
      assertThat(refused.body()).contains("Too many sign-in requests");
      assertThat(refused.header("Retry-After")).hasValue("20");
      assertThat(refused.header("Set-Cookie")).isEmpty();
      assertThat(refused.header("Location")).isEmpty();
      Page headRefused = new FormBrowser().send("HEAD", url, busy);
      assertThat(headRefused.status()).isEqualTo(429);
      assertThat(headRefused.header("Retry-After")).hasValue("20");
      assertThat(new FormBrowser().send("HEAD", app.authorizeUrl(SCOPE, Map.of("response_type", "token")), busy)
          .redirectParams()).containsEntry("error", "unsupported_response_type");
      // an invalid request stores nothing and still gets its error redirect
      Page invalid = new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of("response_type", "token")), busy);
      assertThat(invalid.redirectParams()).containsEntry("error", "unsupported_response_type");

      Page other = new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of()), Map.of("X-Forwarded-For", "203.0.113.8"));
      assertThat(other.status()).as(other.body()).isEqualTo(200);

      // one more request a minute per three: twenty seconds later the busy address may start one
      clock.advance(Duration.ofSeconds(20));
      assertThat(new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of()), busy).status()).isEqualTo(200);
      assertThat(new FormBrowser().get(app.authorizeUrl(SCOPE, Map.of()), busy).status()).isEqualTo(429);
    }
  }

  @Test
  void addressesOfOneIpv6Slash64CountTogether() {
    assertThat(AddressRateLimiter.key("2001:db8:1:2::1")).isEqualTo(AddressRateLimiter.key("2001:db8:1:2:ffff::9"))
        .isNotEqualTo(AddressRateLimiter.key("2001:db8:1:3::1"));
    assertThat(AddressRateLimiter.key("203.0.113.7")).isEqualTo("203.0.113.7");
  }
}
