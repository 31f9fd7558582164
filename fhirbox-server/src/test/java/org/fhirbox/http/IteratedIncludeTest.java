package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.fhirbox.fhir.SearchParser;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code _include:iterate} and {@code _revinclude:iterate} (R4 search.html#revinclude): applied to
 * the included resources too, round after round until nothing new is found or the round limit is
 * reached, with the access checks of every include.
 */
class IteratedIncludeTest {
  private static final String PROJECT = "iterate";
  private static TestServer server;
  private static ProjectClients clients;
  private static TestClient http;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
    clients = new ProjectClients(server);
    http = clients.client(PROJECT, "system/*.cruds");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  /** {@code mode Type/id} of every entry of the first page, matches and includes alike. */
  private static List<String> entries(TestClient client, String query) {
    HttpResponse<String> r = client.get("fhir/R4/" + query);
    assertThat(r.statusCode()).as(query + ": " + r.body()).isEqualTo(200);
    return client.parse(r, Bundle.class).getEntry().stream().map(e -> e.getSearch().getMode().toCode() + " "
        + e.getResource().fhirType() + "/" + e.getResource().getIdElement().getIdPart()).toList();
  }

  private static String organization(String name, String partOf) {
    return http.create("{\"resourceType\":\"Organization\",\"name\":\"" + name + "\""
        + (partOf == null ? "" : ",\"partOf\":{\"reference\":\"Organization/" + partOf + "\"}") + "}");
  }

  private static String patientOf(String organization) {
    return http.create("{\"resourceType\":\"Patient\",\"managingOrganization\":{\"reference\":\"Organization/"
        + organization + "\"}}");
  }

  private static String observationAbout(String patient) {
    return http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"pulse\"},"
        + "\"subject\":{\"reference\":\"Patient/" + patient + "\"}}");
  }

  @Test
  void includeIterateFollowsTheIncludedResources() {
    String parent = organization("Parent", null);
    String ward = organization("Ward", parent);
    String patient = patientOf(ward);
    String obs = observationAbout(patient);

    String query = "Observation?_id=" + obs + "&_include=Observation:subject"
        + "&_include:iterate=Patient:organization&_include:iterate=Organization:partof";
    assertThat(entries(http, query)).containsExactly("match Observation/" + obs, "include Patient/" + patient,
        "include Organization/" + ward, "include Organization/" + parent);
    assertThat(entries(http, query.replace(":iterate", ":recurse"))).containsExactly("match Observation/" + obs,
        "include Patient/" + patient, "include Organization/" + ward, "include Organization/" + parent);
    Bundle bundle = http.parse(http.get("fhir/R4/" + query), Bundle.class);
    assertThat(bundle.getTotal()).isEqualTo(1);
    assertThat(bundle.getLink("self").getUrl()).contains("_include%3Aiterate=Patient%3Aorganization");

    // without :iterate an include applies to the matches only
    assertThat(entries(http, "Observation?_id=" + obs + "&_include=Observation:subject"
        + "&_include:iterate=Organization:partof")).containsExactly("match Observation/" + obs,
        "include Patient/" + patient);
  }

  @Test
  void iterationStopsAfterFourRoundsAndAtACycle() {
    List<String> chain = new ArrayList<>();
    String above = null;
    for (int i = 0; i < 7; i++) {
      above = organization("Level " + i, above);
      chain.add(0, above);
    }
    // chain.get(0) is the lowest; each is part of the next
    List<String> found = entries(http, "Organization?_id=" + chain.get(0) + "&_include:iterate=Organization:partof");
    assertThat(found).containsExactly("match Organization/" + chain.get(0), "include Organization/" + chain.get(1),
        "include Organization/" + chain.get(2), "include Organization/" + chain.get(3),
        "include Organization/" + chain.get(4));

    String a = organization("Cycle A", null);
    String b = organization("Cycle B", a);
    HttpResponse<String> closed = http.putJson("fhir/R4/Organization/" + a, "{\"resourceType\":\"Organization\","
        + "\"id\":\"" + a + "\",\"name\":\"Cycle A\",\"partOf\":{\"reference\":\"Organization/" + b + "\"}}");
    assertThat(closed.statusCode()).as(closed.body()).isEqualTo(200);
    assertThat(entries(http, "Organization?_id=" + a + "&_include:iterate=Organization:partof"))
        .containsExactly("match Organization/" + a, "include Organization/" + b);
  }

  @Test
  void revincludeIterateFindsWhatReferencesTheIncludedResources() {
    String patient = http.create("{\"resourceType\":\"Patient\"}");
    String encounter = http.create("{\"resourceType\":\"Encounter\",\"status\":\"finished\","
        + "\"class\":{\"code\":\"AMB\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"}}");
    String obs = http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"bp\"},"
        + "\"encounter\":{\"reference\":\"Encounter/" + encounter + "\"}}");

    assertThat(entries(http, "Patient?_id=" + patient + "&_revinclude=Encounter:subject"
        + "&_revinclude:iterate=Observation:encounter")).containsExactly("match Patient/" + patient,
        "include Encounter/" + encounter, "include Observation/" + obs);
    assertThat(entries(http, "Patient?_id=" + patient + "&_revinclude=Encounter:subject"
        + "&_revinclude=Observation:encounter")).containsExactly("match Patient/" + patient,
        "include Encounter/" + encounter);
  }

  @Test
  void iteratedIncludesKeepTheAccessChecksOfEveryInclude() {
    String ward = organization("Private ward", null);
    String patient = patientOf(ward);
    String obs = observationAbout(patient);
    String binary = TestClient.createdId(http.postBytes("fhir/R4/Binary", "text/plain",
        "raw".getBytes(StandardCharsets.UTF_8)));
    String provenance = http.create("{\"resourceType\":\"Provenance\",\"target\":[{\"reference\":\"Patient/" + patient
        + "\"},{\"reference\":\"Binary/" + binary + "\"}],\"recorded\":\"2024-01-01T00:00:00Z\","
        + "\"agent\":[{\"who\":{\"display\":\"lab\"}}]}");
    String query = "Observation?_id=" + obs + "&_include=Observation:subject&_include:iterate=Patient:organization";

    TestClient noOrganizations = clients.client(PROJECT, "system/Observation.rs system/Patient.r");
    assertThat(entries(noOrganizations, query)).containsExactly("match Observation/" + obs,
        "include Patient/" + patient);
    TestClient organizations = clients.client(PROJECT, "system/Observation.rs system/Patient.r system/Organization.r");
    assertThat(entries(organizations, query)).containsExactly("match Observation/" + obs,
        "include Patient/" + patient, "include Organization/" + ward);

    // a Binary is never included, however it is reached
    assertThat(entries(http, "Observation?_id=" + obs + "&_include=Observation:subject"
        + "&_revinclude:iterate=Provenance:target&_include:iterate=Provenance:target")).containsExactly(
        "match Observation/" + obs, "include Patient/" + patient, "include Provenance/" + provenance);
  }

  @Test
  void theCapabilityStatementDescribesIteration() {
    CapabilityStatement cs = http.parse(http.get("fhir/R4/metadata"), CapabilityStatement.class);
    for (String name : List.of("_include", "_revinclude")) {
      assertThat(cs.getRestFirstRep().getSearchParam()).filteredOn(p -> p.getName().equals(name)).singleElement()
          .satisfies(p -> assertThat(p.getDocumentation()).contains(":iterate", "4 rounds"));
    }
  }

  @Test
  void anUnknownIncludeModifierIsRefused() {
    for (String bad : List.of("_include:deep=Observation:subject", "_revinclude:again=Observation:subject",
        "_include:iterate=*", "_include:iterate=Nonsense:subject", "_include:iterate=Patient:name")) {
      HttpResponse<String> r = http.get("fhir/R4/Observation?" + bad);
      assertThat(r.statusCode()).as(bad + ": " + r.body()).isEqualTo(400);
      assertThat(r.body()).contains("OperationOutcome");
    }
    assertThat(http.get("fhir/R4/Observation?_include:deep=Observation:subject").body())
        .contains("':deep' is not supported");
  }

  /**
   * Every searchInclude and searchRevInclude the CapabilityStatement lists is a value the search
   * takes: each is sent, as many to a search as it allows, and answered 200.
   */
  @Test
  void everyAdvertisedIncludeAndRevIncludeIsAccepted() {
    TestClient admin = server.client(); // AuditEvent is searched by an admin alone
    CapabilityStatement cs = admin.parse(admin.get("fhir/R4/metadata"), CapabilityStatement.class);
    int sent = 0;
    List<String> refused = new ArrayList<>();
    for (CapabilityStatement.CapabilityStatementRestResourceComponent r : cs.getRestFirstRep().getResource()) {
      List<String> params = new ArrayList<>();
      r.getSearchInclude().forEach(v -> params.add("_include=" + encode(v.getValue())));
      r.getSearchRevInclude().forEach(v -> params.add("_revinclude=" + encode(v.getValue())));
      for (int from = 0; from < params.size(); from += SearchParser.MAX_INCLUDES) {
        List<String> group = params.subList(from, Math.min(params.size(), from + SearchParser.MAX_INCLUDES));
        HttpResponse<String> answer = admin.get("fhir/R4/" + r.getType() + "?_id=none-such&" + String.join("&", group));
        sent += group.size();
        if (answer.statusCode() != 200) {
          refused.add(r.getType() + " " + answer.statusCode() + " " + answer.body());
        }
      }
    }
    assertThat(refused).isEmpty();
    assertThat(sent).isGreaterThan(5000);
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }
}
