package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Conditional update ({@code PUT /Type?criteria}, FHIR R4 http.html#cond-update) and conditional
 * delete ({@code DELETE /Type?criteria}) over HTTP: none, one and several matches, a body id that
 * is not the match's, If-Match, criteria that name nothing, and projects kept apart.
 */
class ConditionalWritesTest {
  static TestServer server;
  static TestClient http;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
    http = server.client();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static String patient(String system, String value, String family, String id) {
    return "{\"resourceType\":\"Patient\"" + (id == null ? "" : ",\"id\":\"" + id + "\"")
        + ",\"identifier\":[{\"system\":\"" + system + "\",\"value\":\"" + value + "\"}],\"name\":[{\"family\":\""
        + family + "\"}]}";
  }

  private static HttpResponse<String> put(TestClient c, String query, String json, String ifMatch) {
    HttpRequest.Builder b = c.request("fhir/R4/Patient?" + query).header("Content-Type", "application/fhir+json")
        .PUT(HttpRequest.BodyPublishers.ofString(json));
    if (ifMatch != null) {
      b.header("If-Match", ifMatch);
    }
    return c.send(b);
  }

  private static int count(TestClient c, String query) {
    return c.parse(c.get("fhir/R4/Patient?" + query + "&_summary=count"), Bundle.class).getTotal();
  }

  private static String diagnostics(HttpResponse<String> r) {
    return http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics();
  }

  @Test
  void noMatchCreatesOneMatchIsUpdatedAndABodyNamingAnotherIdIs400() {
    HttpResponse<String> created = put(http, "identifier=urn:cu%7Ca", patient("urn:cu", "a", "First", null), null);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String id = TestClient.createdId(created);

    HttpResponse<String> updated = put(http, "identifier=urn:cu%7Ca", patient("urn:cu", "a", "Second", null), null);
    assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
    assertThat(updated.headers().firstValue("ETag")).hasValue("W/\"2\"");
    Patient p = http.parse(updated, Patient.class);
    assertThat(p.getIdElement().getIdPart()).isEqualTo(id);
    assertThat(p.getNameFirstRep().getFamily()).isEqualTo("Second");

    // the body may name the match's id, and no other
    assertThat(put(http, "identifier=urn:cu%7Ca", patient("urn:cu", "a", "Third", id), null).statusCode())
        .isEqualTo(200);
    HttpResponse<String> other = put(http, "identifier=urn:cu%7Ca", patient("urn:cu", "a", "Fourth", "someone-else"),
        null);
    assertThat(other.statusCode()).as(other.body()).isEqualTo(400);
    assertThat(diagnostics(other)).contains("someone-else", id);
    assertThat(count(http, "identifier=urn:cu%7Ca")).isEqualTo(1);
    assertThat(http.parse(http.get("fhir/R4/Patient/" + id), Patient.class).getNameFirstRep().getFamily())
        .isEqualTo("Third");
  }

  @Test
  void noMatchWithAnIdInTheBodyCreatesWithThatId() {
    HttpResponse<String> r = put(http, "identifier=urn:cu%7Cwith-id", patient("urn:cu", "with-id", "Chosen", "cu-chosen"),
        null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(r.headers().firstValue("Location")).hasValueSatisfying(l -> assertThat(l)
        .contains("/Patient/cu-chosen/_history/1"));
  }

  @Test
  void severalMatchesAre412AndChangeNothing() {
    put(http, "identifier=urn:cu%7Ctwin-1", patient("urn:cu", "twin-1", "Twin", null), null);
    put(http, "identifier=urn:cu%7Ctwin-2", patient("urn:cu", "twin-2", "Twin", null), null);
    HttpResponse<String> r = put(http, "family=Twin", patient("urn:cu", "twin-3", "Twin", null), null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(412);
    assertThat(diagnostics(r)).contains("more than one", "conditional update");
    HttpResponse<String> d = http.delete("fhir/R4/Patient?family=Twin");
    assertThat(d.statusCode()).as(d.body()).isEqualTo(412);
    assertThat(diagnostics(d)).contains("conditional delete");
    assertThat(count(http, "family=Twin")).isEqualTo(2);
  }

  @Test
  void ifMatchAppliesToTheMatch() {
    String id = TestClient.createdId(put(http, "identifier=urn:cu%7Cv", patient("urn:cu", "v", "V", null), null));
    HttpResponse<String> stale = put(http, "identifier=urn:cu%7Cv", patient("urn:cu", "v", "V2", null), "W/\"7\"");
    assertThat(stale.statusCode()).as(stale.body()).isEqualTo(412);
    assertThat(put(http, "identifier=urn:cu%7Cv", patient("urn:cu", "v", "V2", null), "W/\"1\"").statusCode())
        .isEqualTo(200);
    // If-Match names a version of something; a condition that matches nothing creates nothing then
    HttpResponse<String> none = put(http, "identifier=urn:cu%7Cnobody", patient("urn:cu", "nobody", "N", null),
        "W/\"1\"");
    assertThat(none.statusCode()).as(none.body()).isEqualTo(412);
    assertThat(count(http, "identifier=urn:cu%7Cnobody")).isZero();
    assertThat(http.get("fhir/R4/Patient/" + id + "/_history/2").statusCode()).isEqualTo(200);
  }

  @Test
  void criteriaThatNameNothingOrAreUnknownAre400AndNoneAre405() {
    HttpResponse<String> unknown = put(http, "nonsense=1", patient("urn:cu", "x", "X", null), null);
    assertThat(unknown.statusCode()).as(unknown.body()).isEqualTo(400);
    HttpResponse<String> onlyFormat = put(http, "_format=json", patient("urn:cu", "x", "X", null), null);
    assertThat(onlyFormat.statusCode()).as(onlyFormat.body()).isEqualTo(400);
    assertThat(diagnostics(onlyFormat)).contains("names no search criteria");
    HttpResponse<String> bare = http.send(http.request("fhir/R4/Patient").header("Content-Type", "application/fhir+json")
        .PUT(HttpRequest.BodyPublishers.ofString(patient("urn:cu", "x", "X", null))));
    assertThat(bare.statusCode()).as(bare.body()).isEqualTo(405);
    assertThat(http.delete("fhir/R4/Patient?nonsense=1").statusCode()).isEqualTo(400);
    assertThat(count(http, "identifier=urn:cu%7Cx")).isZero();
  }

  @Test
  void conditionalDeleteDeletesTheOneMatchAndNoMatchIs200() {
    String id = TestClient.createdId(put(http, "identifier=urn:cd%7Cgo", patient("urn:cd", "go", "Gone", null), null));
    HttpResponse<String> r = http.delete("fhir/R4/Patient?identifier=urn:cd%7Cgo");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("ETag")).hasValue("W/\"2\"");
    assertThat(diagnostics(r)).contains("deleted Patient/" + id);
    assertThat(http.get("fhir/R4/Patient/" + id).statusCode()).isEqualTo(410);
    HttpResponse<String> again = http.delete("fhir/R4/Patient?identifier=urn:cd%7Cgo");
    assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
    assertThat(diagnostics(again)).contains("nothing was deleted");
  }

  @Test
  void anotherProjectsResourcesAreNeverMatched() {
    ProjectClients clients = new ProjectClients(server);
    TestClient other = clients.client("cu-other", "system/*.cruds");
    String mine = TestClient.createdId(put(http, "identifier=urn:cp%7Cshared", patient("urn:cp", "shared", "Mine", null),
        null));
    HttpResponse<String> theirs = put(other, "identifier=urn:cp%7Cshared", patient("urn:cp", "shared", "Theirs", null),
        null);
    assertThat(theirs.statusCode()).as(theirs.body()).isEqualTo(201);
    assertThat(TestClient.createdId(theirs)).isNotEqualTo(mine);
    assertThat(other.delete("fhir/R4/Patient?identifier=urn:cp%7Cshared").statusCode()).isEqualTo(200);
    assertThat(http.parse(http.get("fhir/R4/Patient/" + mine), Patient.class).getNameFirstRep().getFamily())
        .isEqualTo("Mine");
  }

  @Test
  void theCapabilityStatementSaysSo() {
    CapabilityStatement cs = http.parse(http.get("fhir/R4/metadata"), CapabilityStatement.class);
    CapabilityStatement.CapabilityStatementRestResourceComponent patient = cs.getRestFirstRep().getResource().stream()
        .filter(x -> x.getType().equals("Patient")).findFirst().orElseThrow();
    assertThat(patient.getConditionalUpdate()).isTrue();
    assertThat(patient.getConditionalDelete()).isEqualTo(CapabilityStatement.ConditionalDeleteStatus.SINGLE);
  }
}
