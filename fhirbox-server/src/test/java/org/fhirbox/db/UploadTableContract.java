package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.function.Predicate;
import org.fhirbox.model.ResumableUpload;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.storage.PartialBlob;
import org.junit.jupiter.api.Test;

/**
 * The resumable upload rows and their lease, the same contract on H2 and on PostgreSQL: the
 * compare-and-set on the offset is what lets exactly one of two racing PATCHes write, on any node.
 */
abstract class UploadTableContract extends StoreContract {
  private final Instant t0 = Instant.parse("2030-01-01T00:00:00Z");
  private final BlobKey key = BlobKey.random();

  private void insert(String id, Long length, long offset, Instant expires) {
    ResumableUpload u = new ResumableUpload(id, "p", "client", null, null, "video/mp4", "a.mp4", null,
        true, "filename YS5tcDQ=", length, new PartialBlob(key, offset, "state-" + offset), null, false, null, null, t0,
        t0, expires);
    store.inTransaction(tx -> {
      tx.uploads().insert(u);
      return null;
    });
  }

  /**
   * Whether a claim of expired rows skips rows another transaction locked before it counts its
   * limit (PostgreSQL), rather than after (H2, whose second sweeper then gets a short batch).
   */
  protected boolean skipsLockedRowsBeforeTheLimit() {
    return true;
  }

  /** A finished upload whose row expires at {@code expires}. */
  private void finished(String id, Instant expires) {
    insert(id, 3L, 3, t0.plusSeconds(86400));
    assertThat(claim(id, 3, "finisher")).isTrue();
    assertThat(write(t -> t.finish(id, "finisher", "bin-" + id, 1, t0, expires))).isTrue();
  }

  private boolean write(Predicate<UploadTable> work) {
    return store.inTransaction(tx -> work.test(tx.uploads()));
  }

  private <T> T read(Function<UploadTable, T> work) {
    return store.read(tx -> work.apply(tx.uploads()));
  }

  private ResumableUpload find(String id) {
    return read(t -> t.find(id)).orElseThrow();
  }

  private boolean claim(String id, long offset, String owner) {
    return claim(id, offset, owner, Duration.ofSeconds(60));
  }

  private boolean claim(String id, long offset, String owner, Duration lease) {
    return write(t -> t.claim(id, offset, owner, lease));
  }

  @Test
  void aRowReadsBackAsWritten() {
    insert("u1", null, 0, t0.plusSeconds(86400));

    ResumableUpload u = find("u1");
    assertThat(u.length()).isNull();
    assertThat(u.blob()).isEqualTo(new PartialBlob(key, 0, "state-0"));
    assertThat(u.metadata()).isEqualTo("filename YS5tcDQ=");
    assertThat(u.securityContextKept()).isTrue();
    assertThat(u.leaseOwner()).isNull();
    assertThat(u.leased()).isFalse();
    assertThat(u.resultVersion()).isNull();
    assertThat(u.expires()).isEqualTo(t0.plusSeconds(86400));
    assertThat(this.<Optional<ResumableUpload>>read(t -> t.find("nope"))).isEmpty();
  }

  @Test
  void onlyTheClaimAtTheCurrentOffsetWinsAndOnlyItsOwnerAdvances() {
    insert("u1", 100L, 10, t0.plusSeconds(86400));

    assertThat(claim("u1", 0, "A")).as("a stale offset").isFalse();
    assertThat(claim("u1", 10, "A")).isTrue();
    assertThat(find("u1").leased()).isTrue();
    assertThat(claim("u1", 10, "B")).as("a live lease").isFalse();

    PartialBlob next = new PartialBlob(key, 50, "state-50");
    assertThat(write(t -> t.advance("u1", "B", next, 100L, t0, t0.plusSeconds(99))))
        .isFalse();
    assertThat(write(t -> t.advance("u1", "A", next, 100L, t0, t0.plusSeconds(99))))
        .isTrue();
    ResumableUpload u = find("u1");
    assertThat(u.offset()).isEqualTo(50);
    assertThat(u.blob().state()).isEqualTo("state-50");
    assertThat(u.leaseOwner()).isNull();
    assertThat(u.expires()).isEqualTo(t0.plusSeconds(99));

    assertThat(claim("u1", 10, "B")).as("the offset moved on").isFalse();
    assertThat(claim("u1", 50, "B")).isTrue();
  }

  /** Runs out by the database's clock: the only one the store has, whatever the nodes' clocks say. */
  @Test
  void anExpiredLeaseCanBeTakenOverAndTheOldOwnerChangesNothing() throws Exception {
    insert("u1", 100L, 0, t0.plusSeconds(86400));
    assertThat(claim("u1", 0, "A", Duration.ofSeconds(1))).isTrue();
    assertThat(claim("u1", 0, "B")).as("a live lease").isFalse();
    Thread.sleep(1200);
    assertThat(find("u1").leased()).isFalse();
    assertThat(claim("u1", 0, "B")).isTrue();

    assertThat(write(t -> t.extendLease("u1", "A", Duration.ofSeconds(600)))).isFalse();
    assertThat(write(t -> t.advance("u1", "A", new PartialBlob(key, 5, ""), 100L, t0,
        t0))).isFalse();
    assertThat(write(t -> t.finish("u1", "A", "bin", 1, t0, t0))).isFalse();
    assertThat(write(t -> t.releaseLease("u1", "B"))).isTrue();
    assertThat(find("u1").leaseOwner()).isNull();
    assertThat(find("u1").leased()).isFalse();
  }

  @Test
  void aRenewedLeaseOutlastsItsFirstTerm() throws Exception {
    insert("u1", 100L, 0, t0.plusSeconds(86400));
    assertThat(claim("u1", 0, "A", Duration.ofSeconds(1))).isTrue();
    assertThat(write(t -> t.extendLease("u1", "A", Duration.ofSeconds(60)))).isTrue();
    Thread.sleep(1200);

    assertThat(find("u1").leased()).isTrue();
    assertThat(claim("u1", 0, "B")).isFalse();
  }

  @Test
  void aFinishedUploadNamesItsBinaryAndTakesNoMoreClaims() {
    insert("u1", 5L, 5, t0.plusSeconds(86400));
    assertThat(claim("u1", 5, "A")).isTrue();
    assertThat(write(t -> t.finish("u1", "A", "bin", 3, t0, t0.plusSeconds(5)))).isTrue();

    ResumableUpload u = find("u1");
    assertThat(u.finished()).isTrue();
    assertThat(u.resultId()).isEqualTo("bin");
    assertThat(u.resultVersion()).isEqualTo(3);
    assertThat(u.expires()).isEqualTo(t0.plusSeconds(5));
    assertThat(claim("u1", 5, "B")).isFalse();
    assertThat(this.<Boolean>read(t -> t.isResuming(key))).isFalse();
  }

  @Test
  void manyClaimsAtOnceHaveExactlyOneWinner() throws Exception {
    insert("u1", 100L, 0, t0.plusSeconds(86400));
    ExecutorService pool = Executors.newFixedThreadPool(6);
    CountDownLatch start = new CountDownLatch(1);
    try {
      List<Future<Boolean>> claims = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        String owner = "node-" + i;
        Callable<Boolean> c = () -> {
          start.await();
          return claim("u1", 0, owner);
        };
        claims.add(pool.submit(c));
      }
      start.countDown();
      int won = 0;
      for (Future<Boolean> f : claims) {
        won += f.get() ? 1 : 0;
      }
      assertThat(won).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void expiredUnfinishedRowsAreClaimedEarliestFirstAndOnlyTheLeaseHolderDeletesConditionally() {
    insert("old", 100L, 0, t0.minusSeconds(1));
    insert("older", 100L, 0, t0.minusSeconds(2));
    insert("held", 100L, 0, t0.minusSeconds(3));
    insert("new", 100L, 0, t0.plusSeconds(1));
    assertThat(claim("held", 0, "writer")).isTrue();
    finished("done", t0.minusSeconds(4));

    List<ResumableUpload> first = store.inTransaction(t -> t.uploads().claimExpired("S", t0, Duration.ofSeconds(15), 1));
    assertThat(first).extracting(ResumableUpload::id).containsExactly("older");
    assertThat(first.get(0).leaseOwner()).isEqualTo("S");
    List<ResumableUpload> rest = store.inTransaction(t -> t.uploads().claimExpired("T", t0, Duration.ofSeconds(15), 10));
    assertThat(rest).as("neither a held, finished or live row, nor one claimed already").extracting(ResumableUpload::id)
        .containsExactly("old");
    assertThat(this.<Boolean>read(t -> t.isResuming(key))).isTrue();

    assertThat(write(t -> t.deleteHeld("old", "S"))).isFalse();
    assertThat(write(t -> t.deleteHeld("old", "T"))).isTrue();
    assertThat(write(t -> t.delete("new"))).isTrue();
    assertThat(write(t -> t.delete("new"))).isFalse();
    assertThat(find("done").finished()).isTrue();
  }

  /** The sweep's leases, like a request's, are dated and judged by the database's clock. */
  @Test
  void aSweepTakesAnExpiredUploadOnceItsLeaseRanOutByTheDatabasesClockAndHoldsItAsLong() throws Exception {
    insert("u1", 100L, 0, t0.minusSeconds(1));
    assertThat(claim("u1", 0, "writer", Duration.ofSeconds(1))).isTrue();
    assertThat(store.<List<ResumableUpload>>inTransaction(t -> t.uploads().claimExpired("S", t0,
        Duration.ofSeconds(1), 10))).as("a live lease").isEmpty();
    Thread.sleep(1200);

    List<ResumableUpload> taken = store.inTransaction(t -> t.uploads().claimExpired("S", t0, Duration.ofSeconds(1), 10));

    assertThat(taken).extracting(ResumableUpload::id).containsExactly("u1");
    assertThat(taken.get(0).leased()).isTrue();
    assertThat(claim("u1", 0, "B")).as("the sweeper's live lease").isFalse();
    Thread.sleep(1200);
    assertThat(find("u1").leased()).isFalse();
    assertThat(store.<List<ResumableUpload>>inTransaction(t -> t.uploads().claimExpired("T", t0,
        Duration.ofSeconds(60), 10))).extracting(ResumableUpload::id).containsExactly("u1");
  }

  @Test
  void expiredFinishedRowsAreDeletedInBulkAndUnfinishedOnesStay() {
    for (int i = 0; i < 5; i++) {
      finished("done" + i, t0.minusSeconds(1));
    }
    finished("live", t0.plusSeconds(1));
    insert("unfinished", 100L, 0, t0.minusSeconds(1));

    assertThat(store.<Integer>inTransaction(t -> t.uploads().deleteFinishedExpired(t0, 3))).isEqualTo(3);
    assertThat(store.<Integer>inTransaction(t -> t.uploads().deleteFinishedExpired(t0, 3))).isEqualTo(2);
    assertThat(store.<Integer>inTransaction(t -> t.uploads().deleteFinishedExpired(t0, 3))).isZero();
    assertThat(this.<Optional<ResumableUpload>>read(t -> t.find("done0"))).isEmpty();
    assertThat(find("live").finished()).isTrue();
    assertThat(find("unfinished").finished()).isFalse();
  }

  @Test
  void aSecondSweeperTakesOtherRowsThanOneWhoseClaimIsUncommitted() throws Exception {
    insert("a", 100L, 0, t0.minusSeconds(2));
    insert("b", 100L, 0, t0.minusSeconds(1));
    CountDownLatch claimed = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<List<String>> first = pool.submit(() -> store.inTransaction(t -> {
        List<String> ids = t.uploads().claimExpired("S", t0, Duration.ofSeconds(15), 1).stream()
            .map(ResumableUpload::id).toList();
        claimed.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return ids;
      }));
      claimed.await();
      // not waiting for the first sweeper's transaction: its row is skipped
      List<ResumableUpload> second = store.inTransaction(t -> t.uploads().claimExpired("T", t0, Duration.ofSeconds(15), 1));
      release.countDown();
      assertThat(first.get()).containsExactly("a");
      if (skipsLockedRowsBeforeTheLimit()) {
        assertThat(second).extracting(ResumableUpload::id).containsExactly("b");
      } else {
        assertThat(second).isEmpty();
      }
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
  }

  @Test
  void theUnfinishedUnexpiredUploadsOfOneClientAndUserAreCounted() {
    insert("open", 100L, 0, t0.plusSeconds(10));
    insert("expired", 100L, 0, t0.minusSeconds(1));
    finished("done", t0.plusSeconds(10));
    ResumableUpload person = new ResumableUpload("person", "p", "client", "user-1", null, "video/mp4", null, null,
        false, null, 100L, new PartialBlob(BlobKey.random(), 0, "state-0"), null, false, null, null, t0, t0,
        t0.plusSeconds(10));
    store.inTransaction(tx -> {
      tx.uploads().insert(person);
      return null;
    });

    assertThat(this.<Integer>read(t -> t.countOpen("p", "client", null, t0))).isEqualTo(1);
    assertThat(this.<Integer>read(t -> t.countOpen("p", "client", "user-1", t0))).isEqualTo(1);
    assertThat(this.<Integer>read(t -> t.countOpen("p", "client", "user-2", t0))).isZero();
    assertThat(this.<Integer>read(t -> t.countOpen("p", "other", null, t0))).isZero();
    assertThat(this.<Integer>read(t -> t.countOpen("q", "client", null, t0))).isZero();
    assertThat(this.<Integer>read(t -> t.countOpen("p", "client", null, t0.plusSeconds(10)))).isEqualTo(1);
    assertThat(this.<Integer>read(t -> t.countOpen("p", "client", null, t0.plusSeconds(11)))).isZero();
  }

  @Test
  void releasingEveryLeaseFreesUploadsACrashLeftHeld() {
    insert("u1", 100L, 0, t0.plusSeconds(86400));
    assertThat(claim("u1", 0, "A")).isTrue();

    int released = store.inTransaction(tx -> tx.uploads().releaseAll());
    assertThat(released).isEqualTo(1);

    assertThat(claim("u1", 0, "B")).isTrue();
  }
}
