package org.fhirbox.db;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/** The files of a {@link CommitJournal}'s directory: its segments, and the lock that makes it one process's. */
final class JournalFiles {
  static final String PREFIX = "journal-";
  static final String SUFFIX = ".log";

  private JournalFiles() {
  }

  /**
   * Holds {@code journal.lock} for the journal's life: a second pool on the same database file in
   * this process (H2 lets it open) would interleave its records with ours.
   */
  static FileChannel claim(Path dir) throws IOException {
    FileChannel channel = FileChannel.open(dir.resolve("journal.lock"), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE);
    try {
      if (channel.tryLock() != null) {
        return channel;
      }
    } catch (OverlappingFileLockException e) {
      // held in this process
    }
    channel.close();
    throw new IllegalStateException("the commit journal in " + dir + " is in use: the embedded database is "
        + "already open in this or another process");
  }

  /** Segment files of {@code dir}, oldest first (named by the first number they may hold). */
  static List<Path> segments(Path dir) throws IOException {
    TreeMap<Long, Path> byFirst = new TreeMap<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, PREFIX + "*" + SUFFIX)) {
      for (Path p : files) {
        String n = p.getFileName().toString();
        try {
          byFirst.put(Long.parseLong(n.substring(PREFIX.length(), n.length() - SUFFIX.length())), p);
        } catch (NumberFormatException e) {
          // not one of ours
        }
      }
    }
    return new ArrayList<>(byFirst.values());
  }
}
