package org.fhirbox.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ReferencesTest {
  private final References refs = new References(List.of("https://alias.example"), () -> "http://localhost:8080/");

  @Test
  void relativeReferencesAreIndexedAsTypeAndIdWithoutTheirVersion() {
    assertThat(refs.indexed("Patient/123")).isEqualTo("Patient/123");
    assertThat(refs.indexed("Patient/123/_history/4")).isEqualTo("Patient/123");
  }

  @Test
  void urlsOnTheServersOwnBaseOrAnAliasAreTheLocalResource() {
    assertThat(refs.indexed("http://localhost:8080/fhir/R4/Patient/123")).isEqualTo("Patient/123");
    assertThat(refs.indexed("http://localhost:8080/fhir/R4/Patient/123/_history/2")).isEqualTo("Patient/123");
    assertThat(refs.indexed("https://alias.example/fhir/R4/Patient/123")).isEqualTo("Patient/123");
  }

  @Test
  void anotherServersUrlIsKeptWholeWithoutItsVersion() {
    assertThat(refs.indexed("https://ehr.example/fhir/Patient/123")).isEqualTo("https://ehr.example/fhir/Patient/123");
    assertThat(refs.indexed("https://ehr.example/fhir/Patient/123/_history/2"))
        .isEqualTo("https://ehr.example/fhir/Patient/123");
    assertThat(refs.indexed("http://localhost:8080/other/Patient/123"))
        .as("the server's host, but not its FHIR endpoint").isEqualTo("http://localhost:8080/other/Patient/123");
    assertThat(refs.indexed("urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"))
        .isEqualTo("urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0");
    assertThat(References.isLocal("https://ehr.example/fhir/Patient/123")).isFalse();
    assertThat(References.isLocal("Patient/123")).isTrue();
  }

  @Test
  void aServerThatKnowsNoBaseTakesOnlyRelativeReferencesAsLocal() {
    assertThat(References.relativeOnly().indexed("http://localhost:8080/fhir/R4/Patient/123"))
        .isEqualTo("http://localhost:8080/fhir/R4/Patient/123");
  }
}
