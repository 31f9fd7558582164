package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code $import} reads a Parameters body sent as FHIR JSON or XML; one of another type (the
 * {@code text/plain} that {@code fetch} sends for a string, a form) is 415, rather than ignored
 * and the request answered as though it named no URL, or by its query alone.
 */
class ImportParametersTest {
  /** A URL the policy refuses before anything is fetched: its port is no TCP port. */
  private static final String URL = "https://192.0.2.1:0/a.pdf";
  private static final String BODY = "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"url\",\"valueUrl\":\""
      + URL + "\"}]}";

  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  static TestClient http() {
    return fhirbox.http();
  }

  @Test
  void aParametersBodyNotSentAsFhirIsRefusedAsSuch() {
    for (String path : List.of("fhir/R4/Binary/$import", "fhir/R4/Binary/$import?url=https%3A%2F%2F192.0.2.2%3A0%2Fb.pdf")) {
      for (String type : List.of("text/plain;charset=UTF-8", "application/x-www-form-urlencoded")) {
        HttpResponse<String> r = http().postBytes(path, type, BODY.getBytes(StandardCharsets.UTF_8));

        assertThat(r.statusCode()).as(path + ", " + type + ": " + r.body()).isEqualTo(415);
        assertThat(http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
            .contains("application/fhir+json").containsIgnoringCase(type);
      }
    }
    // the same body as JSON is read: its URL is the one refused
    HttpResponse<String> read = http().postBytes("fhir/R4/Binary/$import", "application/json",
        BODY.getBytes(StandardCharsets.UTF_8));
    assertThat(read.statusCode()).as(read.body()).isEqualTo(400);
    assertThat(http().parse(read, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("port is not a TCP port");
  }
}
