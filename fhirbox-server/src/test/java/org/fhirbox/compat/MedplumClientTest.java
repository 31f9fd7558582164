package org.fhirbox.compat;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;

/**
 * Medplum's own JS client ({@code @medplum/core} 4.x from npm, on the machine's Node) against a
 * real server: {@code src/test/resources/compat/medplum-check.mjs} logs in with client
 * credentials and uses the Binary, Attachment, Media, read, search, history and download calls
 * Medplum's Binary guide shows; this test checks what it observed (see {@link MedplumPackage}).
 */
@SlowTest
class MedplumClientTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void medplumClientUploadsLinksReadsAndDownloadsBinaries() throws Exception {
    Path script = MedplumPackage.install().resolve("medplum-check.mjs");
    try (InputStream in = MedplumClientTest.class.getResourceAsStream("/compat/medplum-check.mjs")) {
      Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
    }
    byte[] payload = new byte[48 * 1024 + 7];
    new Random(5).nextBytes(payload);
    String expectedSha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payload));

    try (TestServer server = TestServer.start()) {
      String base = server.baseUrl();
      MedplumPackage.Result r = MedplumPackage.run(List.of("node", script.toString()), MedplumPackage.DIR, Map.of(
          "FHIRBOX_BASE_URL", base,
          "FHIRBOX_CLIENT_ID", TestServer.ADMIN_ID,
          "FHIRBOX_CLIENT_SECRET", TestServer.ADMIN_SECRET,
          "PAYLOAD_B64", Base64.getEncoder().encodeToString(payload)), 60);
      assertThat(r.exit()).as("medplum-check.mjs failed:%n%s", r.stderr()).isZero();
      JsonNode out = JSON.readTree(lastLine(r.stdout()));
      String storage = base + "storage/";

      assertThat(out.path("authenticated").asBoolean()).isTrue();
      JsonNode binary = out.path("binary");
      assertThat(binary.path("contentType").asText()).isEqualTo("image/png");
      assertThat(binary.path("url").asText()).startsWith(storage + binary.path("id").asText() + "/")
          .contains("Signature=");
      assertThat(binary.path("hasData").asBoolean()).as("the upload is not echoed as base64").isFalse();

      JsonNode attachment = out.path("attachment");
      assertThat(attachment.path("contentType").asText()).isEqualTo("image/png");
      assertThat(attachment.path("title").asText()).isEqualTo("photo.png");
      assertThat(attachment.path("url").asText()).startsWith(storage).contains("Signature=");

      String patientId = out.path("patientId").asText();
      assertThat(out.path("createdPhotoUrl").asText()).startsWith(storage);
      JsonNode photo = out.path("readPhoto");
      assertThat(photo.path("url").asText()).startsWith(storage).contains("Signature=");
      assertThat(photo.path("title").asText()).isEqualTo("photo.png");
      assertThat(photo.path("size").asLong()).isEqualTo(payload.length);
      assertThat(out.path("readPhotoFetch").path("sha256").asText()).isEqualTo(expectedSha);
      assertThat(out.path("readPhotoFetch").path("contentType").asText()).startsWith("image/png");

      assertThat(out.path("search").path("count").asInt()).isEqualTo(1);
      assertThat(out.path("search").path("ids").get(0).asText()).isEqualTo(patientId);
      assertThat(out.path("search").path("photoUrl").asText()).startsWith(storage).contains("Signature=");

      assertThat(out.path("history").path("type").asText()).isEqualTo("history");
      assertThat(texts(out.path("history").path("versions"))).containsExactly("2", "1");
      assertThat(texts(out.path("history").path("photoUrls")))
          .allSatisfy(u -> assertThat(u).startsWith(storage).contains("Signature="));

      assertThat(out.path("downloadByReference").asText()).isEqualTo(expectedSha);
      assertThat(out.path("downloadBySignedUrl").asText()).isEqualTo(expectedSha);

      JsonNode media = out.path("media");
      assertThat(media.path("status").asText()).isEqualTo("completed");
      assertThat(media.path("contentType").asText()).isEqualTo("image/png");
      assertThat(media.path("title").asText()).isEqualTo("clip.png");
      assertThat(media.path("contentUrl").asText()).startsWith(storage).contains("Signature=");
      assertThat(out.path("mediaFetch").path("sha256").asText()).isEqualTo(expectedSha);
      assertThat(out.path("mediaBinarySecurityContext").path("reference").asText())
          .isEqualTo("Media/" + media.path("id").asText());

      JsonNode conditional = out.path("conditional");
      assertThat(conditional.path("first").asText()).isNotEmpty();
      assertThat(conditional.path("second").asText()).as("found, not created again")
          .isEqualTo(conditional.path("first").asText());
      assertThat(conditional.path("found").asInt()).isEqualTo(1);
      JsonNode upsert = out.path("upsert");
      assertThat(upsert.path("first").asText()).isNotEmpty();
      assertThat(upsert.path("second").asText()).as("updated, not created again").isEqualTo(upsert.path("first").asText());
      assertThat(upsert.path("version").asText()).isEqualTo("2");
      assertThat(upsert.path("family").asText()).isEqualTo("Two");
      assertThat(upsert.path("found").asInt()).isEqualTo(1);
      assertThat(out.path("patch").path("version").asText()).isEqualTo("3");
      assertThat(out.path("patch").path("family").asText()).isEqualTo("Three");

      JsonNode unsigned = out.path("unsigned");
      assertThat(unsigned.path("error").asText()).as("the server's diagnostic, shown by the client")
          .contains("storage URL needs the Expires, KeyId and Signature parameters");
      assertThat(unsigned.path("tokenRequests").asInt()).as("no new token asked for").isEqualTo(1);

      assertThat(out.path("graphql").asText()).contains("no GraphQL API ($graphql)").contains("_include");
      assertThat(out.path("schema").asText()).as("requestSchema asks $graphql").contains("no GraphQL API ($graphql)");
      assertThat(out.path("passwordLogin").asText()).contains("no Medplum sign-in API (/auth/login")
          .contains("/oauth2/authorize");
      assertThat(out.path("signOut").path("cleared").asBoolean()).as("signOut: " + out.path("signOut")).isTrue();
    }
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  private static String lastLine(String stdout) {
    String[] lines = stdout.strip().split("\n");
    return lines[lines.length - 1];
  }
}
