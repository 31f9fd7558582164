package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.fhirbox.testing.PostgresSchema;
import org.fhirbox.testing.SlowTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@SlowTest
class PostgresIngestJobTableTest extends IngestJobTableContract {
  @RegisterExtension
  final PostgresSchema postgres = new PostgresSchema();

  @Override
  protected Database newDatabase() {
    return postgres.database();
  }

  /** Nodes claiming at the same moment do not pass a project's limit of running jobs. */
  @Test
  void nodesClaimingAtOnceKeepAProjectsLimit() throws Exception {
    Instant t0 = Instant.parse("2030-01-01T00:00:00Z");
    for (int i = 0; i < 20; i++) {
      enqueue("q" + i, "busy", t0);
    }
    int nodes = 8;
    ExecutorService pool = Executors.newFixedThreadPool(nodes);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Integer>> claimed = new ArrayList<>();
    for (int n = 0; n < nodes; n++) {
      String owner = "node" + n;
      claimed.add(pool.submit(() -> {
        go.await();
        int mine = 0;
        for (int round = 0; round < 5; round++) {
          mine += claim(owner, t0, t0.plusSeconds(60), 2).isPresent() ? 1 : 0;
        }
        return mine;
      }));
    }
    go.countDown();
    int all = 0;
    for (Future<Integer> f : claimed) {
      all += f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertThat(all).isEqualTo(2);
  }
}
