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
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A fetch asks its upstream for one response per connection ({@code Connection: close}): an
 * upstream may close a persistent connection after any response without saying so (RFC 9112
 * §9.3.1, §9.6), and the next request of the fetch (a redirect's target on the same origin) must
 * not be sent on a connection the upstream has already closed.
 */
class IngestionConnectionTest {
  private ServerSocket upstream;

  @AfterEach
  void stop() throws IOException {
    if (upstream != null) {
      upstream.close();
    }
  }

  /** Redirects /files/start to /files/end, which answers "done"; closes after each answer, unannounced. */
  private String serve() throws IOException {
    upstream = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
    Thread t = new Thread(() -> {
      while (!upstream.isClosed()) {
        try {
          Socket accepted = upstream.accept();
          Thread one = new Thread(() -> answer(accepted), "closing-upstream-connection");
          one.setDaemon(true);
          one.start(); // one connection does not hold up the next
        } catch (IOException e) {
          // the test closed the server
        }
      }
    }, "closing-upstream");
    t.setDaemon(true);
    t.start();
    return "http://127.0.0.1:" + upstream.getLocalPort() + "/files/";
  }

  private static void answer(Socket accepted) {
    try (Socket s = accepted) {
      String head = requestHead(s.getInputStream());
      String answer = head.startsWith("GET /files/start")
          ? "HTTP/1.1 302 Found\r\nLocation: /files/end\r\nContent-Length: 0\r\n\r\n"
          : "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\ndone";
      OutputStream out = s.getOutputStream();
      out.write(answer.getBytes(StandardCharsets.US_ASCII));
      out.flush();
    } catch (IOException e) {
      // the client went away
    }
  }

  private static String requestHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int state = 0;
    while (state < 4) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.write(b);
      state = (b == '\r' && state % 2 == 0) || (b == '\n' && state % 2 == 1) ? state + 1 : 0;
    }
    return head.toString(StandardCharsets.US_ASCII);
  }

  @Test
  void aRedirectIsFollowedWhenTheUpstreamClosesEachConnectionUnannounced() throws Exception {
    String prefix = serve();
    try (TestServer s = TestServer.start(Map.of("FHIRBOX_INGEST_ALLOWED_URL_PREFIXES", prefix))) {
      TestClient c = s.client();
      for (int i = 0; i < 5; i++) {
        HttpResponse<String> r = c.send(c.request("fhir/R4/Binary/$import?url="
            + URLEncoder.encode(prefix + "start", StandardCharsets.UTF_8)).POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(r.statusCode()).as("import " + i + ": " + r.body()).isEqualTo(201);
      }
    }
  }
}
