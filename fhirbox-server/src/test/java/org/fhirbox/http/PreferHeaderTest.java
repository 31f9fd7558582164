package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Optional;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code Prefer} (RFC 7240) is read from every field of the request, each a comma-separated list
 * whose {@code =} may have whitespace around it, for both {@code return} and {@code handling}; the
 * {@code return} preference a write honoured is named in {@code Preference-Applied}.
 */
class PreferHeaderTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  static TestClient http() {
    return fhirbox.http();
  }

  private static HttpResponse<String> create(String... prefer) {
    HttpRequest.Builder b = http().request("fhir/R4/Patient").header("Content-Type", "application/fhir+json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"active\":true}"));
    for (String field : prefer) {
      b.header("Prefer", field);
    }
    return http().send(b);
  }

  @Test
  void returnIsReadFromASecondPreferField() {
    HttpResponse<String> r = create("handling=lenient", "return=minimal");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(r.body()).isEmpty();
    assertThat(r.headers().firstValue("Location")).isPresent();
    assertThat(r.headers().firstValue("Preference-Applied")).hasValue("return=minimal");
  }

  @Test
  void whitespaceAroundTheEqualsSignAndListsAreRead() {
    HttpResponse<String> spaced = create("return = minimal");
    assertThat(spaced.statusCode()).as(spaced.body()).isEqualTo(201);
    assertThat(spaced.body()).isEmpty();

    HttpResponse<String> listed = create("respond-async, return=\"OperationOutcome\"");
    assertThat(listed.statusCode()).as(listed.body()).isEqualTo(201);
    assertThat(listed.body()).contains("\"resourceType\":\"OperationOutcome\"");
    assertThat(listed.headers().firstValue("Preference-Applied")).hasValue("return=OperationOutcome");
  }

  @Test
  void withoutAReturnPreferenceNoneIsSaidToBeApplied() {
    HttpResponse<String> r = create();
    assertThat(r.body()).contains("\"resourceType\":\"Patient\"");
    assertThat(r.headers().firstValue("Preference-Applied")).isEmpty();
  }

  @Test
  void strictHandlingInASecondPreferFieldRefusesAnUnknownSearchParameter() {
    HttpResponse<String> lenient = http().send(http().request("fhir/R4/Patient?no-such-parameter=1")
        .header("Prefer", "respond-async"));
    assertThat(lenient.statusCode()).as(lenient.body()).isEqualTo(200);

    HttpResponse<String> strict = http().send(http().request("fhir/R4/Patient?no-such-parameter=1")
        .header("Prefer", "respond-async").header("Prefer", "handling = strict"));
    assertThat(strict.statusCode()).as(strict.body()).isEqualTo(400);
    assertThat(strict.body()).contains("no-such-parameter");
  }

  /**
   * A quote that never closes is a literal character, not the start of a quoted string that swallows
   * every preference after it: the preferences after it are still read.
   */
  @Test
  void anUnclosedQuoteDoesNotSwallowTheFollowingPreferences() {
    HttpResponse<String> r = create("foo=\"bar, return=minimal");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(r.body()).isEmpty();
    assertThat(r.headers().firstValue("Preference-Applied")).hasValue("return=minimal");

    HttpResponse<String> strict = http().send(http().request("fhir/R4/Patient?no-such-parameter=1")
        .header("Prefer", "a=\"1\", b=\"2, handling=strict"));
    assertThat(strict.statusCode()).as(strict.body()).isEqualTo(400);
  }

  private static Bundle bundle(String type, String... prefer) {
    String body = "{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":["
        + "{\"resource\":{\"resourceType\":\"Patient\",\"active\":true},"
        + "\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}},"
        + "{\"request\":{\"method\":\"GET\",\"url\":\"Patient?_count=1\"}}]}";
    HttpRequest.Builder b = http().request("fhir/R4").header("Content-Type", "application/fhir+json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    for (String field : prefer) {
      b.header("Prefer", field);
    }
    HttpResponse<String> r = http().send(b);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("Preference-Applied"))
        .isEqualTo(prefer.length == 0 ? Optional.empty() : Optional.of(prefer[0]));
    return TestServer.FHIR.newJsonParser().parseResource(Bundle.class, r.body());
  }

  /**
   * A batch or transaction honours {@code return} for its writes' entries, as a single write does
   * (R4 http.html#transaction-response: whether an entry holds the resulting resource depends on the
   * client's preference); a search entry's Bundle is what it asked for, and stays.
   */
  @Test
  void aTransactionWithReturnMinimalLeavesItsWrittenResourcesOut() {
    Bundle minimal = bundle("transaction", "return=minimal");
    assertThat(minimal.getEntry().get(0).hasResource()).isFalse();
    assertThat(minimal.getEntry().get(0).getResponse().getStatus()).startsWith("201");
    assertThat(minimal.getEntry().get(0).getResponse().getLocation()).startsWith("Patient/");
    assertThat(minimal.getEntry().get(1).getResource()).isInstanceOf(Bundle.class);

    Bundle whole = bundle("transaction");
    assertThat(whole.getEntry().get(0).getResource().fhirType()).isEqualTo("Patient");
  }

  @Test
  void aBatchWithReturnOperationOutcomeAnswersAnOutcomePerWrite() {
    Bundle outcomes = bundle("batch", "return=OperationOutcome");
    Bundle.BundleEntryComponent written = outcomes.getEntry().get(0);
    assertThat(written.hasResource()).isFalse();
    assertThat(written.getResponse().getOutcome()).isInstanceOf(OperationOutcome.class);
    assertThat(((OperationOutcome) written.getResponse().getOutcome()).getIssueFirstRep().getDiagnostics())
        .startsWith("created Patient/");
    assertThat(outcomes.getEntry().get(1).getResource()).isInstanceOf(Bundle.class);
  }
}
