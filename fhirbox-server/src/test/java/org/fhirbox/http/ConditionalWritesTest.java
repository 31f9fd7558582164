package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.UUID;
import org.fhirbox.testing.ConditionalRace;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Conditional update ({@code PUT /Type?criteria}, FHIR R4 http().html#cond-update) and conditional
 * delete ({@code DELETE /Type?criteria}) over HTTP: none, one and several matches, a body id that
 * is not the match's, If-Match, criteria that name nothing, and projects kept apart; concurrent
 * conditional creates and updates of one condition, which make one resource.
 */
class ConditionalWritesTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  static TestClient http() {
    return fhirbox.http();
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
    return http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics();
  }

  @Test
  void noMatchCreatesOneMatchIsUpdatedAndABodyNamingAnotherIdIs400() {
    HttpResponse<String> created = put(http(), "identifier=urn:cu%7Ca", patient("urn:cu", "a", "First", null), null);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String id = TestClient.createdId(created);

    HttpResponse<String> updated = put(http(), "identifier=urn:cu%7Ca", patient("urn:cu", "a", "Second", null), null);
    assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
    assertThat(updated.headers().firstValue("ETag")).hasValue("W/\"2\"");
    Patient p = http().parse(updated, Patient.class);
    assertThat(p.getIdElement().getIdPart()).isEqualTo(id);
    assertThat(p.getNameFirstRep().getFamily()).isEqualTo("Second");

    // the body may name the match's id, and no other
    assertThat(put(http(), "identifier=urn:cu%7Ca", patient("urn:cu", "a", "Third", id), null).statusCode())
        .isEqualTo(200);
    HttpResponse<String> other = put(http(), "identifier=urn:cu%7Ca", patient("urn:cu", "a", "Fourth", "someone-else"),
        null);
    assertThat(other.statusCode()).as(other.body()).isEqualTo(400);
    assertThat(diagnostics(other)).contains("someone-else", id);
    assertThat(count(http(), "identifier=urn:cu%7Ca")).isEqualTo(1);
    assertThat(http().parse(http().get("fhir/R4/Patient/" + id), Patient.class).getNameFirstRep().getFamily())
        .isEqualTo("Third");
  }

  @Test
  void noMatchWithAnIdInTheBodyCreatesWithThatId() {
    HttpResponse<String> r = put(http(), "identifier=urn:cu%7Cwith-id", patient("urn:cu", "with-id", "Chosen", "cu-chosen"),
        null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(r.headers().firstValue("Location")).hasValueSatisfying(l -> assertThat(l)
        .contains("/Patient/cu-chosen/_history/1"));
  }

  /**
   * With no match, the body's id is an update as create: an id a resource that does not match
   * already has is 409 and that resource is left as it was (R5 http.html#cond-update spells out
   * what R4 leaves open), alone or as a transaction entry; a deleted one's id is created again.
   */
  @Test
  void noMatchWithTheIdOfAnotherLiveResourceIs409AndLeavesItAlone() {
    http().putJson("fhir/R4/Patient/cu-taken", patient("urn:cu", "taken", "Kept", "cu-taken"));
    HttpResponse<String> r = put(http(), "identifier=urn:cu%7Cnot-taken", patient("urn:cu", "not-taken", "Over",
        "cu-taken"), null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(409);
    assertThat(diagnostics(r)).contains("cu-taken");
    HttpResponse<String> kept = http().get("fhir/R4/Patient/cu-taken");
    assertThat(kept.headers().firstValue("ETag")).hasValue("W/\"1\"");
    assertThat(http().parse(kept, Patient.class).getNameFirstRep().getFamily()).isEqualTo("Kept");

    HttpResponse<String> tx = http().postJson("fhir/R4", """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":%s,"request":{"method":"PUT","url":"Patient?identifier=urn:cu|not-taken"}}
        ]}""".formatted(patient("urn:cu", "not-taken", "Over", "cu-taken")));
    assertThat(tx.statusCode()).as(tx.body()).isEqualTo(409);
    assertThat(http().get("fhir/R4/Patient/cu-taken").headers().firstValue("ETag")).hasValue("W/\"1\"");

    http().putJson("fhir/R4/Patient/cu-gone", patient("urn:cu", "gone", "Gone", "cu-gone"));
    http().delete("fhir/R4/Patient/cu-gone");
    HttpResponse<String> again = put(http(), "identifier=urn:cu%7Cback", patient("urn:cu", "back", "Back", "cu-gone"),
        null);
    assertThat(again.statusCode()).as(again.body()).isEqualTo(201);
  }

  @Test
  void severalMatchesAre412AndChangeNothing() {
    put(http(), "identifier=urn:cu%7Ctwin-1", patient("urn:cu", "twin-1", "Twin", null), null);
    put(http(), "identifier=urn:cu%7Ctwin-2", patient("urn:cu", "twin-2", "Twin", null), null);
    HttpResponse<String> r = put(http(), "family=Twin", patient("urn:cu", "twin-3", "Twin", null), null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(412);
    assertThat(diagnostics(r)).contains("more than one", "conditional update");
    HttpResponse<String> d = http().delete("fhir/R4/Patient?family=Twin");
    assertThat(d.statusCode()).as(d.body()).isEqualTo(412);
    assertThat(diagnostics(d)).contains("conditional delete");
    assertThat(count(http(), "family=Twin")).isEqualTo(2);
  }

  @Test
  void ifMatchAppliesToTheMatch() {
    String id = TestClient.createdId(put(http(), "identifier=urn:cu%7Cv", patient("urn:cu", "v", "V", null), null));
    HttpResponse<String> stale = put(http(), "identifier=urn:cu%7Cv", patient("urn:cu", "v", "V2", null), "W/\"7\"");
    assertThat(stale.statusCode()).as(stale.body()).isEqualTo(412);
    assertThat(put(http(), "identifier=urn:cu%7Cv", patient("urn:cu", "v", "V2", null), "W/\"1\"").statusCode())
        .isEqualTo(200);
    // If-Match names a version of something; a condition that matches nothing creates nothing then
    HttpResponse<String> none = put(http(), "identifier=urn:cu%7Cnobody", patient("urn:cu", "nobody", "N", null),
        "W/\"1\"");
    assertThat(none.statusCode()).as(none.body()).isEqualTo(412);
    assertThat(count(http(), "identifier=urn:cu%7Cnobody")).isZero();
    assertThat(http().get("fhir/R4/Patient/" + id + "/_history/2").statusCode()).isEqualTo(200);
  }

  @Test
  void aConditionalDeleteWithIfMatchAndNoMatchIs412AsADeleteByIdIs() {
    HttpResponse<String> byId = http().send(http().request("fhir/R4/Patient/cd-never").header("If-Match", "W/\"1\"")
        .DELETE());
    assertThat(byId.statusCode()).as(byId.body()).isEqualTo(412);
    for (String ifMatch : List.of("W/\"1\"", "*")) {
      HttpResponse<String> none = http().send(http().request("fhir/R4/Patient?identifier=urn:cd%7Cnone")
          .header("If-Match", ifMatch).DELETE());
      assertThat(none.statusCode()).as(ifMatch + " " + none.body()).isEqualTo(412);
      assertThat(diagnostics(none)).contains("If-Match", "no Patient matches the condition");
      String entry = "{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient?identifier=urn:cd%7Cnone\",\"ifMatch\":\""
          + ifMatch.replace("\"", "\\\"") + "\"}}";
      for (String type : List.of("batch", "transaction")) {
        HttpResponse<String> b = http().postJson("fhir/R4",
            "{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":[" + entry + "]}");
        String status = type.equals("batch") ? http().parse(b, Bundle.class).getEntryFirstRep().getResponse().getStatus()
            : String.valueOf(b.statusCode());
        assertThat(status).as(type + " " + ifMatch + " " + b.body()).startsWith("412");
      }
    }
    // without If-Match, deleting nothing still succeeds (FHIR R4 http.html#delete)
    assertThat(http().delete("fhir/R4/Patient?identifier=urn:cd%7Cnone").statusCode()).isEqualTo(200);
  }

  @Test
  void criteriaThatNameNothingOrAreUnknownOrNoneAre400() {
    HttpResponse<String> unknown = put(http(), "nonsense=1", patient("urn:cu", "x", "X", null), null);
    assertThat(unknown.statusCode()).as(unknown.body()).isEqualTo(400);
    HttpResponse<String> onlyFormat = put(http(), "_format=json", patient("urn:cu", "x", "X", null), null);
    assertThat(onlyFormat.statusCode()).as(onlyFormat.body()).isEqualTo(400);
    assertThat(diagnostics(onlyFormat)).contains("names no search criteria");
    HttpResponse<String> bare = http().send(http().request("fhir/R4/Patient").header("Content-Type", "application/fhir+json")
        .PUT(HttpRequest.BodyPublishers.ofString(patient("urn:cu", "x", "X", null))));
    assertThat(bare.statusCode()).as(bare.body()).isEqualTo(400);
    assertThat(http().delete("fhir/R4/Patient?nonsense=1").statusCode()).isEqualTo(400);
    assertThat(count(http(), "identifier=urn:cu%7Cx")).isZero();
  }

  /**
   * A search ignores an empty parameter (R4 search.html#errors); a write's criteria never do, as
   * the write would then reach whatever the other criteria alone match: an empty criterion alone
   * is no criteria (400), beside others it is 400 naming it. Empty presentation parameters change
   * no match and stay ignored.
   */
  @Test
  void anEmptyCriterionOfAConditionalWriteIs400NeverIgnored() {
    String id = TestClient.createdId(put(http(), "identifier=urn:ce%7Conly", patient("urn:ce", "only", "Kept", null),
        null));
    for (String query : List.of("identifier=", "identifier=&_count=", "gender=&family=", "_id=")) {
      HttpResponse<String> update = put(http(), query, patient("urn:ce", "only", "Over", null), null);
      assertThat(update.statusCode()).as(query + ": " + update.body()).isEqualTo(400);
      assertThat(diagnostics(update)).contains("names no search criteria");
      assertThat(http().delete("fhir/R4/Patient?" + query).statusCode()).as(query).isEqualTo(400);
      assertThat(patch(query).statusCode()).as(query).isEqualTo(400);
      HttpResponse<String> create = http().send(http().request("fhir/R4/Patient")
          .header("Content-Type", "application/fhir+json").header("If-None-Exist", query)
          .POST(HttpRequest.BodyPublishers.ofString(patient("urn:ce", "only", "Twin", null))));
      assertThat(create.statusCode()).as(query + ": " + create.body()).isEqualTo(400);
    }
    String beside = "identifier=urn:ce%7Conly&gender=";
    HttpResponse<String> update = put(http(), beside, patient("urn:ce", "only", "Over", null), null);
    assertThat(update.statusCode()).as(update.body()).isEqualTo(400);
    assertThat(diagnostics(update)).contains("'gender'", "empty");
    assertThat(http().delete("fhir/R4/Patient?" + beside).statusCode()).isEqualTo(400);
    assertThat(patch(beside).statusCode()).isEqualTo(400);
    assertThat(put(http(), "identifier=urn:ce%7Conly&_pretty=", patient("urn:ce", "only", "Kept", id), null)
        .statusCode()).isEqualTo(200);
    assertThat(count(http(), "identifier=urn:ce%7Conly")).isEqualTo(1);
    assertThat(http().parse(http().get("fhir/R4/Patient/" + id), Patient.class).getNameFirstRep().getFamily())
        .isEqualTo("Kept");
  }

  private static HttpResponse<String> patch(String query) {
    return http().send(http().request("fhir/R4/Patient?" + query).header("Content-Type", "application/json-patch+json")
        .method("PATCH", HttpRequest.BodyPublishers.ofString("[{\"op\":\"replace\",\"path\":\"/active\","
            + "\"value\":false}]")));
  }

  @Test
  void conditionalDeleteDeletesTheOneMatchAndNoMatchIs200() {
    String id = TestClient.createdId(put(http(), "identifier=urn:cd%7Cgo", patient("urn:cd", "go", "Gone", null), null));
    HttpResponse<String> r = http().delete("fhir/R4/Patient?identifier=urn:cd%7Cgo");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("ETag")).hasValue("W/\"2\"");
    assertThat(diagnostics(r)).contains("deleted Patient/" + id);
    assertThat(http().get("fhir/R4/Patient/" + id).statusCode()).isEqualTo(410);
    HttpResponse<String> again = http().delete("fhir/R4/Patient?identifier=urn:cd%7Cgo");
    assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
    assertThat(diagnostics(again)).contains("nothing was deleted");
  }

  @Test
  void anotherProjectsResourcesAreNeverMatched() {
    ProjectClients clients = new ProjectClients(fhirbox.server());
    TestClient other = clients.client("cu-other", "system/*.cruds");
    String mine = TestClient.createdId(put(http(), "identifier=urn:cp%7Cshared", patient("urn:cp", "shared", "Mine", null),
        null));
    HttpResponse<String> theirs = put(other, "identifier=urn:cp%7Cshared", patient("urn:cp", "shared", "Theirs", null),
        null);
    assertThat(theirs.statusCode()).as(theirs.body()).isEqualTo(201);
    assertThat(TestClient.createdId(theirs)).isNotEqualTo(mine);
    assertThat(other.delete("fhir/R4/Patient?identifier=urn:cp%7Cshared").statusCode()).isEqualTo(200);
    assertThat(http().parse(http().get("fhir/R4/Patient/" + mine), Patient.class).getNameFirstRep().getFamily())
        .isEqualTo("Mine");
  }

  private static String status(Bundle b, int entry) {
    return b.getEntry().get(entry).getResponse().getStatus().substring(0, 3);
  }

  @Test
  void aTransactionsConditionalUpdateCreatesThenUpdatesAndItsFullUrlNamesWhatItWrote() {
    String tx = """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"fullUrl":"urn:uuid:55555555-5555-5555-5555-555555555555",
           "resource":{"resourceType":"Patient","identifier":[{"system":"urn:ctx","value":"1"}],"name":[{"family":"%s"}]},
           "request":{"method":"PUT","url":"Patient?identifier=urn:ctx|1"}},
          {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
             "subject":{"reference":"urn:uuid:55555555-5555-5555-5555-555555555555"}},
           "request":{"method":"POST","url":"Observation"}}
        ]}""";
    Bundle first = http().postBundle(tx.formatted("TxFirst"));
    assertThat(status(first, 0)).isEqualTo("201");
    String id = first.getEntry().get(0).getResource().getIdElement().getIdPart();
    assertThat(((org.hl7.fhir.r4.model.Observation) first.getEntry().get(1).getResource()).getSubject().getReference())
        .isEqualTo("Patient/" + id);

    Bundle second = http().postBundle(tx.formatted("TxSecond"));
    assertThat(status(second, 0)).isEqualTo("200");
    assertThat(second.getEntry().get(0).getResponse().getEtag()).isEqualTo("W/\"2\"");
    assertThat(((org.hl7.fhir.r4.model.Observation) second.getEntry().get(1).getResource()).getSubject()
        .getReference()).isEqualTo("Patient/" + id);
    assertThat(count(http(), "identifier=urn:ctx%7C1")).isEqualTo(1);
    assertThat(http().parse(http().get("fhir/R4/Patient/" + id), Patient.class).getNameFirstRep().getFamily())
        .isEqualTo("TxSecond");
  }

  @Test
  void aTransactionsConditionalDeleteDeletesItsMatchAndOverlappingWritesAre400() {
    String id = TestClient.createdId(put(http(), "identifier=urn:ctx%7Cdel", patient("urn:ctx", "del", "TxDel", null), null));
    // a conditional delete and an update by id that name the same Patient: the transaction fails whole
    String overlap = """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"request":{"method":"DELETE","url":"Patient?identifier=urn:ctx|del"}},
          {"resource":{"resourceType":"Patient","id":"%s","name":[{"family":"Other"}]},
           "request":{"method":"PUT","url":"Patient/%s"}}
        ]}""".formatted(id, id);
    HttpResponse<String> refused = http().postJson("fhir/R4", overlap);
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
    assertThat(diagnostics(refused)).contains("Patient/" + id);
    assertThat(http().get("fhir/R4/Patient/" + id).statusCode()).isEqualTo(200);

    Bundle done = http().postBundle("""
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"request":{"method":"DELETE","url":"Patient?identifier=urn:ctx|del"}},
          {"request":{"method":"DELETE","url":"Patient?identifier=urn:ctx|nobody"}}
        ]}""");
    assertThat(status(done, 0)).isEqualTo("200");
    assertThat(status(done, 1)).isEqualTo("200");
    assertThat(((OperationOutcome) done.getEntry().get(1).getResponse().getOutcome()).getIssueFirstRep()
        .getDiagnostics()).contains("nothing was deleted");
    assertThat(http().get("fhir/R4/Patient/" + id).statusCode()).isEqualTo(410);
  }

  @Test
  void aBatchsConditionalEntryThatMatchesTwoIs412ForItself() {
    put(http(), "identifier=urn:cb%7C1", patient("urn:cb", "1", "BatchTwin", null), null);
    put(http(), "identifier=urn:cb%7C2", patient("urn:cb", "2", "BatchTwin", null), null);
    Bundle out = http().postBundle("""
        {"resourceType":"Bundle","type":"batch","entry":[
          {"resource":{"resourceType":"Patient","name":[{"family":"BatchTwin"}]},
           "request":{"method":"PUT","url":"Patient?family=BatchTwin"}},
          {"resource":{"resourceType":"Patient","identifier":[{"system":"urn:cb","value":"3"}],"name":[{"family":"BatchThird"}]},
           "request":{"method":"PUT","url":"Patient?identifier=urn:cb|3"}},
          {"request":{"method":"GET","url":"Patient?family=BatchTwin"}}
        ]}""");
    assertThat(out.getEntry()).extracting(e -> e.getResponse().getStatus().substring(0, 3))
        .containsExactly("412", "201", "200");
    assertThat(((Bundle) out.getEntry().get(2).getResource()).getTotal()).isEqualTo(2);
    assertThat(count(http(), "family=BatchTwin")).isEqualTo(2);
    assertThat(count(http(), "identifier=urn:cb%7C3")).isEqualTo(1);
  }

  @Test
  void concurrentConditionalCreatesOfOneConditionCreateOnePatient() throws Exception {
    ConditionalRace.run(List.of(http()), "create-" + UUID.randomUUID(), false);
  }

  @Test
  void concurrentConditionalUpdatesThatMatchNothingCreateOnePatient() throws Exception {
    ConditionalRace.run(List.of(http()), "update-" + UUID.randomUUID(), true);
  }

  @Test
  void theCapabilityStatementSaysSo() {
    CapabilityStatement cs = http().parse(http().get("fhir/R4/metadata"), CapabilityStatement.class);
    CapabilityStatement.CapabilityStatementRestResourceComponent patient = cs.getRestFirstRep().getResource().stream()
        .filter(x -> x.getType().equals("Patient")).findFirst().orElseThrow();
    assertThat(patient.getConditionalUpdate()).isTrue();
    assertThat(patient.getConditionalDelete()).isEqualTo(CapabilityStatement.ConditionalDeleteStatus.SINGLE);
  }
}
