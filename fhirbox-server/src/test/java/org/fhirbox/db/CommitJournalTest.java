package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.fhirbox.storage.BlobKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded H2's commit journal: what a restart applies from it, and what a journaled
 * connection records. H2CrashTest kills a writing process and checks the whole path.
 */
class CommitJournalTest {
  @TempDir
  Path dir;

  private Supplier<Connection> raw() {
    String url = "jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_DELAY=-1";
    return () -> {
      try {
        return DriverManager.getConnection(url, "", "");
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    };
  }

  private void createTable() throws SQLException {
    try (Connection c = raw().get(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(100))");
    }
  }

  private static JournaledStatement insert(long id, String v) {
    return new JournaledStatement("INSERT INTO t (id, v) VALUES (?, ?)", List.<Object[]>of(new Object[] {id, v}));
  }

  private void writeSegment(long first, ByteBuffer... records) throws Exception {
    Path journal = dir.resolve("db.journal");
    Files.createDirectories(journal);
    try (FileChannel ch = FileChannel.open(journal.resolve(String.format("journal-%019d.log", first)),
        StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      for (ByteBuffer r : records) {
        ch.write(r);
      }
    }
  }

  private List<String> rows() throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = raw().get(); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT id, v FROM t ORDER BY id")) {
      while (rs.next()) {
        out.add(rs.getLong(1) + "=" + rs.getString(2));
      }
    }
    return out;
  }

  @Test
  void aRestartAppliesTheCommitsAfterTheMarkSkipsAbortedOnesAndStopsAtATornRecord() throws Exception {
    createTable();
    ByteBuffer torn = new JournalRecordBuffer().encode(CommitJournal.COMMIT, 5, List.of(insert(5, "torn")));
    torn.limit(torn.limit() - 3); // the crash cut its write short
    writeSegment(1,
        new JournalRecordBuffer().encode(CommitJournal.COMMIT, 1, List.of(insert(1, "one"))),
        new JournalRecordBuffer().encode(CommitJournal.COMMIT, 2, List.of(insert(2, "two"), insert(20, "twenty"))),
        new JournalRecordBuffer().encode(CommitJournal.COMMIT, 3, List.of(insert(3, "three"))),
        new JournalRecordBuffer().encode(CommitJournal.ABORT, 3, List.of()),
        new JournalRecordBuffer().encode(CommitJournal.COMMIT, 4, List.of(insert(4, "four"))),
        torn);
    // a crash while the version before the next segment was being recorded left its temporary file
    Files.writeString(dir.resolve("db.journal").resolve(String.format("journal-%019d.stored.tmp", 9)), "12 3");
    // the database file already holds transaction 1 and says so in its mark
    try (Connection c = raw().get(); Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA FHIRBOX_JOURNAL");
      s.execute("CREATE TABLE " + CommitJournal.MARK_TABLE + " (id INT PRIMARY KEY, seq BIGINT NOT NULL)");
      s.execute("INSERT INTO " + CommitJournal.MARK_TABLE + " VALUES (1, 1)");
      s.execute("INSERT INTO t VALUES (1, 'one')");
    }

    try (CommitJournal journal = CommitJournal.open(dir.resolve("db.journal"), raw())) {
      assertThat(rows()).containsExactly("1=one", "2=two", "4=four", "20=twenty");
      assertThat(journal.lastSeq()).isEqualTo(4);
      try (Connection c = raw().get(); Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT seq FROM " + CommitJournal.MARK_TABLE)) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getLong(1)).isEqualTo(4);
      }
      // the applied segment and the unfinished record are gone; the new segment starts after the
      // highest complete record, beside the version of the synced store before it
      try (var files = Files.list(dir.resolve("db.journal"))) {
        assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("journal.lock",
            String.format("journal-%019d.log", 5), String.format("journal-%019d.stored", 5));
      }
      journal.release();
    }
  }

  private Supplier<Connection> stored() {
    return stored(dir);
  }

  /** Connections to {@code dir/db} as the server runs it: its file stored by the journal's checkpoints only. */
  static Supplier<Connection> stored(Path dir) {
    String url = H2Durability.storedByCheckpoints("jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_DELAY=-1");
    return () -> {
      try {
        return DriverManager.getConnection(url, "", "");
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    };
  }

  /**
   * What a kill leaves: the journal's lock free, its segment as written, and the database file as
   * the last store left it (H2 closes it without storing what it holds in memory).
   */
  static void crash(CommitJournal journal, Supplier<Connection> db) throws SQLException {
    journal.release();
    try (Connection c = db.get(); Statement s = c.createStatement()) {
      s.execute("SHUTDOWN IMMEDIATELY");
    }
  }

  /**
   * A restart moves the mark past every record it read, aborted ones at the end included, before
   * the next segment starts after them: a crash before the next store then finds that segment's
   * records following the mark, not a gap.
   */
  @Test
  void aCrashAfterARestartOverTrailingAbortedRecordsStillRestarts() throws Exception {
    Supplier<Connection> db = stored();
    try (Connection c = db.get(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(100))");
    }
    writeSegment(1,
        new JournalRecordBuffer().encode(CommitJournal.COMMIT, 1, List.of(insert(1, "one"))),
        new JournalRecordBuffer().encode(CommitJournal.COMMIT, 2, List.of(insert(2, "two"))),
        new JournalRecordBuffer().encode(CommitJournal.ABORT, 2, List.of()));
    CommitJournal journal = CommitJournal.open(dir.resolve("db.journal"), db);
    try (Connection c = JournaledConnection.wrap(db.get(), journal);
        PreparedStatement ps = c.prepareStatement("INSERT INTO t (id, v) VALUES (?, ?)")) {
      ps.setLong(1, 3);
      ps.setString(2, "three");
      ps.executeUpdate();
    }
    assertThat(journal.lastSeq()).isEqualTo(3);
    crash(journal, db);

    try (CommitJournal again = CommitJournal.open(dir.resolve("db.journal"), db)) {
      assertThat(again.lastSeq()).isEqualTo(3);
      again.release();
    }
    assertThat(rows()).containsExactly("1=one", "3=three");
  }

  private static void insertJournaled(Connection c, long id, String v) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO t (id, v) VALUES (?, ?)")) {
      ps.setLong(1, id);
      ps.setString(2, v);
      ps.executeUpdate();
    }
  }

  /**
   * A new segment that cannot be opened (a full disk, no file descriptors left) leaves the
   * current one taking the commits, and a later store starts the new segment once it can.
   */
  @Test
  void aSegmentThatCannotBeStartedLeavesTheJournalOnTheCurrentOne() throws Exception {
    Supplier<Connection> db = stored();
    try (Connection c = db.get(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(100))");
    }
    Path journalDir = dir.resolve("db.journal");
    CommitJournal journal = CommitJournal.open(journalDir, db);
    try (Connection c = JournaledConnection.wrap(db.get(), journal)) {
      insertJournaled(c, 1, "one");
      // a directory where the next segment's file would go: opening it fails
      Path blocked = Files.createDirectory(journalDir.resolve(String.format("journal-%019d.log", journal.lastSeq() + 1)));
      assertThatThrownBy(() -> journal.checkpointIfDue(db, true)).hasMessageContaining("segment");

      insertJournaled(c, 2, "two");
      Files.delete(blocked);
      journal.checkpointIfDue(db, true);
      insertJournaled(c, 3, "three");
    }
    try (var files = Files.list(journalDir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("journal.lock", String.format("journal-%019d.log", 3),
              String.format("journal-%019d.stored", 3), JournalSpare.NAME);
    }
    crash(journal, db);

    try (CommitJournal again = CommitJournal.open(journalDir, db)) {
      again.release();
    }
    assertThat(rows()).containsExactly("1=one", "2=two", "3=three");
  }

  /**
   * Recording a blob's SHA-1 and a Binary update that adds a version on the same blob, interleaved:
   * the update holds its Binary's row and adds a version without a SHA-1, not yet committed, while
   * the SHA-1 is recorded; the update commits first. The recording waits for the Binary's row and
   * then fills both versions, and a replay of the journal, which sees both commits, changes the
   * same rows.
   */
  @Test
  void aSha1RecordedWhileABinaryUpdateAddsAVersionOnTheSameBlobIsAppliedAgainAlike() throws Exception {
    Supplier<Connection> db = stored();
    String blob = "0123456789abcdef0123456789abcdef";
    try (Connection c = db.get(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE resource_current (project VARCHAR(64), res_type VARCHAR(64), res_id VARCHAR(64),"
          + " version_id BIGINT, PRIMARY KEY (project, res_type, res_id))");
      s.execute("CREATE TABLE binary_content (project VARCHAR(64), res_id VARCHAR(64), version_id BIGINT,"
          + " blob_key CHAR(32), sha1 CHAR(40), PRIMARY KEY (project, res_id, version_id))");
      s.execute("INSERT INTO resource_current VALUES ('p', 'Binary', 'x', 1)");
      s.execute("INSERT INTO binary_content VALUES ('p', 'x', 1, '" + blob + "', NULL)");
    }
    CommitJournal journal = CommitJournal.open(dir.resolve("db.journal"), db);
    java.util.concurrent.ExecutorService other = java.util.concurrent.Executors.newSingleThreadExecutor();
    int count;
    try (Connection update = JournaledConnection.wrap(db.get(), journal);
        Connection learn = JournaledConnection.wrap(db.get(), journal);
        Statement s = update.createStatement()) {
      update.setAutoCommit(false);
      learn.setAutoCommit(false);
      // a Binary update without data: its Binary's row, then a version on the same blob
      s.executeQuery("SELECT version_id FROM resource_current WHERE res_id = 'x' FOR UPDATE").close();
      s.executeUpdate("UPDATE resource_current SET version_id = 2 WHERE res_id = 'x'");
      s.executeUpdate("INSERT INTO binary_content VALUES ('p', 'x', 2, '" + blob + "', NULL)");
      java.util.concurrent.CountDownLatch updated = new java.util.concurrent.CountDownLatch(1);
      java.util.concurrent.Future<Integer> filled = other.submit(() -> {
        int n = new BinaryContentRows(new JdbcStatements(learn)).fillSha1(new BlobKey(blob), "a".repeat(40));
        updated.await();
        learn.commit();
        return n;
      });
      Thread.sleep(300); // the recording runs as far as it can
      update.commit();
      updated.countDown();
      count = filled.get(10, java.util.concurrent.TimeUnit.SECONDS);
    } finally {
      other.shutdownNow();
    }
    crash(journal, db);

    try (CommitJournal again = CommitJournal.open(dir.resolve("db.journal"), db)) {
      again.release();
    }
    try (Connection c = db.get(); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT version_id, sha1 FROM binary_content ORDER BY version_id")) {
      List<String> versions = new ArrayList<>();
      while (rs.next()) {
        versions.add(rs.getLong(1) + "=" + rs.getString(2));
      }
      assertThat(versions).containsExactly("1=" + "a".repeat(40), "2=" + "a".repeat(40));
    }
    assertThat(count).isEqualTo(2);
  }

  @Test
  void aJournalThatDoesNotFollowTheFilesMarkStopsTheStartAndAppliesNothing() throws Exception {
    createTable();
    // the file holds transactions up to 10; the journal's oldest segment starts at 15 (a restored
    // older database file, or a store a power loss took back after segments were deleted)
    writeSegment(15,
        new JournalRecordBuffer().encode(CommitJournal.COMMIT, 15, List.of(insert(15, "fifteen"))),
        new JournalRecordBuffer().encode(CommitJournal.COMMIT, 16, List.of(insert(16, "sixteen"))));
    try (Connection c = raw().get(); Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA FHIRBOX_JOURNAL");
      s.execute("CREATE TABLE " + CommitJournal.MARK_TABLE + " (id INT PRIMARY KEY, seq BIGINT NOT NULL)");
      s.execute("INSERT INTO " + CommitJournal.MARK_TABLE + " VALUES (1, 10)");
    }

    assertThatThrownBy(() -> CommitJournal.open(dir.resolve("db.journal"), raw()))
        .hasMessageContaining("transactions 11 to 14 are in neither").hasMessageContaining("Nothing was applied");

    assertThat(rows()).isEmpty();
    try (var files = Files.list(dir.resolve("db.journal"))) {
      assertThat(files.anyMatch(p -> p.toString().endsWith("-0000000000000000015.log"))).as("kept").isTrue();
    }
  }

  @Test
  void aRecordThatNoLongerAppliesStopsTheStartWithTheTransactionNamed() throws Exception {
    createTable();
    writeSegment(1, new JournalRecordBuffer().encode(CommitJournal.COMMIT, 1,
        List.of(new JournaledStatement("INSERT INTO missing_table VALUES (?)", List.<Object[]>of(new Object[] {1L})))));
    assertThatThrownBy(() -> CommitJournal.open(dir.resolve("db.journal"), raw()))
        .hasMessageContaining("transaction 1 of the journal could not be applied again");
    assertThat(Files.list(dir.resolve("db.journal")).anyMatch(p -> p.toString().endsWith("-0000000000000000001.log")))
        .as("the journal is kept for inspection").isTrue();
  }

  @Test
  void aJournaledConnectionRecordsWritesAndNotRolledBackOnes() throws Exception {
    createTable();
    try (CommitJournal journal = CommitJournal.open(dir.resolve("db.journal"), raw())) {
      try (Connection c = JournaledConnection.wrap(raw().get(), journal)) {
        // auto-commit: a transaction of its own
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO t (id, v) VALUES (?, ?)")) {
          ps.setLong(1, 1);
          ps.setString(2, "one");
          ps.executeUpdate();
        }
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO t (id, v) VALUES (?, ?)")) {
          ps.setLong(1, 2);
          ps.setObject(2, "rolled back");
          ps.executeUpdate();
        }
        c.rollback();
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO t (id, v) VALUES (?, ?)")) {
          for (long id = 3; id <= 4; id++) {
            ps.setLong(1, id);
            ps.setString(2, "batch");
            ps.addBatch();
          }
          ps.executeBatch();
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO t (id, v) VALUES (?, ?)")) {
          ps.setLong(1, 9);
          assertThatThrownBy(() -> ps.setObject(2, new ByteArrayInputStream(new byte[1])))
              .isInstanceOf(SQLFeatureNotSupportedException.class).hasMessageContaining("cannot be journaled");
        }
        c.commit();
      }
      assertThat(journal.lastSeq()).isEqualTo(2);
      journal.release();
    }
    // the segment is still there (no checkpoint): applied to a database without its rows, it
    // gives the same rows
    List<String> written = rows();
    try (Connection c = raw().get(); Statement s = c.createStatement()) {
      s.execute("DELETE FROM t");
      s.execute("UPDATE " + CommitJournal.MARK_TABLE + " SET seq = 0");
    }
    try (CommitJournal again = CommitJournal.open(dir.resolve("db.journal"), raw())) {
      assertThat(rows()).isEqualTo(written).containsExactly("1=one", "3=batch", "4=batch");
      again.release();
    }
  }

  /**
   * A store never runs while a statement changes H2's B-trees (MVStore stores them one by one,
   * and a row caught between its undo log and its table outlives a crash with no owner): writes,
   * row locks and rollbacks wait while a store holds the journal's gate, and a store gives up,
   * to try again, while they hold it.
   */
  @Test
  void aStoreAndAStatementThatChangesTheDatabaseNeverOverlap() throws Exception {
    createTable();
    try (CommitJournal journal = CommitJournal.open(dir.resolve("db.journal"), raw());
        Connection c = JournaledConnection.wrap(raw().get(), journal);
        Connection raw = raw().get();
        Statement store = raw.createStatement()) {
      c.setAutoCommit(false);
      java.util.concurrent.ExecutorService other = java.util.concurrent.Executors.newSingleThreadExecutor();
      try {
        List<java.util.concurrent.Callable<Object>> changes = List.of(
            () -> {
              try (PreparedStatement ps = c.prepareStatement("INSERT INTO t (id, v) VALUES (?, ?)")) {
                ps.setLong(1, 1);
                ps.setString(2, "one");
                return ps.executeUpdate();
              }
            },
            () -> {
              try (PreparedStatement ps = c.prepareStatement("SELECT v FROM t WHERE id = ? FOR UPDATE")) {
                ps.setLong(1, 1);
                try (ResultSet rs = ps.executeQuery()) {
                  return rs.next();
                }
              }
            },
            () -> {
              c.rollback();
              return "rolled back";
            });
        for (java.util.concurrent.Callable<Object> change : changes) {
          java.util.concurrent.locks.Lock storing = journal.storing();
          storing.lock(); // as a store does
          java.util.concurrent.Future<Object> done;
          try {
            done = other.submit(change);
            assertThatThrownBy(() -> done.get(300, java.util.concurrent.TimeUnit.MILLISECONDS))
                .as("a change while the database is being stored").isInstanceOf(java.util.concurrent.TimeoutException.class);
          } finally {
            storing.unlock();
          }
          assertThat(done.get(10, java.util.concurrent.TimeUnit.SECONDS)).isNotNull();
        }
        // and the other way round: a store waits for a change in flight, then gives up
        java.util.concurrent.CountDownLatch holding = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.Future<?> change = other.submit(() -> {
          journal.changes().lock();
          try {
            holding.countDown();
            release.await();
          } finally {
            journal.changes().unlock();
          }
          return null;
        });
        holding.await();
        assertThat(journal.storeAlone(store, 100, false)).as("stored during a change").isFalse();
        release.countDown();
        change.get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(journal.storeAlone(store, 100, false)).isTrue();
      } finally {
        other.shutdownNow();
      }
      journal.release();
    }
  }

  /**
   * A statement that, applied again, changes another number of rows than when it committed stops
   * the start: the file is not what the journal's transactions ran on, and going on would
   * silently give another database than the one acknowledged.
   */
  @Test
  void aReplayThatChangesAnotherNumberOfRowsStopsTheStart() throws Exception {
    createTable();
    try (Connection c = raw().get(); Statement s = c.createStatement()) {
      s.execute("INSERT INTO t (id, v) VALUES (1, 'one')");
    }
    JournaledStatement update = new JournaledStatement("UPDATE t SET v = ? WHERE id <= ?",
        List.<Object[]>of(new Object[] {"changed", 2L}), new long[] {2});
    writeSegment(1, new JournalRecordBuffer().encode(CommitJournal.COMMIT, 1, List.of(update)));

    assertThatThrownBy(() -> CommitJournal.open(dir.resolve("db.journal"), raw()))
        .hasMessageContaining("transaction 1 of the journal could not be applied again")
        .hasMessageContaining("changed 1 rows where it had changed 2");
    assertThat(rows()).containsExactly("1=one");
  }

  /** A journal written before update counts were recorded is applied as it was. */
  @Test
  void aJournalWithoutUpdateCountsIsStillApplied() throws Exception {
    createTable();
    try (Connection c = raw().get(); Statement s = c.createStatement()) {
      s.execute("INSERT INTO t (id, v) VALUES (1, 'one')");
    }
    writeSegment(1, withoutCounts(1, insert(2, "two"),
        new JournaledStatement("UPDATE t SET v = ? WHERE id <= ?", List.<Object[]>of(new Object[] {"changed", 2L}))));

    try (CommitJournal journal = CommitJournal.open(dir.resolve("db.journal"), raw())) {
      assertThat(journal.lastSeq()).isEqualTo(1);
      journal.release();
    }
    assertThat(rows()).containsExactly("1=changed", "2=changed");
  }

  /** A commit record as journals were written before they held update counts. */
  private static ByteBuffer withoutCounts(long seq, JournaledStatement... statements) throws Exception {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(body);
    out.writeByte(CommitJournal.COMMIT);
    out.writeLong(seq);
    out.writeInt(statements.length);
    for (JournaledStatement st : statements) {
      st.write(out);
    }
    out.flush();
    byte[] b = body.toByteArray();
    ByteBuffer framed = ByteBuffer.allocate(8 + b.length);
    framed.putInt(b.length).putInt(JournalRecordBuffer.crc32c(b, 0, b.length)).put(b).flip();
    return framed;
  }

  @Test
  void theJournalRunsH2WithItsOwnWriteDelayWhateverTheUrlSets() {
    String ours = ";WRITE_DELAY=" + H2Durability.H2_WRITE_DELAY_MILLIS;
    assertThat(H2Durability.storedByCheckpoints("jdbc:h2:file:/d/x")).isEqualTo("jdbc:h2:file:/d/x" + ours);
    assertThat(H2Durability.storedByCheckpoints("jdbc:h2:file:/d/x;WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE"))
        .isEqualTo("jdbc:h2:file:/d/x;DB_CLOSE_ON_EXIT=FALSE" + ours);
    assertThat(H2Durability.storedByCheckpoints("jdbc:h2:file:/d/x;write_delay=500")).isEqualTo("jdbc:h2:file:/d/x" + ours);
    assertThatThrownBy(() -> H2Durability.storedByCheckpoints("jdbc:h2:file:/d/x;INIT=SET WRITE_DELAY 0"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("WRITE_DELAY");
  }

  /**
   * With no commit for {@link CommitJournal#IDLE_STORE_MILLIS}, the checkpointer still stores, so
   * that what H2 holds unsaved is stored under the journal's lock, not by H2's own background
   * store once its much longer delay passes.
   */
  @Test
  void anIdleJournalStillStoresOnceTheIdleTimePassed() throws Exception {
    String url = H2Durability.storedByCheckpoints("jdbc:h2:file:" + dir.resolve("idle") + ";DB_CLOSE_DELAY=-1");
    Supplier<Connection> raw = () -> {
      try {
        return DriverManager.getConnection(url, "", "");
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    };
    long[] now = {1_000_000};
    try (Connection c = raw.get(); Statement s = c.createStatement();
        CommitJournal journal = CommitJournal.open(dir.resolve("idle.journal"), raw, () -> now[0])) {
      // a change made outside the journal (none of its commits): nothing new for the journal to store
      s.execute("CREATE TABLE unjournaled (id INT PRIMARY KEY)");
      s.execute("INSERT INTO unjournaled VALUES (1)");
      org.h2.mvstore.MVStore store = ((org.h2.engine.SessionLocal) c.unwrap(org.h2.jdbc.JdbcConnection.class)
          .getSession()).getDatabase().getStore().getMvStore();
      assertThat(store.hasUnsavedChanges()).isTrue();

      now[0] += CommitJournal.IDLE_STORE_MILLIS - 1;
      journal.checkpointIfDue(raw, false);
      assertThat(store.hasUnsavedChanges()).as("stored before the idle time passed").isTrue();

      now[0] += 1;
      journal.checkpointIfDue(raw, false);
      assertThat(store.hasUnsavedChanges()).as("stored once the idle time passed").isFalse();
      journal.release();
    }
  }

  @Test
  void everyBoundParameterTypeReadsBackAsItWasWritten() throws Exception {
    // search values bind decimals with their scale (1.50 is not 1.5 for a FHIR number's precision)
    Object[] row = {null, "text", 7L, 3, true, new byte[] {1, 2}, new BigDecimal("1.50"), new BigDecimal("-1E+3")};
    assertThat(row).allMatch(JournaledStatement::supported);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    new JournaledStatement("INSERT INTO x VALUES (?)", List.<Object[]>of(row)).write(new DataOutputStream(bytes));
    JournaledStatement back = JournaledStatement.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
    assertThat(back.sql()).isEqualTo("INSERT INTO x VALUES (?)");
    assertThat(back.rows()).hasSize(1);
    assertThat(back.rows().get(0)).containsExactly(row);
    assertThat(((BigDecimal) back.rows().get(0)[6]).scale()).isEqualTo(2);
    assertThat(JournaledStatement.supported(1.5d)).as("a double would lose a decimal's scale").isFalse();
  }

  /**
   * H2 keeps a Java string as it is, an unpaired surrogate included; the journal must give the
   * same string back after a crash, not its UTF-8 rendering with a {@code ?} in its place.
   */
  @Test
  void aStringWithAnUnpairedSurrogateIsAppliedAgainAsItWasCommitted() throws Exception {
    Supplier<Connection> db = stored();
    try (Connection c = db.get(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(100))");
    }
    CommitJournal journal = CommitJournal.open(dir.resolve("db.journal"), db);
    List<String> values = List.of("Ada \uD800", "\uDC00 low first", "pair \uD83D\uDE00 and end \uDBFF");
    for (int i = 0; i < values.size(); i++) {
      try (Connection c = JournaledConnection.wrap(db.get(), journal)) {
        insertJournaled(c, i + 1, values.get(i));
      }
    }
    crash(journal, db);
    try (CommitJournal again = CommitJournal.open(dir.resolve("db.journal"), db)) {
      again.release();
    }
    assertThat(rows()).containsExactly("1=" + values.get(0), "2=" + values.get(1), "3=" + values.get(2));
    assertThatThrownBy(() -> new JournaledStatement("SELECT '\uD800'", List.of()).write(
        new DataOutputStream(new ByteArrayOutputStream()))).hasMessageContaining("unpaired surrogate");
  }

  @Test
  void statementKindsComeFromTheFirstWord() {
    assertThat(JournaledConnection.kind("  insert into t values (1)")).isEqualTo(JournaledConnection.Kind.WRITE);
    assertThat(JournaledConnection.kind("MERGE INTO t KEY (id) VALUES (1)")).isEqualTo(JournaledConnection.Kind.WRITE);
    assertThat(JournaledConnection.kind("(SELECT 1)")).isEqualTo(JournaledConnection.Kind.READ);
    assertThat(JournaledConnection.kind("SELECT id FROM t FOR UPDATE")).isEqualTo(JournaledConnection.Kind.LOCK);
    assertThat(JournaledConnection.kind("select id from t where id = ?\nfor update")).isEqualTo(JournaledConnection.Kind.LOCK);
    assertThat(JournaledConnection.kind("CREATE TABLE IF NOT EXISTS x (id INT)")).isEqualTo(JournaledConnection.Kind.DDL);
  }
}
