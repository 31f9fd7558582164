package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Modifiers of R4 search.html#modifiers beyond the basic ones: {@code :identifier} on reference
 * parameters, matched on {@code Reference.identifier}. A modifier the server does not support stays
 * 400.
 */
class SearchModifiersTest {
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

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String observation(String subject) {
    return http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"weight\"},"
        + "\"subject\":" + subject + "}");
  }

  private static void assertRefused(String query, String diagnostic) {
    HttpResponse<String> r = http.get("fhir/R4/" + query);
    assertThat(r.statusCode()).as(query + ": " + r.body()).isEqualTo(400);
    assertThat(r.body()).as(query).contains("OperationOutcome", diagnostic);
  }

  @Test
  void identifierMatchesTheIdentifierOfAReference() {
    String logical = observation("{\"type\":\"Patient\",\"identifier\":{\"system\":\"urn:mrn\",\"value\":\"4711\"}}");
    String both = observation("{\"reference\":\"Patient/ident-1\",\"identifier\":{\"system\":\"urn:mrn\","
        + "\"value\":\"4712\"}}");
    String group = observation("{\"type\":\"Group\",\"identifier\":{\"system\":\"urn:mrn\",\"value\":\"4711\"}}");
    observation("{\"reference\":\"Patient/ident-2\"}");

    assertThat(http.foundIds("Observation?subject:identifier=" + enc("urn:mrn|4711")))
        .containsExactlyInAnyOrder(logical, group);
    assertThat(http.foundIds("Observation?subject:identifier=4712")).containsExactly(both);
    assertThat(http.foundIds("Observation?subject:identifier=" + enc("urn:mrn|4712,urn:mrn|4711")))
        .containsExactlyInAnyOrder(logical, both, group);
    assertThat(http.foundIds("Observation?subject:identifier=" + enc("urn:other|4711"))).isEmpty();
    assertThat(http.foundIds("Observation?subject:identifier=" + enc("|4711"))).isEmpty();
    // patient is subject kept to references to a Patient: by the literal reference, else by Reference.type
    assertThat(http.foundIds("Observation?patient:identifier=" + enc("urn:mrn|4711"))).containsExactly(logical);
    assertThat(http.foundIds("Observation?patient:identifier=" + enc("urn:mrn|4712"))).containsExactly(both);
    // the literal reference is matched as before, the identifier only through :identifier
    assertThat(http.foundIds("Observation?subject=Patient/ident-1")).containsExactly(both);
    assertThat(http.foundIds("Observation?subject=4711")).isEmpty();
  }

  @Test
  void identifierWorksAtTheEndOfAChainAndIsRefusedWhereItMeansNothing() {
    String patient = http.create("{\"resourceType\":\"Patient\",\"generalPractitioner\":[{\"identifier\":"
        + "{\"system\":\"urn:npi\",\"value\":\"99-chain\"}}]}");
    String obs = observation("{\"reference\":\"Patient/" + patient + "\"}");
    assertThat(http.foundIds("Observation?subject:Patient.general-practitioner:identifier=" + enc("urn:npi|99-chain")))
        .containsExactly(obs);

    assertRefused("Observation?code:identifier=x", "the modifier ':identifier' is not supported on search parameter"
        + " 'code'");
    assertRefused("QuestionnaireResponse?questionnaire:identifier=x", "':identifier' is not supported");
    assertRefused("Observation?subject:ident=x", "the modifier ':ident' is not supported");
  }

  @Test
  void theCapabilityStatementNamesTheReferenceModifiers() {
    CapabilityStatement cs = http.parse(http.get("fhir/R4/metadata"), CapabilityStatement.class);
    CapabilityStatement.CapabilityStatementRestResourceComponent observation = cs.getRestFirstRep().getResource()
        .stream().filter(r -> r.getType().equals("Observation")).findFirst().orElseThrow();
    assertThat(observation.getSearchParam()).filteredOn(p -> p.getName().equals("subject")).singleElement()
        .satisfies(p -> assertThat(p.getDocumentation()).contains(":identifier"));
  }
}
