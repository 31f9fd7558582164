package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Collections;
import java.util.List;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The patch interaction with a JSON Patch (FHIR R4 http().html#patch, RFC 6902) over HTTP: a patch
 * makes a new version; a failed test operation, a stale If-Match, a patch that breaks the resource
 * or changes its id, and XML Patch are refused and change nothing.
 */
class PatchTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  static TestClient http() {
    return fhirbox.http();
  }

  private static String patient(String family) {
    return TestClient.createdId(http().postJson("fhir/R4/Patient",
        "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}],\"active\":true}"));
  }

  private static HttpResponse<String> patch(String path, String contentType, String body, String ifMatch) {
    HttpRequest.Builder b = http().request(path).header("Content-Type", contentType)
        .method("PATCH", HttpRequest.BodyPublishers.ofString(body));
    if (ifMatch != null) {
      b.header("If-Match", ifMatch);
    }
    return http().send(b);
  }

  private static HttpResponse<String> jsonPatch(String id, String ops) {
    return patch("fhir/R4/Patient/" + id, "application/json-patch+json", ops, null);
  }

  private static Patient current(String id) {
    return http().parse(http().get("fhir/R4/Patient/" + id), Patient.class);
  }

  private static String diagnostics(HttpResponse<String> r) {
    return http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics();
  }

  @Test
  void aJsonPatchMakesANewVersion() {
    String id = patient("Before");
    HttpResponse<String> r = jsonPatch(id, """
        [{"op":"test","path":"/meta/versionId","value":"1"},
         {"op":"replace","path":"/name/0/family","value":"After"},
         {"op":"add","path":"/birthDate","value":"1980-04-02"},
         {"op":"remove","path":"/active"}]""");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("ETag")).hasValue("W/\"2\"");
    Patient p = current(id);
    assertThat(p.getNameFirstRep().getFamily()).isEqualTo("After");
    assertThat(p.getBirthDateElement().getValueAsString()).isEqualTo("1980-04-02");
    assertThat(p.hasActive()).isFalse();
  }

  @Test
  void aFailedTestOrAStaleIfMatchIs412AndChangesNothing() {
    String id = patient("Tested");
    HttpResponse<String> failed = jsonPatch(id, """
        [{"op":"test","path":"/meta/versionId","value":"7"},{"op":"replace","path":"/name/0/family","value":"No"}]""");
    assertThat(failed.statusCode()).as(failed.body()).isEqualTo(412);
    assertThat(diagnostics(failed)).contains("test");
    HttpResponse<String> stale = patch("fhir/R4/Patient/" + id, "application/json-patch+json",
        "[{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"No\"}]", "W/\"3\"");
    assertThat(stale.statusCode()).as(stale.body()).isEqualTo(412);
    // versions start at 1: W/"-1" is a malformed ETag, not a wildcard
    HttpResponse<String> negative = patch("fhir/R4/Patient/" + id, "application/json-patch+json",
        "[{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"No\"}]", "W/\"-1\"");
    assertThat(negative.statusCode()).as(negative.body()).isEqualTo(400);
    assertThat(current(id).getNameFirstRep().getFamily()).isEqualTo("Tested");
    assertThat(current(id).getMeta().getVersionId()).isEqualTo("1");
  }

  @Test
  void patchesThatBreakTheResourceOrAreNotJsonPatchesAre400Or415() {
    String id = patient("Kept");
    HttpResponse<String> badDate = jsonPatch(id, "[{\"op\":\"add\",\"path\":\"/birthDate\",\"value\":\"not a date\"}]");
    assertThat(badDate.statusCode()).as(badDate.body()).isEqualTo(400);
    HttpResponse<String> newId = jsonPatch(id, "[{\"op\":\"replace\",\"path\":\"/id\",\"value\":\"someone-else\"}]");
    assertThat(newId.statusCode()).as(newId.body()).isEqualTo(400);
    assertThat(diagnostics(newId)).contains("type or id");
    HttpResponse<String> noPath = jsonPatch(id, "[{\"op\":\"replace\",\"path\":\"/telecom/4/value\",\"value\":\"x\"}]");
    assertThat(noPath.statusCode()).as(noPath.body()).isEqualTo(400);
    HttpResponse<String> notAPatch = jsonPatch(id, "{\"op\":\"replace\"}");
    assertThat(notAPatch.statusCode()).as(notAPatch.body()).isEqualTo(400);
    HttpResponse<String> badOp = jsonPatch(id, "[{\"op\":\"frobnicate\",\"path\":\"/active\"}]");
    assertThat(badOp.statusCode()).as(badOp.body()).isEqualTo(400);
    HttpResponse<String> xmlPatch = patch("fhir/R4/Patient/" + id, "application/xml-patch+xml", "<diff/>", null);
    assertThat(xmlPatch.statusCode()).as(xmlPatch.body()).isEqualTo(415);
    assertThat(current(id).getMeta().getVersionId()).isEqualTo("1");
    assertThat(jsonPatch("no-such-patient", "[]").statusCode()).isEqualTo(404);
  }

  @Test
  void aPathThatIsNoJsonPointerIs400NamingIt() {
    String id = patient("Pointer");
    for (String op : new String[] {"{\"op\":\"add\",\"path\":\"gender\",\"value\":\"male\"}",
        "{\"op\":\"add\",\"path\":\"/a~2b\",\"value\":\"x\"}",
        "{\"op\":\"copy\",\"from\":\"nope\",\"path\":\"/gender\"}"}) {
      HttpResponse<String> r = jsonPatch(id, "[" + op + "]");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
      assertThat(diagnostics(r)).contains("is not a JSON Pointer (RFC 6901)");
    }
    assertThat(diagnostics(jsonPatch(id, "[{\"op\":\"add\",\"path\":\"gender\",\"value\":\"male\"}]")))
        .contains("gender");
    assertThat(current(id).getMeta().getVersionId()).isEqualTo("1");
  }

  @Test
  void removingOrTestingAMemberTheResourceLacksIsRefusedNamingThePath() {
    String id = patient("Lacking");
    // RFC 6902 §4.2: the target location MUST exist for the operation to be successful
    HttpResponse<String> remove = jsonPatch(id, "[{\"op\":\"remove\",\"path\":\"/telecom\"}]");
    assertThat(remove.statusCode()).as(remove.body()).isEqualTo(400);
    assertThat(diagnostics(remove)).contains("/telecom");
    HttpResponse<String> test = jsonPatch(id, "[{\"op\":\"test\",\"path\":\"/gender\",\"value\":\"male\"}]");
    assertThat(test.statusCode()).as(test.body()).isEqualTo(412);
    assertThat(diagnostics(test)).contains("/gender");
    assertThat(current(id).getMeta().getVersionId()).isEqualTo("1");
  }

  @Test
  void anOperationWithADuplicateMemberIs400() {
    String id = patient("Twice");
    HttpResponse<String> r = jsonPatch(id, "[{\"op\":\"add\",\"op\":\"remove\",\"path\":\"/active\",\"value\":false}]");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(diagnostics(r)).contains("op");
    assertThat(current(id).getMeta().getVersionId()).isEqualTo("1");
  }

  @Test
  void aPatchThatDoublesTheResourceUntilItIsHugeIs413AndChangesNothing() {
    String id = patient("Small");
    StringBuilder ops = new StringBuilder("[{\"op\":\"add\",\"path\":\"/extension\",\"value\":[{\"url\":\"http://x\","
        + "\"valueString\":\"" + "a".repeat(1000) + "\"}]}");
    for (int i = 0; i < 40; i++) {
      // each copy puts the whole array inside itself: its size doubles
      ops.append(",{\"op\":\"copy\",\"from\":\"/extension\",\"path\":\"/extension/-\"}");
    }
    HttpResponse<String> r = jsonPatch(id, ops.append("]").toString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(413);
    assertThat(diagnostics(r)).contains("FHIRBOX_MAX_JSON_BYTES");
    Patient after = current(id);
    assertThat(after.getMeta().getVersionId()).isEqualTo("1");
    assertThat(after.getNameFirstRep().getFamily()).isEqualTo("Small");
    assertThat(after.hasExtension()).isFalse();
  }

  @Test
  void aPatchOfMoreThanAThousandOperationsIs413() {
    String id = patient("Many");
    String op = "{\"op\":\"test\",\"path\":\"/active\",\"value\":true}";
    HttpResponse<String> tooMany = jsonPatch(id, "[" + String.join(",", Collections.nCopies(1001, op)) + "]");
    assertThat(tooMany.statusCode()).as(tooMany.body()).isEqualTo(413);
    assertThat(diagnostics(tooMany)).contains("1001").contains("at most 1000");
    HttpResponse<String> thousand = jsonPatch(id, "[" + String.join(",", Collections.nCopies(999, op))
        + ",{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"Fine\"}]");
    assertThat(thousand.statusCode()).as(thousand.body()).isEqualTo(200);
    assertThat(current(id).getNameFirstRep().getFamily()).isEqualTo("Fine");
  }

  private static String patientWithMrn(String family, String mrn) {
    return TestClient.createdId(http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\",\"identifier\":"
        + "[{\"system\":\"urn:mrn\",\"value\":\"" + mrn + "\"}],\"name\":[{\"family\":\"" + family + "\"}]}"));
  }

  @Test
  void aConditionalPatchPatchesTheOneMatch() {
    String id = patientWithMrn("CondBefore", "cond-patch-1");
    HttpResponse<String> r = patch("fhir/R4/Patient?identifier=urn:mrn%7Ccond-patch-1", "application/json-patch+json",
        "[{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"CondAfter\"}]", "W/\"1\"");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("ETag")).hasValue("W/\"2\"");
    assertThat(r.headers().firstValue("Location").orElseThrow()).endsWith("/Patient/" + id + "/_history/2");
    assertThat(http().parse(r, Patient.class).getIdElement().getIdPart()).isEqualTo(id);
    assertThat(current(id).getNameFirstRep().getFamily()).isEqualTo("CondAfter");
  }

  @Test
  void aConditionalPatchMatchingNothingIs404AndSeveral412AndNoCriteria400() {
    String a = patientWithMrn("CondTwin", "cond-patch-twin");
    String b = patientWithMrn("CondTwin", "cond-patch-twin");
    String ops = "[{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"Changed\"}]";

    HttpResponse<String> none = patch("fhir/R4/Patient?identifier=urn:mrn%7Cnobody-has-this",
        "application/json-patch+json", ops, null);
    assertThat(none.statusCode()).as(none.body()).isEqualTo(404);
    assertThat(diagnostics(none)).contains("matches no Patient").contains("conditional patch");
    HttpResponse<String> two = patch("fhir/R4/Patient?identifier=urn:mrn%7Ccond-patch-twin",
        "application/json-patch+json", ops, null);
    assertThat(two.statusCode()).as(two.body()).isEqualTo(412);
    assertThat(diagnostics(two)).contains("more than one Patient");
    HttpResponse<String> unknown = patch("fhir/R4/Patient?no-such-parameter=1", "application/json-patch+json", ops, null);
    assertThat(unknown.statusCode()).as(unknown.body()).isEqualTo(400);
    HttpResponse<String> noCriteria = patch("fhir/R4/Patient", "application/json-patch+json", ops, null);
    assertThat(noCriteria.statusCode()).as(noCriteria.body()).isEqualTo(400);
    assertThat(diagnostics(noCriteria)).contains("conditional patch");
    HttpResponse<String> binary = patch("fhir/R4/Binary?_id=x", "application/json-patch+json", ops, null);
    assertThat(binary.statusCode()).as(binary.body()).isEqualTo(400);
    assertThat(current(a).getNameFirstRep().getFamily()).isEqualTo("CondTwin");
    assertThat(current(b).getMeta().getVersionId()).isEqualTo("1");
  }

  /**
   * A version a PATCH made is a PATCH in history (R4 Bundle.entry.request.method), whether by id or
   * conditional, in the instance's, the type's and the system's history; an update stays a PUT and
   * a create a POST.
   */
  @Test
  void aVersionAPatchMadeIsAPatchInHistory() {
    String id = patientWithMrn("HistBefore", "hist-patch-1");
    String ops = "[{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"%s\"}]";
    assertThat(jsonPatch(id, ops.formatted("HistPatched")).statusCode()).isEqualTo(200);
    Patient p = current(id);
    p.getNameFirstRep().setFamily("HistPut");
    assertThat(http().putJson("fhir/R4/Patient/" + id, http().json(p)).statusCode()).isEqualTo(200);
    assertThat(patch("fhir/R4/Patient?identifier=urn:mrn%7Chist-patch-1", "application/json-patch+json",
        ops.formatted("HistCondPatched"), null).statusCode()).isEqualTo(200);

    for (String path : List.of("Patient/" + id + "/_history", "Patient/_history?_count=50", "_history?_count=50")) {
      Bundle history = http().parse(http().get("fhir/R4/" + path), Bundle.class);
      assertThat(history.getEntry()).filteredOn(e -> e.getFullUrl().endsWith("/Patient/" + id))
          .extracting(e -> e.getResponse().getEtag() + " " + e.getRequest().getMethod().toCode() + " "
              + e.getRequest().getUrl() + " " + e.getResponse().getStatus())
          .as(path).containsExactly("W/\"4\" PATCH Patient/" + id + " 200 OK", "W/\"3\" PUT Patient/" + id + " 200 OK",
              "W/\"2\" PATCH Patient/" + id + " 200 OK", "W/\"1\" POST Patient 201 Created");
    }
  }

  @Test
  void theCapabilityStatementListsPatchButNotForBinary() {
    CapabilityStatement cs = http().parse(http().get("fhir/R4/metadata"), CapabilityStatement.class);
    assertThat(cs.getRestFirstRep().getResource()).filteredOn(r -> r.getType().equals("Patient")).singleElement()
        .satisfies(r -> assertThat(r.getInteraction()).extracting(i -> i.getCode().toCode()).contains("patch"));
    assertThat(cs.getRestFirstRep().getResource()).filteredOn(r -> r.getType().equals("Binary")).singleElement()
        .satisfies(r -> assertThat(r.getInteraction()).extracting(i -> i.getCode().toCode()).doesNotContain("patch"));
  }
}
