package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;

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
}
