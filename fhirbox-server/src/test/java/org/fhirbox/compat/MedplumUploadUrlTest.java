package org.fhirbox.compat;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestClient;
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

  /**
   * The URL names no size, but the limit still holds before a byte is read: a declared length
   * over it is answered at once, while the client is still sending, and nothing is stored.
   */
  @Test
  void aDeclaredLengthOverTheLimitIsRefusedBeforeTheBodyIsRead() throws Exception {
    long limit = 64 << 10;
    try (TestServer server = TestServer.start(Map.of("FHIRBOX_MAX_BINARY_BYTES", Long.toString(limit)))) {
      String id = TestClient.createdId(server.client().postJson("fhir/R4/Binary",
          "{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\"}"));
      HttpResponse<String> issued = server.client().get("fhir/R4/Binary/" + id + "/$presigned-url?upload=true");
      URI url = URI.create(new ObjectMapper().readTree(issued.body()).at("/parameter/0/valueUri").asText());

      try (Socket s = new Socket(url.getHost(), url.getPort())) {
        s.setSoTimeout(10_000);
        OutputStream out = s.getOutputStream();
        out.write(("PUT " + url.getRawPath() + "?" + url.getRawQuery() + " HTTP/1.1\r\nHost: localhost\r\n"
            + "Content-Type: text/plain\r\nContent-Length: " + (limit + 1) + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        out.write(new byte[16 << 10]); // a quarter of the body: the rest follows only after an answer
        out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));

        assertThat(in.readLine()).startsWith("HTTP/1.1 413");
        List<String> headers = new ArrayList<>();
        for (String h = in.readLine(); h != null && !h.isEmpty(); h = in.readLine()) {
          headers.add(h.toLowerCase(Locale.ROOT));
        }
        assertThat(headers).contains("connection: close");
        assertThat(in.lines().collect(Collectors.joining("\n"))).contains("OperationOutcome")
            .contains("the limit is " + limit);
      }
      HttpResponse<String> current = server.client().get("fhir/R4/Binary/" + id);
      assertThat(current.headers().firstValue("ETag")).as("nothing stored").hasValue("W/\"1\"");
    }
  }
}
