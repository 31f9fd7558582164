package org.fhirbox.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeSearchParam;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.fhirbox.db.SearchClause;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;

/** Membership of the R4 Patient compartment, as HAPI's search parameters define it. */
class PatientCompartmentTest {
  private static final FhirContext FHIR = FhirContext.forR4Cached();
  private static final PatientCompartment COMPARTMENT = new PatientCompartment(new FhirCodec(FHIR),
      new SearchIndexer(FHIR));

  private static Resource parse(String json) {
    return (Resource) FHIR.newJsonParser().parseResource(json);
  }

  @Test
  void everyMembershipParameterOfTheDefinitionIsOneTheIndexHolds() {
    Map<String, List<String>> definition = new TreeMap<>();
    for (String type : FHIR.getResourceTypes()) {
      List<String> names = FHIR.getResourceDefinition(type).getSearchParams().stream()
          .filter(sp -> sp.getProvidesMembershipInCompartments() != null
              && sp.getProvidesMembershipInCompartments().contains("Patient"))
          .map(RuntimeSearchParam::getName).sorted().toList();
      if (!names.isEmpty()) {
        definition.put(type, names);
      }
    }
    // 66 types besides Patient in R4; if HAPI adds one the index cannot read, it is left out, and this says so
    assertThat(definition).hasSizeGreaterThan(60);
    definition.forEach((type, names) -> assertThat(COMPARTMENT.params(type)).as(type).isEqualTo(names));
    assertThat(COMPARTMENT.params("Observation")).containsExactly("performer", "subject");
    assertThat(COMPARTMENT.isMember("Practitioner")).isFalse();
    assertThat(COMPARTMENT.isMember("Binary")).isFalse();
  }

  @Test
  void aResourceIsInTheCompartmentOfThePatientsItsMembershipParametersName() {
    Resource bySubject = parse("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"Patient/a\"}}");
    Resource byPerformer = parse("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"Group/g\"},\"performer\":[{\"reference\":\"Patient/a/_history/3\"}]}");
    Resource byFocus = parse("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"focus\":[{\"reference\":\"Patient/a\"}]}");
    assertThat(COMPARTMENT.contains(bySubject, "a")).isTrue();
    assertThat(COMPARTMENT.contains(bySubject, "b")).isFalse();
    assertThat(COMPARTMENT.contains(byPerformer, "a")).isTrue();
    assertThat(COMPARTMENT.contains(byFocus, "a")).as("focus is not a membership parameter").isFalse();
  }

  @Test
  void aPatientIsInItsOwnCompartmentAndInThatOfThePatientsItLinksTo() {
    Resource a = parse("{\"resourceType\":\"Patient\",\"id\":\"a\"}");
    Resource linked = parse("{\"resourceType\":\"Patient\",\"id\":\"c\",\"link\":[{\"other\":{\"reference\":"
        + "\"Patient/a\"},\"type\":\"seealso\"}]}");
    assertThat(COMPARTMENT.contains(a, "a")).isTrue();
    assertThat(COMPARTMENT.contains(a, "b")).isFalse();
    assertThat(COMPARTMENT.contains(linked, "a")).isTrue();
    assertThat(COMPARTMENT.criterion("Patient", "a"))
        .isEqualTo(new SearchClause.Compartment(List.of("link"), "Patient/a", "a"));
  }

  @Test
  void aTypeOutsideTheCompartmentIsNeverInIt() {
    Resource practitioner = parse("{\"resourceType\":\"Practitioner\",\"id\":\"a\"}");
    assertThat(COMPARTMENT.contains(practitioner, "a")).isFalse();
    assertThat(COMPARTMENT.criterion("Practitioner", "a")).isEqualTo(new SearchClause.Ids(List.of()));
  }
}
