package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.fhirbox.testing.Poll;
import org.hl7.fhir.r4.model.Media;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A resource deleted while its Attachment's content is fetched: the delete is a concurrent edit,
 * which wins, so the job gives up as skipped (not failed, which asks an admin to retry a job that
 * can never succeed) and leaves no Binary behind.
 */
class IngestionDeletedResourceTest {
  @RegisterExtension
  static final IngestionServer fhirbox = new IngestionServer(up -> up.ingestSettings(
      "FHIRBOX_INGEST_BACKOFF_MILLIS", "100"));

  @Test
  void aResourceDeletedWhileItsContentIsFetchedSkipsTheJob() throws Exception {
    CountDownLatch requested = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    IngestionTest.serveHeld(fhirbox.upstream(), "/files/slow-deleted.bin", new byte[] {1, 2, 3}, requested, release);
    String url = fhirbox.upstream().origin() + "/files/slow-deleted.bin";
    Media m = IngestionTest.createMedia(fhirbox.http(), url, null);
    assertThat(requested.await(30, TimeUnit.SECONDS)).isTrue();
    assertThat(fhirbox.http().delete("fhir/R4/Media/" + m.getIdElement().getIdPart()).statusCode()).isEqualTo(200);
    release.countDown();

    JsonNode job = Poll.until("the job of " + url + " ending", () -> IngestionTest.job(fhirbox.http(), url),
        j -> j != null && !j.get("state").asText().equals("queued") && !j.get("state").asText().equals("running"));
    assertThat(job.get("state").asText()).as(job.toString()).isEqualTo("skipped");
    assertThat(job.get("lastError").asText()).isEqualTo("the resource changed this Attachment while it was fetched");
    if (!job.get("binary").isNull()) {
      assertThat(fhirbox.http().get("fhir/R4/" + job.get("binary").asText()).statusCode()).isEqualTo(410);
    }
  }
}
