package org.fhirbox.db;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies again, on opening, the {@link CommitJournal}'s records that follow the mark stored in
 * the database file: each transaction in order, in a transaction of its own that also moves the
 * mark; aborted ones skipped; a gap between the mark and the records, or a record that no longer
 * applies, stops the start with nothing after it applied.
 */
final class JournalReplay {
  private static final Logger LOG = LoggerFactory.getLogger(CommitJournal.class);

  private JournalReplay() {
  }

  /**
   * Applies the records of {@code files} (oldest first) after {@code mark}; the number of the last
   * record found, applied or not.
   */
  static long replay(List<Path> files, long mark, Supplier<Connection> connections)
      throws IOException, SQLException {
    List<JournalSegment.Record> records = new ArrayList<>();
    Set<Long> aborted = new HashSet<>();
    for (Path p : files) {
      JournalSegment.read(p, records, aborted);
    }
    requireNoGap(records, mark, files);
    long last = mark;
    int applied = 0;
    long start = System.nanoTime();
    try (Connection c = connections.get()) {
      c.setAutoCommit(false);
      for (JournalSegment.Record r : records) {
        last = Math.max(last, r.seq());
        if (r.seq() <= mark || aborted.contains(r.seq())) {
          continue;
        }
        if (r.autonomous()) {
          // DDL commits by itself and moves no mark: run it again where it is not there yet
          for (JournaledStatement st : r.statements()) {
            try {
              st.replay(c);
              c.commit();
            } catch (SQLException e) {
              c.rollback();
              LOG.info("journal: statement {} not applied again: {}", r.seq(), e.getMessage());
            }
          }
          continue;
        }
        try {
          for (JournaledStatement st : r.statements()) {
            st.replay(c);
          }
          CommitJournal.setMark(c, r.seq());
          c.commit();
          applied++;
        } catch (SQLException e) {
          c.rollback();
          throw new SQLException("transaction " + r.seq() + " of the journal could not be applied again ("
              + e.getMessage() + "); nothing after it was applied and the journal is kept. Do not delete or move "
              + "the journal to get past this: its transactions from " + r.seq() + " on may be acknowledged commits "
              + "that the database file does not hold. Copy the database file and the journal's directory "
              + "before changing either", e.getSQLState(), e);
        }
      }
    }
    if (applied > 0) {
      LOG.warn("the embedded database was not closed cleanly: applied {} committed transactions from its journal "
          + "that the database file did not hold yet, in {} ms", applied, (System.nanoTime() - start) / 1_000_000);
    }
    return last;
  }

  /**
   * Refuses records that do not follow the database file's mark one by one: a gap means the file
   * is older than the journal expects (a restored copy of it, or a store that a power loss took
   * back), and applying what follows the gap would give transactions without the ones before them.
   */
  private static void requireNoGap(List<JournalSegment.Record> records, long mark, List<Path> files) {
    long expected = mark + 1;
    for (JournalSegment.Record r : records) {
      if (r.seq() > expected) {
        throw new IllegalStateException("the commit journal in " + files.get(0).getParent() + " holds transaction "
            + r.seq() + " next, but the database file holds transactions up to " + mark + " only: transactions "
            + expected + " to " + (r.seq() - 1) + " are in neither (a database file older than its journal, such as a "
            + "restored copy). Nothing was applied. To start from the database file as it is, losing the "
            + "journal's transactions, move the journal's directory aside (keep it: they are in no other place)");
      }
      expected = Math.max(expected, r.seq() + 1);
    }
  }
}
