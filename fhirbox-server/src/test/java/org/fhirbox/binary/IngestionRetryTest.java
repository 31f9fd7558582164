package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.fhirbox.signing.StorageUrlSigner;
import org.fhirbox.testing.Poll;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.Media;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Ingestion jobs queued again by an admin, and jobs whose Attachment moved. */
class IngestionRetryTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Two jobs of one resource run at once: one waits on its upstream while the other ends. */
  @RegisterExtension
  static final IngestionServer fhirbox = new IngestionServer(up -> {
    Map<String, String> settings = new HashMap<>(IngestionTest.settings(up));
    settings.put("FHIRBOX_INGEST_PROJECT_CONCURRENCY", "2");
    return settings;
  });

  /** The jobs of {@code url}, newest first. */
  static List<JsonNode> jobs(String url) throws Exception {
    HttpResponse<String> r = fhirbox.http().get("admin/jobs");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    List<JsonNode> found = new ArrayList<>();
    for (JsonNode j : JSON.readTree(r.body()).get("jobs")) {
      if (j.get("url").asText().equals(url)) {
        found.add(j);
      }
    }
    return found;
  }

  static JsonNode awaitJob(String id, String state) throws Exception {
    return Poll.until("job " + id + " reaching " + state, () -> {
      for (JsonNode j : JSON.readTree(fhirbox.http().get("admin/jobs").body()).get("jobs")) {
        if (j.get("id").asText().equals(id)) {
          return j;
        }
      }
      return null;
    }, j -> j != null && j.get("state").asText().equals(state));
  }

  static int deletions(String binaryId) throws Exception {
    int n = 0;
    String events = fhirbox.http().get("fhir/R4/AuditEvent?entity=Binary/" + binaryId).body();
    for (JsonNode e : JSON.readTree(events).path("entry")) {
      if (e.at("/resource/action").asText().equals("D")) {
        n++;
      }
    }
    return n;
  }

  /**
   * A job skipped after its fetch deleted its Binary; queued again, it fetches anew instead of
   * repointing the Attachment at the deleted Binary.
   */
  @Test
  void aRetriedJobWhoseBinaryWasDeletedFetchesAgain() throws Exception {
    byte[] body = Upstream.content(3000, 31);
    AtomicInteger calls = new AtomicInteger();
    CountDownLatch requested = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    fhirbox.upstream().on("/files/retried.bin", ex -> {
      int call = calls.incrementAndGet();
      if (call == 1) {
        requested.countDown();
        release.await(30, TimeUnit.SECONDS);
      }
      if (call == 2) {
        Upstream.send(ex, 404, "text/plain", new byte[] {'x'});
        return;
      }
      Upstream.send(ex, 200, "application/octet-stream", body);
    });
    String url = fhirbox.upstream().origin() + "/files/retried.bin";
    Media m = IngestionTest.createMedia(fhirbox.http(), url, null);
    String path = "fhir/R4/Media/" + m.getIdElement().getIdPart();
    assertThat(requested.await(30, TimeUnit.SECONDS)).isTrue();
    Media edited = IngestionTest.read(fhirbox.http(), m);
    edited.getContent().setUrl("urn:example:elsewhere");
    assertThat(fhirbox.http().putJson(path, fhirbox.http().json(edited)).statusCode()).isEqualTo(200);
    release.countDown();
    String first = jobs(url).get(0).get("id").asText();
    JsonNode skipped = awaitJob(first, "skipped");
    String deleted = skipped.get("binary").asText().substring("Binary/".length());
    assertThat(fhirbox.http().get("fhir/R4/Binary/" + deleted).statusCode()).isEqualTo(410);

    // the url comes back: a job of its own, which fails (404); the first job is retried
    Media back = IngestionTest.read(fhirbox.http(), m);
    back.getContent().setUrl(url);
    assertThat(fhirbox.http().putJson(path, fhirbox.http().json(back)).statusCode()).isEqualTo(200);
    Poll.until("a second job", () -> jobs(url), j -> j.size() == 2);
    awaitJob(jobs(url).get(0).get("id").asText(), "failed");
    HttpResponse<String> retry = fhirbox.http().postJson("admin/jobs/" + first + "/retry", "");
    assertThat(retry.statusCode()).as(retry.body()).isEqualTo(200);

    JsonNode done = awaitJob(first, "done");
    String binaryId = done.get("binary").asText().substring("Binary/".length());
    assertThat(binaryId).isNotEqualTo(deleted);
    assertThat(calls.get()).isEqualTo(3);
    Media after = IngestionTest.read(fhirbox.http(), m);
    assertThat(StorageUrlSigner.tryParse(after.getContent().getUrl()).orElseThrow().binaryId()).isEqualTo(binaryId);
    HttpResponse<byte[]> raw = fhirbox.http().sendBytes(fhirbox.http().request(after.getContent().getUrl()).GET());
    assertThat(raw.body()).isEqualTo(body);
    assertThat(deletions(deleted)).isEqualTo(1);
  }

  /**
   * An edit that removes an Attachment in front of the job's while it fetches moves the job's url
   * to another position: the job repoints it there instead of giving up.
   */
  @Test
  void aJobWhoseAttachmentMovedRepointsItAtItsNewPosition() throws Exception {
    CountDownLatch requested = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    fhirbox.upstream().serve("/files/moved-a.txt", "text/plain", Upstream.content(500, 32));
    fhirbox.upstream().on("/files/moved-b.txt", ex -> {
      requested.countDown();
      release.await(30, TimeUnit.SECONDS);
      Upstream.send(ex, 200, "text/plain", Upstream.content(700, 33));
    });
    String a = fhirbox.upstream().origin() + "/files/moved-a.txt";
    String b = fhirbox.upstream().origin() + "/files/moved-b.txt";
    DocumentReference d = new DocumentReference();
    d.setStatus(Enumerations.DocumentReferenceStatus.CURRENT);
    d.addContent().getAttachment().setUrl(a).setContentType("text/plain");
    d.addContent().getAttachment().setUrl(b).setContentType("text/plain");
    HttpResponse<String> created = fhirbox.http().postJson("fhir/R4/DocumentReference", fhirbox.http().json(d));
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String path = "fhir/R4/DocumentReference/"
        + fhirbox.http().parse(created, DocumentReference.class).getIdElement().getIdPart();
    assertThat(requested.await(30, TimeUnit.SECONDS)).isTrue();
    awaitJob(jobs(a).get(0).get("id").asText(), "done");

    DocumentReference edited = fhirbox.http().parse(fhirbox.http().get(path), DocumentReference.class);
    assertThat(edited.getContent().get(1).getAttachment().getUrl()).isEqualTo(b);
    edited.getContent().remove(0);
    assertThat(fhirbox.http().putJson(path, fhirbox.http().json(edited)).statusCode()).isEqualTo(200);
    release.countDown();

    JsonNode done = awaitJob(jobs(b).get(0).get("id").asText(), "done");
    String binaryId = done.get("binary").asText().substring("Binary/".length());
    DocumentReference after = fhirbox.http().parse(fhirbox.http().get(path), DocumentReference.class);
    assertThat(after.getContent()).hasSize(1);
    assertThat(StorageUrlSigner.tryParse(after.getContent().get(0).getAttachment().getUrl()).orElseThrow().binaryId())
        .isEqualTo(binaryId);
  }
}
