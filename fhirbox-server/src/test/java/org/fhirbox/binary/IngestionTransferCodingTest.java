package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Binary;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A transfer coding other than chunked (RFC 9112 §6.1, §7: {@code Transfer-Encoding: gzip, chunked})
 * is a coding of the message, not of the content: the content stored is what it decodes to,
 * under the expansion guard of a {@code Content-Encoding}, never the encoded bytes as if they
 * were the file. The upstream is a raw socket, since an HTTP server library writes its own
 * {@code Transfer-Encoding}.
 */
class IngestionTransferCodingTest {
  private ServerSocket upstream;

  @AfterEach
  void stop() throws IOException {
    if (upstream != null) {
      upstream.close();
    }
  }

  /** Answers every request with {@code head} and then {@code body} as one chunk, and closes. */
  private String serve(String head, byte[] body) throws IOException {
    upstream = new ServerSocket(0, 4, InetAddress.getLoopbackAddress());
    Thread t = new Thread(() -> {
      while (!upstream.isClosed()) {
        try (Socket s = upstream.accept()) {
          InputStream in = s.getInputStream();
          int state = 0;
          while (state < 4) { // up to the blank line that ends the request head
            int b = in.read();
            if (b < 0) {
              break;
            }
            state = (b == '\r' && state % 2 == 0) || (b == '\n' && state % 2 == 1) ? state + 1 : 0;
          }
          OutputStream out = s.getOutputStream();
          out.write((head + "Connection: close\r\n\r\n" + Integer.toHexString(body.length) + "\r\n")
              .getBytes(StandardCharsets.US_ASCII));
          out.write(body);
          out.write("\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          out.flush();
        } catch (IOException e) {
          // the client went away, or the test closed the server
        }
      }
    }, "transfer-coding-upstream");
    t.setDaemon(true);
    t.start();
    return "http://127.0.0.1:" + upstream.getLocalPort() + "/files/";
  }

  private static byte[] gzip(byte[] content) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(content);
    }
    return out.toByteArray();
  }

  private static HttpResponse<String> importUrl(TestClient c, String url) {
    return c.send(c.request("fhir/R4/Binary/$import?url=" + URLEncoder.encode(url, StandardCharsets.UTF_8))
        .POST(HttpRequest.BodyPublishers.noBody()));
  }

  @Test
  void gzipAsATransferCodingIsDecodedNotStored() throws Exception {
    byte[] content = Upstream.content(5000, 31);
    String prefix = serve("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: gzip, chunked\r\n",
        gzip(content));
    try (TestServer s = TestServer.start(Map.of("FHIRBOX_INGEST_ALLOWED_URL_PREFIXES", prefix))) {
      TestClient c = s.client();
      HttpResponse<String> r = importUrl(c, prefix + "a.txt");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
      String id = c.parse(r, Binary.class).getIdElement().getIdPart();
      HttpResponse<byte[]> raw = c.sendBytes(c.request("fhir/R4/Binary/" + id).GET());
      assertThat(raw.body()).isEqualTo(content);
    }
  }

  @Test
  void aTransferCodedBombMeetsTheExpansionGuard() throws Exception {
    String prefix = serve("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: gzip, chunked\r\n",
        gzip(new byte[32 << 20])); // past the 10 MiB the guard lets through, at 1000:1
    try (TestServer s = TestServer.start(Map.of("FHIRBOX_INGEST_ALLOWED_URL_PREFIXES", prefix))) {
      HttpResponse<String> r = importUrl(s.client(), prefix + "bomb.bin");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(413);
    }
  }
}
