package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
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
}
