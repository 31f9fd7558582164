package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import org.fhirbox.testing.TestClient;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.ResourceType;
import org.junit.jupiter.api.Test;

/**
 * A stored version that cannot be read back (here: a number of 1,002 digits, as fhirbox stored
 * {@code 1e1001} before numbers were bounded; Jackson refuses numbers over 1,000 characters)
 * costs one entry of a search, a history or a batch, with an OperationOutcome warning in its
 * place, never the whole response. Subclasses supply the database.
 */
abstract class UnreadableVersionContract extends ServerPerClassContract {

  static String observation(String value) {
    return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"poison\"},"
        + "\"valueQuantity\":{\"value\":" + value + "}}";
  }

  /** Replaces the stored JSON of every version of Observation/{id}, as an old server would have left it. */
  void poison(String id) throws Exception {
    String json = observation("1" + "0".repeat(1001)).replace("{\"resourceType\":\"Observation\",",
        "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\",");
    try (Connection c = DriverManager.getConnection(server.server().config().databaseUrl())) {
      for (String table : new String[] {"resource_version", "resource_current"}) {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + table + " SET content = ? WHERE res_id = ?")) {
          ps.setString(1, json);
          ps.setString(2, id);
          assertThat(ps.executeUpdate()).isEqualTo(1);
        }
      }
    }
  }

  static String warnings(Bundle b) {
    StringBuilder sb = new StringBuilder();
    for (Bundle.BundleEntryComponent e : b.getEntry()) {
      OperationOutcome oo = e.getResource() instanceof OperationOutcome o ? o : e.getResponse().hasOutcome()
          ? (OperationOutcome) e.getResponse().getOutcome() : null;
      if (oo != null) {
        oo.getIssue().forEach(i -> sb.append(i.getSeverity().toCode()).append(": ").append(i.getDiagnostics())
            .append('\n'));
      }
    }
    return sb.toString();
  }

  @Test
  void searchHistoryAndBatchSkipTheUnreadableVersionWithAWarning() throws Exception {
    String good = TestClient.createdId(http.postJson("fhir/R4/Observation", observation("5.4")));
    String bad = TestClient.createdId(http.postJson("fhir/R4/Observation", observation("7")));
    poison(bad);

    HttpResponse<String> search = http.get("fhir/R4/Observation");
    assertThat(search.statusCode()).as(search.body()).isEqualTo(200);
    Bundle found = http.parse(search, Bundle.class);
    assertThat(found.getEntry()).anyMatch(e -> e.getResource() instanceof Observation
        && e.getResource().getIdElement().getIdPart().equals(good));
    Bundle.BundleEntryComponent outcome = found.getEntry().stream()
        .filter(e -> e.getSearch().getMode() == Bundle.SearchEntryMode.OUTCOME).findFirst().orElseThrow();
    assertThat(outcome.getResource().getResourceType()).isEqualTo(ResourceType.OperationOutcome);
    assertThat(warnings(found)).contains("warning: Observation/" + bad + " version 1");

    for (String path : new String[] {"fhir/R4/Observation/_history", "fhir/R4/_history",
        "fhir/R4/Observation/" + bad + "/_history"}) {
      HttpResponse<String> h = http.get(path);
      assertThat(h.statusCode()).as(path + ": " + h.body()).isEqualTo(200);
      assertThat(warnings(http.parse(h, Bundle.class))).as(path).contains("Observation/" + bad + " version 1");
    }

    HttpResponse<String> batch = http.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        + "{\"request\":{\"method\":\"GET\",\"url\":\"Observation/" + bad + "\"}},"
        + "{\"request\":{\"method\":\"GET\",\"url\":\"Observation/" + good + "\"}}]}");
    assertThat(batch.statusCode()).as(batch.body()).isEqualTo(200);
    Bundle answers = http.parse(batch, Bundle.class);
    assertThat(answers.getEntry().get(0).getResponse().getStatus()).startsWith("500");
    assertThat(warnings(answers)).contains("Observation/" + bad);
    assertThat(answers.getEntry().get(1).getResponse().getStatus()).startsWith("200");

    HttpResponse<String> read = http.get("fhir/R4/Observation/" + bad);
    assertThat(read.statusCode()).isEqualTo(500);
    assertThat(http.parse(read, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("Observation/" + bad + " version 1 is stored in a form that cannot be read back");

    // an update puts a readable version on top; the old one stays a warning in history
    HttpResponse<String> repaired = http.putJson("fhir/R4/Observation/" + bad,
        observation("7").replace("{\"resourceType\":\"Observation\",", "{\"resourceType\":\"Observation\",\"id\":\""
            + bad + "\","));
    assertThat(repaired.statusCode()).as(repaired.body()).isEqualTo(200);
    assertThat(http.get("fhir/R4/Observation/" + bad).statusCode()).isEqualTo(200);
    assertThat(warnings(http.parse(http.get("fhir/R4/Observation"), Bundle.class))).isEmpty();
  }
}
