package org.fhirbox.compat;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;

/**
 * Medplum's experimental upload URL ({@code GET Binary/{id}/$presigned-url?upload=true}) driven
 * by {@code @medplum/core} on Node: {@code src/test/resources/compat/medplum-upload-url.mjs}.
 */
@SlowTest
class MedplumUploadUrlTest {
  @Test
  void medplumClientUploadsThroughItsPresignedUploadUrlOnce() throws Exception {
    Path script = MedplumPackage.install().resolve("medplum-upload-url.mjs");
    try (InputStream in = MedplumUploadUrlTest.class.getResourceAsStream("/compat/medplum-upload-url.mjs")) {
      Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
    }
    try (TestServer server = TestServer.start()) {
      MedplumPackage.Result r = MedplumPackage.run(List.of("node", script.toString()), MedplumPackage.DIR, Map.of(
          "FHIRBOX_BASE_URL", server.baseUrl(),
          "FHIRBOX_CLIENT_ID", TestServer.ADMIN_ID,
          "FHIRBOX_CLIENT_SECRET", TestServer.ADMIN_SECRET), 60);
      assertThat(r.exit()).as("medplum-upload-url.mjs failed:%n%s", r.stderr()).isZero();
      String[] lines = r.stdout().strip().split("\n");
      JsonNode out = new ObjectMapper().readTree(lines[lines.length - 1]);

      assertThat(out.path("firstParameter").asText()).isEqualTo("url");
      assertThat(out.path("putStatus").asInt()).isEqualTo(200);
      assertThat(out.path("secondPutStatus").asInt()).isEqualTo(409);
      assertThat(out.path("downloaded").asText()).isEqualTo("foo bar baz quux");
      assertThat(out.path("readUrl").asText()).startsWith(server.baseUrl() + "storage/").contains("Signature=");
    }
  }
}
