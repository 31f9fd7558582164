package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Search in a patient's compartment (FHIR R4 http.html#search, "[base]/[compartment]/[id]/[type]"):
 * {@code GET Patient/{id}/{type}?params} finds the resources of the type that the R4 Patient
 * CompartmentDefinition places in that patient's compartment and that match the parameters; its
 * paging links stay in the compartment.
 */
class CompartmentSearchTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  private static String alice;
  private static String bob;
  private static String aliceGlucose;
  private static String aliceWeight;
  private static String performedForAlice;
  private static String bobGlucose;
  private static String aliceLetter;

  static TestClient http() {
    return fhirbox.http();
  }

  private static String observation(String code, String subject, String performer) {
    return http().create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":"
        + "\"http://loinc.org\",\"code\":\"" + code + "\"}]}" + (subject == null ? "" : ",\"subject\":{\"reference\":\""
        + subject + "\"}") + (performer == null ? "" : ",\"performer\":[{\"reference\":\"" + performer + "\"}]") + "}");
  }

  @BeforeAll
  static void chart() {
    alice = http().create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"CompartmentAlice\"}]}");
    bob = http().create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"CompartmentBob\"}]}");
    aliceGlucose = observation("2345-7", "Patient/" + alice, null);
    aliceWeight = observation("29463-7", "Patient/" + alice, null);
    // Observation.performer also places an Observation in the Patient compartment
    performedForAlice = observation("8302-2", null, "Patient/" + alice);
    bobGlucose = observation("2345-7", "Patient/" + bob, null);
    aliceLetter = http().create("{\"resourceType\":\"DocumentReference\",\"status\":\"current\",\"subject\":"
        + "{\"reference\":\"Patient/" + alice + "\"},\"content\":[{\"attachment\":{\"contentType\":\"text/plain\","
        + "\"url\":\"https://example.org/letter.txt\"}}]}");
  }

  @Test
  void aCompartmentSearchFindsOnlyThatPatientsResourcesOfTheType() {
    assertThat(http().foundIds("Patient/" + alice + "/Observation"))
        .containsExactlyInAnyOrder(aliceGlucose, aliceWeight, performedForAlice);
    assertThat(http().foundIds("Patient/" + bob + "/Observation")).containsExactly(bobGlucose);
    assertThat(http().foundIds("Patient/" + alice + "/DocumentReference")).containsExactly(aliceLetter);
    assertThat(http().foundIds("Patient/" + bob + "/DocumentReference")).isEmpty();
    assertThat(http().foundIds("Patient/" + alice + "/Patient")).containsExactly(alice);
    assertThat(http().foundIds("Patient/no-such-patient/Observation")).isEmpty();
  }

  @Test
  void theSearchParametersNarrowTheCompartment() {
    assertThat(http().foundIds("Patient/" + alice + "/Observation?code=http://loinc.org%7C2345-7"))
        .containsExactly(aliceGlucose);
    HttpResponse<String> posted = http().send(http().request("fhir/R4/Patient/" + alice + "/Observation/_search")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("code=29463-7")));
    assertThat(posted.statusCode()).as(posted.body()).isEqualTo(200);
    assertThat(http().parse(posted, Bundle.class).getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart())
        .containsExactly(aliceWeight);
  }

  @Test
  void thePagingLinksStayInTheCompartment() {
    HttpResponse<String> first = http().get("fhir/R4/Patient/" + alice + "/Observation?_count=2");
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    Bundle page1 = http().parse(first, Bundle.class);
    String self = page1.getLink("self").getUrl();
    String next = page1.getLink("next").getUrl();
    assertThat(self).contains("/fhir/R4/Patient/" + alice + "/Observation?");
    assertThat(next).contains("/fhir/R4/Patient/" + alice + "/Observation?");

    Bundle page2 = http().parse(http().get(next.substring(next.indexOf("fhir/R4/"))), Bundle.class);
    assertThat(page2.getEntry()).hasSize(1);
    assertThat(page1.getEntry().size() + page2.getEntry().size()).isEqualTo(3);
    assertThat(page2.getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart())
        .isSubsetOf(aliceGlucose, aliceWeight, performedForAlice);
  }

  @Test
  void aTypeOutsideThePatientCompartmentIs400() {
    for (String type : new String[] {"Organization", "Binary"}) {
      HttpResponse<String> r = http().get("fhir/R4/Patient/" + alice + "/" + type);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
      assertThat(http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
          .contains(type + " is not in the Patient compartment");
    }
    HttpResponse<String> unknown = http().get("fhir/R4/Patient/" + alice + "/NoSuchType");
    assertThat(unknown.statusCode()).as(unknown.body()).isEqualTo(404);
  }

  @Test
  void theCapabilityStatementNamesThePatientCompartment() {
    CapabilityStatement cs = http().parse(http().get("fhir/R4/metadata"), CapabilityStatement.class);
    assertThat(cs.getRestFirstRep().getCompartment()).extracting(c -> c.getValue())
        .containsExactly("http://hl7.org/fhir/CompartmentDefinition/patient");
  }
}
