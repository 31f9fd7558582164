package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.fhirbox.signing.StorageUrlSigner;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.Postgres;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Media;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A job whose node stalls past its lease is taken over by another node sharing the database
 * (PostgreSQL, as nodes do), and still makes exactly one Binary, which the Attachment names, and
 * ends done. The stall is a clock: the second node's runs a lease ahead, so the first node's lease
 * has run out for it, as it would for every node once the first stalled that long.
 */
@SlowTest
class IngestionLeaseTest {
  private final ListAppender<ILoggingEvent> log = new ListAppender<>();
  private Upstream upstream;
  private Postgres.Schema schema;
  private Map<String, String> settings;

  @BeforeEach
  void start() throws Exception {
    log.start();
    ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).addAppender(log);
    upstream = new Upstream();
    schema = Postgres.freshSchema();
    settings = upstream.ingestSettings(
        "FHIRBOX_DATABASE_URL", schema.url(),
        "FHIRBOX_INGEST_BACKOFF_MILLIS", "100",
        "FHIRBOX_INGEST_LEASE_SECONDS", "1");
  }

  @AfterEach
  void stop() {
    ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).detachAppender(log);
    upstream.close();
    schema.close();
  }

  private boolean logged(String text) {
    return log.list.stream().anyMatch(e -> e.getFormattedMessage().contains(text));
  }

  private static Map<String, String> with(Map<String, String> settings, String name, String value) {
    Map<String, String> more = new HashMap<>(settings);
    more.put(name, value);
    return more;
  }

  /** The Binaries whose securityContext is {@code reference}. */
  private static List<String> binariesOf(TestClient client, String reference) {
    Bundle all = client.parse(client.get("fhir/R4/Binary?_count=100"), Bundle.class);
    return all.getEntry().stream().map(e -> (Binary) e.getResource())
        .filter(b -> reference.equals(b.getSecurityContext().getReference()))
        .map(b -> b.getIdElement().getIdPart()).toList();
  }

  private static String attachedBinary(TestClient client, Media m) {
    Media now = IngestionTest.read(client, m);
    return StorageUrlSigner.tryParse(now.getContent().getUrl()).orElseThrow().binaryId();
  }

  @Test
  void aNodeThatLosesTheLeaseMidFetchLeavesTheOnlyBinaryToTheNodeThatTookOver() throws Exception {
    byte[] body = Upstream.content(5000, 51);
    AtomicInteger calls = new AtomicInteger();
    CountDownLatch firstAsked = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    upstream.on("/files/taken-over.bin", ex -> {
      if (calls.incrementAndGet() == 1) {
        firstAsked.countDown();
        release.await(30, TimeUnit.SECONDS);
      }
      Upstream.send(ex, 200, "application/octet-stream", body);
    });
    String url = upstream.origin() + "/files/taken-over.bin";

    try (TestServer a = TestServer.start(settings)) {
      Media m = IngestionTest.createMedia(a.client(), url, null);
      String media = "Media/" + m.getIdElement().getIdPart();
      assertThat(firstAsked.await(30, TimeUnit.SECONDS)).as("node a fetches").isTrue();
      try (TestServer b = TestServer.start(settings, Clock.offset(Clock.systemUTC(), Duration.ofHours(1)))) {
        JsonNode job = IngestionTest.awaitJob(b.client(), url, "done");
        release.countDown();
        Poll.until("node a giving the job up", () -> logged("lost its lease"));

        List<String> binaries = binariesOf(b.client(), media);
        assertThat(binaries).hasSize(1);
        assertThat(job.get("binary").asText()).isEqualTo("Binary/" + binaries.get(0));
        assertThat(attachedBinary(b.client(), m)).isEqualTo(binaries.get(0));
        assertThat(IngestionTest.job(b.client(), url).get("state").asText()).isEqualTo("done");
        assertThat(calls.get()).isEqualTo(2);
      }
    } finally {
      release.countDown();
    }
  }

  @Test
  void aJobTakenOverAfterItsAttachmentWasRepointedEndsDoneWithoutFetchingAgain() throws Exception {
    byte[] body = Upstream.content(3000, 52);
    upstream.serve("/files/repointed.bin", "application/octet-stream", body);
    String url = upstream.origin() + "/files/repointed.bin";

    try (TestServer node = TestServer.start(settings)) {
      TestClient http = node.client();
      Media m = IngestionTest.createMedia(http, url, null);
      String media = "Media/" + m.getIdElement().getIdPart();
      JsonNode done = IngestionTest.awaitJob(http, url, "done");
      String binary = attachedBinary(http, m);

      // As a node leaves the job that repointed the Attachment and stalled past its lease
      // before it recorded the outcome: running, its lease run out, its Binary recorded.
      try (Connection c = DriverManager.getConnection(schema.url());
          PreparedStatement ps = c.prepareStatement("UPDATE ingest_job SET state = 'running',"
              + " lease_owner = 'node-stalled', lease_until = 0 WHERE id = ?")) {
        ps.setString(1, done.get("id").asText());
        assertThat(ps.executeUpdate()).isEqualTo(1);
      }

      int attempts = done.get("attempts").asInt() + 1;
      JsonNode job = Poll.until("the job taken over", () -> IngestionTest.job(http, url),
          j -> j.get("attempts").asInt() == attempts && !j.get("state").asText().equals("running"));
      assertThat(job.get("state").asText()).as(job.toString()).isEqualTo("done");
      assertThat(job.get("binary").asText()).isEqualTo("Binary/" + binary);
      assertThat(attachedBinary(http, m)).isEqualTo(binary);
      assertThat(IngestionTest.read(http, m).getMeta().getVersionId()).isEqualTo("2");
      assertThat(binariesOf(http, media)).containsExactly(binary);
      assertThat(upstream.hits("/files/repointed.bin")).isEqualTo(1);
    }
  }

  @Test
  void aJobWhoseNodeStoppedDuringItsLastAttemptFailsWithoutAnotherFetch() throws Exception {
    upstream.serve("/files/node-killer.bin", "application/octet-stream", Upstream.content(1000, 53));
    String url = upstream.origin() + "/files/node-killer.bin";
    Map<String, String> twoAttempts = with(settings, "FHIRBOX_INGEST_MAX_ATTEMPTS", "2");
    Map<String, String> idle = with(twoAttempts, "FHIRBOX_INGEST_POLL_MILLIS", "3600000"); // claims nothing meanwhile

    try (TestServer writer = TestServer.start(idle)) {
      Media m = IngestionTest.createMedia(writer.client(), url, null);
      // As the node running the job's second attempt leaves it: running, its lease run out
      try (Connection c = DriverManager.getConnection(schema.url());
          PreparedStatement ps = c.prepareStatement("UPDATE ingest_job SET state = 'running', attempts = 2,"
              + " lease_owner = 'node-gone/0', lease_until = 0 WHERE url = ?")) {
        ps.setString(1, url);
        assertThat(ps.executeUpdate()).isEqualTo(1);
      }
      try (TestServer next = TestServer.start(twoAttempts)) {
        JsonNode job = IngestionTest.awaitJob(next.client(), url, "failed");
        assertThat(job.get("lastError").asText()).isEqualTo("gave up after 2 attempts: the node processing the last"
            + " one stopped before it finished (its lease ran out)");
        assertThat(job.get("attempts").asInt()).isEqualTo(2);
        assertThat(IngestionTest.read(next.client(), m).getContent().getUrl()).isEqualTo(url);
        assertThat(upstream.hits("/files/node-killer.bin")).isZero();
      }
    }
  }

  @Test
  void theBinaryALastAttemptFetchedBeforeItsNodeStoppedIsDeletedWhenTheAttachmentDoesNotNameIt() throws Exception {
    String url = upstream.origin() + "/files/fetched-then-stopped.bin";
    upstream.serve("/files/fetched-then-stopped.bin", "application/octet-stream", Upstream.content(1000, 54));
    Map<String, String> twoAttempts = with(settings, "FHIRBOX_INGEST_MAX_ATTEMPTS", "2");
    Map<String, String> idle = with(twoAttempts, "FHIRBOX_INGEST_POLL_MILLIS", "3600000"); // claims nothing meanwhile

    try (TestServer writer = TestServer.start(idle)) {
      Media m = IngestionTest.createMedia(writer.client(), url, null);
      String media = "Media/" + m.getIdElement().getIdPart();
      // As the node running the last attempt leaves it after its Binary's commit, before the repoint
      String fetched = writer.client().createBinary("fhir/R4/Binary", "application/octet-stream", media,
          Upstream.content(1000, 54));
      try (Connection c = DriverManager.getConnection(schema.url());
          PreparedStatement ps = c.prepareStatement("UPDATE ingest_job SET state = 'running', attempts = 2,"
              + " lease_owner = 'node-gone/0', lease_until = 0, binary_id = ? WHERE url = ?")) {
        ps.setString(1, fetched);
        ps.setString(2, url);
        assertThat(ps.executeUpdate()).isEqualTo(1);
      }
      try (TestServer next = TestServer.start(twoAttempts)) {
        JsonNode job = IngestionTest.awaitJob(next.client(), url, "failed");
        assertThat(job.get("lastError").asText()).startsWith("gave up after 2 attempts");
        Poll.until("the unused Binary deleted", () -> next.client().get("fhir/R4/Binary/" + fetched).statusCode() == 410);
        assertThat(IngestionTest.job(next.client(), url).get("binary").isNull()).isTrue();
        assertThat(IngestionTest.read(next.client(), m).getContent().getUrl()).isEqualTo(url);
        assertThat(binariesOf(next.client(), media)).isEmpty();
        assertThat(upstream.hits("/files/fetched-then-stopped.bin")).isZero();
      }
    }
  }
}
