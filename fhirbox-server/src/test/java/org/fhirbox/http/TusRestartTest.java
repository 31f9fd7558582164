package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import org.fhirbox.testing.TestBytes;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.Tus;
import org.junit.jupiter.api.Test;

/**
 * An upload outlives its server: stopped halfway, a new server on the same data (files and H2)
 * answers HEAD with the offset reached and takes the rest, and the Binary gets the right SHA-256
 * and SHA-1 although no process saw every byte.
 */
class TusRestartTest {

  @Test
  void anUploadResumesOnANewServerOnTheSameData() throws Exception {
    Path data = Files.createTempDirectory("fhirbox-tus-restart");
    byte[] content = TestBytes.random(5_500_000, 30);
    Map<String, String> settings = Map.of("FHIRBOX_DATA_DIR", data.toString());
    try {
      String path;
      try (TestServer first = TestServer.start(settings)) {
        Tus tus = new Tus(first.client());
        String url = tus.upload(content.length, Tus.metadata("filetype", "video/mp4"));
        path = url.substring(first.baseUrl().length());
        tus.send(url, java.util.Arrays.copyOf(content, 3_000_000), 0, 1_000_000);
      }

      try (TestServer second = TestServer.start(settings)) {
        Tus tus = new Tus(second.client());
        String url = second.baseUrl() + path;
        assertThat(tus.offset(url)).isEqualTo(3_000_000);

        HttpResponse<String> last = tus.send(url, content, 3_000_000, 1_250_000);

        String id = Tus.binaryId(last);
        HttpResponse<byte[]> raw = second.client().sendBytes(second.client().request("fhir/R4/Binary/" + id)
            .header("Accept", "*/*").GET());
        assertThat(raw.body()).isEqualTo(content);
        TestBytes.assertBlobEtag(raw.headers());
        HttpResponse<String> media = second.client().postJson("fhir/R4/Media", "{\"resourceType\":\"Media\","
            + "\"status\":\"completed\",\"content\":{\"url\":\"Binary/" + id + "\"}}");
        assertThat(media.body()).contains("\"hash\":\"" + Base64.getEncoder().encodeToString(
            MessageDigest.getInstance("SHA-1").digest(content)) + "\"");
        assertThat(media.body()).contains("\"size\":" + content.length);
      }
    } finally {
      TestServer.deleteTree(data);
    }
  }

  @Test
  void theCompletionChecksTheUploadAgainstThePolicyAsItIsNow() throws Exception {
    Path data = Files.createTempDirectory("fhirbox-tus-restart");
    byte[] content = TestBytes.random(2000, 31);
    try {
      String path;
      try (TestServer first = TestServer.start(Map.of("FHIRBOX_DATA_DIR", data.toString(),
          "FHIRBOX_BINARY_DENY_EXTENSIONS", "bat"))) {
        Tus tus = new Tus(first.client());
        String url = tus.upload(content.length, Tus.metadata("filename", "setup.exe"));
        path = url.substring(first.baseUrl().length());
        assertThat(tus.patch(url, 0, Arrays.copyOf(content, 1000)).statusCode()).isEqualTo(204);
      }

      // the default deny list, which names exe
      try (TestServer second = TestServer.start(Map.of("FHIRBOX_DATA_DIR", data.toString()))) {
        Tus tus = new Tus(second.client());
        String url = second.baseUrl() + path;

        HttpResponse<String> last = tus.patch(url, 1000, Arrays.copyOfRange(content, 1000, 2000));

        TusProtocolTest.assertOutcome(last, 400);
        assertThat(last.headers().firstValue("Content-Location")).isEmpty();
        HttpResponse<String> asked = tus.head(url);
        assertThat(asked.statusCode()).isEqualTo(400);
        assertThat(asked.headers().firstValue("Content-Location")).isEmpty();
        assertThat(second.client().get("fhir/R4/Binary?_summary=count").body()).contains("\"total\":0");
      }
    } finally {
      TestServer.deleteTree(data);
    }
  }
}
