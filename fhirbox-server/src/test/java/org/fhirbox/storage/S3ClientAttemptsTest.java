package org.fhirbox.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The S3 client tries a request {@link S3BlobStore#ATTEMPTS} times before it gives up, each on a
 * connection of its own when the server drops them: a TCP server on loopback resets every
 * connection it accepts without answering, and counts them. A client built with interceptors (as
 * tests build theirs) keeps the attempts.
 */
class S3ClientAttemptsTest {

  @ParameterizedTest(name = "with {0} interceptors")
  @ValueSource(ints = {0, 1})
  void aPutThatLosesItsConnectionEveryTimeIsSentSixTimes(int interceptors) throws Exception {
    AtomicInteger accepted = new AtomicInteger();
    try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Thread acceptor = new Thread(() -> {
        while (!server.isClosed()) {
          try (Socket s = server.accept()) {
            accepted.incrementAndGet();
            s.setSoLinger(true, 0); // a reset, as a server that dropped the connection sends
          } catch (IOException e) {
            return;
          }
        }
      }, "closing-server");
      acceptor.setDaemon(true);
      acceptor.start();

      S3Settings settings = S3Settings.builder("bucket")
          .endpoint(URI.create("http://127.0.0.1:" + server.getLocalPort())).pathStyle(true).build();
      ExecutionInterceptor[] added = new ExecutionInterceptor[interceptors];
      Arrays.fill(added, new ExecutionInterceptor() {});
      try (S3Client s3 = S3BlobStore.clientBuilder(settings,
          StaticCredentialsProvider.create(AwsBasicCredentials.create("id", "secret")), added).build()) {
        assertThatThrownBy(() -> s3.putObject(b -> b.bucket("bucket").key("k"), RequestBody.fromString("body")))
            .isInstanceOf(SdkClientException.class)
            .hasMessageContaining("SDK Attempt Count: " + S3BlobStore.ATTEMPTS);
      }
    }
    assertThat(S3BlobStore.ATTEMPTS).isEqualTo(6);
    // one connection per attempt at least; the JDK's client may itself send a request again once
    // when a connection dies before any answer
    assertThat(accepted.get()).isBetween(S3BlobStore.ATTEMPTS, 2 * S3BlobStore.ATTEMPTS);
  }
}
