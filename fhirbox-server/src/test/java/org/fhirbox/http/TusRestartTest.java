package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
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
}
