package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Bad input gets a clear 4xx OperationOutcome naming the problem, and nothing is stored. */
class ValidationTest {
  static TestServer server;
  static TestClient http;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(Map.of("FHIRBOX_MAX_JSON_BYTES", "20000"));
    http = server.client();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static String diagnostics(HttpResponse<String> r) {
    assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/fhir+json");
    OperationOutcome oo = http.parse(r, OperationOutcome.class);
    return String.join(" | ", oo.getIssue().stream().map(OperationOutcome.OperationOutcomeIssueComponent::getDiagnostics)
        .toList());
  }

  static int total(String type) {
    return http.parse(http.get("fhir/R4/" + type + "?_summary=count"), Bundle.class).getTotal();
  }

  /**
   * An id of dots alone ({@code .}, {@code ..}) fits FHIR's id pattern, but a URL naming it is a dot
   * segment that every client and the server remove (RFC 3986 §5.2.4): the resource could never be
   * read, updated or deleted. A PUT entry that would create one is 400, nothing stored.
   */
  @Test
  void aBundleEntryMayNotCreateAResourceWhoseIdIsADotSegment() {
    String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        + "{\"resource\":{\"resourceType\":\"Binary\",\"id\":\"..\",\"contentType\":\"text/plain\",\"data\":\"eA==\"},"
        + "\"request\":{\"method\":\"PUT\",\"url\":\"Binary/..\"}},"
        + "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\".\"},\"request\":{\"method\":\"PUT\",\"url\":\"Patient/.\"}},"
        + "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"...\"},\"request\":{\"method\":\"PUT\",\"url\":\"Patient/...\"}}]}";
    Bundle answer = http.parse(http.postJson("fhir/R4", bundle), Bundle.class);

    for (int i = 0; i < 2; i++) {
      Bundle.BundleEntryResponseComponent response = answer.getEntry().get(i).getResponse();
      assertThat(response.getStatus()).as("entry " + i).startsWith("400");
      assertThat(((OperationOutcome) response.getOutcome()).getIssueFirstRep().getDiagnostics()).as("entry " + i)
          .contains("not a valid FHIR id");
    }
    assertThat(answer.getEntry().get(2).getResponse().getStatus()).startsWith("201");
    assertThat(http.get("fhir/R4/Patient/...").statusCode()).isEqualTo(200);
  }

  @Test
  void malformedJsonNamesTheProblem() {
    HttpResponse<String> r = http.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\",");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(diagnostics(r)).contains("cannot parse the JSON body");
  }

  @Test
  void unknownElementsWrongTypesAndBadDatesAreAllReported() {
    int before = total("Patient");
    HttpResponse<String> r = http.postJson("fhir/R4/Patient",
        "{\"resourceType\":\"Patient\",\"foo\":1,\"active\":\"yes\",\"birthDate\":\"2020-13-45\"}");
    assertThat(r.statusCode()).isEqualTo(400);
    String d = diagnostics(r);
    assertThat(d).contains("unknown element 'foo'").contains("2020-13-45").contains("active");
    assertThat(total("Patient")).isEqualTo(before);
  }

  @Test
  void unknownResourceTypesAreRejected() {
    // a URL naming no resource type names no endpoint (404); a body naming one is malformed (400)
    assertThat(http.postJson("fhir/R4/Spaceship", "{\"resourceType\":\"Spaceship\"}").statusCode()).isEqualTo(404);
    HttpResponse<String> r = http.postJson("fhir/R4/Patient", "{\"resourceType\":\"Spaceship\"}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(diagnostics(r)).contains("Spaceship");
  }

  @Test
  void bodyTypeMustMatchTheUrl() {
    HttpResponse<String> r = http.postJson("fhir/R4/Patient", "{\"resourceType\":\"Observation\",\"status\":\"final\","
        + "\"code\":{\"text\":\"x\"}}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(diagnostics(r)).contains("Observation").contains("Patient");
  }

  @Test
  void idMismatchAndMissingIdOnUpdateAreRejected() {
    HttpResponse<String> mismatch = http.putJson("fhir/R4/Patient/abc", "{\"resourceType\":\"Patient\",\"id\":\"xyz\"}");
    assertThat(mismatch.statusCode()).isEqualTo(400);
    assertThat(diagnostics(mismatch)).contains("xyz").contains("abc");
    HttpResponse<String> missing = http.putJson("fhir/R4/Patient/abc", "{\"resourceType\":\"Patient\"}");
    assertThat(missing.statusCode()).isEqualTo(400);
    assertThat(http.get("fhir/R4/Patient/abc").statusCode()).isEqualTo(404);
  }

  @Test
  void idsThatAreNotFhirIdsAreRejected() {
    HttpResponse<String> r = http.putJson("fhir/R4/Patient/has_underscore",
        "{\"resourceType\":\"Patient\",\"id\":\"has_underscore\"}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(diagnostics(r)).contains("not a valid FHIR id");
    assertThat(http.get("fhir/R4/Patient/" + "x".repeat(65)).statusCode()).isEqualTo(400);
  }

  @Test
  void jsonOverTheLimitGives413() {
    String big = "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + "x".repeat(30000) + "\"}]}";
    HttpResponse<String> r = http.postJson("fhir/R4/Patient", big);
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(diagnostics(r)).contains("limit");
  }

  @Test
  void nonFhirContentTypeForResourcesGives415() {
    HttpResponse<String> r = http.send(http.request("fhir/R4/Patient").header("Content-Type", "text/plain")
        .POST(HttpRequest.BodyPublishers.ofString("{}")));
    assertThat(r.statusCode()).isEqualTo(415);
  }

  static final String SUBSETTED_TAG = "{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ObservationValue\","
      + "\"code\":\"SUBSETTED\"}";

  /**
   * A resource read with _summary or _elements carries the SUBSETTED tag (R4 search.html#summary),
   * so that it is not written back over the whole one: every write of a resource carrying it is
   * refused, and the whole resource stays as it was.
   */
  @Test
  void aSubsettedResourceIsNeverWritten() {
    String id = TestClient.createdId(http.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\","
        + "\"name\":[{\"family\":\"Whole\"}],\"birthDate\":\"1970-01-01\"}"));
    HttpResponse<String> summary = http.get("fhir/R4/Patient/" + id + "?_elements=name");
    assertThat(summary.body()).contains("SUBSETTED");
    String subset = summary.body();
    int before = total("Patient");

    HttpResponse<String> put = http.putJson("fhir/R4/Patient/" + id, subset);
    assertThat(put.statusCode()).as(put.body()).isEqualTo(400);
    assertThat(diagnostics(put)).contains("SUBSETTED");
    assertThat(http.parse(put, OperationOutcome.class).getIssueFirstRep().getExpression().toString())
        .contains("Patient.meta.tag");
    HttpResponse<String> post = http.postJson("fhir/R4/Patient", subset.replaceFirst("\"id\":\"[^\"]+\",", ""));
    assertThat(post.statusCode()).as(post.body()).isEqualTo(400);
    assertThat(diagnostics(post)).contains("SUBSETTED");
    HttpResponse<String> patch = http.send(http.request("fhir/R4/Patient/" + id)
        .header("Content-Type", "application/json-patch+json").method("PATCH", HttpRequest.BodyPublishers.ofString(
            "[{\"op\":\"add\",\"path\":\"/meta\",\"value\":{\"tag\":[" + SUBSETTED_TAG + "]}}]")));
    assertThat(patch.statusCode()).as(patch.body()).isEqualTo(400);
    assertThat(diagnostics(patch)).contains("SUBSETTED");
    for (String type : new String[] {"transaction", "batch"}) {
      HttpResponse<String> bundle = http.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"" + type
          + "\",\"entry\":[{\"resource\":" + subset + ",\"request\":{\"method\":\"PUT\",\"url\":\"Patient/" + id
          + "\"}}]}");
      if (type.equals("transaction")) {
        assertThat(bundle.statusCode()).as(bundle.body()).isEqualTo(400);
        assertThat(diagnostics(bundle)).contains("Bundle.entry[0]").contains("SUBSETTED");
      } else {
        Bundle.BundleEntryResponseComponent response = http.parse(bundle, Bundle.class).getEntryFirstRep()
            .getResponse();
        assertThat(response.getStatus()).as(bundle.body()).startsWith("400");
        assertThat(((OperationOutcome) response.getOutcome()).getIssueFirstRep().getDiagnostics())
            .contains("SUBSETTED");
      }
    }

    Patient stored = http.parse(http.get("fhir/R4/Patient/" + id), Patient.class);
    assertThat(stored.getMeta().getVersionId()).isEqualTo("1");
    assertThat(stored.getBirthDateElement().getValueAsString()).isEqualTo("1970-01-01");
    assertThat(stored.getMeta().getTag()).isEmpty();
    assertThat(total("Patient")).isEqualTo(before);
  }

  @Test
  void emptyBodyIsRejected() {
    HttpResponse<String> r = http.send(http.request("fhir/R4/Patient").header("Content-Type", "application/fhir+json")
        .POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(r.statusCode()).isEqualTo(400);
  }
}
