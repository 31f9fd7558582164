package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The rows of {@code condition_lock} are bounded: every condition's lock is one of
 * {@link ConditionLocks#STRIPES} rows, whatever the number of conditions ever written.
 */
class ConditionLocksTest {
  @Test
  void everyConditionLocksOneOfABoundedSetOfRowsAndTheSameConditionAlwaysTheSameRow() {
    Set<String> keys = new HashSet<>();
    for (int i = 0; i < 300_000; i++) {
      String key = ConditionLocks.key("p\u0000Patient\u0000identifier=urn:mrn|" + i);
      assertThat(key.length()).isLessThanOrEqualTo(64);
      keys.add(key);
    }
    assertThat(keys).hasSizeLessThanOrEqualTo(ConditionLocks.STRIPES);
    assertThat(keys.size()).as("spread over the stripes").isGreaterThan(ConditionLocks.STRIPES * 9 / 10);
    assertThat(ConditionLocks.key("p\u0000Patient\u0000identifier=urn:mrn|7"))
        .isEqualTo(ConditionLocks.key("p\u0000Patient\u0000identifier=urn:mrn|7"));
  }
}
