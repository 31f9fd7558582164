package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.testing.FormBrowser;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.SmartApp;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestClock;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code POST /oauth2/logout} with the access token (what Medplum's client's {@code signOut()}
 * sends): a person's sign-in ends, its refresh tokens and access tokens with it.
 */
class SignOutTest {
  private static final String PROJECT = "signout";
  private static final String REDIRECT = "https://app.example.org/cb";
  private static final TestClock clock = new TestClock();
  /** Access tokens outlive refresh tokens here: what ended a sign-in must be kept as long as its access tokens. */
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass(Map.of("FHIRBOX_TOKEN_TTL", "3600",
      "FHIRBOX_REFRESH_TOKEN_TTL", "600"), clock);
  private static TestServer server;
  private static ProjectClients clients;
  private static SmartApp app;
  private static User user;

  @BeforeAll
  static void start() {
    server = fhirbox.server();
    clients = new ProjectClients(server);
    app = SmartApp.register(server, PROJECT, "user/*.rs openid fhirUser offline_access", true, true, REDIRECT);
    user = SmartApp.user(server, PROJECT, "sam@example.org", "Practitioner/sam", "user/*.rs");
  }

  private static JsonNode signIn(String scope) {
    HttpResponse<String> r = app.exchange(app.code(app.signIn(new FormBrowser(), scope, "sam@example.org", Map.of())));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return SmartApp.read(r.body());
  }

  private static TestClient bearer(String token) {
    return new TestClient(server.baseUrl()).withHeader("Authorization", "Bearer " + token);
  }

  private static HttpResponse<String> logout(TestClient as) {
    return as.send(as.request("oauth2/logout").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{}")));
  }

  @Test
  void signingOutEndsThePersonsSignInItsRefreshTokenAndItsAccessTokens() throws Exception {
    JsonNode t = signIn("user/*.rs openid offline_access");
    TestClient signedIn = bearer(t.get("access_token").asText());
    assertThat(signedIn.get("fhir/R4/Patient").statusCode()).isEqualTo(200);
    String refreshed = SmartApp.read(app.refresh(t.get("refresh_token").asText(), Optional.empty()).body())
        .get("access_token").asText();
    JsonNode other = signIn("user/*.rs openid offline_access");

    HttpResponse<String> out = logout(signedIn);

    assertThat(out.statusCode()).as(out.body()).isEqualTo(200);
    assertThat(SmartApp.read(out.body()).path("ok").asBoolean()).isTrue();
    assertThat(out.headers().firstValue("Cache-Control")).contains("no-store");
    HttpResponse<String> after = signedIn.get("fhir/R4/Patient");
    assertThat(after.statusCode()).isEqualTo(401);
    assertThat(after.body()).contains("the sign-in of the access token has ended");
    assertThat(bearer(refreshed).get("fhir/R4/Patient").statusCode()).as("a token of the same sign-in").isEqualTo(401);
    HttpResponse<String> refresh = app.refresh(t.get("refresh_token").asText(), Optional.empty());
    assertThat(refresh.statusCode()).isEqualTo(400);
    assertThat(SmartApp.read(refresh.body()).get("error").asText()).isEqualTo("invalid_grant");
    // another sign-in of the same person goes on
    assertThat(bearer(other.get("access_token").asText()).get("fhir/R4/Patient").statusCode()).isEqualTo(200);
    // signing out twice: the token is no longer valid
    HttpResponse<String> again = logout(signedIn);
    assertThat(again.statusCode()).isEqualTo(401);
    assertThat(SmartApp.read(again.body()).get("error").asText()).isEqualTo("invalid_token");

    TestClient admin = clients.bearer(clients.create(PROJECT, "system/*.rs", true));
    JsonNode bundle = Poll.until("a sign-out AuditEvent",
        () -> SmartApp.read(admin.get("fhir/R4/AuditEvent?type=110114&subtype=110123").body()),
        b -> b.path("total").asInt() >= 1);
    JsonNode event = bundle.findValues("resource").get(0);
    assertThat(event.path("agent").get(0).path("altId").asText()).isEqualTo(user.id());
    assertThat(event.path("outcomeDesc").asText()).isEqualTo("signed out (/oauth2/logout)");
  }

  @Test
  void aSignInWithoutARefreshTokenEndsToo() {
    JsonNode t = signIn("user/*.rs openid");
    assertThat(t.has("refresh_token")).isFalse();
    TestClient signedIn = bearer(t.get("access_token").asText());

    assertThat(logout(signedIn).statusCode()).isEqualTo(200);

    assertThat(signedIn.get("fhir/R4/Patient").statusCode()).isEqualTo(401);
  }

  @Test
  void aSignOutHoldsForAsLongAsItsAccessTokensLiveThoughTheRefreshLifetimeIsShorter() {
    JsonNode t = signIn("user/*.rs openid offline_access");
    TestClient signedIn = bearer(t.get("access_token").asText());
    assertThat(logout(signedIn).statusCode()).isEqualTo(200);

    // past the sign-in's refresh lifetime, a later sign-in's refresh token has the expired rows purged,
    // and every node's minute of remembered sign-in status is over; the access token has 40 minutes left
    clock.advance(Duration.ofSeconds(1200));
    signIn("user/*.rs openid offline_access");
    clock.advance(Duration.ofSeconds(61));

    assertThat(signedIn.get("fhir/R4/Patient").statusCode()).isEqualTo(401);
  }

  @Test
  void aClientsOwnTokenHasNoSignInToEndAndStaysValidUntilItExpires() {
    TestClient backend = clients.bearer(clients.create(PROJECT, "system/*.rs", false));

    HttpResponse<String> out = logout(backend);

    assertThat(out.statusCode()).as(out.body()).isEqualTo(200);
    assertThat(backend.get("fhir/R4/Patient").statusCode()).isEqualTo(200);
  }

  @Test
  void withoutAValidAccessTokenOrByAnotherMethodItIsRefused() {
    HttpResponse<String> none = logout(new TestClient(server.baseUrl()));
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().firstValue("WWW-Authenticate")).contains("Bearer realm=\"fhirbox\"");
    HttpResponse<String> bad = logout(bearer("not-a-token"));
    assertThat(bad.statusCode()).isEqualTo(401);
    assertThat(SmartApp.read(bad.body()).get("error").asText()).isEqualTo("invalid_token");
    assertThat(bad.headers().firstValue("WWW-Authenticate").orElseThrow()).contains("error=\"invalid_token\"");

    TestClient signedIn = bearer(signIn("user/*.rs openid").get("access_token").asText());
    HttpResponse<String> get = signedIn.get("oauth2/logout");
    assertThat(get.statusCode()).isEqualTo(405);
    assertThat(get.headers().firstValue("Allow")).contains("POST");
    assertThat(signedIn.get("fhir/R4/Patient").statusCode()).as("nothing ended").isEqualTo(200);
  }
}
