package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.ServerForClass;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A PUT with {@code Content-Range} is a partial PUT (RFC 9110 §14.5): its body is a piece of the
 * content, not the whole. No route here takes pieces that way (tus does, with PATCH), so such a PUT
 * is refused, 400, rather than stored as though the piece were the whole content.
 */
class PartialPutTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  static TestClient http() {
    return fhirbox.http();
  }
  static final HttpClient ANONYMOUS = HttpClient.newHttpClient();

  @Test
  void aRawBinaryPutOfAPieceIsRefusedAndTheContentStays() {
    String id = TestClient.createdId(http().postBytes("fhir/R4/Binary", "text/plain",
        "0123456789".getBytes(StandardCharsets.UTF_8)));

    HttpResponse<String> r = http().send(http().request("fhir/R4/Binary/" + id).header("Content-Type", "text/plain")
        .header("Content-Range", "bytes 10-12/13").PUT(HttpRequest.BodyPublishers.ofString("abc")));

    assertRefused(r);
    assertThat(content(id)).isEqualTo("0123456789");
  }

  @Test
  void aPieceSentToMedplumsUploadUrlIsRefusedAndTheUrlStaysUsable() throws Exception {
    String id = TestClient.createdId(http().postJson("fhir/R4/Binary",
        "{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\"}"));
    HttpResponse<String> issued = http().get("fhir/R4/Binary/" + id + "/$presigned-url?upload=true");
    assertThat(issued.statusCode()).as(issued.body()).isEqualTo(200);
    URI url = URI.create(http().parse(issued, Parameters.class).getParameterFirstRep().getValue().primitiveValue());

    HttpResponse<String> piece = put(url, "abc", "Content-Range", "bytes 0-2/10");

    assertRefused(piece);
    HttpResponse<String> whole = put(url, "abcdefghij");
    assertThat(whole.statusCode()).as(whole.body()).isEqualTo(200);
    assertThat(content(id)).isEqualTo("abcdefghij");
  }

  @Test
  void aPieceSentToAnUploadUrlIsRefused() throws Exception {
    HttpResponse<String> issued = http().postJson("fhir/R4/Binary/$upload-url", "{\"resourceType\":\"Parameters\","
        + "\"parameter\":[{\"name\":\"size\",\"valueInteger\":3},{\"name\":\"contentType\",\"valueString\":\"text/plain\"}]}");
    assertThat(issued.statusCode()).as(issued.body()).isEqualTo(200);
    Parameters p = http().parse(issued, Parameters.class);
    URI url = URI.create(p.getParameter("url").getValue().primitiveValue());

    HttpResponse<String> piece = put(url, "abc", "Content-Range", "bytes 0-2/3");

    assertRefused(piece);
    String binary = ((Reference) p.getParameter("binary").getValue()).getReference();
    assertThat(http().sendBytes(http().request("fhir/R4/" + binary).GET()).statusCode()).isEqualTo(404);
  }

  /** A PUT of {@code text} as text/plain to a signed URL, without credentials, with {@code headers} added. */
  private static HttpResponse<String> put(URI url, String text, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(url).header("Content-Type", "text/plain")
        .PUT(HttpRequest.BodyPublishers.ofString(text));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return ANONYMOUS.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void assertRefused(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains("Content-Range");
  }

  private static String content(String id) {
    return new String(http().sendBytes(http().request("fhir/R4/Binary/" + id).GET()).body(), StandardCharsets.UTF_8);
  }
}
