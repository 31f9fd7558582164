package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.junit.jupiter.api.Test;

/**
 * The modifiers of token parameters beyond {@code :not} and {@code :missing} (R4
 * search.html#token): {@code :of-type} on identifiers (type, system and value) and {@code :text}
 * (the text of codes and of identifier types, matched as a string is). Subclasses supply the
 * database.
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

  private String observation(String code) {
    return http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":" + code + "}");
  }

  @Test
  void textMatchesTheStartOfACodesTextOrDisplayIgnoringCaseAndAccents() {
    String weight = observation("{\"text\":\"Textual Body Weight\",\"coding\":[{\"system\":\"http://loinc.org\","
        + "\"code\":\"29463-7\",\"display\":\"Textual Körpergewicht\"}]}");
    String pressure = observation("{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"85354-9\","
        + "\"display\":\"Textual blood pressure panel\"}]}");
    String bare = observation("{\"coding\":[{\"system\":\"urn:textual\",\"code\":\"Textual-bare\"}]}");

    assertThat(http.foundIds("Observation?code:text=textual%20body")).containsExactly(weight);
    assertThat(http.foundIds("Observation?code:text=TEXTUAL%20KORPER")).containsExactly(weight);
    assertThat(http.foundIds("Observation?code:text=textual%20blood%20pressure%20panel")).containsExactly(pressure);
    assertThat(http.foundIds("Observation?code:text=textual")).containsExactlyInAnyOrder(weight, pressure);
    assertThat(http.foundIds("Observation?code:text=textual%20body,textual%20blood"))
        .containsExactlyInAnyOrder(weight, pressure);
    // a string match on the start of the text, not a code, nor a word inside the text
    assertThat(http.foundIds("Observation?code:text=body%20weight")).isEmpty();
    assertThat(http.foundIds("Observation?code:text=29463")).isEmpty();
    assertThat(http.foundIds("Observation?code=Textual-bare")).containsExactly(bare);
  }

  @Test
  void textMatchesAnIdentifiersTypeTextAndATagsDisplay() {
    String mrn = patient("{\"type\":{\"text\":\"Textual medical record\",\"coding\":[{\"system\":\"" + V2
        + "\",\"code\":\"MR\",\"display\":\"Textual display\"}]},\"value\":\"t-1\"}");
    patient("{\"system\":\"urn:textual\",\"value\":\"textual medical\"}");
    String tagged = http.create("{\"resourceType\":\"Patient\",\"meta\":{\"tag\":[{\"system\":\"urn:tags\","
        + "\"code\":\"vip\",\"display\":\"Textual very important\"}]}}");

    assertThat(http.foundIds("Patient?identifier:text=textual%20medical")).containsExactly(mrn);
    assertThat(http.foundIds("Patient?_tag:text=textual%20VERY")).containsExactly(tagged);
    String obs = http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"Patient/" + mrn + "\"}}");
    assertThat(http.foundIds("Observation?subject:Patient.identifier:text=textual%20med")).containsExactly(obs);
  }

  @Test
  void textIsRefusedWhereThereIsNoTextToMatch() {
    assertRefused("Patient?gender:text=female", "the modifier ':text' is not supported on search parameter 'gender'");
    assertRefused("Patient?family:text=eve", "the modifier ':text' is not supported on search parameter 'family'");
    assertRefused("Observation?code:texts=body", "the modifier ':texts' is not supported");
  }

  @Test
  void theCapabilityStatementNamesTheModifiersOfEachParameter() {
    CapabilityStatement cs = http.parse(http.get("fhir/R4/metadata"), CapabilityStatement.class);
    CapabilityStatement.CapabilityStatementRestResourceComponent patient = cs.getRestFirstRep().getResource()
        .stream().filter(r -> r.getType().equals("Patient")).findFirst().orElseThrow();
    assertThat(patient.getSearchParam()).filteredOn(p -> p.getName().equals("identifier")).singleElement()
        .satisfies(p -> assertThat(p.getDocumentation()).contains(":of-type", ":text", ":not", ":missing"));
    assertThat(patient.getSearchParam()).filteredOn(p -> p.getName().equals("gender")).singleElement()
        .satisfies(p -> assertThat(p.getDocumentation()).contains(":not").doesNotContain(":of-type", ":text"));
    assertThat(patient.getSearchParam()).filteredOn(p -> p.getName().equals("family")).singleElement()
        .satisfies(p -> assertThat(p.getDocumentation()).contains(":contains", ":exact", ":missing"));
    assertThat(cs.getRestFirstRep().getResource()).flatExtracting(r -> r.getSearchParam())
        .allSatisfy(p -> assertThat(p.getDocumentation()).as(p.getName()).containsPattern("modifiers? :|no modifiers"));
  }
}
