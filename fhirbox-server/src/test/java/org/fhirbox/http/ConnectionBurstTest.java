package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;

/**
 * The listen backlog holds a burst of connections until Jetty accepts them. A connection it has
 * no room for has its SYN dropped and retried by the client after 1 s (then 3 s, 7 s, ...): with
 * a backlog of 50, a burst of 2,000 took 17-20 s to connect.
 */
class ConnectionBurstTest {
  @Test
  void theListenSocketHasTheConfiguredBacklog() throws Exception {
    // never skipped: .ci/run installs iproute2 where ss is missing
    assertThat(Files.isExecutable(Path.of("/usr/bin/ss")) || Files.isExecutable(Path.of("/bin/ss")))
        .as("ss (iproute2) shows a listening socket's backlog").isTrue();
    try (TestServer server = TestServer.start()) {
      assertThat(listenBacklog(server)).isEqualTo(Math.min(1024, somaxconn()));
    }
    try (TestServer server = TestServer.start(Map.of("FHIRBOX_ACCEPT_QUEUE", "300"))) {
      assertThat(listenBacklog(server)).isEqualTo(Math.min(300, somaxconn()));
    }
  }

  @Test
  void aBurstBeyondATinyBacklogWaitsForSynRetries() throws Exception {
    try (TestServer server = TestServer.start(Map.of("FHIRBOX_ACCEPT_QUEUE", "1"))) {
      assertThat(connectAll(server, 1_000)).isGreaterThanOrEqualTo(900);
    }
  }

  /** The Send-Q column of {@code ss -ltn} for a listening socket: its backlog. */
  private static int listenBacklog(TestServer server) throws Exception {
    Process ss = new ProcessBuilder("ss", "-ltnH", "sport = :" + server.server().port()).start();
    String out = new String(ss.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
    ss.waitFor();
    assertThat(out).as("ss output").startsWith("LISTEN");
    return Integer.parseInt(out.split("\\s+")[2]);
  }

  private static int somaxconn() throws Exception {
    // not Files.readString: /proc files report a size of 0, and it then reads one byte of them
    try (var in = Files.newInputStream(Path.of("/proc/sys/net/core/somaxconn"))) {
      return Integer.parseInt(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).trim());
    }
  }

  /** Opens {@code n} connections at once; the milliseconds until the last is established. */
  private static long connectAll(TestServer server, int n) throws Exception {
    URI base = URI.create(server.baseUrl());
    InetSocketAddress address = new InetSocketAddress(base.getHost(), base.getPort());
    List<SocketChannel> channels = new ArrayList<>();
    try (Selector selector = Selector.open()) {
      long start = System.nanoTime();
      for (int i = 0; i < n; i++) {
        SocketChannel c = SocketChannel.open();
        channels.add(c);
        c.configureBlocking(false);
        if (!c.connect(address)) {
          c.register(selector, SelectionKey.OP_CONNECT);
        }
      }
      long deadline = System.currentTimeMillis() + 60_000;
      while (!selector.keys().isEmpty() && System.currentTimeMillis() < deadline) {
        selector.select(1_000);
        for (SelectionKey key : selector.selectedKeys()) {
          if (((SocketChannel) key.channel()).finishConnect()) {
            key.cancel();
          }
        }
        selector.selectedKeys().clear();
      }
      assertThat(channels).allMatch(SocketChannel::isConnected);
      return (System.nanoTime() - start) / 1_000_000;
    } finally {
      for (SocketChannel c : channels) {
        c.close();
      }
    }
  }
}
