package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestBytes;
import org.fhirbox.testing.Tus;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code Upload-Length} and {@code Upload-Offset} (tus 1.0.0) whose digits name a number beyond
 * any a server counts bytes in (2^63 - 1) are answered as too large, naming the largest upload
 * ({@code Tus-Max-Size}), not as though they were no non-negative whole number.
 */
class TusNumberHeadersTest {
  /** 2^64: digits, and more than the largest signed 64-bit number. */
  private static final String BEYOND = "18446744073709551616";

  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();
  private static Tus tus;
  private static String maxSize;

  @BeforeAll
  static void client() {
    tus = new Tus(fhirbox.http());
    maxSize = fhirbox.http().send(tus.request(Tus.CREATE).method("OPTIONS", HttpRequest.BodyPublishers.noBody()))
        .headers().firstValue("Tus-Max-Size").orElseThrow();
  }

  private static String diagnostics(HttpResponse<String> r) throws Exception {
    return new ObjectMapper().readTree(r.body()).at("/issue/0/diagnostics").asText();
  }

  @Test
  void anUploadLengthBeyondAnyNumberIsOverTheLimit() throws Exception {
    HttpResponse<String> created = fhirbox.http().send(tus.request(Tus.CREATE).header("Upload-Length", BEYOND)
        .POST(HttpRequest.BodyPublishers.noBody()));

    // as any declared length over Tus-Max-Size
    assertThat(created.statusCode()).as(created.body()).isEqualTo(413);
    assertThat(created.headers().firstValue("Location")).isEmpty();
    assertThat(diagnostics(created)).isEqualTo("Upload-Length " + BEYOND + " exceeds the limit of " + maxSize
        + " bytes");
  }

  @Test
  void aDeferredUploadLengthBeyondAnyNumberIsOverTheLimit() throws Exception {
    HttpResponse<String> created = fhirbox.http().send(tus.request(Tus.CREATE).header("Upload-Defer-Length", "1")
        .POST(HttpRequest.BodyPublishers.noBody()));
    String url = created.headers().firstValue("Location").orElseThrow();

    HttpResponse<String> piece = tus.patch(url, 0, TestBytes.random(3, 5), "Upload-Length", BEYOND);

    assertThat(piece.statusCode()).as(piece.body()).isEqualTo(413);
    assertThat(diagnostics(piece)).isEqualTo("Upload-Length " + BEYOND + " exceeds the limit of " + maxSize
        + " bytes");
    assertThat(tus.offset(url)).isZero();
  }

  @Test
  void anUploadOffsetBeyondAnyNumberIsLargerThanTheLargestUpload() throws Exception {
    String url = tus.upload(3, null);

    HttpResponse<String> piece = fhirbox.http().send(tus.request(url).header("Content-Type", Tus.OCTETS)
        .header("Upload-Offset", BEYOND).method("PATCH", HttpRequest.BodyPublishers.ofByteArray(TestBytes.random(3, 5))));

    assertThat(piece.statusCode()).as(piece.body()).isEqualTo(400);
    assertThat(diagnostics(piece)).isEqualTo("Upload-Offset " + BEYOND + " is larger than the largest upload, "
        + maxSize + " bytes (Tus-Max-Size)");
    assertThat(tus.offset(url)).isZero();
  }
}
