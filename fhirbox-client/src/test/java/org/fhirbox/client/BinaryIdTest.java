package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class BinaryIdTest {
  @ParameterizedTest
  @CsvSource({
      "Binary/abc-123, abc-123",
      "Binary/abc-123/_history/4, abc-123",
      "http://localhost:8103/fhir/R4/Binary/abc-123, abc-123",
      "https://h.example/base/fhir/R4/Binary/abc.1/_history/2, abc.1",
      "http://localhost:8103/storage/abc-123/7?Expires=1700000000&KeyId=k1&Signature=c2ln, abc-123",
      "https://cdn.example/storage/abc-123/7?Expires=1&KeyId=k&Signature=x#frag, abc-123",
  })
  void findsTheIdInEveryUrlFormTheServerWrites(String url, String id) {
    assertThat(FhirboxClient.binaryId(url)).contains(id);
  }

  @ParameterizedTest
  @ValueSource(strings = {"Patient/123", "Binary/", "Binary/a/b", "https://elsewhere.example/file.pdf",
      "http://localhost:8103/storage/abc", "data:image/png;base64,AAAA"})
  void rejectsUrlsThatNameNoBinary(String url) {
    assertThat(FhirboxClient.binaryId(url)).isEmpty();
  }

  /** A URL that names no Binary is refused before any request, and named without its query. */
  @Test
  void aUrlThatNamesNoBinaryIsRefusedWithoutItsQuery() {
    FhirboxClient client = FhirboxClient.builder().baseUrl("http://127.0.0.1:9/").accessToken("t").build();
    assertThatThrownBy(() -> client.presignedUrl(
        "https://bucket.example/k/obj?X-Amz-Signature=0123secret&X-Amz-Credential=AKIA", false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("https://bucket.example/k/obj?…")
        .hasMessageNotContaining("secret").hasMessageNotContaining("AKIA");
  }

  /**
   * A download source that is no URL (a space, a {@code |} in it) is refused before any request,
   * and named without its query, which may hold another service's signature.
   */
  @Test
  void aMalformedDownloadUrlIsRefusedWithoutItsQuery() {
    FhirboxClient client = FhirboxClient.builder().baseUrl("http://127.0.0.1:9/").accessToken("t").build();
    String url = "https://bucket.example/k/my scan.pdf?X-Amz-Signature=0123secret&X-Amz-Credential=AKIA";
    assertThatThrownBy(() -> client.download(url, OutputStream.nullOutputStream()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("https://bucket.example/k/my scan.pdf?…")
        .hasMessageNotContaining("secret").hasMessageNotContaining("AKIA");
    assertThatThrownBy(() -> client.contentFilename(url))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageNotContaining("secret").hasMessageNotContaining("AKIA");
  }
}
