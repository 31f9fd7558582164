package org.fhirbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.fhirbox.testing.TestClient;
import org.junit.jupiter.api.Test;

/**
 * The server on the class path the {@code fhirbox} command ships with (this module's runtime
 * dependencies, without the server module's test-only ones): what a library loads only on first
 * use is there.
 */
class ShippedClasspathTest extends ServerFixture {

  @Test
  void aFhirPathPatchApplies() {
    TestClient admin = server.client();
    String id = TestClient.createdId(admin.postJson("fhir/R4/Patient",
        "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Lind\"}]}"));
    // FHIR R4 fhirpatch.html: HAPI's FHIRPath engine, which needs the UCUM library at run time
    String patch = "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"operation\",\"part\":["
        + "{\"name\":\"type\",\"valueCode\":\"replace\"},"
        + "{\"name\":\"path\",\"valueString\":\"Patient.name.where(family = 'Lind').family\"},"
        + "{\"name\":\"value\",\"valueString\":\"Lindqvist\"}]}]}";
    HttpResponse<String> patched = admin.send(admin.request("fhir/R4/Patient/" + id)
        .header("Content-Type", "application/fhir+json")
        .method("PATCH", HttpRequest.BodyPublishers.ofString(patch)));

    assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
    assertThat(patched.body()).contains("\"family\":\"Lindqvist\"");
  }
}
