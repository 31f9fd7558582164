package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.fhirbox.testing.Tus;
import org.fhirbox.testing.ServerForClass;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A creation with upload (tus creation-with-upload) whose body is cut off: its client never got
 * the upload's URL, so the upload is ended at once with what arrived, and the answer says so
 * rather than that the bytes are kept at an offset nobody can resume from.
 */
class TusCutCreationTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  @Test
  void aCreationCutOffSaysTheUploadIsGoneAndKeepsNothing() throws Exception {
    long partials = fhirbox.server().blobFiles(true);
    URI base = URI.create(fhirbox.server().baseUrl());
    String auth = fhirbox.http().request("x").build().headers().firstValue("Authorization").orElseThrow();
    String answer;
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      OutputStream out = s.getOutputStream();
      out.write(("POST /fhir/R4/Binary/$upload HTTP/1.1\r\nHost: " + base.getAuthority() + "\r\nAuthorization: " + auth
          + "\r\nTus-Resumable: 1.0.0\r\nUpload-Length: 10\r\nContent-Type: application/offset+octet-stream\r\n"
          + "Content-Length: 6\r\n\r\nabc").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      s.shutdownOutput();
      answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    assertThat(answer).startsWith("HTTP/1.1 400").doesNotContainIgnoringCase("\r\nLocation:");
    assertThat(answer).contains("create the upload again").doesNotContain("is stored", "offset is now");
    assertThat(fhirbox.server().blobFiles(true)).isEqualTo(partials);
  }

  @Test
  void aCreationWhoseFirstPieceIsRefusedSaysTheUploadIsGone() throws Exception {
    Tus tus = new Tus(fhirbox.http());
    byte[] abc = "abc".getBytes(StandardCharsets.US_ASCII);
    // a checksum of other bytes (460), and more bytes than the declared length (413)
    List<HttpRequest.Builder> creations = List.of(
        tus.request(Tus.CREATE).header("Upload-Length", "3").header("Upload-Checksum", Tus.checksum("sha1", new byte[3])),
        tus.request(Tus.CREATE).header("Upload-Length", "2"));
    List<Integer> statuses = List.of(460, 413);
    for (int i = 0; i < creations.size(); i++) {
      HttpResponse<String> r = fhirbox.http().send(creations.get(i).header("Content-Type", Tus.OCTETS)
          .POST(HttpRequest.BodyPublishers.ofByteArray(abc)));

      assertThat(r.statusCode()).as(r.body()).isEqualTo(statuses.get(i));
      assertThat(r.headers().firstValue("Location")).isEmpty();
      assertThat(r.body()).contains("create the upload again").doesNotContain("the offset stays");
    }
  }
}
