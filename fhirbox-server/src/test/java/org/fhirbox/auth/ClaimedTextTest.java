package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** What the audit trail keeps of a refused caller's claimed identity. */
class ClaimedTextTest {
  private static byte[] key(int fill) {
    byte[] k = new byte[32];
    Arrays.fill(k, (byte) fill);
    return k;
  }

  @Test
  void valuesOfTheClaimedFormAreKeptAndOthersFingerprinted() {
    ClaimedText claimed = new ClaimedText(key(1));
    assertThat(claimed.email("nurse@example.org", true)).isEqualTo("nurse@example.org");
    assertThat(claimed.email("Welcome@2024x", false)).startsWith("Wel…").doesNotContain("2024");
    assertThat(claimed.clientId("0f8fad5b-d9cb-469f-a165-70867728950e")).isEqualTo("0f8fad5b-d9cb-469f-a165-70867728950e");
    assertThat(claimed.email("hunter2hunter2", false)).startsWith("hun…").hasSize(3 + 1 + 8).doesNotContain("hunter2");
    assertThat(claimed.clientId("s3cret-in-the-id-field")).startsWith("s3cr…");
  }

  @Test
  void aFingerprintIsStableUnderOneKeyAndUnlikeAnotherKeys() {
    ClaimedText one = new ClaimedText(key(1));
    assertThat(one.fingerprint("Tr0ub4dor&3")).isEqualTo(new ClaimedText(key(1)).fingerprint("Tr0ub4dor&3"))
        .isNotEqualTo(one.fingerprint("Tr0ub4dor&4"))
        .as("another key: a reader without it cannot confirm a guess").isNotEqualTo(
            new ClaimedText(key(2)).fingerprint("Tr0ub4dor&3"));
    assertThatThrownBy(() -> new ClaimedText(new byte[16])).isInstanceOf(IllegalArgumentException.class);
  }
}
