package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.fhirbox.core.BackendException;
import org.fhirbox.model.StoredResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store of the embedded H2's file that fails ({@code CHECKPOINT SYNC} reporting the I/O error of
 * an earlier writeback, say) is final, as a failed sync of the journal is: a later store that
 * succeeds proves nothing, so the journal keeps every segment, takes no more commits, and the next
 * start applies it.
 */
class JournalStoreFailureTest {
  @TempDir
  Path dir;

  /** Fails the first store after it is armed, as H2 does when the file's sync fails; then stores. */
  private static JournalStore.Statements failingOnce(AtomicInteger failures) {
    return (s, sync) -> {
      if (failures.getAndIncrement() == 0) {
        throw new SQLException("Could not sync file db.mv.db [90028-252]: Input/output error", "90028");
      }
      JournalStore.CHECKPOINT.store(s, sync);
    };
  }

  @Test
  void afterAFailedStoreTheSegmentsStayCommitsAreRefusedAndARestartAppliesThem() throws Exception {
    Supplier<Connection> db = CommitJournalTest.stored(dir);
    try (Connection c = db.get(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE t (id BIGINT PRIMARY KEY)");
    }
    Path journalDir = dir.resolve("db.journal");
    CommitJournal journal = CommitJournal.open(journalDir, db);
    JournalRows.insert(journal, db, 1);
    JournalRows.insert(journal, db, 2);
    journal.checkpointIfDue(db, true); // 1 and 2 stored and synced: their segment goes
    JournalRows.insert(journal, db, 3);
    JournalRows.insert(journal, db, 4);
    Map<String, Long> before = segments(journalDir);
    assertThat(JournalRows.records(journalDir)).isEqualTo(2);

    AtomicInteger failures = new AtomicInteger();
    journal.storeWith(failingOnce(failures));
    assertThatThrownBy(() -> journal.checkpointIfDue(db, true)).isInstanceOf(SQLException.class)
        .hasMessageContaining("Could not sync file");
    assertThat(journal.healthy()).isFalse();
    assertThat(journal.storeFailed()).isTrue();
    assertThatThrownBy(() -> JournalRows.insert(journal, db, 5)).isInstanceOf(SQLException.class)
        .hasMessageContaining("could not be stored").hasMessageContaining("restart fhirbox");

    // the store would succeed now; a rotation still deletes, recycles and keeps nothing
    journal.checkpointIfDue(db, true);
    journal.checkpointIfDue(db, false);
    assertThat(failures.get()).as("stores tried").isEqualTo(1);
    assertThat(segments(journalDir)).isEqualTo(before);
    assertThat(JournalRows.records(journalDir)).isEqualTo(2);

    CommitJournalTest.crash(journal, db);
    try (CommitJournal again = CommitJournal.open(journalDir, db)) {
      assertThat(again.lastSeq()).isEqualTo(4);
      assertThat(again.healthy()).as("a restart starts afresh").isTrue();
      again.release();
    }
    assertThat(JournalRows.ids(db)).containsExactly(1L, 2L, 3L, 4L);
  }

  @Test
  void theServerRefusesCommitsAsUnavailableReportsNotReadyAndKeepsTheJournalWhenItStops() throws Exception {
    String url = "jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_ON_EXIT=FALSE";
    Path journalDir = dir.resolve("db.journal");
    Database db = new Database(url, "", "", 4);
    try {
      JdbcResourceStore store = new JdbcResourceStore(db);
      assertThat(db.isReachable()).isTrue();
      AtomicInteger failures = new AtomicInteger();
      db.journal().storeWith(failingOnce(failures));
      write(store, "a"); // acknowledged; the checkpointer's next store of it fails
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (failures.get() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(failures.get()).as("stores tried").isEqualTo(1);
      assertThat(db.isReachable()).as("ready").isFalse();
      assertThatThrownBy(() -> write(store, "b")).isInstanceOfSatisfying(CommitOutcomeUnknown.class,
          e -> assertThat(e.kind()).as("503").isEqualTo(BackendException.Kind.UNAVAILABLE))
          .hasStackTraceContaining("restart fhirbox");
    } finally {
      db.close();
    }
    assertThat(JournalRows.records(journalDir)).as("the journal after the stop").isGreaterThanOrEqualTo(1);
    assertThat(H2Durability.closedCleanly(dir.resolve("db.mv.db"))).as("stopped without a store").isFalse();

    Database again = new Database(url, "", "", 4);
    try {
      JdbcResourceStore store = new JdbcResourceStore(again);
      assertThat(again.isReachable()).isTrue();
      assertThat(stored(store, "a")).isTrue();
      assertThat(stored(store, "b")).isFalse();
      write(store, "c");
    } finally {
      again.close();
    }
  }

  private static void write(JdbcResourceStore store, String id) {
    store.inTransaction(tx -> {
      tx.insert(new StoredResource("p", "Patient", id, 1, Instant.ofEpochMilli(1000), false, "{\"id\":\"" + id + "\"}"),
          List.of());
      return id;
    });
  }

  private static boolean stored(JdbcResourceStore store, String id) {
    return store.read(tx -> tx.current("p", "Patient", id, false)).isPresent();
  }

  /** The journal's files (segments, the spare) with their sizes. */
  private static Map<String, Long> segments(Path journalDir) throws IOException {
    Map<String, Long> out = new TreeMap<>();
    try (var files = Files.list(journalDir)) {
      for (Path f : files.filter(f -> !f.getFileName().toString().equals("journal.lock")).toList()) {
        out.put(f.getFileName().toString(), Files.size(f));
      }
    }
    return out;
  }
}
