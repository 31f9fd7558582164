package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
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
            s.getInputStream().read(new byte[4096]);
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
}
