package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * An absolute reference to another server's {@code Patient/P} names that server's patient, not
 * this server's {@code Patient/P} (FHIR R4 references.html#literal), while a relative reference
 * and an absolute one on the server's own base or a base alias name the local resource
 * (search.html#reference). Searches, includes, chains, {@code _has} and the patient compartment of
 * {@code patient/} scopes all follow only the local ones. Subclasses supply the database: the
 * compartment is a criterion of the search SQL.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ForeignReferenceContract {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PROJECT = "clinic";
  private static final String OTHER_SERVER = "https://ehr.example/fhir/";
  private static final String ALIAS = "https://alias.example/";

  private TestServer server;
  private TestClient seeder;
  private String patient;
  /** About the other server's patient of the same id. */
  private String foreign;
  /** About the local patient, by an absolute URL on this server's base. */
  private String ownBase;
  /** About the local patient, by an absolute URL on a base alias. */
  private String aliased;
  /** About the local patient, by a relative reference. */
  private String relative;

  /** Server settings naming the database. */
  protected abstract Map<String, String> settings();

  @BeforeAll
  void start() throws Exception {
    Map<String, String> settings = new HashMap<>(settings());
    settings.put("FHIRBOX_BASE_URL_ALIASES", ALIAS);
    server = TestServer.start(settings);
    seeder = new ProjectClients(server).client(PROJECT, "system/*.cruds");
    patient = create("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Local\"}]}");
    foreign = create("Observation", observation(OTHER_SERVER + "Patient/" + patient, "foreign"));
    ownBase = create("Observation", observation(server.fhirBase() + "/Patient/" + patient, "own-base"));
    aliased = create("Observation", observation(ALIAS + "fhir/R4/Patient/" + patient + "/_history/1", "alias"));
    relative = create("Observation", observation("Patient/" + patient, "relative"));
  }

  @AfterAll
  void stop() throws Exception {
    server.close();
  }

  private String create(String type, String json) {
    return TestClient.createdId(seeder.postJson("fhir/R4/" + type, json));
  }

  private static String observation(String subject, String code) {
    return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"urn:test\","
        + "\"code\":\"" + code + "\"}]},\"subject\":{\"reference\":\"" + subject + "\"}}";
  }

  private static JsonNode ok(HttpResponse<String> r) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  /** {@code Type/id} of the entries of a Bundle with the given search mode. */
  private static Set<String> entries(JsonNode bundle, String mode) {
    Set<String> out = new TreeSet<>();
    for (JsonNode e : bundle.path("entry")) {
      if (mode.equals(e.at("/search/mode").asText())) {
        JsonNode r = e.path("resource");
        out.add(r.path("resourceType").asText() + "/" + r.path("id").asText());
      }
    }
    return out;
  }

  private Set<String> observations(TestClient c, String query) throws Exception {
    return entries(ok(c.get("fhir/R4/Observation?" + query)), "match");
  }

  private Set<String> local() {
    return Set.of("Observation/" + ownBase, "Observation/" + aliased, "Observation/" + relative);
  }

  private static String enc(String s) {
    return ProjectClients.enc(s);
  }

  @Test
  void theLocalPatientIsFoundByRelativeOwnBaseAndAliasReferencesButNotAnotherServersUrl() throws Exception {
    assertThat(observations(seeder, "subject=Patient/" + patient)).isEqualTo(local());
    assertThat(observations(seeder, "subject=" + enc(server.fhirBase() + "/Patient/" + patient))).isEqualTo(local());
    assertThat(observations(seeder, "subject=" + enc(ALIAS + "fhir/R4/Patient/" + patient))).isEqualTo(local());
    assertThat(observations(seeder, "subject:Patient=" + patient)).isEqualTo(local());
    assertThat(observations(seeder, "patient=" + patient)).isEqualTo(local());
  }

  @Test
  void anotherServersPatientIsFoundOnlyByItsOwnUrl() throws Exception {
    assertThat(observations(seeder, "subject=" + enc(OTHER_SERVER + "Patient/" + patient)))
        .containsExactly("Observation/" + foreign);
    assertThat(observations(seeder, "subject=" + enc(OTHER_SERVER + "Patient/" + patient + "/_history/3")))
        .as("a version in the search value is not part of what is matched").containsExactly("Observation/" + foreign);
  }

  @Test
  void includesChainsAndHasFollowOnlyLocalReferences() throws Exception {
    JsonNode foreignOnly = ok(seeder.get("fhir/R4/Observation?_id=" + foreign + "&_include=Observation:subject"));
    assertThat(entries(foreignOnly, "match")).containsExactly("Observation/" + foreign);
    assertThat(entries(foreignOnly, "include")).isEmpty();
    JsonNode own = ok(seeder.get("fhir/R4/Observation?_id=" + ownBase + "&_include=Observation:subject"));
    assertThat(entries(own, "include")).containsExactly("Patient/" + patient);

    assertThat(observations(seeder, "subject:Patient.name=local")).isEqualTo(local());
    JsonNode rev = ok(seeder.get("fhir/R4/Patient?_id=" + patient + "&_revinclude=Observation:subject"));
    assertThat(entries(rev, "include")).isEqualTo(local());
    assertThat(ok(seeder.get("fhir/R4/Patient?_has:Observation:subject:code=urn:test%7Cforeign")).path("entry"))
        .isEmpty();
    assertThat(entries(ok(seeder.get("fhir/R4/Patient?_has:Observation:subject:code=urn:test%7Cown-base")), "match"))
        .containsExactly("Patient/" + patient);
  }

  @Test
  void aPatientTokenNeitherReadsNorFindsAnObservationAboutAnotherServersPatientOfTheSameId() throws Exception {
    TestClient asPatient = patientToken("patient/Observation.rs", patient);
    assertThat(asPatient.get("fhir/R4/Observation/" + foreign).statusCode()).isEqualTo(404);
    assertThat(asPatient.get("fhir/R4/Observation/" + foreign + "/_history/1").statusCode()).isEqualTo(404);
    assertThat(observations(asPatient, "_count=50")).isEqualTo(local());
    assertThat(observations(asPatient, "subject=" + enc(OTHER_SERVER + "Patient/" + patient))).isEmpty();
    assertThat(asPatient.get("fhir/R4/Observation/" + ownBase).statusCode()).isEqualTo(200);
  }

  @Test
  void aPatientTokenCannotWriteAnObservationAboutAnotherServersPatientOfTheSameId() throws Exception {
    // a patient of its own, so the Observation written here stays out of the other tests' searches
    String writer = create("Patient", "{\"resourceType\":\"Patient\"}");
    TestClient asPatient = patientToken("patient/Observation.cruds", writer);
    assertThat(asPatient.postJson("fhir/R4/Observation", observation(OTHER_SERVER + "Patient/" + writer, "w"))
        .statusCode()).isEqualTo(403);
    assertThat(asPatient.postJson("fhir/R4/Observation",
        observation(server.fhirBase() + "/Patient/" + writer, "w")).statusCode()).isEqualTo(201);
  }

  @Test
  void aPatientLinkedToAnotherServersPatientOfTheSameIdIsOutsideTheLocalPatientsCompartment() throws Exception {
    String linkedAway = create("Patient", "{\"resourceType\":\"Patient\",\"link\":[{\"type\":\"seealso\","
        + "\"other\":{\"reference\":\"" + OTHER_SERVER + "Patient/" + patient + "\"}}]}");
    String linkedHere = create("Patient", "{\"resourceType\":\"Patient\",\"link\":[{\"type\":\"seealso\","
        + "\"other\":{\"reference\":\"" + server.fhirBase() + "/Patient/" + patient + "\"}}]}");
    TestClient asPatient = patientToken("patient/Patient.rs", patient);
    assertThat(asPatient.get("fhir/R4/Patient/" + linkedAway).statusCode()).isEqualTo(404);
    assertThat(asPatient.get("fhir/R4/Patient/" + linkedHere).statusCode()).isEqualTo(200);
    assertThat(entries(ok(asPatient.get("fhir/R4/Patient")), "match"))
        .contains("Patient/" + patient, "Patient/" + linkedHere).doesNotContain("Patient/" + linkedAway);
  }

  /** A token as a SMART launch issues it: the client's scopes and the launch patient. */
  private TestClient patientToken(String scope, String launchPatient) {
    AuthModule auth = server.server().auth();
    OAuthClient client = auth.clients().find(auth.clients().create(PROJECT, scope, false).clientId()).orElseThrow();
    String token = auth.tokens().issue(client, Scopes.parse(scope), Optional.empty(), Optional.of(launchPatient))
        .accessToken();
    return new TestClient(server.baseUrl()).withHeader("Authorization", "Bearer " + token);
  }
}
