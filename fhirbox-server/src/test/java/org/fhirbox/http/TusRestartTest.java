package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.fhirbox.testing.TestBytes;
import org.fhirbox.testing.TestClock;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.Tus;
import org.junit.jupiter.api.Test;

/**
 * An upload outlives its server: stopped halfway, a new server on the same data (files and H2)
 * answers HEAD with the offset reached and takes the rest, and the Binary gets the right SHA-256
 * and SHA-1 although no process saw every byte. A removal that a kill stops halfway leaves the
 * upload gone, not alive without its bytes.
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

  /**
   * A termination killed halfway leaves the upload gone, not alive without its bytes: its row is
   * deleted before the bytes it names, so a kill between the two leaves only a file no upload
   * names, which the orphan sweeper deletes. The other way round, HEAD showed the upload at its
   * offset and every PATCH answered 500 until it expired.
   */
  @Test
  void aTerminationKilledHalfwayLeavesTheUploadGoneNotBroken() throws Exception {
    Path dir = Files.createTempDirectory("fhirbox-tus-kill");
    TestClock clock = new TestClock();
    try (UploadsOnAnotherNode nodes = UploadsOnAnotherNode.start(dir, Map.of(), clock)) {
      Tus tus = new Tus(nodes.server().client());
      Path tmp = nodes.server().dataDir().resolve("blobs").resolve("tmp");
      List<Path> before = tusFiles(tmp);
      String url = tus.upload(2000, null);
      String id = url.substring(url.lastIndexOf('/') + 1);
      assertThat(tus.patch(url, 0, new byte[1000]).statusCode()).isEqualTo(204);
      List<Path> mine = new ArrayList<>(tusFiles(tmp));
      mine.removeAll(before);
      Path bytes = mine.get(0);

      // killed once one of the two is gone and the other not yet
      nodes.killOnceAroundDatabaseWork(rows -> rows.read(tx -> tx.uploads().find(id)).isEmpty() != !Files.exists(bytes));
      assertThatThrownBy(() -> nodes.uploads().terminate(UploadsOnAnotherNode.serverClient(), id))
          .isInstanceOf(UploadsOnAnotherNode.Killed.class);
      // the killed node's lease has run out, as a restart frees it
      clock.advance(Duration.ofMinutes(1));

      assertThat(tus.head(url).statusCode()).isEqualTo(404);
      assertThat(tus.patch(url, 1000, new byte[1000]).statusCode()).isEqualTo(404);
      assertThat(bytes).as("left to the orphan sweeper").exists();
    } finally {
      TestServer.deleteTree(dir);
    }
  }

  private static List<Path> tusFiles(Path tmp) throws Exception {
    try (Stream<Path> files = Files.list(tmp)) {
      return files.filter(p -> p.toString().endsWith(".tus")).toList();
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

  /**
   * A start that a crash interrupted while it tried O_DIRECT on a file in {@code tmp} left that
   * file; the next start deletes it, and its own probe too.
   */
  @Test
  void aStartDeletesTheProbeFileAnInterruptedStartLeft() throws Exception {
    Path data = Files.createTempDirectory("fhirbox-probe");
    try {
      Path tmp = Files.createDirectories(data.resolve("blobs").resolve("tmp"));
      Path left = Files.write(tmp.resolve("direct-8231907461.probe"), new byte[0]);
      Files.setLastModifiedTime(left, FileTime.from(Instant.now().minus(Duration.ofMinutes(2))));
      // another node's, starting beside this one on the same data folder
      Path probing = Files.write(tmp.resolve("direct-5550172236.probe"), new byte[0]);
      try (TestServer server = TestServer.start(Map.of("FHIRBOX_DATA_DIR", data.toString()))) {
        assertThat(server.client().get("fhir/R4/metadata").statusCode()).isEqualTo(200);
        assertThat(left).doesNotExist();
        try (Stream<Path> files = Files.list(tmp)) {
          assertThat(files.filter(p -> p.toString().endsWith(".probe")).toList()).containsExactly(probing);
        }
      }
    } finally {
      TestServer.deleteTree(data);
    }
  }
}
