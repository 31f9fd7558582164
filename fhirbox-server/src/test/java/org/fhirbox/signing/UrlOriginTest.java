package org.fhirbox.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** {@link UrlOrigin}: written as a browser's {@code new URL(u).origin}, which the web app compares it with. */
class UrlOriginTest {
  @Test
  void anOriginIsLowerCaseSchemeHostAndPortWithoutTheDefaultPort() {
    assertThat(UrlOrigin.of("HTTPS://Bucket.S3.amazonaws.com:443/blobs/"))
        .isEqualTo("https://bucket.s3.amazonaws.com");
    assertThat(UrlOrigin.of("http://localhost:80/")).isEqualTo("http://localhost");
    assertThat(UrlOrigin.of("http://localhost:8103/fhirbox/")).isEqualTo("http://localhost:8103");
    assertThat(UrlOrigin.of("https://user:pw@[::1]:8443/x?y")).isEqualTo("https://[::1]:8443");
    assertThat(UrlOrigin.of("https://legacy_bucket.s3.amazonaws.com/"))
        .isEqualTo("https://legacy_bucket.s3.amazonaws.com");
  }

  @Test
  void aUrlWithoutAnHttpOriginIsRefused() {
    for (String url : new String[] {"/storage/", "Binary/1", "ftp://host/", "https://", "mailto:a@b.example"}) {
      assertThatThrownBy(() -> UrlOrigin.of(url)).as(url).isInstanceOf(IllegalArgumentException.class);
    }
  }
}
