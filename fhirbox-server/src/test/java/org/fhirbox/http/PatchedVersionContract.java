package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import org.fhirbox.testing.TestClient;
import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.Test;

/**
 * A version a PATCH made is stored as made by PATCH in the statement that inserts it: the database
 * here refuses every UPDATE of {@code resource_version}, and a single PATCH, a conditional one, a
 * FHIRPath Patch and a PATCH entry of a batch all succeed and are PATCH in history. Subclasses
 * supply the database and the trigger that refuses the update.
 */
abstract class PatchedVersionContract extends ServerPerClassContract {

  /** Makes the database refuse every UPDATE of {@code resource_version}. */
  protected abstract void refuseVersionUpdates(Statement s) throws SQLException;

  private Connection connection() throws SQLException {
    return DriverManager.getConnection(server.server().config().databaseUrl());
  }

  private HttpResponse<String> patch(String path, String contentType, String body) {
    return http.send(http.request(path).header("Content-Type", contentType)
        .method("PATCH", HttpRequest.BodyPublishers.ofString(body)));
  }

  @Test
  void aPatchedVersionIsInsertedAsPatchedAndNoVersionRowIsUpdated() throws Exception {
    String id = TestClient.createdId(http.postJson("fhir/R4/Patient", """
        {"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"patched-version-1"}],
         "name":[{"family":"Created"}]}"""));
    try (Connection c = connection(); Statement s = c.createStatement()) {
      refuseVersionUpdates(s);
      // the trigger is in force: an update of a version row fails
      assertThatThrownBy(() -> s.executeUpdate("UPDATE resource_version SET method = method WHERE res_id = '"
          + id + "'")).isInstanceOf(SQLException.class);
    }
    String ops = "[{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"%s\"}]";
    HttpResponse<String> byId = patch("fhir/R4/Patient/" + id, "application/json-patch+json", ops.formatted("ById"));
    assertThat(byId.statusCode()).as(byId.body()).isEqualTo(200);
    HttpResponse<String> conditional = patch("fhir/R4/Patient?identifier=urn:mrn%7Cpatched-version-1",
        "application/json-patch+json", ops.formatted("Conditional"));
    assertThat(conditional.statusCode()).as(conditional.body()).isEqualTo(200);
    HttpResponse<String> fhirPath = patch("fhir/R4/Patient/" + id, "application/fhir+json", """
        {"resourceType":"Parameters","parameter":[{"name":"operation","part":[
          {"name":"type","valueCode":"replace"},{"name":"path","valueString":"Patient.name.family"},
          {"name":"value","valueString":"FhirPath"}]}]}""");
    assertThat(fhirPath.statusCode()).as(fhirPath.body()).isEqualTo(200);
    HttpResponse<String> batch = http.postJson("fhir/R4", BundlePatchTest.bundle("batch",
        BundlePatchTest.patchEntry("Patient/" + id, ops.formatted("Batch"), null)));
    assertThat(batch.statusCode()).as(batch.body()).isEqualTo(200);
    assertThat(http.parse(batch, Bundle.class).getEntryFirstRep().getResponse().getStatus()).startsWith("200");
    HttpResponse<String> put = http.putJson("fhir/R4/Patient/" + id, """
        {"resourceType":"Patient","id":"%s","identifier":[{"system":"urn:mrn","value":"patched-version-1"}],
         "name":[{"family":"Put"}]}""".formatted(id));
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);

    Bundle history = http.parse(http.get("fhir/R4/Patient/" + id + "/_history"), Bundle.class);
    assertThat(history.getEntry()).extracting(e -> e.getResponse().getEtag() + " " + e.getRequest().getMethod().toCode())
        .containsExactly("W/\"6\" PUT", "W/\"5\" PATCH", "W/\"4\" PATCH", "W/\"3\" PATCH", "W/\"2\" PATCH",
            "W/\"1\" POST");
  }
}
