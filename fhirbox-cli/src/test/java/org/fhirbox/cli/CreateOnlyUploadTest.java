package org.fhirbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that may create Binaries but not read them ({@code system/Binary.c}, a drop box) gets
 * the created Binary from every way of uploading: the raw {@code POST} answers it, and a resumable
 * or direct upload, whose read of the new Binary is refused, prints the one the upload named.
 */
class CreateOnlyUploadTest extends ServerFixture {
  @TempDir
  Path dir;

  private Cli dropBox(Path cache) {
    Cli.Result r = cli.run("admin", "create-client", "--project", "default", "--scope", "system/Binary.c");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    return Cli.withEnv(Map.of("FHIRBOX_SERVER", server.baseUrl(),
        "FHIRBOX_CLIENT_ID", r.json().path("clientId").asText(),
        "FHIRBOX_CLIENT_SECRET", r.json().path("clientSecret").asText(),
        "XDG_CACHE_HOME", cache.toString()));
  }

  private Path file(String name, int size) throws Exception {
    byte[] data = new byte[size];
    new Random(size).nextBytes(data);
    return Files.write(dir.resolve(name), data);
  }

  /** The admin downloads what the drop box uploaded: the same bytes. */
  private void assertStored(JsonNode binary, Path file) throws Exception {
    assertThat(binary.path("resourceType").asText()).isEqualTo("Binary");
    assertThat(binary.path("contentType").asText()).isEqualTo("application/pdf");
    Path back = dir.resolve("back-" + file.getFileName());
    Cli.Result down = cli.run("download", "Binary/" + binary.path("id").asText(), "-o", back.toString());
    assertThat(down.exitCode()).as(down.toString()).isZero();
    assertThat(Files.readAllBytes(back)).isEqualTo(Files.readAllBytes(file));
  }

  @Test
  void aRawUploadPrintsTheCreatedBinary() throws Exception {
    Path file = file("raw.pdf", 10_000);
    Cli.Result up = dropBox(dir.resolve("cache")).run("upload", file.toString());
    assertThat(up.exitCode()).as(up.toString()).isZero();
    assertStored(up.json(), file);
  }

  @Test
  void aResumableUploadPrintsTheBinaryItCreatedAndKeepsNoState() throws Exception {
    Path cache = dir.resolve("cache");
    Path file = file("tus.pdf", 300_000);
    Cli.Result up = dropBox(cache).run("upload", file.toString(), "--resumable", "--chunk-size", "100000");
    assertThat(up.exitCode()).as(up.toString()).isZero();
    assertThat(up.json().path("meta").path("versionId").asText()).isEqualTo("1");
    assertStored(up.json(), file);
    try (Stream<Path> kept = Files.walk(cache)) {
      assertThat(kept.filter(Files::isRegularFile)).as("no upload left to resume").isEmpty();
    }
  }

  @Test
  void aDirectUploadPrintsTheBinaryItCreated() throws Exception {
    Path file = file("direct.pdf", 200_000);
    Cli.Result up = dropBox(dir.resolve("cache")).run("upload", file.toString(), "--direct");
    assertThat(up.exitCode()).as(up.toString()).isZero();
    assertStored(up.json(), file);
  }
}
