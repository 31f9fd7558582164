package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A URL whose port is no TCP port (0, or above 65535) is refused by the policy, as any other URL
 * that cannot be fetched: {@code $import} answers 400 and a write queues no job, instead of a
 * failure inside the HTTP client (a 500, a job retried until it gives up).
 */
class IngestionPortTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  static TestClient http() {
    return fhirbox.http();
  }

  @ParameterizedTest
  @ValueSource(strings = {"https://192.0.2.1:65536/a.pdf", "https://192.0.2.1:70000/a.pdf",
      "https://[2001:db8::1]:65536/a.pdf", "https://files.example:0/a.pdf", "https://192.0.2.1:0/a.pdf"})
  void importOfAUrlWithoutAValidPortIsRefused(String url) {
    HttpResponse<String> r = http().send(http().request("fhir/R4/Binary/$import?url="
        + URLEncoder.encode(url, StandardCharsets.UTF_8)).POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .isEqualTo("the URL is not fetched: the URL's port is not a TCP port (1 to 65535)");
  }

  @ParameterizedTest
  @ValueSource(strings = {"https://files.example:65536/b.pdf", "https://files.example:0/c.pdf"})
  void aWriteWithAUrlWithoutAValidPortQueuesNoJob(String url) throws Exception {
    IngestionTest.createMedia(http(), url, "application/pdf");
    assertThat(IngestionTest.job(http(), url)).as("job for " + url).isNull();
  }
}
