package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A FHIR resource body sent with {@code Content-Encoding: gzip} or {@code deflate} is decoded
 * before it is parsed, as a Binary's content is; the size limit holds for the decoded body, and
 * another coding is 415 naming those accepted in {@code Accept-Encoding} (RFC 9110 §15.5.16).
 */
class EncodedResourceBodyTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  static TestClient http() {
    return fhirbox.http();
  }

  private static byte[] encoded(String coding, byte[] plain) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (OutputStream z = coding.equals("gzip") ? new GZIPOutputStream(out) : new DeflaterOutputStream(out)) {
        z.write(plain);
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static HttpResponse<String> send(String method, String path, String coding, byte[] body) {
    return http().send(http().request("fhir/R4/" + path).header("Content-Type", "application/fhir+json")
        .header("Content-Encoding", coding).method(method, HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void gzipAndDeflateResourceBodiesAreDecodedOnCreateUpdateAndBundle() {
    for (String coding : new String[] {"gzip", "deflate", "GZIP"}) {
      HttpResponse<String> created = send("POST", "Patient", coding, encoded(coding.toLowerCase(),
          utf8("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Zipped\"}]}")));
      assertThat(created.statusCode()).as(coding + ": " + created.body()).isEqualTo(201);
      String id = TestClient.createdId(created);
      HttpResponse<String> updated = send("PUT", "Patient/" + id, coding, encoded(coding.toLowerCase(),
          utf8("{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"active\":true}")));
      assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
      assertThat(http().parse(http().get("fhir/R4/Patient/" + id), Patient.class).getActive()).isTrue();
    }
    HttpResponse<String> batch = send("POST", "", "gzip", encoded("gzip", utf8("""
        {"resourceType":"Bundle","type":"batch","entry":[
          {"request":{"method":"POST","url":"Patient"},"resource":{"resourceType":"Patient"}}]}""")));
    assertThat(batch.statusCode()).as(batch.body()).isEqualTo(200);
    assertThat(http().parse(batch, Bundle.class).getEntryFirstRep().getResponse().getStatus()).startsWith("201");
  }

  @Test
  void anotherCodingIs415NamingTheAcceptedOnesAndBrokenDataIs400() {
    for (String coding : new String[] {"br", "compress", "gzip, br"}) {
      HttpResponse<String> r = send("POST", "Patient", coding, utf8("{\"resourceType\":\"Patient\"}"));
      assertThat(r.statusCode()).as(coding + ": " + r.body()).isEqualTo(415);
      assertThat(r.headers().firstValue("Accept-Encoding")).hasValue("gzip, deflate");
      assertThat(http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains("gzip");
    }
    HttpResponse<String> broken = send("POST", "Patient", "gzip", utf8("{\"resourceType\":\"Patient\"}"));
    assertThat(broken.statusCode()).as(broken.body()).isEqualTo(400);
    assertThat(http().parse(broken, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("not valid gzip");
  }

  @Test
  void theLimitHoldsForTheDecodedBody() {
    // 17 MiB of spaces inside a resource: a few KiB as gzip, more than the 16 MiB limit decoded
    byte[] plain = new byte[17 << 20];
    java.util.Arrays.fill(plain, (byte) ' ');
    byte[] head = utf8("{\"resourceType\":\"Patient\"");
    System.arraycopy(head, 0, plain, 0, head.length);
    plain[plain.length - 1] = '}';
    HttpResponse<String> bomb = send("POST", "Patient", "gzip", encoded("gzip", plain));
    assertThat(bomb.statusCode()).as(bomb.body()).isEqualTo(413);
  }
}
