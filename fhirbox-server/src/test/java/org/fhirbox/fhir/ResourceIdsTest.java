package org.fhirbox.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class ResourceIdsTest {

  @Test
  void newIdIsAVersion7UuidCarryingItsMillisecond() {
    long millis = 1_795_686_793_123L;
    UUID u = UUID.fromString(ResourceIds.newId(millis));
    assertThat(u.version()).isEqualTo(7);
    assertThat(u.variant()).isEqualTo(2); // RFC 9562 variant 10xx
    assertThat(u.getMostSignificantBits() >>> 16).isEqualTo(millis);
    assertThat(ResourceIds.isValid(u.toString())).isTrue();
  }

  @Test
  void idsIssuedLaterSortLaterAsStrings() {
    String earlier = ResourceIds.newId(1_795_686_793_123L);
    String later = ResourceIds.newId(1_795_686_793_124L);
    assertThat(earlier.compareTo(later)).isNegative();
  }

  @Test
  void idsInTheSameMillisecondDiffer() {
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      ids.add(ResourceIds.newId(1_795_686_793_123L));
    }
    assertThat(ids).hasSize(10_000);
  }
}
