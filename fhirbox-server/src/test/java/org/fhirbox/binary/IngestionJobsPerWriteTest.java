package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * One write may have at most {@link IngestJobs#MAX_JOBS_PER_WRITE} new external urls fetched: each
 * is a job that fetches from a server someone else runs, so a write naming thousands would queue
 * thousands of fetches with one request. More is 400, and nothing is written or queued.
 */
class IngestionJobsPerWriteTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  private static final ObjectMapper JSON = new ObjectMapper();

  private static String documentReference(String prefix, int attachments) {
    List<String> content = new ArrayList<>();
    for (int i = 0; i < attachments; i++) {
      content.add("{\"attachment\":{\"contentType\":\"application/pdf\",\"url\":\"https://files.example/" + prefix
          + "/" + i + ".pdf\"}}");
    }
    return "{\"resourceType\":\"DocumentReference\",\"status\":\"current\",\"content\":[" + String.join(",", content)
        + "]}";
  }

  private static long jobsUnder(TestClient http, String prefix) throws Exception {
    HttpResponse<String> r = http.get("admin/jobs?_count=1000");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    long n = 0;
    for (JsonNode j : JSON.readTree(r.body()).get("jobs")) {
      n += j.get("url").asText().startsWith("https://files.example/" + prefix + "/") ? 1 : 0;
    }
    return n;
  }

  @Test
  void oneUrlMoreThanTheLimitIsRefusedAndQueuesNothing() throws Exception {
    TestClient http = fhirbox.http();
    HttpResponse<String> refused = http.postJson("fhir/R4/DocumentReference",
        documentReference("over", IngestJobs.MAX_JOBS_PER_WRITE + 1));
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
    assertThat(http.parse(refused, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("more than " + IngestJobs.MAX_JOBS_PER_WRITE + " new external Attachment urls");
    assertThat(jobsUnder(http, "over")).isZero();
    assertThat(http.foundIds("DocumentReference?status=current")).isEmpty();

    HttpResponse<String> taken = http.postJson("fhir/R4/DocumentReference",
        documentReference("at", IngestJobs.MAX_JOBS_PER_WRITE));
    assertThat(taken.statusCode()).as(taken.body()).isEqualTo(201);
    assertThat(jobsUnder(http, "at")).isEqualTo(IngestJobs.MAX_JOBS_PER_WRITE);
  }
}
