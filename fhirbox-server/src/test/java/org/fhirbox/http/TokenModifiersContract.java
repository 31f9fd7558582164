package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.junit.jupiter.api.Test;

/**
 * The modifiers of token parameters beyond {@code :not} and {@code :missing} (R4
 * search.html#token): {@code :of-type} on identifiers (type, system and value). Subclasses supply
 * the database.
 */
abstract class TokenModifiersContract extends ServerPerClassContract {
  private static final String V2 = "http://terminology.hl7.org/CodeSystem/v2-0203";

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private String patient(String identifiers) {
    return http.create("{\"resourceType\":\"Patient\",\"identifier\":[" + identifiers + "]}");
  }

  private static String identifier(String typeSystem, String typeCode, String value) {
    return "{\"type\":{\"coding\":[{\"system\":\"" + typeSystem + "\",\"code\":\"" + typeCode + "\"}]},"
        + "\"system\":\"urn:mrn\",\"value\":\"" + value + "\"}";
  }

  private void assertRefused(String query, String diagnostic) {
    HttpResponse<String> r = http.get("fhir/R4/" + query);
    assertThat(r.statusCode()).as(query + ": " + r.body()).isEqualTo(400);
    assertThat(r.body()).as(query).contains("OperationOutcome", diagnostic);
  }

  @Test
  void ofTypeMatchesAnIdentifierByItsTypeAndValue() {
    String mr = patient(identifier(V2, "MR", "446053"));
    String otherValue = patient(identifier(V2, "MR", "446054"));
    String dl = patient(identifier(V2, "DL", "446053"));
    String otherSystem = patient(identifier("urn:local-types", "MR", "446053"));
    patient("{\"system\":\"urn:mrn\",\"value\":\"446053\"}");
    String twoCodings = patient("{\"type\":{\"coding\":[{\"system\":\"urn:local-types\",\"code\":\"chart\"},"
        + "{\"system\":\"" + V2 + "\",\"code\":\"MR\"}]},\"value\":\"446055\"}");
    // the type and the value must sit on the same Identifier
    String split = patient(identifier(V2, "MR", "1-446056") + ",{\"value\":\"446056\"}");

    assertThat(http.foundIds("Patient?identifier:of-type=" + enc(V2 + "|MR|446053"))).containsExactly(mr);
    assertThat(http.foundIds("Patient?identifier:of-type=" + enc(V2 + "|MR|446055"))).containsExactly(twoCodings);
    assertThat(http.foundIds("Patient?identifier:of-type=" + enc("urn:local-types|chart|446055")))
        .containsExactly(twoCodings);
    assertThat(http.foundIds("Patient?identifier:of-type=" + enc(V2 + "|MR|446053," + V2 + "|DL|446053")))
        .containsExactlyInAnyOrder(mr, dl);
    assertThat(http.foundIds("Patient?identifier:of-type=" + enc("urn:local-types|MR|446053")))
        .containsExactly(otherSystem);
    assertThat(http.foundIds("Patient?identifier:of-type=" + enc(V2 + "|MR|446056"))).isEmpty();
    assertThat(http.foundIds("Patient?identifier:of-type=" + enc(V2 + "|MR|1-446056"))).containsExactly(split);
    assertThat(http.foundIds("Patient?identifier=446054")).containsExactly(otherValue);
  }

  @Test
  void ofTypeTakesEscapedBarsInItsParts() {
    String barred = patient(identifier("urn:types|v1", "A|B", "x|y\\\\z"));
    patient(identifier("urn:types|v1", "A", "B|x|y\\\\z"));

    assertThat(http.foundIds("Patient?identifier:of-type=" + enc("urn:types\\|v1|A\\|B|x\\|y\\\\z")))
        .containsExactly(barred);
  }

  @Test
  void ofTypeWorksAtTheEndOfAChain() {
    String p = patient(identifier(V2, "MR", "chain-446053"));
    String obs = http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"Patient/" + p + "\"}}");
    assertThat(http.foundIds("Observation?subject:Patient.identifier:of-type=" + enc(V2 + "|MR|chain-446053")))
        .containsExactly(obs);
  }

  @Test
  void ofTypeNeedsAllThreePartsAndAnIdentifierParameter() {
    for (String value : new String[] {V2 + "|MR", "MR|446053", "|MR|446053", V2 + "||446053", V2 + "|MR|",
        "446053", V2 + "|MR|446053|x"}) {
      assertRefused("Patient?identifier:of-type=" + enc(value), "'identifier:of-type' takes");
    }
    assertRefused("Observation?code:of-type=" + enc(V2 + "|MR|1"), "the modifier ':of-type' is not supported on"
        + " search parameter 'code'");
    assertRefused("Patient?identifier:oftype=" + enc(V2 + "|MR|1"), "the modifier ':oftype' is not supported");
    assertRefused("Patient?identifier:below=1", "the modifier ':below' is not supported");
  }

  @Test
  void theCapabilityStatementNamesTheTokenModifiers() {
    CapabilityStatement cs = http.parse(http.get("fhir/R4/metadata"), CapabilityStatement.class);
    CapabilityStatement.CapabilityStatementRestResourceComponent patient = cs.getRestFirstRep().getResource()
        .stream().filter(r -> r.getType().equals("Patient")).findFirst().orElseThrow();
    assertThat(patient.getSearchParam()).filteredOn(p -> p.getName().equals("identifier")).singleElement()
        .satisfies(p -> assertThat(p.getDocumentation()).contains(":of-type", ":not", ":missing"));
    assertThat(patient.getSearchParam()).filteredOn(p -> p.getName().equals("gender")).singleElement()
        .satisfies(p -> assertThat(p.getDocumentation()).contains(":not").doesNotContain(":of-type"));
  }
}
