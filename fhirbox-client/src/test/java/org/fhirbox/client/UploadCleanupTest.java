package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An upload whose connection breaks part way leaves nothing of this side open. */
class UploadCleanupTest {
  @TempDir
  Path work;
  private ServerSocket peer;
  private Thread accepting;

  @AfterEach
  void stop() throws Exception {
    if (peer != null) {
      peer.close();
    }
    if (accepting != null) {
      accepting.join(5000);
    }
  }

  /** A peer that reads a request's head and 64 KiB of its body, then drops the connection. */
  private String cuttingPeer() throws IOException {
    peer = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    accepting = new Thread(() -> {
      while (!peer.isClosed()) {
        try (Socket s = peer.accept()) {
          InputStream in = s.getInputStream();
          int matched = 0;
          while (matched < 4) { // up to the blank line that ends the head
            int c = in.read();
            if (c < 0) {
              break;
            }
            matched = c == "\r\n\r\n".charAt(matched) ? matched + 1 : (c == '\r' ? 1 : 0);
          }
          in.readNBytes(64 * 1024);
          s.setSoLinger(true, 0); // a reset, as a proxy or a crashed server gives
        } catch (IOException closed) {
          // the test is over
        }
      }
    });
    accepting.setDaemon(true);
    accepting.start();
    return "http://127.0.0.1:" + peer.getLocalPort() + "/";
  }

  @Test
  void aFileUploadCutPartWayClosesTheFile() throws Exception {
    Path file = work.resolve("scan.bin");
    Files.write(file, new byte[16 << 20]);
    FhirboxClient client = FhirboxClient.builder().baseUrl(cuttingPeer()).retryPolicy(RetryPolicy.NONE).build();

    assertThatThrownBy(() -> client.createBinary(Upload.of(file, "application/octet-stream")))
        .isInstanceOf(FhirboxException.class);

    assertThat(openDescriptorsOfSoon(file)).as("descriptors still open on the uploaded file").isZero();
  }

  @Test
  void aStreamUploadCutPartWayClosesTheStream() throws Exception {
    java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    InputStream content = new java.io.ByteArrayInputStream(new byte[16 << 20]) {
      @Override
      public void close() {
        closed.set(true);
      }
    };
    FhirboxClient client = FhirboxClient.builder().baseUrl(cuttingPeer()).retryPolicy(RetryPolicy.NONE).build();

    assertThatThrownBy(() -> client.createBinary(Upload.of(content, -1, "application/octet-stream")))
        .isInstanceOf(FhirboxException.class);

    assertThat(closed).as("the stream was closed after the upload").isTrue();
  }

  /** Descriptors of this process on {@code file}, waiting up to 2 s for them to go to 0. */
  private static long openDescriptorsOfSoon(Path file) throws Exception {
    long open = openDescriptorsOf(file);
    for (int i = 0; i < 20 && open > 0; i++) {
      Thread.sleep(100);
      open = openDescriptorsOf(file);
    }
    return open;
  }

  /** How many of this process's file descriptors point at {@code file} (Linux's /proc). */
  static long openDescriptorsOf(Path file) throws IOException {
    Path real = file.toRealPath();
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.filter(fd -> {
        try {
          return Files.readSymbolicLink(fd).equals(real);
        } catch (IOException e) {
          return false; // closed between the listing and the look
        }
      }).count();
    }
  }
}
