package org.fhirbox.signing;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.storage.S3Settings;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * Where {@link S3UrlSigner}'s URLs point, stated from the settings alone (no S3 server): the bucket's
 * own host when it is virtual-hosted, the endpoint's when it is path-style.
 */
class S3UrlOriginTest {
  private static final BinaryContent CONTENT = new BinaryContent("default", "b1", 1,
      new BlobKey("0123456789abcdef0123456789abcdef"), 10, "00", "00", "image/png", "scan.png", null, Instant.EPOCH);

  private static S3UrlSigner signer(S3Settings.Builder settings) {
    return new S3UrlSigner(settings.build(), StaticCredentialsProvider.create(
        AwsBasicCredentials.create("AKIDEXAMPLE", "secret")), Duration.ofHours(1), Clock.systemUTC(), name -> name,
        name -> name);
  }

  /** The prefix it states, after checking that a URL it signs starts with it and has its origin. */
  private static String prefixOf(S3UrlSigner signer) {
    String url = signer.sign("http://fhirbox.example/", CONTENT, null);
    assertThat(url).startsWith(signer.urlPrefix());
    assertThat(UrlOrigin.of(url)).isEqualTo(signer.origin());
    return signer.urlPrefix();
  }

  @Test
  void aVirtualHostedBucketOnAwsIsItsOwnOrigin() {
    S3UrlSigner signer = signer(S3Settings.builder("fhirbox-blobs").region("eu-central-1"));
    assertThat(prefixOf(signer)).isEqualTo("https://fhirbox-blobs.s3.eu-central-1.amazonaws.com/blobs/");
    assertThat(signer.origin()).isEqualTo("https://fhirbox-blobs.s3.eu-central-1.amazonaws.com");
  }

  @Test
  void aPathStyleBucketSharesItsEndpointsOriginAndIsToldApartByItsPath() {
    S3UrlSigner signer = signer(S3Settings.builder("fhirbox-blobs").endpoint(URI.create("http://minio.internal:9000"))
        .pathStyle(true).keyPrefix("clinic/"));
    assertThat(prefixOf(signer)).isEqualTo("http://minio.internal:9000/fhirbox-blobs/clinic/");
    assertThat(signer.origin()).isEqualTo("http://minio.internal:9000");
  }

  @Test
  void aVirtualHostedBucketOnACustomEndpointIsASubdomainOfIt() {
    S3UrlSigner signer = signer(S3Settings.builder("fhirbox-blobs").endpoint(URI.create("https://S3.Example.org:443")));
    assertThat(prefixOf(signer)).startsWith("https://fhirbox-blobs.");
    assertThat(signer.origin()).as("lower case, without the default port")
        .isEqualTo("https://fhirbox-blobs.s3.example.org");
  }
}
