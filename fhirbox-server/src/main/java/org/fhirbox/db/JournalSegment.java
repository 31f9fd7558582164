package org.fhirbox.db;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads one segment file of the {@link CommitJournal}: records framed by length and CRC32C, each
 * a kind, a transaction number and, but for an abort, its statements, then their update counts
 * (absent from a journal written before they were recorded).
 */
final class JournalSegment {
  private static final Logger LOG = LoggerFactory.getLogger(JournalSegment.class);

  private JournalSegment() {
  }

  /**
   * Adds the records of {@code file} to {@code records}, and the numbers of aborted transactions to
   * {@code aborted}; stops at a torn record (the append a crash interrupted, never committed).
   */
  static void read(Path file, List<Record> records, Set<Long> aborted) throws IOException {
    long first = firstSeq(file);
    long left = Files.size(file);
    try (InputStream in = Files.newInputStream(file);
        DataInputStream data = new DataInputStream(new BufferedInputStream(in, 1 << 16))) {
      while (left > 0) {
        int length = left < 8 ? -1 : data.readInt();
        int crc = left < 8 ? 0 : data.readInt();
        left -= 8;
        if (length == 0 && crc == 0) {
          return; // zeros: nothing was written here
        }
        // zeros, a cut-off record or a wrong checksum: the crash interrupted this append, which
        // never committed
        byte[] body = length <= 0 || length > left ? null : data.readNBytes(length);
        if (body == null || JournalRecordBuffer.crc32c(body, 0, body.length) != crc) {
          LOG.warn("journal {}: a torn record at its end (the append a crash interrupted) is ignored", file);
          return;
        }
        left -= length;
        DataInputStream r = new DataInputStream(new ByteArrayInputStream(body));
        byte kind = r.readByte();
        long seq = r.readLong();
        if (seq < first) {
          return; // a record of the segment this file was before it was recycled (JournalSpare)
        }
        if (kind == CommitJournal.ABORT) {
          aborted.add(seq);
          continue;
        }
        int n = r.readInt();
        List<JournaledStatement> statements = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          statements.add(JournaledStatement.read(r));
        }
        if (r.available() > 0) { // the update counts (a journal written before they were recorded has none)
          for (int i = 0; i < n; i++) {
            statements.set(i, statements.get(i).withCounts(JournaledStatement.readCounts(r)));
          }
        }
        records.add(new Record(seq, kind == CommitJournal.AUTONOMOUS, statements));
      }
    }
  }

  /** The number of the first record a segment may hold, from its name ({@code journal-<n>.log}). */
  static long firstSeq(Path file) {
    String n = file.getFileName().toString();
    try {
      return Long.parseLong(n.substring(n.indexOf('-') + 1, n.lastIndexOf('.')));
    } catch (RuntimeException e) {
      return Long.MIN_VALUE;
    }
  }

  /** One transaction's record. */
  record Record(long seq, boolean autonomous, List<JournaledStatement> statements) {
  }
}
