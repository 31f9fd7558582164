package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.testing.TestClock;
import org.junit.jupiter.api.Test;

/** The orphan sweeper's rule for deleting what it finds unwanted, on a clock the test moves. */
class SecondSightingTest {
  private final TestClock clock = new TestClock();
  private final List<BlobKey> deleted = new ArrayList<>();
  private final SecondSighting sighting = new SecondSighting("orphan blob", deleted::add, clock);

  private int pass(BlobKey... unwanted) {
    sighting.start();
    for (BlobKey k : unwanted) {
      sighting.unwanted(k);
    }
    return sighting.finish();
  }

  /**
   * Passes a second apart (the shortest sweep interval) keep seeing an old object unreferenced
   * while the commit of the row that references it is held: none of them deletes it before the
   * minimum time since the first sighting, so the commit has that long to land.
   */
  @Test
  void passesInQuickSuccessionDeleteNothingBeforeTheMinimumTimeSinceTheFirstSighting() {
    BlobKey key = BlobKey.random();
    for (Duration waited = Duration.ZERO; waited.compareTo(OrphanSweeper.MIN_WATCH) < 0;
        waited = waited.plusSeconds(1)) {
      assertThat(pass(key)).as("deleted %s after the first sighting", waited).isZero();
      clock.advance(Duration.ofSeconds(1));
    }
    assertThat(pass(key)).isEqualTo(1);
    assertThat(deleted).containsExactly(key);
  }

  @Test
  void aKeyMissingFromOnePassIsWatchedAgainFromItsNextSighting() {
    BlobKey key = BlobKey.random();
    pass(key);
    clock.advance(OrphanSweeper.MIN_WATCH);
    pass(); // referenced meanwhile, or not listed
    assertThat(pass(key)).isZero();
    clock.advance(OrphanSweeper.MIN_WATCH);
    assertThat(pass(key)).isEqualTo(1);
  }
}
