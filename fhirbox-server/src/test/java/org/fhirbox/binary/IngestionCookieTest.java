package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Fetches keep no cookies (RFC 6265): what an upstream sets for one project's fetch goes to no later one. */
class IngestionCookieTest {
  static Upstream upstream;
  static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    upstream = new Upstream();
    server = TestServer.start(upstream.ingestSettings());
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
    upstream.close();
  }

  private static HttpResponse<String> importUrl(TestClient client, String url) {
    return client.send(client.request("fhir/R4/Binary/$import?url=" + ProjectClients.enc(url))
        .POST(HttpRequest.BodyPublishers.noBody()));
  }

  @Test
  void aCookieSetOnOneProjectsFetchIsNotSentOnAnotherProjectsFetch() {
    ProjectClients clients = new ProjectClients(server);
    TestClient a = clients.client("cookie-a", "system/*.cruds");
    TestClient b = clients.client("cookie-b", "system/*.cruds");
    List<String> cookiesOnDoc = new CopyOnWriteArrayList<>();
    upstream.on("/files/login", ex -> {
      ex.getResponseHeaders().add("Set-Cookie", "sid=A-SECRET; Path=/");
      Upstream.send(ex, 200, "text/plain", "signed in".getBytes(StandardCharsets.UTF_8));
    });
    upstream.on("/files/doc", ex -> {
      cookiesOnDoc.addAll(ex.getRequestHeaders().getOrDefault("Cookie", List.of()));
      Upstream.send(ex, 200, "text/plain", "a document".getBytes(StandardCharsets.UTF_8));
    });

    HttpResponse<String> login = importUrl(a, upstream.origin() + "/files/login");
    assertThat(login.statusCode()).as(login.body()).isEqualTo(201);
    HttpResponse<String> doc = importUrl(b, upstream.origin() + "/files/doc");
    assertThat(doc.statusCode()).as(doc.body()).isEqualTo(201);

    assertThat(upstream.hits("/files/doc")).isEqualTo(1);
    assertThat(cookiesOnDoc).isEmpty();
  }
}
