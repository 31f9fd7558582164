package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.fhirbox.signing.S3UrlSigner;
import org.fhirbox.storage.S3Settings;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/** The places the web app may load previews from, in each signing mode, and its CSP from them. */
class StorageOriginsTest {
  private static final String BASE = "https://fhir.example.org/fhirbox/";

  @Test
  void withServerSignedUrlsPreviewsComeFromThisServerAlone() {
    StorageOrigins places = new StorageOrigins(Optional.empty());
    assertThat(StorageOrigins.storageUrl(BASE)).isEqualTo("https://fhir.example.org/fhirbox/storage/");
    assertThat(places.objectStoreUrl()).isEmpty();
    assertThat(places.origins(BASE)).containsExactly("https://fhir.example.org");
    assertThat(places.contentSecurityPolicy(BASE))
        .contains("img-src 'self' https://fhir.example.org;", "media-src 'self' https://fhir.example.org;",
            "frame-src 'self' https://fhir.example.org;", "script-src https://fhir.example.org/fhirbox/app/v/;", "style-src https://fhir.example.org/fhirbox/app/v/;",
            "connect-src 'self';")
        .doesNotContain("https:;", "https: ", "blob:", "unsafe-inline", "unsafe-eval");
  }

  @Test
  void withTheS3SignerPreviewsComeFromThisServerAndTheBucketsOriginToo() {
    S3UrlSigner s3 = new S3UrlSigner(S3Settings.builder("fhirbox-blobs")
        .endpoint(URI.create("http://minio.internal:9000")).pathStyle(true).build(), StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDEXAMPLE", "secret")),
        Duration.ofHours(1), Clock.systemUTC(), name -> name, name -> name);
    StorageOrigins places = new StorageOrigins(Optional.of(s3));
    assertThat(places.objectStoreUrl()).contains("http://minio.internal:9000/fhirbox-blobs/blobs/");
    assertThat(places.origins(BASE)).containsExactly("https://fhir.example.org", "http://minio.internal:9000");
    String sources = "'self' https://fhir.example.org http://minio.internal:9000;";
    assertThat(places.contentSecurityPolicy(BASE))
        .contains("img-src " + sources, "media-src " + sources, "frame-src " + sources)
        .doesNotContain("https:;", "https: ", "blob:");
  }
}
