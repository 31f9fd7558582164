package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import org.junit.jupiter.api.Test;

class CallTest {
  @Test
  void itsTextNamesNeitherHeaderValuesNorTheQuery() {
    Call call = Call.of("POST", URI.create("https://fhir.example/oauth2/token?X-Amz-Signature=abc123"))
        .header("Authorization", "Basic c2VjcmV0LWlkOnNlY3JldC12YWx1ZQ==")
        .header("Content-Type", "application/x-www-form-urlencoded");

    assertThat(call.toString())
        .contains("POST", "https://fhir.example/oauth2/token", "Authorization", "Content-Type")
        .doesNotContain("c2VjcmV0", "abc123", "x-www-form-urlencoded");
  }
}
