package org.fhirbox.db;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The files of a {@link CommitJournal}'s directory: its segments; beside each, the version of H2's
 * file that the synced store just before it began left ({@code journal-<n>.stored}), which an
 * unclean open rolls the file back to; and the lock that makes the directory one process's.
 */
final class JournalFiles {
  static final String PREFIX = "journal-";
  static final String SUFFIX = ".log";
  private static final String STORED = ".stored";

  private JournalFiles() {
  }

  /**
   * What a synced store of H2's file left: its MVStore version, when it was made (ms since the
   * epoch), and the store's retention time (ms), after which chunks no longer used may be written over.
   */
  record StoredVersion(long version, long millis, long retentionMillis) {}

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

  /** The file beside {@code segment} that names the version of H2's file synced just before it began. */
  static Path storedVersionOf(Path segment) {
    String n = segment.getFileName().toString();
    return segment.resolveSibling(n.substring(0, n.length() - SUFFIX.length()) + STORED);
  }

  /**
   * Records {@code version} beside {@code segment}, synced and in place by an atomic rename; the
   * caller syncs the directory before a record in the segment is acknowledged.
   */
  static void writeStoredVersion(Path segment, StoredVersion stored) throws IOException {
    Path target = storedVersionOf(segment);
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer b = ByteBuffer.wrap((stored.version() + " " + stored.millis() + " " + stored.retentionMillis() + "\n")
          .getBytes(StandardCharsets.US_ASCII));
      while (b.hasRemaining()) {
        c.write(b);
      }
      c.force(true);
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /**
   * What the synced store before the newest segment left, or null when there is no segment or
   * it has no such record (a journal of an earlier fhirbox).
   */
  static StoredVersion newestStoredVersion(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return null;
    }
    List<Path> all = segments(dir);
    if (all.isEmpty()) {
      return null;
    }
    Path stored = storedVersionOf(all.get(all.size() - 1));
    if (!Files.isRegularFile(stored)) {
      return null;
    }
    String[] f = Files.readString(stored, StandardCharsets.US_ASCII).trim().split(" ");
    try {
      return f.length == 3 ? new StoredVersion(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2])) : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /**
   * Deletes the temporary files of versions being recorded when the process stopped: never read,
   * since a record counts only once renamed in place ({@link #writeStoredVersion}).
   */
  static void deleteUnfinished(Path dir) throws IOException {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, PREFIX + "*" + STORED + ".tmp")) {
      for (Path p : files) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Deletes {@code segment} and the version recorded beside it. */
  static void delete(Path segment) throws IOException {
    Files.deleteIfExists(storedVersionOf(segment));
    Files.deleteIfExists(segment);
  }
}
