package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * After a power loss the newest chunks of H2's file, stored every 200 ms without a sync, may be
 * torn; an unclean open rolls the file back to the version of the last synced store, which the
 * journal recorded, and the journal applies every transaction after it.
 */
class JournalRollbackTest {
  @TempDir
  Path dir;

  @Test
  void anUncleanOpenRollsBackToTheLastSyncedStoreAndTheJournalAppliesEveryCommitAfterIt() throws Exception {
    Supplier<Connection> db = CommitJournalTest.stored(dir);
    try (Connection c = db.get(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE t (id BIGINT PRIMARY KEY)");
    }
    Path journalDir = dir.resolve("db.journal");
    long[] now = {0};
    CommitJournal journal = CommitJournal.open(journalDir, db, () -> now[0]);
    JournalRows.insert(journal, db, 1);
    JournalRows.insert(journal, db, 2);
    journal.checkpointIfDue(db, true); // synced: the file holds 1 and 2, and the version is recorded
    // stores without a sync, as the checkpointer makes every 200 ms between rotations
    JournalRows.insert(journal, db, 3);
    journal.checkpointIfDue(db, false);
    JournalRows.insert(journal, db, 4);
    journal.checkpointIfDue(db, false);
    JournalRows.insert(journal, db, 5);
    assertThat(mark(db)).isEqualTo(4);
    CommitJournalTest.crash(journal, db);

    assertThat(H2Durability.recoverIfNotClosedCleanly("jdbc:h2:file:" + dir.resolve("db"))).isTrue();
    assertThat(mark(db)).as("the file as the last synced store left it").isEqualTo(2);
    assertThat(JournalRows.ids(db)).containsExactly(1L, 2L);
    try (Connection c = db.get(); Statement s = c.createStatement()) {
      s.execute("SHUTDOWN IMMEDIATELY");
    } catch (SQLException e) {
      // the connection ends with it
    }
    try (CommitJournal again = CommitJournal.open(journalDir, db)) {
      assertThat(again.lastSeq()).isEqualTo(5);
      again.release();
    }
    assertThat(JournalRows.ids(db)).containsExactly(1L, 2L, 3L, 4L, 5L);
  }

  /** Records left to the operating system (FHIRBOX_H2_SYNC_COMMITS=false) may be lost where the file kept them. */
  @Test
  void aJournalThatDoesNotSyncItsRecordsRecordsNoVersionToRollBackTo() throws Exception {
    Supplier<Connection> db = CommitJournalTest.stored(dir);
    Path journalDir = dir.resolve("db.journal");
    CommitJournal journal = CommitJournal.open(journalDir, db, System::currentTimeMillis, null);
    journal.checkpointIfDue(db, true);
    assertThat(JournalFiles.newestStoredVersion(journalDir)).isNull();
    CommitJournalTest.crash(journal, db);
    try (CommitJournal synced = CommitJournal.open(journalDir, db)) {
      assertThat(JournalFiles.newestStoredVersion(journalDir)).isNotNull();
      synced.release();
    }
  }

  /**
   * MVStore writes over chunks once they have been unused for its retention time: a synced store
   * older than that at the file's last write may have lost chunks, and the newest version is kept.
   */
  @Test
  void aSyncedStoreOlderThanTheRetentionTimeIsNotRolledBackTo() throws Exception {
    Path file = dir.resolve("x.mv.db");
    Files.writeString(file, "x");
    long written = Files.getLastModifiedTime(file).toMillis();
    assertThat(H2Durability.rollbackTarget(file, new JournalFiles.StoredVersion(7, written - 30_000, 45_000)))
        .isEqualTo(7);
    assertThat(H2Durability.rollbackTarget(file, new JournalFiles.StoredVersion(7, written - 41_000, 45_000)))
        .as("within the margin of 5 s").isEqualTo(-1);
    assertThat(H2Durability.rollbackTarget(file, new JournalFiles.StoredVersion(7, written - 40, 100)))
        .as("RETENTION_TIME=100").isEqualTo(7);
    assertThat(H2Durability.rollbackTarget(file, new JournalFiles.StoredVersion(7, written - 60, 100))).isEqualTo(-1);
    assertThat(H2Durability.rollbackTarget(file, null)).isEqualTo(-1);
  }

  private static long mark(Supplier<Connection> db) throws SQLException {
    try (Connection c = db.get(); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT seq FROM " + CommitJournal.MARK_TABLE + " WHERE id = 1")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
