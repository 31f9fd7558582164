package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The request timeout waits for an answer; it does not cut off a body that is still being sent on a slow link. */
class UploadTimeoutTest {
  @TempDir
  Path work;

  @Test
  void aSlowUploadIsNotCutOffByTheRequestTimeout() throws Exception {
    // a real HTTP peer that takes the body at about 640 KiB/s: 2 MiB in about 3 s
    HttpServer slow = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    slow.createContext("/", ex -> {
      byte[] buf = new byte[64 * 1024];
      long received = 0;
      try (InputStream in = ex.getRequestBody()) {
        for (int n = in.readNBytes(buf, 0, buf.length); n > 0; n = in.readNBytes(buf, 0, buf.length)) {
          received += n;
          Thread.sleep(100);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(e);
      }
      byte[] body = ("{\"resourceType\":\"Binary\",\"id\":\"b1\",\"contentType\":\"application/octet-stream\","
          + "\"meta\":{\"tag\":[{\"code\":\"" + received + "\"}]}}").getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/fhir+json");
      ex.sendResponseHeaders(201, body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    });
    slow.start();
    try {
      Path file = work.resolve("f.bin");
      Files.write(file, new byte[2 << 20]);
      FhirboxClient client = FhirboxClient.builder().baseUrl("http://127.0.0.1:" + slow.getAddress().getPort() + "/")
          .requestTimeout(Duration.ofSeconds(1)).build();

      var binary = client.createBinary(Upload.of(file, "application/octet-stream"));

      assertThat(binary.getIdElement().getIdPart()).isEqualTo("b1");
      assertThat(binary.getMeta().getTagFirstRep().getCode()).as("bytes the peer received").isEqualTo(
          Long.toString(2 << 20));
    } finally {
      slow.stop(0);
    }
  }
}
