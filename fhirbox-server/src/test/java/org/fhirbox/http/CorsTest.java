package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.fhirbox.testing.FormBrowser;
import org.fhirbox.testing.FormBrowser.Page;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.SmartApp;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;

/**
 * CORS as a browser checks it for Medplum's JS client, which sends every request with
 * {@code credentials: 'include'} (Fetch standard: such a response must name the exact origin and
 * carry {@code Access-Control-Allow-Credentials: true}).
 */
class CorsTest {
  private static final String APP = "https://app.example.org";

  @Test
  void listedOriginIsAllowedWithCredentialsOnPreflightAndResponse() throws Exception {
    try (TestServer server = TestServer.start(Map.of("FHIRBOX_CORS_ORIGINS", APP))) {
      TestClient http = server.client();
      HttpResponse<String> pre = http.send(http.request("fhir/R4/Binary").header("Origin", APP)
          .header("Access-Control-Request-Method", "POST")
          .header("Access-Control-Request-Headers", "authorization,cache-control,content-type,x-medplum")
          .method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
      assertThat(pre.statusCode()).isEqualTo(204);
      assertThat(pre.headers().firstValue("Access-Control-Allow-Origin")).hasValue(APP);
      assertThat(pre.headers().firstValue("Access-Control-Allow-Credentials")).hasValue("true");
      assertThat(pre.headers().firstValue("Access-Control-Allow-Headers").orElseThrow())
          .contains("Authorization", "Cache-Control", "Content-Type", "X-Medplum");

      HttpResponse<String> get = http.send(http.request("fhir/R4/Patient").header("Origin", APP)
          .header("Accept", "application/fhir+json"));
      assertThat(get.statusCode()).isEqualTo(200);
      assertThat(get.headers().firstValue("Access-Control-Allow-Origin")).hasValue(APP);
      assertThat(get.headers().firstValue("Access-Control-Allow-Credentials")).hasValue("true");
      assertThat(get.headers().allValues("Vary")).anySatisfy(v -> assertThat(v).contains("Origin"));
    }
  }

  @Test
  void unlistedOriginGetsNoCorsHeaders() throws Exception {
    try (TestServer server = TestServer.start(Map.of("FHIRBOX_CORS_ORIGINS", APP))) {
      TestClient http = server.client();
      HttpResponse<String> get = http.send(http.request("fhir/R4/Patient").header("Origin", "https://evil.example")
          .header("Accept", "application/fhir+json"));
      assertThat(get.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
      assertThat(get.headers().firstValue("Access-Control-Allow-Credentials")).isEmpty();
    }
  }

  @Test
  void wildcardNeverAllowsCredentials() throws Exception {
    try (TestServer server = TestServer.start()) {
      TestClient http = server.client();
      HttpResponse<String> get = http.send(http.request("fhir/R4/Patient").header("Origin", APP)
          .header("Accept", "application/fhir+json"));
      assertThat(get.headers().firstValue("Access-Control-Allow-Origin")).hasValue("*");
      assertThat(get.headers().firstValue("Access-Control-Allow-Credentials")).isEmpty();
    }
  }

  @Test
  void aSignedUrlFetchedFirstWithoutAnOriginIsCachedAsOneThatCorsAllows() throws Exception {
    // an <img> or <video> sends no Origin; the browser then serves its cached answer to fetch()
    try (TestServer wildcard = TestServer.start(); TestServer listed = TestServer.start(Map.of("FHIRBOX_CORS_ORIGINS", APP))) {
      for (TestServer server : java.util.List.of(wildcard, listed)) {
        TestClient http = server.client();
        String id = TestClient.createdId(http.postBytes("fhir/R4/Binary", "text/plain", "hello".getBytes()));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"valueUrl\":\"([^\"]+)\"")
            .matcher(http.get("fhir/R4/Binary/" + id + "/$presigned-url").body());
        assertThat(m.find()).isTrue();
        String url = m.group(1);
        assertThat(url).contains("/storage/");
        HttpResponse<String> noOrigin = new TestClient(server.baseUrl()).send(new TestClient(server.baseUrl())
            .request(url).GET());
        assertThat(noOrigin.statusCode()).isEqualTo(200);
        if (server == wildcard) {
          assertThat(noOrigin.headers().firstValue("Access-Control-Allow-Origin")).hasValue("*");
        } else {
          assertThat(noOrigin.headers().allValues("Vary")).anySatisfy(v -> assertThat(v).contains("Origin"));
          HttpResponse<String> refused = new TestClient(server.baseUrl()).send(new TestClient(server.baseUrl())
              .request(url).header("Origin", "https://evil.example").GET());
          assertThat(refused.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
          assertThat(refused.headers().allValues("Vary")).anySatisfy(v -> assertThat(v).contains("Origin"));
        }
      }
    }
  }

  @Test
  void theCookieBasedSignInPagesAnswerAListedOriginWithoutCors() throws Exception {
    try (TestServer server = TestServer.start(Map.of("FHIRBOX_CORS_ORIGINS", APP))) {
      String patient = TestClient.createdId(new ProjectClients(server).client("cors", "system/*.cruds")
          .postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Hopper\"}]}"));
      SmartApp app = SmartApp.register(server, "cors", "patient/*.rs launch/patient", true, false, APP + "/cb");
      SmartApp.user(server, "cors", "nurse@example.org", "Practitioner/nurse", "user/*.rs");
      Map<String, String> origin = Map.of("Origin", APP);
      FormBrowser browser = new FormBrowser();

      Page signIn = browser.get(app.authorizeUrl("launch/patient patient/*.rs", Map.of()), origin);
      assertThat(signIn.status()).as(signIn.body()).isEqualTo(200);
      assertNoCors(signIn);
      Page picker = browser.submit(signIn, "oauth2/signin", Map.of("email", "nurse@example.org",
          "password", SmartApp.PASSWORD), origin);
      assertThat(picker.body()).contains("Choose a patient");
      assertNoCors(picker);
      // the picker, read with the person's cookie, lists the patients they may see
      Page found = browser.get(server.baseUrl() + "oauth2/patient?q=Hopper", origin);
      assertThat(FormBrowser.radioValues(found, "patient")).containsExactly(patient);
      assertNoCors(found);
      Page consent = browser.submit(found, "oauth2/patient", Map.of("patient", patient), origin);
      assertThat(consent.body()).contains("Allow access?");
      assertNoCors(consent);
      Page allowed = browser.submit(consent, "oauth2/consent", Map.of("decision", "allow"), origin);
      assertThat(allowed.location().toString()).startsWith(APP + "/cb?");
      assertNoCors(allowed);

      for (String path : List.of("oauth2/authorize", "oauth2/signin", "oauth2/patient", "oauth2/consent",
          "account/set-password")) {
        Page preflight = browser.send("OPTIONS", server.baseUrl() + path, Map.of("Origin", APP,
            "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type"));
        assertThat(preflight.status()).as(path).isNotEqualTo(204);
        assertNoCors(preflight);
      }
      // the endpoints an app calls from script keep their CORS
      for (String path : List.of("oauth2/token", "oauth2/revoke", "oauth2/introspect", "oauth2/userinfo",
          ".well-known/smart-configuration", ".well-known/openid-configuration", ".well-known/jwks.json")) {
        Page preflight = browser.send("OPTIONS", server.baseUrl() + path, Map.of("Origin", APP,
            "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type"));
        assertThat(preflight.status()).as(path).isEqualTo(204);
        assertThat(preflight.header("Access-Control-Allow-Origin")).as(path).hasValue(APP);
      }
    }
  }

  @Test
  void aPreflightAllowsConditionalCreateAndTracingHeadersButNotAnyHeader() throws Exception {
    try (TestServer server = TestServer.start(Map.of("FHIRBOX_CORS_ORIGINS", APP))) {
      TestClient http = server.client();
      HttpResponse<String> pre = http.send(http.request("fhir/R4/Patient").header("Origin", APP)
          .header("Access-Control-Request-Method", "POST")
          .header("Access-Control-Request-Headers",
              "authorization,content-type,if-none-exist,x-request-id,traceparent,tracestate,baggage")
          .method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
      assertThat(pre.statusCode()).isEqualTo(204);
      List<String> allowed = names(pre, "Access-Control-Allow-Headers");
      assertThat(allowed).contains("authorization", "content-type", "if-none-exist", "x-request-id", "traceparent",
          "tracestate", "baggage");

      HttpResponse<String> odd = http.send(http.request("fhir/R4/Patient").header("Origin", APP)
          .header("Access-Control-Request-Method", "GET").header("Access-Control-Request-Headers", "x-anything")
          .method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
      assertThat(names(odd, "Access-Control-Allow-Headers")).doesNotContain("x-anything");

      // what a FHIR client reads of a create's answer
      HttpResponse<String> created = http.send(http.request("fhir/R4/Patient").header("Origin", APP)
          .header("Content-Type", "application/fhir+json").header("If-None-Exist", "identifier=urn:cors|1")
          .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"identifier\":"
              + "[{\"system\":\"urn:cors\",\"value\":\"1\"}]}")));
      assertThat(created.statusCode()).isEqualTo(201);
      assertThat(names(created, "Access-Control-Expose-Headers")).contains("location", "content-location", "etag",
          "last-modified");
    }
  }

  @Test
  void aListedOriginsAnswerVariesByOriginAndByAcceptAlsoWhenItIsAnError() throws Exception {
    try (TestServer server = TestServer.start(Map.of("FHIRBOX_CORS_ORIGINS", APP))) {
      TestClient http = server.client();
      for (String path : List.of("fhir/R4/Patient", "fhir/R4/Patient/missing", "fhir/R4/metadata")) {
        HttpResponse<String> r = http.send(http.request(path).header("Origin", APP)
            .header("Accept", "application/fhir+json"));
        assertThat(CacheHeadersTest.varied(r)).as(path).contains("origin", "accept");
        assertThat(r.headers().firstValue("Access-Control-Allow-Origin")).as(path).hasValue(APP);
      }
    }
  }

  @Test
  void anErrorJettyAnswersItselfCarriesTheCorsOfItsRoute() throws Exception {
    try (TestServer listed = TestServer.start(Map.of("FHIRBOX_CORS_ORIGINS", APP));
        TestServer wildcard = TestServer.start()) {
      TestClient http = listed.client();
      // an encoded slash in a segment: Jetty refuses the ambiguous path before the servlet
      HttpResponse<String> ambiguous = http.send(http.request("fhir/R4/Patient/a%2Fb").header("Origin", APP)
          .header("Accept", "application/fhir+json"));
      HostileRequestTest.assertOutcome(ambiguous, 400, "mbiguous");
      assertThat(ambiguous.headers().firstValue("Access-Control-Allow-Origin")).hasValue(APP);
      assertThat(ambiguous.headers().firstValue("Access-Control-Allow-Credentials")).hasValue("true");
      assertThat(names(ambiguous, "Access-Control-Expose-Headers")).contains("location", "etag");
      assertThat(CacheHeadersTest.varied(ambiguous)).contains("origin");
      assertThat(ambiguous.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");

      HttpResponse<String> other = http.send(http.request("fhir/R4/Patient/a%2Fb")
          .header("Origin", "https://evil.example"));
      assertThat(other.statusCode()).isEqualTo(400);
      assertThat(other.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
      // the cookie-based pages get no CORS, from the servlet or from Jetty
      HttpResponse<String> page = http.send(http.request("account/a%2Fb").header("Origin", APP));
      assertThat(page.statusCode()).isEqualTo(400);
      assertThat(page.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();

      TestClient any = wildcard.client();
      HttpResponse<String> star = any.send(any.request("fhir/R4/Patient/a%2Fb").header("Origin", APP));
      assertThat(star.statusCode()).isEqualTo(400);
      assertThat(star.headers().firstValue("Access-Control-Allow-Origin")).hasValue("*");
      // headers too large: Jetty keeps none of them, so only the wildcard can be answered
      HttpResponse<String> large = any.send(any.request("fhir/R4/Patient").header("Origin", APP)
          .header("X-Big", "a".repeat(40_000)));
      assertThat(large.statusCode()).isEqualTo(431);
      assertThat(large.headers().firstValue("Access-Control-Allow-Origin")).hasValue("*");
      assertThat(large.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
    }
  }

  /** The names a comma-separated header lists, lower case. */
  private static List<String> names(HttpResponse<String> r, String header) {
    return r.headers().allValues(header).stream().flatMap(v -> java.util.Arrays.stream(v.split(",")))
        .map(v -> v.strip().toLowerCase(java.util.Locale.ROOT)).toList();
  }

  private static void assertNoCors(Page page) {
    assertThat(page.header("Access-Control-Allow-Origin")).as(page.body()).isEmpty();
    assertThat(page.header("Access-Control-Allow-Credentials")).isEmpty();
    assertThat(page.header("Access-Control-Allow-Methods")).isEmpty();
  }
}
