package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
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
  void theCapabilityStatementNamesEveryR4Compartment() {
    CapabilityStatement cs = http().parse(http().get("fhir/R4/metadata"), CapabilityStatement.class);
    assertThat(cs.getRestFirstRep().getCompartment()).extracting(c -> c.getValue()).containsExactlyInAnyOrder(
        "http://hl7.org/fhir/CompartmentDefinition/patient", "http://hl7.org/fhir/CompartmentDefinition/encounter",
        "http://hl7.org/fhir/CompartmentDefinition/relatedPerson",
        "http://hl7.org/fhir/CompartmentDefinition/practitioner", "http://hl7.org/fhir/CompartmentDefinition/device");
  }

  /** An Observation of {@code code} with {@code field}, a member of JSON naming a resource. */
  private static String observationIn(String code, String field) {
    return http().create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":"
        + "\"http://loinc.org\",\"code\":\"" + code + "\"}]}," + field + "}");
  }

  private static String ref(String field, String reference, boolean many) {
    String r = "{\"reference\":\"" + reference + "\"}";
    return "\"" + field + "\":" + (many ? "[" + r + "]" : r);
  }

  @Test
  void everyR4CompartmentIsSearchedByItsDefinitionsParameters() {
    String visit = http().create("{\"resourceType\":\"Encounter\",\"status\":\"finished\",\"class\":{\"code\":"
        + "\"AMB\"}}");
    String otherVisit = http().create("{\"resourceType\":\"Encounter\",\"status\":\"finished\",\"class\":"
        + "{\"code\":\"AMB\"}}");
    String doctor = http().create("{\"resourceType\":\"Practitioner\",\"name\":[{\"family\":\"CompartmentDoc\"}]}");
    String mother = http().create("{\"resourceType\":\"RelatedPerson\",\"patient\":{\"reference\":\"Patient/"
        + alice + "\"}}");
    String meter = http().create("{\"resourceType\":\"Device\",\"patient\":{\"reference\":\"Patient/" + alice
        + "\"}}");
    String duringVisit = observationIn("1-1", ref("encounter", "Encounter/" + visit, false));
    String duringOther = observationIn("1-1", ref("encounter", "Encounter/" + otherVisit, false));
    String byDoctor = observationIn("1-2", ref("performer", "Practitioner/" + doctor, true));
    String byMother = observationIn("1-3", ref("performer", "RelatedPerson/" + mother, true));
    String byMeter = observationIn("1-4", ref("device", "Device/" + meter, false));
    String doctorsLetter = http().create("{\"resourceType\":\"DocumentReference\",\"status\":\"current\","
        + ref("author", "Practitioner/" + doctor, true) + ",\"content\":[{\"attachment\":{\"contentType\":"
        + "\"text/plain\",\"url\":\"https://example.org/d.txt\"}}]}");

    assertThat(http().foundIds("Encounter/" + visit + "/Observation")).containsExactly(duringVisit);
    assertThat(http().foundIds("Encounter/" + otherVisit + "/Observation")).containsExactly(duringOther);
    assertThat(http().foundIds("Practitioner/" + doctor + "/Observation")).containsExactly(byDoctor);
    assertThat(http().foundIds("Practitioner/" + doctor + "/DocumentReference")).containsExactly(doctorsLetter);
    assertThat(http().foundIds("RelatedPerson/" + mother + "/Observation")).containsExactly(byMother);
    assertThat(http().foundIds("Device/" + meter + "/Observation")).containsExactly(byMeter);
    // the focus of a compartment is in it ({def} in the R4 definitions)
    assertThat(http().foundIds("Encounter/" + visit + "/Encounter")).containsExactly(visit);
    assertThat(http().foundIds("Practitioner/" + doctor + "/Practitioner")).containsExactly(doctor);
    assertThat(http().foundIds("RelatedPerson/" + mother + "/RelatedPerson")).containsExactly(mother);
    assertThat(http().foundIds("Device/" + meter + "/Device")).containsExactly(meter);
    // the parameters narrow the compartment, and a POST _search is the same search
    assertThat(http().foundIds("Encounter/" + visit + "/Observation?code=1-2")).isEmpty();
    HttpResponse<String> posted = http().send(http().request("fhir/R4/Practitioner/" + doctor
        + "/Observation/_search").header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("code=1-2")));
    assertThat(posted.statusCode()).as(posted.body()).isEqualTo(200);
    assertThat(http().parse(posted, Bundle.class).getEntry()).extracting(e -> e.getResource().getIdElement()
        .getIdPart()).containsExactly(byDoctor);
    HttpResponse<String> head = http().send(http().request("fhir/R4/Device/" + meter + "/Observation")
        .method("HEAD", HttpRequest.BodyPublishers.noBody()));
    assertThat(head.statusCode()).isEqualTo(200);
  }

  @Test
  void theOtherCompartmentsPageWithinThemselvesAndRefuseTypesOutsideThem() {
    String visit = http().create("{\"resourceType\":\"Encounter\",\"status\":\"finished\",\"class\":{\"code\":"
        + "\"AMB\"}}");
    for (int i = 0; i < 3; i++) {
      observationIn("2-" + i, ref("encounter", "Encounter/" + visit, false));
    }
    Bundle page1 = http().parse(http().get("fhir/R4/Encounter/" + visit + "/Observation?_count=2"), Bundle.class);
    String next = page1.getLink("next").getUrl();
    assertThat(page1.getLink("self").getUrl()).contains("/fhir/R4/Encounter/" + visit + "/Observation?");
    assertThat(next).contains("/fhir/R4/Encounter/" + visit + "/Observation?");
    Bundle page2 = http().parse(http().get(next.substring(next.indexOf("fhir/R4/"))), Bundle.class);
    assertThat(page2.getEntry()).hasSize(1);

    // Patient is not in the Encounter compartment, nor Organization in the Practitioner one
    for (String path : new String[] {"Encounter/" + visit + "/Patient", "Practitioner/x/Organization",
        "Device/x/Binary", "RelatedPerson/x/Medication"}) {
      HttpResponse<String> r = http().get("fhir/R4/" + path);
      assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(400);
      String compartmentType = path.substring(0, path.indexOf('/'));
      String type = path.substring(path.lastIndexOf('/') + 1);
      assertThat(http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
          .contains(type + " is not in the " + compartmentType + " compartment");
    }
    // a resource type that has no compartment has no compartment search
    HttpResponse<String> none = http().get("fhir/R4/Organization/x/Observation");
    assertThat(none.statusCode()).as(none.body()).isEqualTo(404);
    assertThat(http().parse(none, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("no route");
  }

  private static List<String> listed(Bundle b) {
    return b.getEntry().stream().map(e -> e.getResource().fhirType() + "/" + e.getResource().getIdElement()
        .getIdPart()).toList();
  }

  private static Bundle bundle(String path) {
    HttpResponse<String> r = http().get("fhir/R4/" + path);
    assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
    return http().parse(r, Bundle.class);
  }

  @Test
  void aSearchOfEveryTypeListsTheCompartmentAndPagesThroughIt() {
    String carol = http().create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"CompartmentCarol\"}]}");
    Set<String> expected = new HashSet<>(Set.of("Patient/" + carol));
    for (int i = 0; i < 3; i++) {
      expected.add("Observation/" + observation("3-" + i, "Patient/" + carol, null));
    }
    expected.add("Encounter/" + http().create("{\"resourceType\":\"Encounter\",\"status\":\"finished\",\"class\":"
        + "{\"code\":\"AMB\"}," + ref("subject", "Patient/" + carol, false) + "}"));
    expected.add("DocumentReference/" + http().create("{\"resourceType\":\"DocumentReference\",\"status\":"
        + "\"current\"," + ref("subject", "Patient/" + carol, false) + ",\"content\":[{\"attachment\":"
        + "{\"contentType\":\"text/plain\",\"url\":\"https://example.org/c.txt\"}}]}"));
    observation("3-0", "Patient/" + bob, null);

    Bundle page = bundle("Patient/" + carol + "/*?_count=2");
    List<String> seen = new ArrayList<>();
    List<List<String>> pages = new ArrayList<>();
    while (true) {
      pages.add(listed(page));
      seen.addAll(listed(page));
      if (page.getLink("next") == null) {
        break;
      }
      String next = page.getLink("next").getUrl();
      assertThat(next).contains("/fhir/R4/Patient/" + carol + "/*?");
      page = bundle(next.substring(next.indexOf("fhir/R4/") + "fhir/R4/".length()));
    }
    assertThat(seen).hasSize(6).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(pages).hasSize(3);
    assertThat(page.getTotal()).as("the last page tells the total").isEqualTo(6);
    assertThat(bundle("Patient/" + carol + "/*?_summary=count").getTotal()).isEqualTo(6);
    assertThat(bundle("Patient/" + carol + "/*?_count=1&_total=accurate").getTotal()).isEqualTo(6);
    // an offset (a previous link's) skips whole types and then entries of one
    assertThat(listed(bundle("Patient/" + carol + "/*?_count=2&_offset=2"))).isEqualTo(pages.get(1));

    Bundle some = bundle("Patient/" + carol + "/*?_type=Observation,Encounter");
    assertThat(listed(some)).hasSize(4).allMatch(t -> t.startsWith("Observation/") || t.startsWith("Encounter/"));
    assertThat(some.getLink("self").getUrl()).contains("_type=Encounter%2CObservation");
    HttpResponse<String> posted = http().send(http().request("fhir/R4/Patient/" + carol + "/*/_search")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("_type=DocumentReference")));
    assertThat(posted.statusCode()).as(posted.body()).isEqualTo(200);
    assertThat(listed(http().parse(posted, Bundle.class))).singleElement().asString().startsWith("DocumentReference/");
    assertThat(bundle("Encounter/no-such-encounter/*").getEntry()).isEmpty();
  }

  @Test
  void aSearchOfEveryTypeRefusesWhatNotEveryTypeHas() {
    for (String query : new String[] {"code=2345-7", "_include=Observation:subject", "_sort=_lastUpdated",
        "subject.name=x", "_type=Organization", "_type=Binary"}) {
      HttpResponse<String> r = http().get("fhir/R4/Patient/" + alice + "/*?" + query);
      assertThat(r.statusCode()).as(query + ": " + r.body()).isEqualTo(400);
      assertThat(http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).isNotBlank();
    }
  }

  @Test
  void anEmptyParameterIsIgnoredInACompartmentAsInATypeSearch() {
    assertThat(http().foundIds("Patient/" + bob + "/Observation?code=&subject:Patient.name=&date=&_id=" + bobGlucose))
        .containsExactly(bobGlucose);
    HttpResponse<String> posted = http().send(http().request("fhir/R4/Patient/" + bob + "/Observation/_search")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("code=&_count=&_id=" + bobGlucose)));
    assertThat(posted.statusCode()).as(posted.body()).isEqualTo(200);
    assertThat(http().parse(posted, Bundle.class).getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart())
        .containsExactly(bobGlucose);
    // a type's own parameter is 400 in a search of every type, but an empty one asks for nothing
    Bundle every = bundle("Patient/" + bob + "/*?code=&_type=&_tag=&_id=" + bob + "," + bobGlucose);
    assertThat(listed(every)).containsExactlyInAnyOrder("Patient/" + bob, "Observation/" + bobGlucose);
    assertThat(every.getLink("self").getUrl()).doesNotContain("code=", "_type=", "_tag=");
    HttpResponse<String> list = http().get("fhir/R4/Patient/" + bob + "/*?_type=Observation,,Encounter");
    assertThat(list.statusCode()).as(list.body()).isEqualTo(400);
    assertThat(list.body()).contains("_type");
  }
}
