package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.fhirbox.db.Database;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.storage.LiveWrites;
import org.fhirbox.testing.TestClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Nodes' leases on the uploads they are feeding, in one database, each node with its own clock. */
class BlobWriteLeasesTest {
  private static final Duration GRACE = Duration.ofMinutes(1);

  @TempDir
  static Path dir;
  private static Database db;

  @BeforeAll
  static void open() {
    db = new Database("jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_ON_EXIT=FALSE", "", "", 4);
  }

  @AfterAll
  static void close() {
    db.close();
  }

  @Test
  void anotherNodeSparesAnUploadWhileItsLeaseIsRenewedAndNotOnceItLapsed() {
    TestClock writerClock = new TestClock();
    // the sweeping node's clock runs a minute ahead of the writer's
    TestClock sweeperClock = new TestClock(writerClock.instant().plus(GRACE));
    try (BlobWriteLeases writer = new BlobWriteLeases(db, writerClock);
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

  /**
   * Two requests of one node may hold the same key at once (a client's confirmation of a presigned
   * upload and the background check's): the first to end must not end the other's lease.
   */
  @Test
  void aKeyHeldTwiceStaysLiveUntilBothLetGo() {
    TestClock clock = new TestClock();
    try (BlobWriteLeases node = new BlobWriteLeases(db, clock)) {
      BlobKey key = BlobKey.random();
      LiveWrites.Registration first = node.begin(key);
      LiveWrites.Registration second = node.begin(key);

      first.close();
      first.close();
      assertThat(node.isLive(key, cutoff(clock))).as("still held by the second").isTrue();
      clock.advance(Duration.ofHours(1));
      node.renew();
      assertThat(node.isLive(key, cutoff(clock))).as("and renewed for it").isTrue();

      second.close();
      assertThat(node.isLive(key, cutoff(clock))).isFalse();
    }
  }

  private static Instant cutoff(TestClock clock) {
    return clock.instant().minus(GRACE);
  }
}
