package org.fhirbox.db;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * One write statement of a {@link CommitJournal} record, with its parameters: no rows for a plain
 * statement, one row, or the rows of a batch. Parameters are the types fhirbox binds (text,
 * whole numbers, decimals, booleans, bytes, null); a journaled connection refuses any other.
 *
 * <p>{@code counts} are the update counts the statement had when it ran (one per row of a batch,
 * else one), or null when they are not known (a journal written before they were recorded, DDL).
 * A replay that changes another number of rows stops: the database is not what the statement
 * ran on.
 */
record JournaledStatement(String sql, List<Object[]> rows, long[] counts) {
  JournaledStatement(String sql, List<Object[]> rows) {
    this(sql, rows, null);
  }

  /** This statement with the update counts it had. */
  JournaledStatement withCounts(long[] counts) {
    return new JournaledStatement(sql, rows, counts);
  }

  private static final byte NULL = 0;
  private static final byte STRING = 1;
  private static final byte LONG = 2;
  private static final byte INT = 3;
  private static final byte BOOLEAN = 4;
  private static final byte BYTES = 5;
  private static final byte DECIMAL = 6;
  /**
   * A string that UTF-8 cannot carry (it holds an unpaired surrogate, which H2 keeps as it is),
   * written as its UTF-16 code units; any other string is {@link #STRING}, UTF-8.
   */
  private static final byte UTF16 = 7;
  private static final byte UNSUPPORTED = -1;

  /** Whether {@code value} can be journaled (and so may be bound on a journaled statement). */
  static boolean supported(Object value) {
    return tag(value) != UNSUPPORTED;
  }

  /** The one list of journaled types: its tag, or {@link #UNSUPPORTED}. */
  private static byte tag(Object v) {
    if (v == null) {
      return NULL;
    }
    return v instanceof String ? STRING : v instanceof Long ? LONG : v instanceof Integer ? INT
        : v instanceof Boolean ? BOOLEAN : v instanceof byte[] ? BYTES : v instanceof BigDecimal ? DECIMAL
        : UNSUPPORTED;
  }

  void write(DataOutputStream out) throws IOException {
    writeString(out, sql);
    out.writeInt(rows.size());
    for (Object[] row : rows) {
      out.writeInt(row.length);
      for (Object v : row) {
        writeValue(out, v);
      }
    }
  }

  /** The update counts, written after all of a record's statements (a journal without them ends there). */
  void writeCounts(DataOutputStream out) throws IOException {
    out.writeInt(counts == null ? 0 : counts.length);
    if (counts != null) {
      for (long n : counts) {
        out.writeLong(n);
      }
    }
  }

  /** Update counts written by {@link #writeCounts}; null for none. */
  static long[] readCounts(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n == 0) {
      return null;
    }
    long[] counts = new long[n];
    for (int i = 0; i < n; i++) {
      counts[i] = in.readLong();
    }
    return counts;
  }

  private static void writeValue(DataOutputStream out, Object v) throws IOException {
    byte tag = tag(v);
    if (tag == STRING && !wellFormed((String) v)) {
      tag = UTF16;
    }
    if (tag == UNSUPPORTED) {
      throw new IllegalArgumentException("cannot journal a parameter of type " + v.getClass().getName());
    }
    out.writeByte(tag);
    switch (tag) {
      // found well-formed just above: UTF-8 carries it unchanged, and it is not scanned again
      case STRING -> writeBytes(out, ((String) v).getBytes(StandardCharsets.UTF_8));
      case UTF16 -> writeUtf16(out, (String) v);
      case LONG -> out.writeLong((Long) v);
      case INT -> out.writeInt((Integer) v);
      case BOOLEAN -> out.writeBoolean((Boolean) v);
      case BYTES -> writeBytes(out, (byte[]) v);
      // its string form keeps the scale: 1.50 is not 1.5 for a FHIR number's precision
      case DECIMAL -> writeString(out, v.toString());
      default -> { } // NULL: the tag says it all
    }
  }

  /** UTF-8; a string it cannot carry is refused, never written as another one ({@code ?} for a lone surrogate). */
  private static void writeString(DataOutputStream out, String s) throws IOException {
    if (!wellFormed(s)) {
      throw new IOException("cannot journal a string with an unpaired surrogate as UTF-8");
    }
    writeBytes(out, s.getBytes(StandardCharsets.UTF_8));
  }

  private static void writeUtf16(DataOutputStream out, String s) throws IOException {
    out.writeInt(s.length());
    out.writeChars(s);
  }

  /** Whether every surrogate of {@code s} is in a pair, so that UTF-8 carries it unchanged. */
  static boolean wellFormed(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return false;
      }
    }
    return true;
  }

  private static String readString(DataInputStream in) throws IOException {
    return new String(in.readNBytes(in.readInt()), StandardCharsets.UTF_8);
  }

  private static String readUtf16(DataInputStream in) throws IOException {
    char[] chars = new char[in.readInt()];
    for (int i = 0; i < chars.length; i++) {
      chars[i] = in.readChar();
    }
    return new String(chars);
  }

  private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
    out.writeInt(b.length);
    out.write(b);
  }

  static JournaledStatement read(DataInputStream in) throws IOException {
    String sql = readString(in);
    int n = in.readInt();
    List<Object[]> rows = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Object[] row = new Object[in.readInt()];
      for (int k = 0; k < row.length; k++) {
        row[k] = readValue(in);
      }
      rows.add(row);
    }
    return new JournaledStatement(sql, rows);
  }

  private static Object readValue(DataInputStream in) throws IOException {
    byte tag = in.readByte();
    return switch (tag) {
      case NULL -> null;
      case STRING -> readString(in);
      case UTF16 -> readUtf16(in);
      case LONG -> in.readLong();
      case INT -> in.readInt();
      case BOOLEAN -> in.readBoolean();
      case BYTES -> in.readNBytes(in.readInt());
      case DECIMAL -> new BigDecimal(readString(in));
      default -> throw new IOException("unknown parameter tag " + tag + " in the commit journal");
    };
  }

  /**
   * Runs the statement again on {@code c} (in its transaction).
   *
   * @throws SQLException also when it changes another number of rows than it did when it ran
   */
  void replay(Connection c) throws SQLException {
    if (rows.isEmpty()) {
      try (Statement s = c.createStatement()) {
        s.execute(sql);
        requireCounts(new long[] {s.getUpdateCount()});
      }
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (Object[] row : rows) {
        for (int i = 0; i < row.length; i++) {
          ps.setObject(i + 1, row[i]);
        }
        if (rows.size() > 1) {
          ps.addBatch();
        }
      }
      if (rows.size() > 1) {
        requireCounts(counts(ps.executeBatch()));
      } else {
        ps.execute();
        requireCounts(new long[] {ps.getUpdateCount()});
      }
    }
  }

  private void requireCounts(long[] now) throws SQLException {
    if (counts == null) {
      return;
    }
    for (int i = 0; i < Math.min(counts.length, now.length); i++) {
      if (counts[i] >= 0 && now[i] >= 0 && counts[i] != now[i]) {
        throw new SQLException("applied again, " + (now.length > 1 ? "row " + (i + 1) + " of the batch " : "")
            + "\"" + sql + "\" changed " + now[i] + " rows where it had changed " + counts[i]
            + ": the database file is not what the journal's transactions ran on");
      }
    }
  }

  /** JDBC's batch update counts as longs. */
  static long[] counts(int[] counts) {
    long[] out = new long[counts.length];
    for (int i = 0; i < counts.length; i++) {
      out[i] = counts[i];
    }
    return out;
  }
}
