package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
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

/**
 * Nodes starting together on one fresh PostgreSQL schema: Flyway serialises the migrations with
 * a PostgreSQL advisory lock, so every node starts and each migration runs once.
 */
@SlowTest
class ConcurrentMigrationTest {
  private static final int NODES = 6;

  @RegisterExtension
  final PostgresSchema postgres = new PostgresSchema();

  @Test
  void nodesStartingTogetherOnAFreshSchemaAllSucceedAndMigrateOnce() throws Exception {
    String url = postgres.url();
    ExecutorService pool = Executors.newFixedThreadPool(NODES);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Database>> starts = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      starts.add(pool.submit(() -> {
        go.await();
        return new Database(url, null, null, 2, 30_000);
      }));
    }
    List<Database> nodes = new ArrayList<>();
    try {
      go.countDown();
      for (Future<Database> start : starts) {
        nodes.add(start.get(2, TimeUnit.MINUTES));
      }

      assertThat(nodes).hasSize(NODES).allSatisfy(db -> assertThat(db.isReachable()).isTrue());
      try (Connection c = nodes.get(0).connection(); Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT version, count(*) FROM flyway_schema_history"
              + " WHERE success GROUP BY version")) {
        int versions = 0;
        while (rs.next()) {
          versions++;
          assertThat(rs.getInt(2)).as("runs of migration %s", rs.getString(1)).isEqualTo(1);
        }
        assertThat(versions).isGreaterThanOrEqualTo(2);
      }
    } finally {
      nodes.forEach(Database::close);
      pool.shutdownNow();
    }
  }

  @Test
  void connectTimeoutBoundsTheWaitForAConnection() throws Exception {
    try (Database db = new Database(postgres.url(), null, null, 2, 300);
        Connection first = db.connection();
        Connection second = db.connection()) {
      long start = System.nanoTime();
      assertThatThrownBy(db::connection).isInstanceOf(java.sql.SQLException.class);
      assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
      // the readiness check has a connection of its own: a full pool is no database down
      assertThat(db.isReachable()).isTrue();
      assertThat(first.isValid(1)).isTrue();
    }
  }

  @Test
  void poolOfOneIsRejectedBecauseMigrationsNeedTwoConnections() {
    assertThatThrownBy(() -> new Database(postgres.url(), null, null, 1, 300))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("FHIRBOX_DATABASE_POOL_SIZE");
  }
}
