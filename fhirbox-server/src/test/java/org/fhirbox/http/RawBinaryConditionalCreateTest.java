package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

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
      // 10 MiB declared, 16 KiB sent, and more (up to 1 MiB) while the answer is read
      Answer a = EarlyRefusalTest.sendOnceAnswered(server, "POST /fhir/R4/Binary HTTP/1.1\r\nAuthorization: " + auth
          + "\r\nContent-Type: application/pdf\r\nIf-None-Exist: _id=" + id + "\r\n", EarlyRefusalTest.DECLARED, false);

      assertThat(a.status()).as("attempt " + attempt + ": " + a.body()).isEqualTo(200);
      assertThat(a.header("location")).contains("/Binary/" + id + "/_history/1");
      assertThat(a.body()).contains("\"id\":\"" + id + "\"");
    }
    assertThat(http.get("fhir/R4/Binary/" + id + "/_history").body()).doesNotContain("\"versionId\":\"2\"");
  }
}
