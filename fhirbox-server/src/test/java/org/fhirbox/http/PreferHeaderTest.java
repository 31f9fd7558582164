package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
}
