package org.fhirbox.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Many conditional creates ({@code POST Patient} with {@code If-None-Exist}) or conditional updates
 * ({@code PUT Patient?identifier=...}) of one condition at the same moment, spread over the given
 * clients (one per node): exactly one Patient results, and every answer names it.
 */
public final class ConditionalRace {
  /** Requests in one race. */
  public static final int REQUESTS = 20;

  private ConditionalRace() {}

  /**
   * A client of the same server holding a bearer token that {@code client} obtained
   * (client_credentials): parallel requests with Basic credentials would be held back by the
   * throttle of failed client authentication, which counts checks in flight.
   */
  public static TestClient bearer(TestClient client) {
    HttpResponse<String> r = client.send(client.request("oauth2/token")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    String token = r.body().replaceAll(".*\"access_token\":\"([^\"]+)\".*", "$1");
    return new TestClient(client.baseUrl()).withHeader("Authorization", "Bearer " + token);
  }

  /**
   * Runs the race for {@code identifier=urn:x|value}, each client (Basic credentials) sending with a
   * bearer token of its own: conditional creates, or with {@code update} conditional updates; asserts one Patient with that identifier, and answers 201 or 200 naming it.
   */
  public static void run(List<TestClient> clients, String value, boolean update) throws Exception {
    String json = "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:x\",\"value\":\"" + value
        + "\"}]}";
    List<TestClient> bearers = clients.stream().map(ConditionalRace::bearer).toList();
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(REQUESTS);
    List<Future<HttpResponse<String>>> answers = new ArrayList<>();
    try {
      for (int i = 0; i < REQUESTS; i++) {
        TestClient c = bearers.get(i % bearers.size());
        HttpRequest.Builder req = (update ? c.request("fhir/R4/Patient?identifier=urn:x%7C" + value)
            .PUT(HttpRequest.BodyPublishers.ofString(json))
            : c.request("fhir/R4/Patient").header("If-None-Exist", "identifier=urn:x|" + value)
                .POST(HttpRequest.BodyPublishers.ofString(json)))
            .header("Content-Type", "application/fhir+json");
        answers.add(pool.submit(() -> {
          start.await();
          return c.send(req);
        }));
      }
      start.countDown();
      Set<String> named = new HashSet<>();
      int created = 0;
      for (Future<HttpResponse<String>> f : answers) {
        HttpResponse<String> r = f.get(2, TimeUnit.MINUTES);
        assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
        created += r.statusCode() == 201 ? 1 : 0;
        named.add(r.headers().firstValue("Location").orElseThrow().replaceAll(".*/Patient/([^/]+)/_history/.*", "$1"));
      }
      assertThat(named).as("the Patients the answers name").hasSize(1);
      assertThat(created).as("answers 201").isEqualTo(1);
      TestClient c = bearers.get(0);
      HttpResponse<String> found = c.get("fhir/R4/Patient?identifier=urn:x%7C" + value + "&_summary=count");
      assertThat(found.body()).as("one Patient with the identifier").contains("\"total\":1");
    } finally {
      pool.shutdownNow();
    }
  }
}
