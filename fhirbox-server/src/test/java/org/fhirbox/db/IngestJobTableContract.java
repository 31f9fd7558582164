package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.fhirbox.model.IngestJob;
import org.fhirbox.model.ListPosition;

/**
 * Leases on the ingestion job table, the same contract on H2 and on PostgreSQL (where claims
 * use {@code FOR UPDATE SKIP LOCKED}): times are passed in, so nothing sleeps.
 */
abstract class IngestJobTableContract extends StoreContract {
  private final Instant t0 = Instant.parse("2030-01-01T00:00:00Z");

  private void enqueue(String id, Instant at) {
    enqueue(id, "p", at);
  }

  void enqueue(String id, String project, Instant at) {
    store.inTransaction(tx -> {
      tx.ingestJobs().insert(IngestJob.queued(id, project, "Media", "m1", 1, 0, "https://a.example/x", null, at));
      return null;
    });
  }

  private Optional<IngestJob> claim(String owner, Instant now, Instant until) {
    return claim(owner, now, until, 100);
  }

  Optional<IngestJob> claim(String owner, Instant now, Instant until, int perProject) {
    return store.inTransaction(tx -> tx.ingestJobs().claim(owner, now, until, 3, perProject));
  }

  private boolean extend(String id, String owner, Instant until) {
    return store.inTransaction(tx -> tx.ingestJobs().extendLease(id, owner, until));
  }

  private boolean record(String id, String owner, String binary) {
    return store.inTransaction(tx -> tx.ingestJobs().recordBinary(id, owner, binary));
  }

  private boolean finish(String id, String owner, IngestJob.State state, String error, String binary, Instant at) {
    return store.inTransaction(tx -> tx.ingestJobs().finish(id, owner, state, error, binary, at, at));
  }

  private boolean forgetFailed(String id, String binary) {
    return store.inTransaction(tx -> tx.ingestJobs().forgetFailedBinary(id, binary));
  }

  private List<IngestJob> list(String project, IngestJob.State state) {
    return store.read(tx -> tx.ingestJobs().list(project, state, 10));
  }

  /** A page of the list starts right after a position: newest first, and within a millisecond by id. */
  @Test
  void aListPageStartsAfterItsPosition() {
    enqueue("k-b", "paged", t0);
    enqueue("k-a", "paged", t0);
    enqueue("k-c", "paged", t0.plusSeconds(1));
    enqueue("k-d", "paged", t0.plusSeconds(2));
    assertThat(list("paged", null)).extracting(IngestJob::id).containsExactly("k-d", "k-c", "k-a", "k-b");

    assertThat(page(null, new ListPosition(t0.plusSeconds(1), "k-c"), 10)).extracting(IngestJob::id)
        .containsExactly("k-a", "k-b");
    assertThat(page(null, new ListPosition(t0, "k-a"), 10)).extracting(IngestJob::id).containsExactly("k-b");
    assertThat(page(IngestJob.State.QUEUED, new ListPosition(t0.plusSeconds(2), "k-d"), 1)).extracting(IngestJob::id)
        .containsExactly("k-c");
  }

  private List<IngestJob> page(IngestJob.State state, ListPosition after, int limit) {
    return store.read(tx -> tx.ingestJobs().list("paged", state, after, limit));
  }

  @Test
  void aHeldLeaseBlocksOtherNodesUntilItExpires() {
    enqueue("j1", t0);
    IngestJob a = claim("A", t0, t0.plusSeconds(60)).orElseThrow();
    assertThat(a.state()).isEqualTo(IngestJob.State.RUNNING);
    assertThat(a.attempts()).isEqualTo(1);

    assertThat(claim("B", t0.plusSeconds(30), t0.plusSeconds(90))).isEmpty();
    Instant later = t0.plusSeconds(61);
    IngestJob b = claim("B", later, later.plusSeconds(60)).orElseThrow();
    assertThat(b.leaseOwner()).startsWith("B/");
    assertThat(b.attempts()).isEqualTo(2);

    assertThat(extend("j1", a.leaseOwner(), later.plusSeconds(600))).isFalse();
    assertThat(finish("j1", a.leaseOwner(), IngestJob.State.DONE, null, "x", later)).isFalse();
    assertThat(finish("j1", b.leaseOwner(), IngestJob.State.DONE, null, "bin", later)).isTrue();
    IngestJob done = store.read(tx -> tx.ingestJobs().find("j1")).orElseThrow();
    assertThat(done.state()).isEqualTo(IngestJob.State.DONE);
    assertThat(done.binaryId()).isEqualTo("bin");
    assertThat(done.leaseOwner()).isNull();
    assertThat(claim("C", later.plus(Duration.ofDays(1)), later.plus(Duration.ofDays(2)))).isEmpty();
  }

  /**
   * Two claims of one job by the same node (two of its worker threads, the first stalled past its
   * lease) are two leases: the first claim can no longer renew, record a Binary or finish, so its
   * outcome cannot clear the Binary the second one recorded.
   */
  @Test
  void aSecondClaimBySameNodeSupersedesTheFirst() {
    enqueue("j3", t0);
    IngestJob first = claim("node", t0, t0.plusSeconds(60)).orElseThrow();
    Instant later = t0.plusSeconds(61);
    IngestJob second = claim("node", later, later.plusSeconds(60)).orElseThrow();
    assertThat(second.leaseOwner()).isNotEqualTo(first.leaseOwner());

    assertThat(extend("j3", first.leaseOwner(), later.plusSeconds(600))).isFalse();
    assertThat(record("j3", first.leaseOwner(), "b1")).isFalse();
    assertThat(record("j3", second.leaseOwner(), "b2")).isTrue();
    assertThat(finish("j3", first.leaseOwner(), IngestJob.State.QUEUED, "lost", null, later)).isFalse();
    assertThat(extend("j3", second.leaseOwner(), later.plusSeconds(120))).isTrue();
    assertThat(finish("j3", second.leaseOwner(), IngestJob.State.DONE, null, "b2", later)).isTrue();
    IngestJob done = store.read(tx -> tx.ingestJobs().find("j3")).orElseThrow();
    assertThat(done.state()).isEqualTo(IngestJob.State.DONE);
    assertThat(done.binaryId()).isEqualTo("b2");
  }

  @Test
  void nodesClaimingAtOnceNeverGetTheSameJob() throws Exception {
    int jobs = 40;
    for (int i = 0; i < jobs; i++) {
      enqueue("c" + i, t0);
    }
    int nodes = 6;
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(nodes);
    java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
    List<java.util.concurrent.Future<List<String>>> claimed = new java.util.ArrayList<>();
    for (int n = 0; n < nodes; n++) {
      String owner = "node" + n;
      claimed.add(pool.submit(() -> {
        go.await();
        List<String> mine = new java.util.ArrayList<>();
        for (Optional<IngestJob> j = claim(owner, t0, t0.plusSeconds(60)); j.isPresent();
            j = claim(owner, t0, t0.plusSeconds(60))) {
          assertThat(j.get().leaseOwner()).startsWith(owner + "/");
          mine.add(j.get().id());
        }
        return mine;
      }));
    }
    go.countDown();
    List<String> all = new java.util.ArrayList<>();
    for (java.util.concurrent.Future<List<String>> f : claimed) {
      all.addAll(f.get(60, java.util.concurrent.TimeUnit.SECONDS));
    }
    pool.shutdown();
    assertThat(all).hasSize(jobs).doesNotHaveDuplicates();
    assertThat(list("p", IngestJob.State.RUNNING)).hasSize(10); // list is bounded at 10
    long pending = store.read(tx -> tx.ingestJobs().pendingCount());
    assertThat(pending).isEqualTo(jobs);
  }

  @Test
  void aProjectsPendingCountIsItsQueuedAndRunningJobs() {
    enqueue("pc1", "a", t0);
    enqueue("pc2", "a", t0);
    enqueue("pc3", "a", t0);
    enqueue("pc4", "b", t0);
    IngestJob done = claim("A", t0, t0.plusSeconds(60)).orElseThrow();
    assertThat(finish(done.id(), done.leaseOwner(), IngestJob.State.DONE, null, "bin", t0)).isTrue();
    IngestJob running = claim("A", t0, t0.plusSeconds(60)).orElseThrow();
    assertThat(running.state()).isEqualTo(IngestJob.State.RUNNING);
    long a = store.read(tx -> tx.ingestJobs().pendingCount("a"));
    long b = store.read(tx -> tx.ingestJobs().pendingCount("b"));
    // four jobs, one done: the running one counts, as do the queued ones
    assertThat(a + b).isEqualTo(3);
    assertThat(a).isEqualTo(done.project().equals("a") ? 2 : 3);
    long c = store.read(tx -> tx.ingestJobs().pendingCount("c"));
    assertThat(c).isZero();
    // a transaction counts the jobs it inserted itself
    long inside = store.inTransaction(tx -> {
      tx.ingestJobs().insert(IngestJob.queued("pc5", "c", "Media", "m1", 1, 0, "https://a.example/x", null, t0));
      return tx.ingestJobs().pendingCount("c");
    });
    assertThat(inside).isEqualTo(1);
  }

  @Test
  void aRetryIsNotClaimedBeforeItIsDue() {
    enqueue("j2", t0);
    IngestJob a = claim("A", t0, t0.plusSeconds(60)).orElseThrow();
    assertThat(finish("j2", a.leaseOwner(), IngestJob.State.QUEUED, "HTTP 503", null, t0.plusSeconds(10))).isTrue();
    assertThat(claim("A", t0.plusSeconds(5), t0.plusSeconds(65))).isEmpty();
    IngestJob again = claim("A", t0.plusSeconds(10), t0.plusSeconds(70)).orElseThrow();
    assertThat(again.lastError()).isEqualTo("HTTP 503");
    assertThat(list("p", IngestJob.State.RUNNING)).hasSize(1);
    assertThat(list("other", null)).isEmpty();
  }

  @Test
  void aJobWhoseNodeStoppedDuringItsLastAttemptIsFailedNotClaimed() {
    enqueue("j4", t0);
    Instant at = t0;
    for (int attempt = 1; attempt <= 3; attempt++) {
      // each claimant stops without an outcome; the next claims once the lease has run out
      IngestJob j = claim("N" + attempt, at, at.plusSeconds(60)).orElseThrow();
      assertThat(j.state()).isEqualTo(IngestJob.State.RUNNING);
      assertThat(j.attempts()).isEqualTo(attempt);
      at = at.plusSeconds(61);
    }
    IngestJob gaveUp = claim("N4", at, at.plusSeconds(60)).orElseThrow();
    assertThat(gaveUp.state()).isEqualTo(IngestJob.State.FAILED);
    assertThat(gaveUp.attempts()).isEqualTo(3);
    assertThat(gaveUp.leaseOwner()).isNull();
    assertThat(gaveUp.lastError()).isEqualTo("gave up after 3 attempts: the node processing the last one stopped"
        + " before it finished (its lease ran out)");
    assertThat(claim("N5", at.plus(Duration.ofDays(1)), at.plus(Duration.ofDays(2)))).isEmpty();

    // a job handed back by a node that went on (a lost lease, a shutdown) is claimed whatever its attempts
    enqueue("j5", t0);
    for (int attempt = 1; attempt <= 3; attempt++) {
      IngestJob j = claim("A", t0, t0.plusSeconds(60)).orElseThrow();
      assertThat(finish("j5", j.leaseOwner(), IngestJob.State.QUEUED, "handed back", null, t0)).isTrue();
    }
    IngestJob fourth = claim("B", t0, t0.plusSeconds(60)).orElseThrow();
    assertThat(fourth.state()).isEqualTo(IngestJob.State.RUNNING);
    assertThat(fourth.attempts()).isEqualTo(4);
  }

  /**
   * A project with its limit of running jobs gets no more until one ends (or its lease runs out),
   * and a project with fewer running jobs goes first, however long the other's queue.
   */
  @Test
  void projectsShareTheWorkers() {
    for (int i = 0; i < 4; i++) {
      enqueue("busy" + i, "busy", t0.plusMillis(i));
    }
    enqueue("other", "other", t0.plusSeconds(1));
    Instant now = t0.plusSeconds(2);
    Instant until = now.plusSeconds(60);
    IngestJob first = claim("A", now, until, 2).orElseThrow();
    assertThat(first.id()).isEqualTo("busy0");
    IngestJob other = claim("B", now, until, 2).orElseThrow();
    assertThat(other.id()).isEqualTo("other");
    assertThat(claim("C", now, until, 2).orElseThrow().id()).isEqualTo("busy1");
    assertThat(claim("D", now, until, 2)).isEmpty();

    assertThat(finish("busy0", first.leaseOwner(), IngestJob.State.DONE, null, "b", now)).isTrue();
    assertThat(claim("E", now, until, 2).orElseThrow().id()).isEqualTo("busy2");
    assertThat(claim("F", now, until, 2)).isEmpty();
    assertThat(finish("other", other.leaseOwner(), IngestJob.State.DONE, null, "o", now)).isTrue();
    // running jobs whose lease ran out (their node stopped) do not count
    Instant later = until.plusSeconds(1);
    assertThat(claim("G", later, later.plusSeconds(60), 2).orElseThrow().project()).isEqualTo("busy");
    assertThat(claim("H", later, later.plusSeconds(60), 2).orElseThrow().project()).isEqualTo("busy");
    assertThat(claim("I", later, later.plusSeconds(60), 2)).isEmpty();
  }

  /**
   * An attempt that saw its Binary's commit report an error, and so no Binary, does not erase the
   * Binary that commit recorded after all: the next attempt repoints it instead of fetching a second.
   */
  @Test
  void anOutcomeWithoutABinaryKeepsTheOneTheJobRecorded() {
    enqueue("j6", t0);
    IngestJob a = claim("A", t0, t0.plusSeconds(60)).orElseThrow();
    assertThat(record("j6", a.leaseOwner(), "b1")).isTrue();
    assertThat(finish("j6", a.leaseOwner(), IngestJob.State.QUEUED, "commit outcome unknown", null, t0)).isTrue();
    IngestJob again = claim("B", t0, t0.plusSeconds(60)).orElseThrow();
    assertThat(again.binaryId()).isEqualTo("b1");
  }

  /**
   * The Binary a job failed by its last attempt's stopped node had recorded is forgotten once, and
   * only while the job stays failed with it: a job queued again (an admin's retry) keeps it.
   */
  @Test
  void aFailedJobsBinaryIsForgottenOnlyWhileItStaysFailedWithIt() {
    enqueue("j7", t0);
    Instant at = t0;
    for (int attempt = 1; attempt <= 3; attempt++) {
      IngestJob j = claim("N" + attempt, at, at.plusSeconds(60)).orElseThrow();
      if (attempt == 3) {
        assertThat(record("j7", j.leaseOwner(), "b7")).isTrue();
      }
      at = at.plusSeconds(61);
    }
    IngestJob gaveUp = claim("N4", at, at.plusSeconds(60)).orElseThrow();
    assertThat(gaveUp.state()).isEqualTo(IngestJob.State.FAILED);
    assertThat(gaveUp.binaryId()).isEqualTo("b7");
    assertThat(forgetFailed("j7", "other")).isFalse();
    assertThat(forgetFailed("j7", "b7")).isTrue();
    assertThat(forgetFailed("j7", "b7")).isFalse();
    assertThat(store.read(tx -> tx.ingestJobs().find("j7")).orElseThrow().binaryId()).isNull();

    enqueue("j8", t0);
    IngestJob running = claim("A", t0, t0.plusSeconds(60)).orElseThrow();
    assertThat(record("j8", running.leaseOwner(), "b8")).isTrue();
    assertThat(forgetFailed("j8", "b8")).isFalse();
    assertThat(store.read(tx -> tx.ingestJobs().find("j8")).orElseThrow().binaryId()).isEqualTo("b8");
  }
}
