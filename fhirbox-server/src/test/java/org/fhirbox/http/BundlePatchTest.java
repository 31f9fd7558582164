package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * PATCH entries of batch and transaction Bundles (FHIR R4 http.html#transaction): the entry's
 * resource is a Binary whose contentType is {@code application/json-patch+json} and whose data is
 * the JSON Patch; {@code request.url} names the resource, {@code request.ifMatch} its version. The
 * patch applies as a single PATCH does: 200 with location, etag and lastModified; a failed patch
 * fails a transaction whole and is a batch entry's own 4xx.
 */
class BundlePatchTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  static TestClient http() {
    return fhirbox.http();
  }

  private static String patient(TestClient client, String family) {
    return TestClient.createdId(client.postJson("fhir/R4/Patient",
        "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}],\"active\":true}"));
  }

  private static String family(String id) {
    return http().parse(http().get("fhir/R4/Patient/" + id), Patient.class).getNameFirstRep().getFamily();
  }

  /** A PATCH entry of {@code url} carrying {@code ops} as R4 writes it; {@code ifMatch} may be null. */
  static String patchEntry(String url, String ops, String ifMatch) {
    String data = Base64.getEncoder().encodeToString(ops.getBytes(StandardCharsets.UTF_8));
    return """
        {"resource":{"resourceType":"Binary","contentType":"application/json-patch+json","data":"%s"},
         "request":{"method":"PATCH","url":"%s"%s}}""".formatted(data, url,
        ifMatch == null ? "" : ",\"ifMatch\":\"" + ifMatch.replace("\"", "\\\"") + "\"");
  }

  static String bundle(String type, String... entries) {
    return "{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":[" + String.join(",", entries) + "]}";
  }

  static String replaceFamily(String family) {
    return "[{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"" + family + "\"}]";
  }

  static final String CREATE = """
      {"resource":{"resourceType":"Patient","name":[{"family":"BundlePatchNew"}]},
       "request":{"method":"POST","url":"Patient"}}""";

  static int created() {
    return http().parse(http().get("fhir/R4/Patient?family=BundlePatchNew&_summary=count"), Bundle.class).getTotal();
  }

  @Test
  void aTransactionPatchEntryMakesANewVersionAnsweredWithLocationEtagAndLastModified() {
    String id = patient(http(), "TxBefore");
    HttpResponse<String> r = http().postJson("fhir/R4", bundle("transaction",
        patchEntry("Patient/" + id, replaceFamily("TxAfter"), "W/\"1\"")));

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Bundle.BundleEntryResponseComponent response = http().parse(r, Bundle.class).getEntryFirstRep().getResponse();
    assertThat(response.getStatus()).startsWith("200");
    assertThat(response.getLocation()).isEqualTo("Patient/" + id + "/_history/2");
    assertThat(response.getEtag()).isEqualTo("W/\"2\"");
    assertThat(response.hasLastModified()).isTrue();
    assertThat(family(id)).isEqualTo("TxAfter");
  }

  @Test
  void aBadPatchOrAStaleIfMatchFailsTheWholeTransaction() {
    String id = patient(http(), "TxKept");
    int before = created();
    HttpResponse<String> bad = http().postJson("fhir/R4", bundle("transaction", CREATE,
        patchEntry("Patient/" + id, "[{\"op\":\"replace\",\"path\":\"/nothing/here\",\"value\":1}]", null)));
    assertThat(bad.statusCode()).as(bad.body()).isEqualTo(400);
    assertThat(http().parse(bad, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .startsWith("Bundle.entry[1]");

    HttpResponse<String> stale = http().postJson("fhir/R4", bundle("transaction", CREATE,
        patchEntry("Patient/" + id, replaceFamily("TxNot"), "W/\"3\"")));
    assertThat(stale.statusCode()).as(stale.body()).isEqualTo(412);
    assertThat(http().parse(stale, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("W/\"3\"");

    assertThat(family(id)).isEqualTo("TxKept");
    assertThat(created()).isEqualTo(before);
  }

  @Test
  void eachBatchPatchEntryAnswersOnItsOwn() {
    String good = patient(http(), "BatchBefore");
    String other = patient(http(), "BatchKept");
    String fhirPathPatch = """
        {"resource":{"resourceType":"Parameters","parameter":[{"name":"operation","part":[
          {"name":"type","valueCode":"delete"},{"name":"path","valueString":"Patient.active"}]}]},
         "request":{"method":"PATCH","url":"Patient/%s"}}""".formatted(other);
    String xmlPatch = """
        {"resource":{"resourceType":"Binary","contentType":"application/xml-patch+xml","data":"PGRpZmYvPg=="},
         "request":{"method":"PATCH","url":"Patient/%s"}}""".formatted(other);
    HttpResponse<String> r = http().postJson("fhir/R4", bundle("batch",
        patchEntry("Patient/" + good, replaceFamily("BatchAfter"), "W/\"1\""),
        patchEntry("Patient/" + other, "{\"op\":\"replace\"}", null),
        patchEntry("Patient/" + other, replaceFamily("BatchNot"), "W/\"2\""),
        patchEntry("Patient/" + other, "[{\"op\":\"test\",\"path\":\"/active\",\"value\":false}]", null),
        fhirPathPatch,
        xmlPatch,
        patchEntry("Patient/nobody-here", replaceFamily("Nobody"), null),
        patchEntry("Patient/" + other, "[{\"op\":\"add\",\"path\":\"gender\",\"value\":\"male\"}]", null)));

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Bundle out = http().parse(r, Bundle.class);
    assertThat(out.getEntry()).extracting(e -> e.getResponse().getStatus().substring(0, 3))
        .containsExactly("200", "400", "412", "412", "200", "415", "404", "400");
    // the status names its reason phrase (RFC 9110 §15), as an HTTP status line does
    assertThat(out.getEntry().get(5).getResponse().getStatus()).isEqualTo("415 Unsupported Media Type");
    assertThat(out.getEntry().get(0).getResponse().getEtag()).isEqualTo("W/\"2\"");
    assertThat(out.getEntry().get(0).getResponse().getLocation()).isEqualTo("Patient/" + good + "/_history/2");
    assertThat(((OperationOutcome) out.getEntry().get(5).getResponse().getOutcome()).getIssueFirstRep()
        .getDiagnostics()).contains("application/json-patch+json");
    assertThat(family(good)).isEqualTo("BatchAfter");
    assertThat(family(other)).isEqualTo("BatchKept");
    assertThat(http().parse(http().get("fhir/R4/Patient/" + other), Patient.class).hasActive()).isFalse();
  }

  @Test
  void aPatchEntryNeedsReadAndUpdateAccessAsASinglePatchDoes() {
    ProjectClients clients = new ProjectClients(fhirbox.server());
    TestClient admin = clients.client("bundle-patch", "system/*.cruds");
    TestClient updater = clients.client("bundle-patch", "system/Patient.u");
    String id = patient(admin, "Guarded");
    HttpResponse<String> r = updater.postJson("fhir/R4", bundle("batch",
        patchEntry("Patient/" + id, replaceFamily("Changed"), null)));

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(http().parse(r, Bundle.class).getEntryFirstRep().getResponse().getStatus()).startsWith("403");
    assertThat(admin.parse(admin.get("fhir/R4/Patient/" + id), Patient.class).getNameFirstRep().getFamily())
        .isEqualTo("Guarded");
  }

  @Test
  void aConditionalPatchEntryPatchesItsOneMatchAndOtherwiseFails() {
    String mrn = "bundle-cond-patch";
    String id = TestClient.createdId(http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\",\"identifier\":"
        + "[{\"system\":\"urn:mrn\",\"value\":\"" + mrn + "\"}],\"name\":[{\"family\":\"CondBefore\"}]}"));

    HttpResponse<String> tx = http().postJson("fhir/R4", bundle("transaction",
        patchEntry("Patient?identifier=urn:mrn|" + mrn, replaceFamily("CondAfter"), null)));
    assertThat(tx.statusCode()).as(tx.body()).isEqualTo(200);
    assertThat(http().parse(tx, Bundle.class).getEntryFirstRep().getResponse().getLocation())
        .isEqualTo("Patient/" + id + "/_history/2");
    assertThat(family(id)).isEqualTo("CondAfter");

    HttpResponse<String> batch = http().postJson("fhir/R4", bundle("batch",
        patchEntry("Patient?identifier=urn:mrn|" + mrn, replaceFamily("CondAgain"), "W/\"2\""),
        patchEntry("Patient?identifier=urn:mrn|nobody-has-this", replaceFamily("Nobody"), null)));
    assertThat(batch.statusCode()).as(batch.body()).isEqualTo(200);
    assertThat(http().parse(batch, Bundle.class).getEntry()).extracting(e -> e.getResponse().getStatus().substring(0, 3))
        .containsExactly("200", "404");
    assertThat(family(id)).isEqualTo("CondAgain");

    // a transaction whose conditional patch and another entry resolve to one resource is refused
    HttpResponse<String> twice = http().postJson("fhir/R4", bundle("transaction",
        patchEntry("Patient?identifier=urn:mrn|" + mrn, replaceFamily("No1"), null),
        patchEntry("Patient/" + id, replaceFamily("No2"), null)));
    assertThat(twice.statusCode()).as(twice.body()).isEqualTo(400);
    assertThat(family(id)).isEqualTo("CondAgain");
  }

  /**
   * A version a PATCH entry made is a PATCH in history (R4 Bundle.entry.request.method), of a
   * transaction and of a batch, beside the PUT and the POST of its other entries; a patch that
   * changes nothing makes no version.
   */
  @Test
  void aVersionAPatchEntryMadeIsAPatchInHistory() {
    String id = patient(http(), "HistTxBefore");
    String put = """
        {"resource":{"resourceType":"Patient","id":"%s","name":[{"family":"HistTxPut"}]},
         "request":{"method":"PUT","url":"Patient/%s"}}""".formatted(id, id);
    assertThat(http().postJson("fhir/R4", bundle("transaction",
        patchEntry("Patient/" + id, replaceFamily("HistTxAfter"), null))).statusCode()).isEqualTo(200);
    assertThat(http().postJson("fhir/R4", bundle("batch", put)).statusCode()).isEqualTo(200);
    assertThat(http().postJson("fhir/R4", bundle("batch",
        patchEntry("Patient/" + id, replaceFamily("HistBatch"), null))).statusCode()).isEqualTo(200);
    assertThat(http().postJson("fhir/R4", bundle("transaction",
        patchEntry("Patient/" + id, replaceFamily("HistBatch"), null))).statusCode()).isEqualTo(200);

    Bundle history = http().parse(http().get("fhir/R4/Patient/" + id + "/_history"), Bundle.class);
    assertThat(history.getEntry()).extracting(e -> e.getResponse().getEtag() + " " + e.getRequest().getMethod().toCode())
        .containsExactly("W/\"4\" PATCH", "W/\"3\" PUT", "W/\"2\" PATCH", "W/\"1\" POST");
  }
}
