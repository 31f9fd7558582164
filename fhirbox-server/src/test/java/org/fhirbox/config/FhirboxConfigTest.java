package org.fhirbox.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class FhirboxConfigTest {
  private static final long MIB = 1 << 20;

  @Test
  void theEmbeddedPageCacheIsASixteenthOfTheHeapWithinH2sDefaultAnd64Mb() {
    assertThat(FhirboxConfig.h2CacheKb(128 * MIB)).isEqualTo(16 * 1024);
    assertThat(FhirboxConfig.h2CacheKb(256 * MIB)).isEqualTo(16 * 1024);
    assertThat(FhirboxConfig.h2CacheKb(512 * MIB)).isEqualTo(32 * 1024);
    assertThat(FhirboxConfig.h2CacheKb(6L * 1024 * MIB)).isEqualTo(64 * 1024);
  }

  @Test
  void theEmbeddedDefaultNamesItsPageCacheAndAChosenUrlIsKeptAsItIs() {
    assertThat(FhirboxConfig.of(Map.of()).databaseUrl()).startsWith("jdbc:h2:file:")
        .contains(";CACHE_SIZE=" + FhirboxConfig.h2CacheKb(Runtime.getRuntime().maxMemory()));
    assertThat(FhirboxConfig.of(Map.of("FHIRBOX_DATABASE_URL", "jdbc:postgresql://127.0.0.1/test")).databaseUrl())
        .isEqualTo("jdbc:postgresql://127.0.0.1/test");
  }
}
