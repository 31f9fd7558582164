package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.List;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Token value forms (FHIR R4 search.html#token) and the paging links of searches and history, followed as given. */
class SearchFormsTest {
  private static TestServer server;
  private static TestClient http;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
    http = server.client();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static String created(String json) {
    HttpResponse<String> r = http.postJson("fhir/R4/" + json.substring(17, json.indexOf('"', 17)), json);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return TestClient.createdId(r);
  }

  private static List<String> found(String query) {
    HttpResponse<String> r = http.get("fhir/R4/" + query);
    assertThat(r.statusCode()).as(query + ": " + r.body()).isEqualTo(200);
    return http.parse(r, Bundle.class).getEntry().stream().map(e -> e.getResource().getIdElement().getIdPart())
        .toList();
  }

  @Test
  void tokenWithEmptySystemMatchesCodesWithoutSystemAndWithEmptyCodeAnyCodeOfTheSystem() {
    String noSystem = created("{\"resourceType\":\"Patient\",\"identifier\":[{\"value\":\"4711\"}]}");
    String mrn = created("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:mrn\",\"value\":\"1\"}]}");
    String mrn4711 = created("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:mrn\","
        + "\"value\":\"4711\"}]}");

    assertThat(found("Patient?identifier=%7C4711")).containsExactly(noSystem);
    assertThat(found("Patient?identifier=urn:mrn%7C")).containsExactlyInAnyOrder(mrn, mrn4711);
    assertThat(found("Patient?identifier=4711")).containsExactlyInAnyOrder(noSystem, mrn4711);
    assertThat(found("Patient?identifier=urn:mrn%7C1")).containsExactly(mrn);
  }
}
