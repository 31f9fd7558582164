package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.fhirbox.testing.TestClient;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;

/**
 * Searches and histories as transaction entries (FHIR R4 http.html#trules): they run after every
 * write, in the transaction's own database transaction, so they see its creates, updates and
 * deletes wherever they are listed, and answer as a batch's do. Subclasses supply the database.
 */
abstract class TransactionSearchContract extends ServerPerClassContract {

  private static String patient(String system, String value, String family) {
    return "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"" + system + "\",\"value\":\"" + value
        + "\"}],\"name\":[{\"family\":\"" + family + "\"}]}";
  }

  private static String get(String url) {
    return "{\"request\":{\"method\":\"GET\",\"url\":\"" + url + "\"}}";
  }

  private static String transaction(String... entries) {
    return "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" + String.join(",", entries) + "]}";
  }

  private Bundle post(String bundle) {
    HttpResponse<String> r = http.postJson("fhir/R4", bundle);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return http.parse(r, Bundle.class);
  }

  private static List<String> ids(BundleEntryComponent searched) {
    return ((Bundle) searched.getResource()).getEntry().stream()
        .map(e -> e.getResource().getIdElement().getIdPart()).toList();
  }

  private static String createdId(BundleEntryComponent written) {
    return written.getResponse().getLocation().split("/")[1];
  }

  @Test
  void aSearchSeesWhatTheTransactionCreatesEvenWhenListedBeforeIt() {
    Bundle out = post(transaction(
        get("Patient?identifier=urn:tx-search%7Ccreated"),
        "{\"fullUrl\":\"urn:uuid:6a1c3e2e-35f4-4d4b-9a43-0d3b6c1f2e01\",\"resource\":"
            + patient("urn:tx-search", "created", "Created")
            + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}",
        get("Patient?identifier=urn:tx-search%7Ccreated&_summary=count"),
        get(server.fhirBase() + "/Patient?family=Created")));

    String created = createdId(out.getEntry().get(1));
    BundleEntryComponent before = out.getEntry().get(0);
    assertThat(before.getResponse().getStatus()).startsWith("200");
    assertThat(((Bundle) before.getResource()).getType()).isEqualTo(Bundle.BundleType.SEARCHSET);
    assertThat(((Bundle) before.getResource()).getTotal()).isEqualTo(1);
    assertThat(ids(before)).containsExactly(created);
    assertThat(((Bundle) before.getResource()).getEntryFirstRep().getFullUrl())
        .isEqualTo(server.fhirBase() + "/Patient/" + created);
    assertThat(((Bundle) out.getEntry().get(2).getResource()).getTotal()).isEqualTo(1);
    assertThat(ids(out.getEntry().get(3))).containsExactly(created);
  }

  @Test
  void aSearchSeesTheTransactionsUpdatesAndNotWhatItDeletes() {
    String kept = http.create(patient("urn:tx-search", "kept", "Before"));
    String gone = http.create(patient("urn:tx-search", "gone", "Gone"));
    Bundle out = post(transaction(
        get("Patient?family=After"),
        get("Patient?family=Before"),
        get("Patient?identifier=urn:tx-search%7Cgone"),
        "{\"resource\":" + patient("urn:tx-search", "kept", "After").replaceFirst("\\{", "{\"id\":\"" + kept + "\",")
            + ",\"request\":{\"method\":\"PUT\",\"url\":\"Patient/" + kept + "\"}}",
        "{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient/" + gone + "\"}}",
        get("Patient?identifier=urn:tx-search%7Ckept,urn:tx-search%7Cgone")));

    assertThat(ids(out.getEntry().get(0))).containsExactly(kept);
    assertThat(((Patient) ((Bundle) out.getEntry().get(0).getResource()).getEntryFirstRep().getResource())
        .getMeta().getVersionId()).isEqualTo("2");
    assertThat(ids(out.getEntry().get(1))).isEmpty();
    assertThat(ids(out.getEntry().get(2))).isEmpty();
    assertThat(ids(out.getEntry().get(5))).containsExactly(kept);
  }

  @Test
  void aFailingWriteFailsTheWholeTransactionAndAnswersNoSearch() {
    String stale = http.create(patient("urn:tx-search", "stale", "Stale"));
    HttpResponse<String> r = http.postJson("fhir/R4", transaction(
        get("Patient?identifier=urn:tx-search%7Crolled-back"),
        "{\"resource\":" + patient("urn:tx-search", "rolled-back", "Rolled")
            + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}",
        "{\"resource\":" + patient("urn:tx-search", "stale", "Stale").replaceFirst("\\{", "{\"id\":\"" + stale + "\",")
            + ",\"request\":{\"method\":\"PUT\",\"url\":\"Patient/" + stale + "\",\"ifMatch\":\"W/\\\"7\\\"\"}}"));

    assertThat(r.statusCode()).as(r.body()).isEqualTo(412);
    assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains("entry[2]");
    assertThat(r.body()).doesNotContain("searchset");
    assertThat(http.foundIds("Patient?identifier=urn:tx-search%7Crolled-back")).isEmpty();
  }

  @Test
  void aSearchThatFailsFailsTheWholeTransaction() {
    HttpResponse<String> r = http.postJson("fhir/R4", transaction(
        "{\"resource\":" + patient("urn:tx-search", "bad-search", "Bad")
            + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}",
        get("Patient?birthdate=not-a-date")));

    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("entry[1]", "not-a-date");
    assertThat(http.foundIds("Patient?identifier=urn:tx-search%7Cbad-search")).isEmpty();
  }

  @Test
  void aSearchPagesOnAtTheBaseUrlAndSignsAttachmentUrlsAsABatchOne() {
    String photo = TestClient.createdId(http.postBytes("fhir/R4/Binary", "image/png",
        "not really a png".getBytes(StandardCharsets.UTF_8)));
    http.create(patient("urn:tx-search", "paged", "Paged"));
    Bundle out = post(transaction(
        "{\"resource\":{\"resourceType\":\"Patient\","
            + "\"identifier\":[{\"system\":\"urn:tx-search\",\"value\":\"paged\"}],"
            + "\"photo\":[{\"contentType\":\"image/png\",\"url\":\"Binary/" + photo + "\"}]},"
            + "\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}",
        get("Patient?identifier=urn:tx-search%7Cpaged&_count=1&_sort=-_lastUpdated")));

    Bundle first = (Bundle) out.getEntry().get(1).getResource();
    assertThat(first.getEntry()).hasSize(1);
    assertThat(((Patient) first.getEntryFirstRep().getResource()).getPhotoFirstRep().getUrl())
        .startsWith(server.baseUrl() + "storage/" + photo + "/");
    String next = first.getLink("next").getUrl();
    assertThat(next).startsWith(server.fhirBase() + "/Patient?");
    Bundle rest = http.parse(http.get(next), Bundle.class);
    assertThat(rest.getEntry()).hasSize(1);
    assertThat(rest.getEntryFirstRep().getResource().getIdElement().getIdPart())
        .isNotEqualTo(first.getEntryFirstRep().getResource().getIdElement().getIdPart());
  }

  @Test
  void aHistoryEntrySeesTheVersionTheTransactionWrites() {
    String id = http.create(patient("urn:tx-search", "history", "Old"));
    Bundle out = post(transaction(
        get("Patient/" + id + "/_history"),
        "{\"resource\":" + patient("urn:tx-search", "history", "New").replaceFirst("\\{", "{\"id\":\"" + id + "\",")
            + ",\"request\":{\"method\":\"PUT\",\"url\":\"Patient/" + id + "\"}}"));

    Bundle history = (Bundle) out.getEntry().get(0).getResource();
    assertThat(history.getType()).isEqualTo(Bundle.BundleType.HISTORY);
    assertThat(history.getEntry()).extracting(e -> e.getResponse().getEtag()).containsExactly("W/\"2\"", "W/\"1\"");
  }

  @Test
  void aSearchForASubsetIsRefusedBeforeAnythingIsWritten() {
    HttpResponse<String> r = http.postJson("fhir/R4", transaction(
        "{\"resource\":" + patient("urn:tx-search", "subset", "Subset")
            + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}",
        get("Patient?_elements=name")));

    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("entry[1]", "_elements", "transaction");
    assertThat(http.foundIds("Patient?identifier=urn:tx-search%7Csubset")).isEmpty();
  }

  @Test
  void criteriaOnAnythingButATypeOrAWriteAre400NamingTheForms() {
    for (String entry : List.of(get("Patient/some-id?name=x"),
        "{\"resource\":" + patient("urn:tx-search", "post", "Post") + ",\"request\":{\"method\":\"POST\","
            + "\"url\":\"Patient?name=x\"}}")) {
      HttpResponse<String> r = http.postJson("fhir/R4", transaction(entry));
      assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
      assertThat(http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
          .contains("Bundle.entry[0]", "GET Type?criteria", "?name=x");
    }
  }
}
