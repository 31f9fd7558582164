package org.fhirbox.db;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Where records are encoded: one per journal, used under its lock and kept between commits,
 * so that a commit neither grows a fresh array nor copies it out (a record is written from
 * the buffer's own array). One that grew past {@link #KEEP} for a large transaction is let go.
 */
final class JournalRecordBuffer extends ByteArrayOutputStream {
  static final int KEEP = 1 << 20;
  private final DataOutputStream out = new DataOutputStream(this);

  JournalRecordBuffer() {
    super(8192);
  }

  /** The framed record (length, CRC32C, body), valid until the next call. */
  ByteBuffer encode(byte kind, long seq, List<JournaledStatement> statements) {
    if (buf.length > KEEP) {
      buf = new byte[8192];
    }
    reset();
    try {
      out.writeLong(0);
      out.writeByte(kind);
      out.writeLong(seq);
      if (kind != CommitJournal.ABORT) {
        out.writeInt(statements.size());
        for (JournaledStatement s : statements) {
          s.write(out);
        }
        // after the statements, so that a reader of the format without them stops before
        for (JournaledStatement s : statements) {
          s.writeCounts(out);
        }
      }
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ByteBuffer b = ByteBuffer.wrap(buf, 0, count);
    b.putInt(0, count - 8);
    b.putInt(4, crc32c(buf, 8, count - 8));
    return b;
  }

  static int crc32c(byte[] bytes, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, offset, length);
    return (int) crc.getValue();
  }
}
