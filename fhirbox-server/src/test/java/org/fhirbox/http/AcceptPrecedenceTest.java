package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Each FHIR format takes the quality of the most specific Accept range that matches it (RFC 9110
 * §12.5.1): a FHIR type named before {@code application/*} or {@code text/*}, before
 * {@code *}{@code /*}. A range whose {@code q} is no qvalue (RFC 9110 §12.4.2: 0 to 1, at most
 * three decimals) is ignored, not taken as a refusal.
 */
class AcceptPrecedenceTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  private static final String XML = "<Patient xmlns=\"http://hl7.org/fhir\"><active value=\"true\"/></Patient>";

  private static String patient() {
    return TestClient.createdId(fhirbox.http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
  }

  private static HttpResponse<String> read(String id, String accept) {
    TestClient http = fhirbox.http();
    return http.send(http.request("fhir/R4/Patient/" + id).header("Accept", accept));
  }

  private static String answered(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
    return r.headers().firstValue("Content-Type").orElseThrow().replaceFirst(";.*", "");
  }

  @Test
  void theMostSpecificRangeGivesAFormatItsQuality() {
    String id = patient();
    assertThat(answered(read(id, "*/*, application/fhir+xml;q=0.1"))).isEqualTo("application/fhir+json");
    assertThat(answered(read(id, "application/*;q=0.5, application/fhir+json;q=0.2"))).isEqualTo("application/fhir+xml");
    assertThat(answered(read(id, "text/*, application/fhir+json;q=0.5"))).isEqualTo("application/fhir+xml");
    // a named type of the same quality as a wildcard is more specific: it is the answer
    assertThat(answered(read(id, "application/fhir+xml, */*"))).isEqualTo("application/fhir+xml");
    assertThat(answered(read(id, "application/fhir+xml;q=0.3, */*;q=0.3"))).isEqualTo("application/fhir+xml");
    assertThat(answered(read(id, "text/html,application/xml;q=0.9,*/*;q=0.8"))).isEqualTo("application/fhir+xml");
    assertThat(answered(read(id, "application/fhir+xml, application/fhir+json"))).isEqualTo("application/fhir+json");
    // an XML body: JSON's 0.1 is below the 1 that */* gives XML
    TestClient http = fhirbox.http();
    HttpResponse<String> created = http.send(http.request("fhir/R4/Patient").header("Content-Type", "application/fhir+xml")
        .header("Accept", "*/*, application/fhir+json;q=0.1").POST(HttpRequest.BodyPublishers.ofString(XML)));
    assertThat(answered(created)).isEqualTo("application/fhir+xml");
    // a refusal stays one where a wildcard matches too
    assertThat(read(id, "application/fhir+json;q=0, application/fhir+xml;q=0, */*").statusCode()).isEqualTo(406);
  }

  @Test
  void aRangeWhoseQIsNoQvalueIsIgnoredNotRefused() {
    String id = patient();
    // alone, as if there were no Accept
    for (String accept : new String[] {"application/fhir+xml;q=2", "application/fhir+xml;q=-1", "text/turtle;q=1.5",
        "application/fhir+xml;q=high", "application/fhir+xml;q=0.5000"}) {
      assertThat(answered(read(id, accept))).as(accept).isEqualTo("application/fhir+json");
    }
    assertThat(answered(read(id, "application/fhir+xml;q=0.5000, application/fhir+json;q=0.1")))
        .isEqualTo("application/fhir+json");
    assertThat(answered(read(id, "application/fhir+json;q=1.5, */*;q=0.2, application/fhir+xml;q=0.1")))
        .isEqualTo("application/fhir+json");
    assertThat(answered(read(id, "application/fhir+xml;q=0.125, application/fhir+json;q=1.000")))
        .isEqualTo("application/fhir+json");
    assertThat(answered(read(id, "application/fhir+xml;q=1., application/fhir+json;q=0.")))
        .isEqualTo("application/fhir+xml");
    // a qvalue without its leading 0, as Java's HttpURLConnection sends by default, is read
    assertThat(answered(read(id, "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2")))
        .isEqualTo("application/fhir+json");
    assertThat(answered(read(id, "application/fhir+xml;q=.5, application/fhir+json;q=.25")))
        .isEqualTo("application/fhir+xml");
    assertThat(read(id, "text/html, application/fhir+json;q=.").statusCode()).isEqualTo(406);
    // what is left still decides: text/turtle is no FHIR format
    assertThat(read(id, "text/turtle, application/fhir+json;q=7").statusCode()).isEqualTo(406);
  }
}
