package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.fhirbox.model.StoredResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commit journal's group sync (a commit returns once its record is on the disk, batches,
 * stores that make records durable, failures that stay) and its segments written ahead of time.
 */
class JournalSyncTest {
  @TempDir
  Path dir;

  private FileChannel segment(String name) throws IOException {
    return FileChannel.open(dir.resolve(name), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
  }

  @Test
  void aJournaledCommitReturnsOnlyOnceItsRecordIsOnTheDisk() throws Exception {
    String url = "jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_DELAY=-1";
    Supplier<Connection> raw = () -> {
      try {
        return DriverManager.getConnection(url, "", "");
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    };
    try (Connection c = raw.get(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE t (id BIGINT PRIMARY KEY)");
    }
    // what each sync finds in the journal: the records it puts on the disk
    List<Integer> synced = new ArrayList<>();
    Path journalDir = dir.resolve("db.journal");
    try (CommitJournal journal = CommitJournal.open(journalDir, raw, System::currentTimeMillis, segment -> {
      synced.add(JournalRows.records(journalDir));
      segment.force(false);
    })) {
      for (long id = 1; id <= 2; id++) {
        try (Connection c = JournaledConnection.wrap(raw.get(), journal);
            PreparedStatement ps = c.prepareStatement("INSERT INTO t (id) VALUES (?)")) {
          c.setAutoCommit(false);
          ps.setLong(1, id);
          ps.executeUpdate();
          c.commit();
        }
        assertThat(synced).as("syncs after commit " + id).hasSize((int) id);
        assertThat(synced.get((int) id - 1)).as("records the sync covered").isEqualTo((int) id);
      }
      journal.release();
    }
  }

  /**
   * H2 shows a commit to other connections before its record is synced: a read that sees it
   * (in auto-commit, or in a transaction that writes nothing) answers only once that sync is
   * done, else a power loss could take back what a client was told exists. With nothing unsynced,
   * a read syncs nothing.
   */
  @Test
  void aReadThatSeesACommitAnswersOnlyOnceItsRecordIsOnTheDisk() throws Exception {
    Supplier<Connection> db = table();
    AtomicInteger forces = new AtomicInteger();
    AtomicBoolean hold = new AtomicBoolean();
    CountDownLatch syncing = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService threads = Executors.newFixedThreadPool(3);
    try (CommitJournal journal = CommitJournal.open(dir.resolve("db.journal"), db, System::currentTimeMillis,
        segment -> {
          forces.incrementAndGet();
          if (hold.get()) {
            hold(syncing, release);
          }
          segment.force(false);
        })) {
      JournalRows.insert(journal, db, 1);
      int before = forces.get();
      assertThat(count(journal, db, true)).isEqualTo(1);
      assertThat(count(journal, db, false)).isEqualTo(1);
      assertThat(forces.get()).as("reads with every record synced").isEqualTo(before);

      hold.set(true);
      Future<?> writer = threads.submit(() -> {
        JournalRows.insert(journal, db, 2);
        return null;
      });
      assertThat(syncing.await(10, TimeUnit.SECONDS)).isTrue();
      Future<Long> autoCommit = threads.submit(() -> count(journal, db, true));
      Future<Long> readOnly = threads.submit(() -> count(journal, db, false));
      assertThatThrownBy(() -> autoCommit.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
      assertThatThrownBy(() -> readOnly.get(50, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
      release.countDown();
      writer.get(10, TimeUnit.SECONDS);
      assertThat(autoCommit.get(10, TimeUnit.SECONDS)).as("the row, once synced").isEqualTo(2);
      assertThat(readOnly.get(10, TimeUnit.SECONDS)).isEqualTo(2);
      journal.release();
    } finally {
      threads.shutdownNow();
    }
  }

  /**
   * The same through the resource store as requests use it: a read of a resource whose commit is
   * not yet synced (a GET), and a transaction that only finds it (a conditional create that
   * matched), answer once the sync is done.
   */
  @Test
  void aStoreReadOfAResourceAnswersOnlyOnceItsCommitIsOnTheDisk() throws Exception {
    Database db = new Database("jdbc:h2:file:" + dir.resolve("store") + ";DB_CLOSE_ON_EXIT=FALSE", "", "", 4);
    ExecutorService threads = Executors.newFixedThreadPool(3);
    CountDownLatch syncing = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    try {
      JdbcResourceStore store = new JdbcResourceStore(db);
      Optional<StoredResource> none = store.read(tx -> tx.current("p", "Patient", "a", false));
      assertThat(none).isEmpty();
      db.journal().sync().forceWith(segment -> {
        hold(syncing, release);
        segment.force(false);
      });
      Future<?> writer = threads.submit(() -> store.inTransaction(tx -> {
        tx.insert(new StoredResource("p", "Patient", "a", 1, Instant.ofEpochMilli(1000), false, "{\"id\":\"a\"}"),
            List.of());
        return null;
      }));
      assertThat(syncing.await(10, TimeUnit.SECONDS)).isTrue();
      Future<Boolean> read = threads.submit(() -> store.read(tx -> tx.current("p", "Patient", "a", false)).isPresent());
      Future<Boolean> found = threads.submit(() -> store.inTransaction(
          tx -> tx.current("p", "Patient", "a", false).isPresent()));
      assertThatThrownBy(() -> read.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
      assertThatThrownBy(() -> found.get(50, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
      release.countDown();
      writer.get(10, TimeUnit.SECONDS);
      assertThat(read.get(10, TimeUnit.SECONDS)).as("found, once synced").isTrue();
      assertThat(found.get(10, TimeUnit.SECONDS)).isTrue();
    } finally {
      release.countDown();
      threads.shutdownNow();
      db.close();
    }
  }

  /** The rows of {@code t} on a journaled connection, in auto-commit or in a transaction committed after. */
  private static long count(CommitJournal journal, Supplier<Connection> db, boolean autoCommit) throws SQLException {
    try (Connection c = JournaledConnection.wrap(db.get(), journal)) {
      c.setAutoCommit(autoCommit);
      long n;
      try (Statement s = c.createStatement(); var rs = s.executeQuery("SELECT COUNT(*) FROM t")) {
        rs.next();
        n = rs.getLong(1);
      }
      if (!autoCommit) {
        c.commit();
        c.setAutoCommit(true);
      }
      return n;
    }
  }

  @Test
  void aRecycledSegmentIsWrittenOverAndARestartStopsAtItsOldRecords() throws Exception {
    Supplier<Connection> db = table();
    Path journalDir = dir.resolve("db.journal");
    CommitJournal journal = CommitJournal.open(journalDir, db);
    for (long id = 1; id <= 5; id++) {
      JournalRows.insert(journal, db, id);
    }
    journal.checkpointIfDue(db, true); // the segment holding 1 to 5 is kept as the spare
    assertThat(journalDir.resolve(JournalSpare.NAME)).exists();
    JournalRows.insert(journal, db, 6);
    journal.checkpointIfDue(db, true); // the spare becomes the segment for 7 on
    JournalRows.insert(journal, db, 7);
    assertThat(segments(journalDir)).hasSize(1);
    assertThat(JournalRows.records(journalDir)).as("record 7, then the old records of 2 to 5 left unread").isEqualTo(1);
    assertThat(rowsAfterACrash(journal, db, journalDir)).isEqualTo(7);
  }

  @Test
  void aRotationWithoutARecordSinceTheLastKeepsTheSegmentItWritesTo() throws Exception {
    Supplier<Connection> db = table();
    Path journalDir = dir.resolve("db.journal");
    long[] now = {0};
    CommitJournal journal = CommitJournal.open(journalDir, db, () -> now[0]);
    JournalRows.insert(journal, db, 1);
    journal.checkpointIfDue(db, true);
    // no commit since that rotation, and an idle server's store five minutes later rotates: the
    // next segment would have the same name as this one
    now[0] += CommitJournal.IDLE_STORE_MILLIS + 1;
    journal.checkpointIfDue(db, false);
    JournalRows.insert(journal, db, 2);
    assertThat(segments(journalDir)).hasSize(1);
    assertThat(JournalRows.records(journalDir)).isEqualTo(1);
    assertThat(rowsAfterACrash(journal, db, journalDir)).isEqualTo(2);
  }

  @Test
  void anInterruptedCommitterNeitherFailsNorStopsTheOthers() throws Exception {
    Supplier<Connection> db = table();
    Path journalDir = dir.resolve("db.journal");
    try (CommitJournal journal = CommitJournal.open(journalDir, db)) {
      try (Connection c = db.get(); PreparedStatement ps = c.prepareStatement("INSERT INTO t (id) VALUES (1)")) {
        c.setAutoCommit(false);
        ps.executeUpdate();
        Thread.currentThread().interrupt();
        try {
          journal.commit(c, List.of(new JournaledStatement("INSERT INTO t (id) VALUES (?)",
              List.<Object[]>of(new Object[] {1L}))));
        } finally {
          assertThat(Thread.interrupted()).as("the interrupt is kept for its thread").isTrue();
        }
      }
      JournalRows.insert(journal, db, 2);
      assertThat(JournalRows.records(journalDir)).isEqualTo(2);
      journal.release();
    }
  }

  @Test
  void afterAFailedSyncNothingMoreIsCommitted() throws Exception {
    Supplier<Connection> db = table();
    AtomicInteger forces = new AtomicInteger();
    try (CommitJournal journal = CommitJournal.open(dir.resolve("db.journal"), db, System::currentTimeMillis,
        segment -> {
          if (forces.incrementAndGet() == 1) {
            throw new IOException("Input/output error");
          }
        })) {
      assertThatThrownBy(() -> JournalRows.insert(journal, db, 1)).isInstanceOf(SQLException.class)
          .hasMessageContaining("may not be on the disk");
      assertThatThrownBy(() -> JournalRows.insert(journal, db, 2)).isInstanceOf(SQLException.class)
          .hasMessageContaining("restart fhirbox");
      assertThat(count(db)).as("the first is in the database, the second never was").isEqualTo(1);
      journal.release();
    }
  }

  /** Crashes the journal's database as a kill would, opens it again and counts its rows. */
  private static long rowsAfterACrash(CommitJournal journal, Supplier<Connection> db, Path journalDir)
      throws SQLException {
    CommitJournalTest.crash(journal, db);
    try (CommitJournal again = CommitJournal.open(journalDir, db)) {
      again.release();
      return count(db);
    }
  }

  private Supplier<Connection> table() throws SQLException {
    Supplier<Connection> db = CommitJournalTest.stored(dir);
    try (Connection c = db.get(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE t (id BIGINT PRIMARY KEY)");
    }
    return db;
  }

  private static long count(Supplier<Connection> db) throws SQLException {
    try (Connection c = db.get(); Statement s = c.createStatement();
        var rs = s.executeQuery("SELECT COUNT(*) FROM t")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static List<Path> segments(Path journalDir) throws IOException {
    try (var files = Files.list(journalDir)) {
      return files.filter(f -> f.getFileName().toString().endsWith(".log")).toList();
    }
  }

  @Test
  void committersWaitingTogetherShareOneSync() throws Exception {
    AtomicInteger forces = new AtomicInteger();
    CountDownLatch firstStarted = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    JournalSync sync = new JournalSync(0, s -> {
      if (forces.incrementAndGet() == 1) {
        hold(firstStarted, release);
      }
      s.force(false);
    });
    try (FileChannel segment = segment("a.log")) {
      ExecutorService pool = Executors.newFixedThreadPool(9);
      try {
        sync.appended(1, segment);
        Future<?> first = pool.submit(() -> {
          sync.await(1);
          return null;
        });
        assertThat(firstStarted.await(10, TimeUnit.SECONDS)).isTrue();
        // eight more commits append while the first sync runs: they form one batch after it
        List<Future<?>> later = new ArrayList<>();
        for (long seq = 2; seq <= 9; seq++) {
          sync.appended(seq, segment);
          long mine = seq;
          later.add(pool.submit(() -> {
            sync.await(mine);
            return null;
          }));
        }
        Thread.sleep(200);
        release.countDown();
        first.get(10, TimeUnit.SECONDS);
        for (Future<?> f : later) {
          f.get(10, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
    }
    assertThat(forces.get()).as("syncs for nine commits").isEqualTo(2);
  }

  @Test
  void aRecordAStoreMadeDurableNeedsNoSync() throws Exception {
    AtomicInteger forces = new AtomicInteger();
    JournalSync sync = new JournalSync(5, s -> forces.incrementAndGet());
    try (FileChannel segment = segment("a.log")) {
      sync.await(5);
      sync.appended(6, segment);
      sync.appended(7, segment);
      sync.stored(7);
      sync.await(6);
      sync.await(7);
      assertThat(forces.get()).isZero();
      sync.appended(8, segment);
      sync.await(8);
      assertThat(forces.get()).isEqualTo(1);
    }
  }

  @Test
  void aSegmentARotationClosedAfterItsStoreIsDoneButOneClosedBeforeFailsItsCommits() throws Exception {
    JournalSync sync = new JournalSync(0, JournalSync.FDATASYNC);
    FileChannel old = segment("a.log");
    sync.appended(1, old);
    sync.stored(1);
    old.close();
    sync.await(1);

    FileChannel next = segment("b.log");
    sync.appended(2, next);
    next.close();
    assertThatThrownBy(() -> sync.await(2)).isInstanceOf(IOException.class)
        .hasStackTraceContaining("closed before its records were synced");
  }

  @Test
  void aFailedSyncFailsItsCommitAndEveryLaterOne() throws Exception {
    AtomicInteger forces = new AtomicInteger();
    JournalSync sync = new JournalSync(0, s -> {
      if (forces.incrementAndGet() == 1) {
        throw new IOException("Input/output error");
      }
    });
    try (FileChannel segment = segment("a.log")) {
      sync.appended(1, segment);
      assertThatThrownBy(() -> sync.await(1)).isInstanceOf(IOException.class)
          .hasMessageContaining("restart fhirbox").hasRootCauseMessage("Input/output error");
      sync.appended(2, segment);
      // the kernel reports a failed writeback once: a later fsync that succeeds proves nothing
      assertThatThrownBy(() -> sync.await(2)).isInstanceOf(IOException.class);
      assertThat(forces.get()).isEqualTo(1);
    }
  }

  /** Holds a sync: tells {@code started}, then waits for {@code release} (10 s at most). */
  private static void hold(CountDownLatch started, CountDownLatch release) {
    started.countDown();
    try {
      release.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
