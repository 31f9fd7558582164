package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.auth.AuthModule;
import org.fhirbox.auth.OAuthClient;
import org.fhirbox.auth.Scopes;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Reference parameters on {@code canonical} elements ({@code QuestionnaireResponse.questionnaire},
 * {@code *.instantiates-canonical}): a search value is the canonical URL it is, with
 * {@code |version} that version only (R4 search.html#reference, #versions), and chains,
 * {@code _has}, {@code _include} and {@code _revinclude} reach the resources whose {@code url} (and
 * {@code version}) the canonical names. Subclasses supply the database.
 */
abstract class CanonicalSearchContract {
  private static final String ACME = "http://acme.org/Questionnaire/phq9";
  TestServer server;
  TestClient http;

  /** Server settings naming the database. */
  protected abstract Map<String, String> settings();

  @BeforeEach
  void start() throws Exception {
    server = TestServer.start(settings());
    http = server.client();
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private String questionnaire(String id, String url, String version, String title) {
    HttpResponse<String> r = http.putJson("fhir/R4/Questionnaire/" + id, "{\"resourceType\":\"Questionnaire\",\"id\":\""
        + id + "\",\"url\":\"" + url + "\"," + (version == null ? "" : "\"version\":\"" + version + "\",")
        + "\"title\":\"" + title + "\",\"status\":\"active\"}");
    assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
    return id;
  }

  private String response(String canonical, String status) {
    return http.create("{\"resourceType\":\"QuestionnaireResponse\",\"questionnaire\":\"" + canonical
        + "\",\"status\":\"" + status + "\"}");
  }

  /** {@code Type/id} of every entry of the first page, matches and includes alike. */
  private List<String> entries(String query) {
    HttpResponse<String> r = http.get("fhir/R4/" + query);
    assertThat(r.statusCode()).as(query + ": " + r.body()).isEqualTo(200);
    return http.parse(r, Bundle.class).getEntry().stream()
        .map(e -> e.getResource().fhirType() + "/" + e.getResource().getIdElement().getIdPart()).toList();
  }

  @Test
  void aCanonicalIsMatchedAsTheUrlItIsWithAVersionOnlyWhenAsked() {
    String own = server.baseUrl() + "fhir/R4/Questionnaire/local";
    String onOwnBase = response(own, "completed");
    String unversioned = response(ACME, "completed");
    String v3 = response(ACME + "|3.0", "completed");
    String longer = response(ACME + "-short", "completed");

    assertThat(http.foundIds("QuestionnaireResponse?questionnaire=" + enc(own))).containsExactly(onOwnBase);
    assertThat(http.foundIds("QuestionnaireResponse?questionnaire=" + enc(ACME)))
        .containsExactlyInAnyOrder(unversioned, v3);
    assertThat(http.foundIds("QuestionnaireResponse?questionnaire=" + enc(ACME + "|3.0"))).containsExactly(v3);
    assertThat(http.foundIds("QuestionnaireResponse?questionnaire=" + enc(ACME + "|2.0"))).isEmpty();
    assertThat(http.foundIds("QuestionnaireResponse?questionnaire=" + enc(ACME + "-short,http://x.org/Q/1")))
        .containsExactly(longer);
    assertThat(http.foundIds("QuestionnaireResponse?questionnaire:Questionnaire=" + enc(ACME + "|3.0")))
        .containsExactly(v3);
  }

  @Test
  void aReferenceElementOfTheSameKindOfParameterKeepsItsLocalForm() {
    String patient = http.create("{\"resourceType\":\"Patient\"}");
    String observation = http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"Patient/" + patient + "\"}}");
    assertThat(http.foundIds("Observation?subject=" + enc(server.baseUrl() + "fhir/R4/Patient/" + patient)))
        .containsExactly(observation);
    assertThat(http.foundIds("Observation?subject=Patient/" + patient)).containsExactly(observation);
  }

  @Test
  void aChainReachesTheQuestionnaireByItsUrlAndVersion() {
    questionnaire("phq9v3", ACME, "3.0", "PHQ-9");
    questionnaire("phq9v2", ACME, "2.0", "Old form");
    questionnaire("gad7", "http://acme.org/Questionnaire/gad7", null, "GAD-7");
    String unversioned = response(ACME, "completed");
    String v3 = response(ACME + "|3.0", "completed");
    String v2 = response(ACME + "|2.0", "completed");
    response("http://acme.org/Questionnaire/gad7", "completed");

    assertThat(http.foundIds("QuestionnaireResponse?questionnaire.title=PHQ"))
        .containsExactlyInAnyOrder(unversioned, v3);
    assertThat(http.foundIds("QuestionnaireResponse?questionnaire:Questionnaire.title=Old"))
        .containsExactlyInAnyOrder(unversioned, v2);
    assertThat(http.foundIds("QuestionnaireResponse?questionnaire.title=nothing")).isEmpty();
  }

  @Test
  void hasFindsTheQuestionnairesTheResponsesName() {
    questionnaire("phq9v3", ACME, "3.0", "PHQ-9");
    questionnaire("phq9v2", ACME, "2.0", "Old form");
    questionnaire("gad7", "http://acme.org/Questionnaire/gad7", null, "GAD-7");
    questionnaire("other", "http://acme.org/Questionnaire/other", null, "Other");
    response(ACME + "|3.0", "completed");
    response("http://acme.org/Questionnaire/gad7", "completed");
    response("http://acme.org/Questionnaire/other", "in-progress");

    assertThat(http.foundIds("Questionnaire?_has:QuestionnaireResponse:questionnaire:status=completed"))
        .containsExactlyInAnyOrder("phq9v3", "gad7");
    assertThat(http.foundIds("Questionnaire?_has:QuestionnaireResponse:questionnaire:status=stopped")).isEmpty();
  }

  @Test
  void includeAndRevincludeFollowTheCanonical() {
    questionnaire("phq9v3", ACME, "3.0", "PHQ-9");
    questionnaire("phq9v2", ACME, "2.0", "Old form");
    String v3 = response(ACME + "|3.0", "completed");
    String unversioned = response(ACME, "in-progress");

    assertThat(entries("QuestionnaireResponse?_id=" + v3 + "&_include=QuestionnaireResponse:questionnaire"))
        .containsExactlyInAnyOrder("QuestionnaireResponse/" + v3, "Questionnaire/phq9v3");
    assertThat(entries("QuestionnaireResponse?_id=" + unversioned
        + "&_include=QuestionnaireResponse:questionnaire:Questionnaire"))
        .containsExactlyInAnyOrder("QuestionnaireResponse/" + unversioned, "Questionnaire/phq9v3",
            "Questionnaire/phq9v2");
    assertThat(entries("Questionnaire?_id=phq9v2&_revinclude=QuestionnaireResponse:questionnaire"))
        .containsExactlyInAnyOrder("Questionnaire/phq9v2", "QuestionnaireResponse/" + unversioned);
  }

  @Test
  void includeThroughACanonicalToAnyTypeNeedsTheTargetType() {
    questionnaire("phq9v3", ACME, "3.0", "PHQ-9");
    http.create("{\"resourceType\":\"Measure\",\"status\":\"active\",\"library\":[\"" + ACME + "\"]}");

    HttpResponse<String> any = http.get("fhir/R4/Measure?_include=Measure:depends-on");
    assertThat(any.statusCode()).as(any.body()).isEqualTo(400);
    assertThat(any.body()).contains("OperationOutcome", "depends-on", "canonical");
    assertThat(entries("Measure?_include=Measure:depends-on:Questionnaire")).contains("Questionnaire/phq9v3");
  }

  @Test
  void canonicalLookupsKeepToWhatTheTokenMayReadAndSearch() {
    questionnaire("phq9v3", ACME, "3.0", "PHQ-9");
    String v3 = response(ACME + "|3.0", "completed");
    AuthModule auth = server.server().auth();
    String scope = "system/QuestionnaireResponse.rs system/Questionnaire.r";
    OAuthClient app = auth.clients().find(auth.clients().create("default", scope, false).clientId()).orElseThrow();
    TestClient responsesOnly = new TestClient(server.baseUrl()).withHeader("Authorization", "Bearer " + auth.tokens()
        .issue(app, Scopes.parse("system/QuestionnaireResponse.rs"), Optional.empty(), Optional.empty()).accessToken());
    TestClient readsQuestionnaires = new TestClient(server.baseUrl()).withHeader("Authorization", "Bearer "
        + auth.tokens().issue(app, Scopes.parse(scope), Optional.empty(), Optional.empty()).accessToken());
    String include = "fhir/R4/QuestionnaireResponse?_id=" + v3 + "&_include=QuestionnaireResponse:questionnaire";

    assertThat(responsesOnly.parse(responsesOnly.get(include), Bundle.class).getEntry()).hasSize(1);
    assertThat(readsQuestionnaires.parse(readsQuestionnaires.get(include), Bundle.class).getEntry()).hasSize(2);
    for (TestClient client : List.of(responsesOnly, readsQuestionnaires)) {
      HttpResponse<String> chain = client.get("fhir/R4/QuestionnaireResponse?questionnaire.title=PHQ");
      assertThat(chain.statusCode()).as(chain.body()).isEqualTo(403);
    }
  }
}
