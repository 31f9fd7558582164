package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.Tus;
import org.hl7.fhir.r4.model.Binary;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A new version of a Binary whose request names no securityContext keeps the one the Binary has
 * when the version is stored, not the one it had when the upload began: a securityContext changed
 * while the bytes were still arriving stays changed.
 */
class BinaryContextChangeTest {
  static TestServer server;
  static TestClient http;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(Map.of());
    http = server.client();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void rawPutKeepsTheSecurityContextSetWhileItsBodyArrived() throws Exception {
    String[] patients = twoPatients();
    String id = http.createBinary("fhir/R4/Binary", "text/plain", "Patient/" + patients[0], bytes("v1"));
    URI base = URI.create(server.baseUrl());
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(30_000);
      OutputStream out = s.getOutputStream();
      String auth = http.request("x").build().headers().firstValue("Authorization").orElse("");
      out.write(("PUT /fhir/R4/Binary/" + id + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n"
          + (auth.isEmpty() ? "" : "Authorization: " + auth + "\r\n")
          + "Expect: 100-continue\r\nConnection: close\r\nContent-Length: 2\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      // 100 Continue: the server checked the request and reads its body (RFC 9110 §10.1.1)
      assertThat(head(s.getInputStream())).startsWith("HTTP/1.1 100");

      moveTo(id, patients[1], "v2");
      out.write(bytes("v3"));
      out.flush();
      String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(answer).as(answer).startsWith("HTTP/1.1 200");
    }
    assertCurrent(id, "v3", patients[1]);
  }

  @Test
  void resumableUploadKeepsTheSecurityContextSetWhileItRan() {
    String[] patients = twoPatients();
    String id = http.createBinary("fhir/R4/Binary", "text/plain", "Patient/" + patients[0], bytes("v1"));
    Tus tus = new Tus(http);
    String upload = tus.upload(4, Tus.metadata("binaryId", id, "filetype", "text/plain"));
    assertThat(tus.patch(upload, 0, bytes("v3")).statusCode()).isEqualTo(204);

    moveTo(id, patients[1], "v2");
    HttpResponse<String> last = tus.patch(upload, 2, bytes("v3"));
    assertThat(last.statusCode()).as(last.body()).isEqualTo(204);
    assertCurrent(id, "v3v3", patients[1]);
  }

  /**
   * X-Security-Context names one resource: sent twice with different values (a client's and a
   * proxy's, say) it is 400 and nothing is stored, rather than the first taken silently; the same
   * value twice is that value.
   */
  @Test
  void anUploadNamingTwoSecurityContextsIsRefused() {
    String[] patients = twoPatients();
    String marker = "two contexts " + patients[0];
    HttpResponse<String> two = http.send(http.request("fhir/R4/Binary").header("Content-Type", "text/plain")
        .header("X-Security-Context", "Patient/" + patients[0]).header("X-Security-Context", "Patient/" + patients[1])
        .POST(HttpRequest.BodyPublishers.ofString(marker)));
    assertThat(two.statusCode()).as(two.body()).isEqualTo(400);
    assertThat(two.body()).contains("X-Security-Context");

    HttpResponse<String> same = http.send(http.request("fhir/R4/Binary").header("Content-Type", "text/plain")
        .header("X-Security-Context", "Patient/" + patients[0]).header("X-Security-Context", "Patient/" + patients[0])
        .POST(HttpRequest.BodyPublishers.ofString(marker)));
    assertThat(same.statusCode()).as(same.body()).isEqualTo(201);
    assertThat(http.parse(same, Binary.class).getSecurityContext().getReference()).isEqualTo("Patient/" + patients[0]);
  }

  private static String[] twoPatients() {
    return new String[] {TestClient.createdId(http.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}")),
        TestClient.createdId(http.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"))};
  }

  /** A raw PUT that files Binary/{id} under Patient/{patient}. */
  private static void moveTo(String id, String patient, String content) {
    HttpResponse<String> moved = http.send(http.request("fhir/R4/Binary/" + id).header("Content-Type", "text/plain")
        .header("X-Security-Context", "Patient/" + patient).PUT(HttpRequest.BodyPublishers.ofString(content)));
    assertThat(moved.statusCode()).as(moved.body()).isEqualTo(200);
  }

  private static void assertCurrent(String id, String content, String patient) {
    assertThat(http.sendBytes(http.request("fhir/R4/Binary/" + id).header("Accept", "*/*")).body())
        .isEqualTo(bytes(content));
    assertThat(http.parse(http.get("fhir/R4/Binary/" + id), Binary.class).getSecurityContext().getReference())
        .isEqualTo("Patient/" + patient);
  }

  /** The status line and headers of one answer, up to the blank line that ends them. */
  private static String head(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    while (!b.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        break;
      }
      b.write(c);
    }
    return b.toString(StandardCharsets.US_ASCII);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
