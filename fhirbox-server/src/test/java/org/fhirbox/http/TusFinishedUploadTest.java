package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.fhirbox.testing.TestBytes;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.Tus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A finished tus upload, piece by piece: bytes for it are 409 however their length is told, and
 * an empty retry of the last request repeats its answer (204 naming the Binary), with
 * {@code Content-Length: 0} or chunked.
 */
class TusFinishedUploadTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static TestServer server;
  static Tus tus;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
    tus = new Tus(server.client());
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  /** A finished upload of 100 bytes; its URL and the last piece's answer. */
  private static HttpResponse<String> finished(String url) {
    HttpResponse<String> last = tus.patch(url, 0, TestBytes.random(100, 7));
    assertThat(last.statusCode()).as(last.body()).isEqualTo(204);
    return last;
  }

  private static HttpResponse<String> chunked(String url, long offset, byte[] bytes) {
    return server.client().send(tus.request(url).header("Content-Type", Tus.OCTETS)
        .header("Upload-Offset", Long.toString(offset)).method("PATCH", HttpRequest.BodyPublishers.ofInputStream(
            () -> new ByteArrayInputStream(bytes))));
  }

  private static void assertConflict(HttpResponse<String> r) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(409);
    assertThat(r.headers().firstValue("Tus-Resumable")).contains("1.0.0");
    assertThat(JSON.readTree(r.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    assertThat(r.body()).contains("finished");
  }

  @Test
  void bytesWithAContentLengthForAFinishedUploadAre409Not413() throws Exception {
    String url = tus.upload(100, null);
    finished(url);

    HttpResponse<String> more = tus.patch(url, 100, new byte[5]);

    assertConflict(more);
    assertThat(tus.offset(url)).isEqualTo(100);
  }

  @Test
  void chunkedBytesForAFinishedUploadAre409() throws Exception {
    String url = tus.upload(100, null);
    finished(url);

    assertConflict(chunked(url, 100, new byte[5]));
    assertThat(tus.offset(url)).isEqualTo(100);
  }

  @Test
  void anEmptyChunkedRetryOfTheLastPieceRepeatsItsAnswer() {
    String url = tus.upload(100, null);
    HttpResponse<String> last = finished(url);

    HttpResponse<String> again = chunked(url, 100, new byte[0]);

    assertThat(again.statusCode()).as(again.body()).isEqualTo(204);
    assertThat(again.headers().firstValue("Upload-Offset")).contains("100");
    assertThat(Tus.binaryVersion(again)).isEqualTo(Tus.binaryVersion(last));
    HttpResponse<String> declared = tus.patch(url, 100, new byte[0]);
    assertThat(declared.statusCode()).isEqualTo(204);
    assertThat(Tus.binaryVersion(declared)).isEqualTo(Tus.binaryVersion(last));
  }
}
