package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The bootstrap admin (an admin of project default) sees and retries the ingestion jobs of any
 * project through {@code ?project=}; a project's own admin stays in its project.
 */
class AdminJobsAcrossProjectsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  static Upstream upstream;
  static TestServer server;
  static TestClient clinicAdmin;
  static String failedUrl;

  @BeforeAll
  static void start() throws Exception {
    upstream = new Upstream();
    server = TestServer.start(IngestionTest.settings(upstream));
    clinicAdmin = new ProjectClients(server).bearer(new ProjectClients(server).create("clinic", "system/*.cruds",
        true));
    failedUrl = upstream.origin() + "/files/missing-in-clinic.png";
    IngestionTest.createMedia(clinicAdmin, failedUrl, "image/png");
    IngestionTest.awaitJob(clinicAdmin, failedUrl, "failed");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
    upstream.close();
  }

  private static JsonNode jobs(HttpResponse<String> r) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body()).get("jobs");
  }

  @Test
  void theServerAdminListsAnotherProjectsFailedJobs() throws Exception {
    assertThat(jobs(server.client().get("admin/jobs?project=clinic&state=failed")).findValuesAsText("url"))
        .contains(failedUrl);
    assertThat(jobs(server.client().get("admin/jobs?state=failed")).findValuesAsText("url"))
        .doesNotContain(failedUrl);
    // an empty parameter is as if absent: the caller's own project, every state, the usual page
    assertThat(jobs(clinicAdmin.get("admin/jobs?project=&state=&_count=")).findValuesAsText("url"))
        .contains(failedUrl);
  }

  @Test
  void theServerAdminRetriesAnotherProjectsJob() throws Exception {
    String id = IngestionTest.job(clinicAdmin, failedUrl).get("id").asText();

    HttpResponse<String> elsewhere = server.client().postJson("admin/jobs/" + id + "/retry", "");
    assertThat(elsewhere.statusCode()).as(elsewhere.body()).isEqualTo(404);
    HttpResponse<String> retried = server.client().postJson("admin/jobs/" + id + "/retry?project=clinic", "");

    assertThat(retried.statusCode()).as(retried.body()).isEqualTo(200);
    assertThat(JSON.readTree(retried.body()).get("id").asText()).isEqualTo(id);
    IngestionTest.awaitJob(clinicAdmin, failedUrl, "failed");
  }

  @Test
  void aProjectAdminNamingAnotherProjectGets400AndItsOwnProjectIsFine() throws Exception {
    HttpResponse<String> other = clinicAdmin.get("admin/jobs?project=default");
    assertThat(other.statusCode()).as(other.body()).isEqualTo(400);
    assertThat(clinicAdmin.parse(other, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("project");
    String id = IngestionTest.job(clinicAdmin, failedUrl).get("id").asText();
    assertThat(clinicAdmin.postJson("admin/jobs/" + id + "/retry?project=default", "").statusCode()).isEqualTo(400);

    assertThat(jobs(clinicAdmin.get("admin/jobs?project=clinic")).findValuesAsText("url")).contains(failedUrl);
  }

  @Test
  void aProjectNameThatCannotBeIsRefused() {
    assertThat(server.client().get("admin/jobs?project=no%20such!").statusCode()).isEqualTo(400);
  }

  @Test
  void jobsComePagedNewestFirstAndACursorKeepsItsStateFilter() throws Exception {
    TestClient paged = new ProjectClients(server).bearer(new ProjectClients(server).create("paged", "system/*.cruds",
        true));
    List<String> urls = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      urls.add(upstream.origin() + "/files/paged-" + i + ".png");
      IngestionTest.createMedia(paged, urls.get(i), "image/png");
    }
    HttpResponse<String> first = paged.get("admin/jobs?_count=2");
    JsonNode firstBody = JSON.readTree(first.body());
    assertThat(jobs(first)).hasSize(2);
    String next = firstBody.get("next").asText();
    assertThat(first.headers().firstValue("Link")).contains("<" + next + ">; rel=\"next\"");
    assertThat(next).startsWith(server.baseUrl() + "admin/jobs?project=paged&_count=2&_cursor=");
    HttpResponse<String> second = paged.get(next);
    assertThat(jobs(second)).hasSize(1);
    assertThat(JSON.readTree(second.body()).has("next")).isFalse();
    List<String> listed = new ArrayList<>(jobs(first).findValuesAsText("url"));
    listed.addAll(jobs(second).findValuesAsText("url"));
    assertThat(listed).isEqualTo(jobs(paged.get("admin/jobs")).findValuesAsText("url"))
        .containsExactlyInAnyOrderElementsOf(urls);

    // a cursor of the list without a state filter is no position in the failed ones
    String cursor = next.substring(next.indexOf("_cursor=") + "_cursor=".length());
    HttpResponse<String> elsewhere = paged.get("admin/jobs?state=failed&_cursor=" + cursor);
    assertThat(elsewhere.statusCode()).as(elsewhere.body()).isEqualTo(400);
    assertThat(paged.parse(elsewhere, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("_cursor belongs to another list");
    assertThat(paged.get("admin/jobs?_cursor=AAAA").statusCode()).isEqualTo(400);
  }
}
