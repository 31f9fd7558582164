package org.fhirbox.db;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.function.Supplier;

/**
 * Rows of the journal tests' table {@code t (id)}, written through a {@link CommitJournal}, and the
 * records its segments hold.
 */
final class JournalRows {
  private JournalRows() {
  }

  /** Inserts {@code id} in a transaction of its own, journaled. */
  static void insert(CommitJournal journal, Supplier<Connection> db, long id) throws SQLException {
    try (Connection c = JournaledConnection.wrap(db.get(), journal);
        PreparedStatement ps = c.prepareStatement("INSERT INTO t (id) VALUES (?)")) {
      c.setAutoCommit(false);
      ps.setLong(1, id);
      ps.executeUpdate();
      c.commit();
    }
  }

  /** Every id in the table, in order. */
  static List<Long> ids(Supplier<Connection> db) throws SQLException {
    List<Long> out = new ArrayList<>();
    try (Connection c = db.get(); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT id FROM t ORDER BY id")) {
      while (rs.next()) {
        out.add(rs.getLong(1));
      }
    }
    return out;
  }

  /** How many complete records the segments ({@code *.log}) of {@code journalDir} hold. */
  static int records(Path journalDir) throws IOException {
    List<JournalSegment.Record> found = new ArrayList<>();
    try (var files = Files.list(journalDir)) {
      for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".log")).sorted().toList()) {
        JournalSegment.read(f, found, new HashSet<>());
      }
    }
    return found.size();
  }
}
