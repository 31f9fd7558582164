package org.fhirbox.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class S3SettingsTest {
  @Test
  void defaultsSuitAwsS3() {
    S3Settings settings = S3Settings.builder("bucket").build();

    assertThat(settings.endpoint()).isNull();
    assertThat(settings.region()).isEqualTo("us-east-1");
    assertThat(settings.partSizeBytes()).isEqualTo(16L * 1024 * 1024);
    assertThat(settings.parallelism()).isEqualTo(4);
    assertThat(settings.sse()).isEqualTo(S3Settings.Sse.NONE);
    assertThat(settings.keyPrefix()).isEqualTo("blobs/");
  }

  @Test
  void partsSmallerThanTheS3MinimumAreRefused() {
    assertThatThrownBy(() -> S3Settings.builder("bucket").partSizeBytes(5L * 1024 * 1024 - 1)
        .build()).isInstanceOf(IllegalArgumentException.class);
    assertThat(S3Settings.builder("bucket").partSizeBytes(5L * 1024 * 1024).build()
        .partSizeBytes()).isEqualTo(5L * 1024 * 1024);
  }

  @Test
  void parallelismBelowOneIsRefused() {
    assertThatThrownBy(() -> S3Settings.builder("bucket").parallelism(0).build())
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void kmsKeyNeedsKmsEncryption() {
    assertThat(S3Settings.builder("bucket").kms("key").build().sse())
        .isEqualTo(S3Settings.Sse.KMS);
    assertThatThrownBy(() -> new S3Settings("bucket", null, "us-east-1", false, false,
        S3Settings.DEFAULT_PART_SIZE, 4, S3Settings.Sse.S3, "key", ""))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
