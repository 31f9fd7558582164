package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.fhirbox.app.FhirboxServer;
import org.fhirbox.model.IngestJob;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * One request may have at most {@link IngestJobs#MAX_JOBS_PER_WRITE} new external urls fetched,
 * whether one resource names them or the entries of a Bundle do: each is a job that fetches from
 * a server someone else runs, so a request naming thousands would queue thousands of fetches.
 * More is 400, and nothing is written or queued. A project's jobs not yet finished are capped
 * too ({@code FHIRBOX_INGEST_MAX_QUEUED_PER_PROJECT}); a write past it is 429. No job is claimed
 * here (the workers look once an hour), so the queued ones stay queued.
 */
class IngestionJobsPerWriteTest {
  private static final int PROJECT_CAP = 150;

  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass(Map.of("FHIRBOX_INGEST_POLL_MILLIS", "3600000",
      "FHIRBOX_INGEST_MAX_QUEUED_PER_PROJECT", Integer.toString(PROJECT_CAP)));

  private static final ObjectMapper JSON = new ObjectMapper();

  /** With {@code attachments} urls to fetch; with none, one Attachment without a url (R4 requires content). */
  private static String documentReference(String prefix, int attachments) {
    List<String> content = new ArrayList<>();
    if (attachments == 0) {
      content.add("{\"attachment\":{\"title\":\"no url\"}}");
    }
    for (int i = 0; i < attachments; i++) {
      content.add("{\"attachment\":{\"contentType\":\"application/pdf\",\"url\":\"https://files.example/" + prefix
          + "/" + i + ".pdf\"}}");
    }
    return "{\"resourceType\":\"DocumentReference\",\"status\":\"current\",\"content\":[" + String.join(",", content)
        + "]}";
  }

  /** A batch or transaction Bundle that creates one DocumentReference per entry of {@code urls}, with that many urls. */
  private static String bundle(String type, String prefix, int... urls) {
    List<String> entries = new ArrayList<>();
    for (int i = 0; i < urls.length; i++) {
      entries.add("{\"resource\":" + documentReference(prefix + "-" + i, urls[i])
          + ",\"request\":{\"method\":\"POST\",\"url\":\"DocumentReference\"}}");
    }
    return "{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":[" + String.join(",", entries) + "]}";
  }

  private static long jobsUnder(TestClient http, String prefix) throws Exception {
    return jobsUnder(http, "default", prefix);
  }

  private static long jobsUnder(TestClient http, String project, String prefix) throws Exception {
    HttpResponse<String> r = http.get("admin/jobs?_count=1000&project=" + project);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    long n = 0;
    for (JsonNode j : JSON.readTree(r.body()).get("jobs")) {
      n += j.get("url").asText().startsWith("https://files.example/" + prefix) ? 1 : 0;
    }
    return n;
  }

  private static List<String> statuses(TestClient client, HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return client.parse(r, Bundle.class).getEntry().stream().map(e -> e.getResponse().getStatus()).toList();
  }

  private static String diagnostics(TestClient client, HttpResponse<String> r) {
    return client.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics();
  }

  @Test
  void oneUrlMoreThanTheLimitIsRefusedAndQueuesNothing() throws Exception {
    TestClient http = fhirbox.http();
    HttpResponse<String> refused = http.postJson("fhir/R4/DocumentReference",
        documentReference("over", IngestJobs.MAX_JOBS_PER_WRITE + 1));
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
    assertThat(diagnostics(http, refused))
        .contains("more than " + IngestJobs.MAX_JOBS_PER_WRITE + " new external Attachment urls");
    assertThat(jobsUnder(http, "over/")).isZero();
    assertThat(http.foundIds("DocumentReference?status=current")).isEmpty();

    HttpResponse<String> taken = http.postJson("fhir/R4/DocumentReference",
        documentReference("at", IngestJobs.MAX_JOBS_PER_WRITE));
    assertThat(taken.statusCode()).as(taken.body()).isEqualTo(201);
    assertThat(jobsUnder(http, "at/")).isEqualTo(IngestJobs.MAX_JOBS_PER_WRITE);
  }

  /** The limit is the request's: a transaction's entries count together, and nothing of one over it is written. */
  @Test
  void aTransactionQueuesAtMostTheLimitAcrossItsEntries() throws Exception {
    TestClient client = new ProjectClients(fhirbox.server()).client("ingest-transaction", "system/*.cruds");
    HttpResponse<String> refused = client.postJson("fhir/R4", bundle("transaction", "tx-over", 60, 41));
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
    assertThat(diagnostics(client, refused)).contains("this request names more than "
        + IngestJobs.MAX_JOBS_PER_WRITE + " new external Attachment urls");
    assertThat(client.foundIds("DocumentReference?status=current")).isEmpty();
    assertThat(jobsUnder(fhirbox.http(), "ingest-transaction", "tx-over")).isZero();

    HttpResponse<String> taken = client.postJson("fhir/R4", bundle("transaction", "tx-at", 50, 50));
    assertThat(statuses(client, taken)).allMatch(s -> s.startsWith("201"));
    assertThat(jobsUnder(fhirbox.http(), "ingest-transaction", "tx-at")).isEqualTo(IngestJobs.MAX_JOBS_PER_WRITE);
  }

  /**
   * A batch's entries stand alone (FHIR R4 http.html#brules): the one that would pass the request's
   * limit answers 400 in its entry, and the others are written, counting what the committed ones queued.
   */
  @Test
  void aBatchEntryPastTheLimitAnswers400InItsEntry() throws Exception {
    TestClient client = new ProjectClients(fhirbox.server()).client("ingest-batch", "system/*.cruds");
    HttpResponse<String> r = client.postJson("fhir/R4", bundle("batch", "batch", 60, 41, 0, 40));
    List<String> statuses = statuses(client, r);
    assertThat(statuses.get(0)).startsWith("201");
    assertThat(statuses.get(1)).startsWith("400");
    assertThat(statuses.get(2)).startsWith("201");
    assertThat(statuses.get(3)).startsWith("201");
    OperationOutcome oo = (OperationOutcome) client.parse(r, Bundle.class).getEntry().get(1).getResponse()
        .getOutcome();
    assertThat(oo.getIssueFirstRep().getDiagnostics()).contains("this request names more than "
        + IngestJobs.MAX_JOBS_PER_WRITE + " new external Attachment urls");
    assertThat(jobsUnder(fhirbox.http(), "ingest-batch", "batch-1")).isZero();
    assertThat(jobsUnder(fhirbox.http(), "ingest-batch", "batch")).isEqualTo(IngestJobs.MAX_JOBS_PER_WRITE);
  }

  /**
   * A project may have at most FHIRBOX_INGEST_MAX_QUEUED_PER_PROJECT jobs queued or running: a
   * write that would queue more is 429 with Retry-After, as a transaction is, and a batch entry
   * answers 429 in its entry. Writes that queue nothing, and other projects, go on.
   */
  @Test
  void aProjectsBacklogIsCappedWith429() throws Exception {
    TestClient client = new ProjectClients(fhirbox.server()).client("ingest-backlog", "system/*.cruds");
    assertThat(client.postJson("fhir/R4/DocumentReference", documentReference("b-100", 100)).statusCode())
        .isEqualTo(201);
    HttpResponse<String> over = client.postJson("fhir/R4/DocumentReference", documentReference("b-51", 51));
    assertThat(over.statusCode()).as(over.body()).isEqualTo(429);
    assertThat(over.headers().firstValue("Retry-After")).isPresent();
    assertThat(diagnostics(client, over)).contains("FHIRBOX_INGEST_MAX_QUEUED_PER_PROJECT").contains("100")
        .contains(Integer.toString(PROJECT_CAP));
    assertThat(client.postJson("fhir/R4/DocumentReference", documentReference("b-50", 50)).statusCode())
        .isEqualTo(201);

    HttpResponse<String> tx = client.postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
        + "\"entry\":[{\"resource\":{\"resourceType\":\"Patient\"},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}},"
        + "{\"resource\":" + documentReference("b-tx", 1) + ",\"request\":{\"method\":\"POST\",\"url\":\"DocumentReference\"}}]}");
    assertThat(tx.statusCode()).as(tx.body()).isEqualTo(429);
    assertThat(tx.headers().firstValue("Retry-After")).isPresent();
    assertThat(client.foundIds("Patient")).isEmpty();

    List<String> batch = statuses(client, client.postJson("fhir/R4", bundle("batch", "b-batch", 1, 0)));
    assertThat(batch.get(0)).startsWith("429");
    assertThat(batch.get(1)).startsWith("201");
    assertThat(client.foundIds("DocumentReference?status=current")).hasSize(3);
    assertThat(jobsUnder(fhirbox.http(), "ingest-backlog", "b-")).isEqualTo(PROJECT_CAP);

    TestClient other = new ProjectClients(fhirbox.server()).client("ingest-backlog-other", "system/*.cruds");
    assertThat(other.postJson("fhir/R4/DocumentReference", documentReference("o-1", 1)).statusCode()).isEqualTo(201);

    // one job fails (as the worker would record it), a new write takes its place: a retry is one job too many
    String failed = failOneJobOf("ingest-backlog");
    assertThat(client.postJson("fhir/R4/DocumentReference", documentReference("b-r", 1)).statusCode()).isEqualTo(201);
    HttpResponse<String> retried = fhirbox.http().postJson("admin/jobs/" + failed + "/retry?project=ingest-backlog", "");
    assertThat(retried.statusCode()).as(retried.body()).isEqualTo(429);
    assertThat(retried.headers().firstValue("Retry-After")).isPresent();
    assertThat(diagnostics(fhirbox.http(), retried)).contains("retrying job '" + failed + "'")
        .contains("FHIRBOX_INGEST_MAX_QUEUED_PER_PROJECT");
    assertThat(jobsUnder(fhirbox.http(), "ingest-backlog", "b-")).isEqualTo(PROJECT_CAP + 1);
  }

  /** Claims a queued job of {@code project} and finishes it as failed, through the server's own job table. */
  private static String failOneJobOf(String project) {
    FhirboxServer server = fhirbox.server().server();
    return server.store().inTransaction(tx -> {
      Instant now = Instant.now();
      for (int i = 0; i < 1000; i++) {
        IngestJob job = tx.ingestJobs().claim("test", now, now.plusSeconds(60), 5, 1000).orElseThrow();
        if (job.project().equals(project)) {
          assertThat(tx.ingestJobs().finish(job.id(), job.leaseOwner(), IngestJob.State.FAILED, "refused", null, now, now)).isTrue();
          return job.id();
        }
      }
      throw new AssertionError("no job of " + project + " to claim");
    });
  }
}
