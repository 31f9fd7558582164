package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.fhirbox.http.EarlyRefusalTest.Answer;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A raw Binary {@code POST} with {@code If-None-Exist} that matches is answered 200 with the match,
 * its body never stored (FHIR R4 http.html#ccreate). A client that sends the body without waiting
 * for {@code 100 Continue} (HAPI's Apache client, a browser's fetch) is still sending then, and
 * must read that answer, not a connection reset under it (RFC 9112 §9.6).
 */
class RawBinaryConditionalCreateTest {
  static TestServer server;
  static TestClient http;
  static String auth;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
    http = server.client();
    auth = http.request("x").build().headers().firstValue("Authorization").orElseThrow();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void aMatchIsAnsweredToAClientThatGoesOnSendingAfterTheAnswer() throws Exception {
    String id = TestClient.createdId(http.postBytes("fhir/R4/Binary", "application/pdf", new byte[] {4, 5, 6}));
    for (int attempt = 0; attempt < 3; attempt++) {
      Answer a = sendWhileAnswered("POST /fhir/R4/Binary HTTP/1.1\r\nAuthorization: " + auth
          + "\r\nContent-Type: application/pdf\r\nIf-None-Exist: _id=" + id + "\r\n");

      assertThat(a.status()).as("attempt " + attempt + ": " + a.body()).isEqualTo(200);
      assertThat(a.header("location")).contains("/Binary/" + id + "/_history/1");
      assertThat(a.body()).contains("\"id\":\"" + id + "\"");
    }
    assertThat(http.get("fhir/R4/Binary/" + id + "/_history").body()).doesNotContain("\"versionId\":\"2\"");
  }

  /**
   * Sends {@code head} with a declared length of 10 MiB and a first slice of the body, then, once
   * the answer's head is read, 1 MiB more from another thread, as a client that does not wait for
   * an answer goes on sending. A failed write (a reset) fails the test, as curl and the JDK's
   * HttpClient give up on the exchange when a write fails.
   */
  private static Answer sendWhileAnswered(String head) throws Exception {
    URI base = URI.create(server.baseUrl());
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write((head + "Host: localhost\r\nContent-Length: " + (10 << 20) + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      byte[] slice = new byte[16 << 10];
      out.write(slice);
      out.flush();
      CountDownLatch answered = new CountDownLatch(1);
      CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
        try {
          answered.await();
          for (int written = slice.length; written < 1 << 20; written += slice.length) {
            out.write(slice);
          }
          out.flush();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      InputStream in = s.getInputStream();
      EarlyRefusalTest.Head h = EarlyRefusalTest.readHead(in);
      answered.countDown();
      Answer a = h.withBodyOnly(in);
      writer.get(10, TimeUnit.SECONDS);
      return a;
    }
  }
}
