package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.fhirbox.db.Database;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.storage.LiveWrites;
import org.fhirbox.testing.TestClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Nodes' leases on the uploads they are feeding, in one database, each node with its own clock. */
class BlobWriteLeasesTest {
  private static final Duration GRACE = Duration.ofMinutes(1);

  @TempDir
  Path dir;

  @Test
  void anotherNodeSparesAnUploadWhileItsLeaseIsRenewedAndNotOnceItLapsed() {
    TestClock writerClock = new TestClock();
    // the sweeping node's clock runs a minute ahead of the writer's
    TestClock sweeperClock = new TestClock(writerClock.instant().plus(GRACE));
    try (Database db = new Database("jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_ON_EXIT=FALSE", "", "", 4);
        BlobWriteLeases writer = new BlobWriteLeases(db, writerClock);
        BlobWriteLeases sweeper = new BlobWriteLeases(db, sweeperClock)) {
      BlobKey slow = BlobKey.random();
      BlobKey crashed = BlobKey.random();
      LiveWrites.Registration feeding = writer.begin(slow);
      try (BlobWriteLeases dies = new BlobWriteLeases(db, writerClock)) {
        dies.begin(crashed); // never ended nor renewed: its node is gone
      }
      assertThat(sweeper.isLive(slow, cutoff(sweeperClock))).isTrue();
      assertThat(sweeper.isLive(crashed, cutoff(sweeperClock))).isTrue();

      // an hour on: the live node renewed its lease (its timer does so every 30 s)
      writerClock.advance(Duration.ofHours(1));
      sweeperClock.advance(Duration.ofHours(1));
      writer.renew();
      assertThat(sweeper.isLive(slow, cutoff(sweeperClock))).isTrue();
      assertThat(sweeper.isLive(crashed, cutoff(sweeperClock))).isFalse();

      assertThat(sweeper.purgeLapsed(cutoff(sweeperClock))).isEqualTo(1);
      assertThat(sweeper.isLive(slow, cutoff(sweeperClock))).isTrue();
      feeding.close();
      assertThat(sweeper.isLive(slow, cutoff(sweeperClock))).isFalse();
    }
  }

  private static Instant cutoff(TestClock clock) {
    return clock.instant().minus(GRACE);
  }
}
