package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A Binary read in FHIR JSON with {@code _summary} or {@code _elements} keeps the signed
 * {@code url} where a client looks for the way to the content: when {@code _elements} names it,
 * and in a summary; {@code _summary=text} leaves it out with every other optional element.
 */
class BinarySubsetUrlTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static TestServer server;
  private static TestClient http;
  private static String id;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
    http = server.client();
    id = TestClient.createdId(http.postBytes("fhir/R4/Binary", "text/plain",
        "subset me".getBytes(StandardCharsets.UTF_8)));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static JsonNode read(String query) throws Exception {
    HttpResponse<String> r = http.send(http.request("fhir/R4/Binary/" + id + "/_history/1" + query)
        .header("Accept", "application/fhir+json").GET());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  @Test
  void theSignedUrlStaysWhereTheSubsetAsksForIt() throws Exception {
    for (String query : new String[] {"?_elements=url", "?_elements=contentType,url", "?_summary=true",
        "?_summary=data", "?_summary=true&_pretty=true"}) {
      JsonNode b = read(query);
      assertThat(b.path("url").asText()).as(query).startsWith(server.baseUrl() + "storage/" + id + "/1?");
      assertThat(b.path("contentType").asText()).as(query).isEqualTo("text/plain");
      assertThat(b.at("/meta/tag/0/code").asText()).as(query).isEqualTo("SUBSETTED");
      HttpResponse<String> content = new TestClient(server.baseUrl()).get(b.path("url").asText());
      assertThat(content.body()).as(query).isEqualTo("subset me");
    }
    for (String query : new String[] {"?_elements=contentType", "?_summary=text"}) {
      JsonNode b = read(query);
      assertThat(b.has("url")).as(query).isFalse();
      assertThat(b.path("contentType").asText()).as(query).isEqualTo("text/plain"); // mandatory
    }
  }

  /**
   * A raw read (no FHIR Accept) answers the content whatever a valid {@code _summary} or
   * {@code _elements} asks, but refuses what every other read refuses, rather than ignoring it:
   * {@code _summary=count}, an unknown {@code _summary}, both parameters together.
   */
  @Test
  void aRawReadRefusesTheSubsetParametersEveryReadRefuses() {
    for (String path : new String[] {"fhir/R4/Binary/" + id, "fhir/R4/Binary/" + id + "/_history/1"}) {
      for (String query : new String[] {"?_summary=count", "?_summary=maybe", "?_summary=true&_elements=url"}) {
        HttpResponse<String> r = http.send(http.request(path + query).header("Accept", "*/*").GET());
        assertThat(r.statusCode()).as(path + query + ": " + r.body()).isEqualTo(400);
      }
      HttpResponse<String> valid = http.send(http.request(path + "?_summary=true").header("Accept", "*/*").GET());
      assertThat(valid.body()).isEqualTo("subset me");
    }
  }
}
