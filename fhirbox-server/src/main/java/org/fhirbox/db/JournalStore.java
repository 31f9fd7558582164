package org.fhirbox.db;

import java.sql.SQLException;
import java.sql.Statement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the {@link CommitJournal} has H2 store the database file, and what a failed store leaves:
 * the failure is final, as a failed sync of the journal is ({@link JournalSync}). After a failed
 * {@code fsync} the kernel may have dropped the pages it could not write and reports that once, so
 * a later store that succeeds proves nothing about the chunks before it (PostgreSQL's answer to
 * the same, since 2018: stop). The journal's segments are then the only sure copy of every
 * transaction since the last synced store: none is deleted or recycled, and nothing more is
 * committed until a restart, which applies them.
 */
final class JournalStore {
  private static final Logger LOG = LoggerFactory.getLogger(JournalStore.class);

  /** Has H2 store the file: {@code CHECKPOINT}, or with {@code sync} {@code CHECKPOINT SYNC}; a seam for tests. */
  interface Statements {
    void store(Statement s, boolean sync) throws SQLException;
  }

  static final Statements CHECKPOINT = (s, sync) -> s.execute(sync ? "CHECKPOINT SYNC" : "CHECKPOINT");

  private Statements statements = CHECKPOINT;
  private SQLException failed;

  /** Replaces the statement that stores the database file (tests make it fail). */
  synchronized void storeWith(Statements statements) {
    this.statements = statements;
  }

  /**
   * Stores the database file; a failure is kept, and every later call fails at once.
   *
   * @param journal the journal's directory, for the log
   */
  synchronized void store(Statement s, boolean sync, Object journal) throws SQLException {
    requireStored();
    try {
      statements.store(s, sync);
    } catch (SQLException | RuntimeException e) {
      failed = e instanceof SQLException q ? q : new SQLException(e.toString(), e);
      LOG.error("storing the embedded database file failed: {}; from now on no commit is accepted and the "
          + "commit journal in {} is kept whole, for the next start to apply; restart fhirbox", e, journal);
      throw failed;
    }
  }

  /** Throws once a store has failed. */
  synchronized void requireStored() throws SQLException {
    if (failed != null) {
      throw new SQLException("the embedded database file could not be stored to the disk earlier; its journal is "
          + "kept for the next start; restart fhirbox", failed);
    }
  }

  synchronized boolean failed() {
    return failed != null;
  }
}
