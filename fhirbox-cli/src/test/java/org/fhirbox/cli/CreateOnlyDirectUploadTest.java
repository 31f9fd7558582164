package org.fhirbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import org.fhirbox.client.FhirboxClient;
import org.fhirbox.client.RetryPolicy;
import org.fhirbox.client.Upload;
import org.fhirbox.testing.CuttingProxy;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Binary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that may create Binaries but not read them, whose direct upload's {@code PUT} was
 * stored but its answer lost: it cannot read the Binary to learn that, so the server's answer to
 * the repeated {@code PUT} must say so.
 */
class CreateOnlyDirectUploadTest {
  @TempDir
  Path work;

  @Test
  void aRepeatedPutWhoseFirstWasStoredEndsTheUploadWithTheBinary() throws Exception {
    byte[] content = new byte[300_000];
    new Random(73).nextBytes(content);
    Path file = Files.write(work.resolve("scan.pdf"), content);
    try (CuttingProxy proxy = new CuttingProxy();
        TestServer server = TestServer.start(Map.of("FHIRBOX_BASE_URL", proxy.baseUrl()))) {
      proxy.forwardTo(server.server().port());
      ProjectClients.Credentials dropBox = new ProjectClients(server).create("default", "system/Binary.c", false);
      FhirboxClient client = FhirboxClient.builder().baseUrl(proxy.baseUrl())
          .basicAuth(dropBox.clientId(), dropBox.clientSecret())
          .retryPolicy(new RetryPolicy(3, Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofSeconds(1)))
          .build();
      // the node stores the bytes and commits the Binary; the client's connection breaks before the answer
      proxy.loseAnswerTo("PUT /storage/upload/");

      Binary b = client.uploadViaUrl(Upload.of(file, "application/pdf"));

      assertThat(proxy.cuts()).as("the PUT's answer was lost once").isEqualTo(1);
      assertThat(b.getContentType()).isEqualTo("application/pdf");
      FhirboxClient admin = FhirboxClient.builder().baseUrl(server.baseUrl())
          .basicAuth(TestServer.ADMIN_ID, TestServer.ADMIN_SECRET).build();
      ByteArrayOutputStream back = new ByteArrayOutputStream();
      admin.download("Binary/" + b.getIdElement().getIdPart(), back);
      assertThat(back.toByteArray()).isEqualTo(content);
      String history = server.client().get("fhir/R4/Binary/" + b.getIdElement().getIdPart() + "/_history").body();
      assertThat(history.split("\"fullUrl\"", -1)).as("one version in the history").hasSize(2);
    }
  }
}
