package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A request that reaches no server says why, where the JDK's exception carries no message, and
 * {@link FhirboxException#otherHost()} tells another host from the server.
 */
class ConnectFailureTest {
  @Test
  void anUnknownHostIsNamedAsSuch() {
    // .invalid never resolves (RFC 6761 §6.4)
    FhirboxClient client = FhirboxClient.builder().baseUrl("http://fhirbox.invalid/").accessToken("t")
        .retryPolicy(RetryPolicy.NONE).build();

    assertThatThrownBy(() -> client.download("Binary/1", OutputStream.nullOutputStream()))
        .isInstanceOf(FhirboxException.class)
        .hasMessage("GET /fhir/R4/Binary/1 failed: the server's host name is unknown")
        .extracting(e -> ((FhirboxException) e).otherHost()).isEqualTo(Optional.empty());
  }

  @Test
  void aPortWhereNoServerListensSaysTheConnectionFailed() throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    FhirboxClient client = FhirboxClient.builder().baseUrl("http://127.0.0.1:" + port + "/").accessToken("t")
        .retryPolicy(RetryPolicy.NONE).build();

    assertThatThrownBy(() -> client.download("Binary/1", OutputStream.nullOutputStream()))
        .isInstanceOf(FhirboxException.class)
        .hasMessage("GET /fhir/R4/Binary/1 failed: the connection could not be made")
        .extracting(e -> ((FhirboxException) e).otherHost()).isEqualTo(Optional.empty());
  }

  @Test
  void aDownloadFromAnotherHostThatCannotBeReachedNamesThatHostWithoutTheQuery() throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    try (PeerServer server = new PeerServer()) {
      FhirboxClient client = FhirboxClient.builder().baseUrl(server.root()).accessToken("t")
          .retryPolicy(RetryPolicy.NONE).build();

      assertThatThrownBy(() -> client.download("http://127.0.0.1:" + port + "/files/x.pdf?sig=s1gnature",
          OutputStream.nullOutputStream()))
          .isInstanceOf(FhirboxException.class)
          .hasMessage("GET http://127.0.0.1:" + port + "/files/x.pdf failed: the connection could not be made")
          .extracting(e -> ((FhirboxException) e).otherHost()).isEqualTo(Optional.of("127.0.0.1:" + port));
    }
  }

  @Test
  void anUnknownHostOtherThanTheServerIsNotCalledTheServers() throws Exception {
    try (PeerServer server = new PeerServer()) {
      FhirboxClient client = FhirboxClient.builder().baseUrl(server.root()).accessToken("t")
          .retryPolicy(RetryPolicy.NONE).build();

      assertThatThrownBy(() -> client.download("http://files.invalid/x.pdf", OutputStream.nullOutputStream()))
          .isInstanceOf(FhirboxException.class)
          .hasMessage("GET http://files.invalid/x.pdf failed: the host name is unknown")
          .extracting(e -> ((FhirboxException) e).otherHost()).isEqualTo(Optional.of("files.invalid"));
    }
  }
  @Test
  void aServerThatClosesTheConnectionWithoutAnsweringIsNamedAsSuch() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Thread closer = new Thread(() -> {
        while (!server.isClosed()) {
          try (Socket s = server.accept()) {
            readHead(s);
          } catch (IOException e) {
            return;
          }
        }
      });
      closer.setDaemon(true);
      closer.start();
      FhirboxClient client = FhirboxClient.builder().baseUrl("http://127.0.0.1:" + server.getLocalPort() + "/")
          .accessToken("t").retryPolicy(RetryPolicy.NONE).build();

      assertThatThrownBy(() -> client.download("Binary/1", OutputStream.nullOutputStream()))
          .isInstanceOf(FhirboxException.class)
          .hasMessage("GET /fhir/R4/Binary/1 failed: the server closed the connection without answering");
      closer.interrupt();
    }
  }

  @Test
  void aServerThatNeverAnswersIsNamedWithTheTimeoutAndTheAttempts() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      List<Socket> held = new CopyOnWriteArrayList<>();
      Thread holder = new Thread(() -> {
        while (!server.isClosed()) {
          try {
            held.add(server.accept());
          } catch (IOException e) {
            return;
          }
        }
      });
      holder.setDaemon(true);
      holder.start();
      FhirboxClient client = FhirboxClient.builder().baseUrl("http://127.0.0.1:" + server.getLocalPort() + "/")
          .accessToken("t").requestTimeout(Duration.ofSeconds(1))
          .retryPolicy(new RetryPolicy(1, Duration.ofMillis(10), Duration.ofMillis(10), Duration.ZERO)).build();

      assertThatThrownBy(() -> client.download("Binary/1", OutputStream.nullOutputStream()))
          .isInstanceOf(FhirboxException.class)
          .hasMessage("GET /fhir/R4/Binary/1 failed: no answer within 1 s, in each of 2 attempts");
      for (Socket s : held) {
        s.close();
      }
    }
  }
  /** Reads a request's head, to its blank line, so that closing the socket then sends no reset. */
  private static void readHead(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        return;
      }
      matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : (b == '\r' ? 1 : 0);
    }
  }

  /** A server on the loopback whose {@code i}-th connection (from 0) {@code serve} handles on its own thread. */
  private static ServerSocket serving(IntObjConsumer serve) throws IOException {
    ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t = new Thread(() -> {
      for (int i = 0; !server.isClosed(); i++) {
        try {
          serve.accept(i, server.accept());
        } catch (IOException e) {
          return;
        }
      }
    });
    t.setDaemon(true);
    t.start();
    return server;
  }

  interface IntObjConsumer {
    void accept(int i, Socket s) throws IOException;
  }

  @Test
  void anotherHostThatClosesTheConnectionWithoutAnsweringIsNotCalledTheServer() throws Exception {
    try (ServerSocket other = serving((i, s) -> {
      readHead(s);
      s.close();
    }); PeerServer server = new PeerServer()) {
      FhirboxClient client = FhirboxClient.builder().baseUrl(server.root()).accessToken("t")
          .retryPolicy(RetryPolicy.NONE).build();
      String url = "http://127.0.0.1:" + other.getLocalPort() + "/files/x.pdf";

      assertThatThrownBy(() -> client.download(url, OutputStream.nullOutputStream()))
          .isInstanceOf(FhirboxException.class)
          .hasMessage("GET " + url + " failed: the host closed the connection without answering");
    }
  }

  @Test
  void aTimeoutAfterAnAnsweredAttemptIsToldAsTheLastAttemptsOnly() throws Exception {
    List<Socket> held = new CopyOnWriteArrayList<>();
    try (ServerSocket server = serving((i, s) -> {
      held.add(s);
      if (i == 0) {
        readHead(s);
        s.getOutputStream().write("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 0\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII));
      }
    })) {
      FhirboxClient client = FhirboxClient.builder().baseUrl("http://127.0.0.1:" + server.getLocalPort() + "/")
          .accessToken("t").requestTimeout(Duration.ofSeconds(1))
          .retryPolicy(new RetryPolicy(1, Duration.ofMillis(10), Duration.ofMillis(10), Duration.ZERO)).build();

      assertThatThrownBy(() -> client.download("Binary/1", OutputStream.nullOutputStream()))
          .isInstanceOf(FhirboxException.class)
          .hasMessage("GET /fhir/R4/Binary/1 failed: no answer within 1 s on the last of 2 attempts");
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
  }

  @Test
  void aStreamShorterThanTheLengthItWasGivenIsToldAsSuch() throws Exception {
    List<Socket> held = new CopyOnWriteArrayList<>();
    try (ServerSocket server = serving((i, s) -> held.add(s))) {
      FhirboxClient client = FhirboxClient.builder().baseUrl("http://127.0.0.1:" + server.getLocalPort() + "/")
          .accessToken("t").retryPolicy(RetryPolicy.NONE).build();

      assertThatThrownBy(() -> client.createBinary(Upload.of(new ByteArrayInputStream(new byte[50]), 100,
          "application/octet-stream")))
          .isInstanceOf(FhirboxException.class)
          .hasMessage("POST /fhir/R4/Binary failed: the body sent ended before the length it was given");
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
  }
}
