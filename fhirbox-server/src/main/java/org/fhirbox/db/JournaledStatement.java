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
 */
record JournaledStatement(String sql, List<Object[]> rows) {
  private static final byte NULL = 0;
  private static final byte STRING = 1;
  private static final byte LONG = 2;
  private static final byte INT = 3;
  private static final byte BOOLEAN = 4;
  private static final byte BYTES = 5;
  private static final byte DECIMAL = 6;

  /** Whether {@code value} can be journaled (and so may be bound on a journaled statement). */
  static boolean supported(Object value) {
    return value == null || value instanceof String || value instanceof Long || value instanceof Integer
        || value instanceof Boolean || value instanceof byte[] || value instanceof BigDecimal;
  }

  void write(DataOutputStream out) throws IOException {
    writeBytes(out, sql.getBytes(StandardCharsets.UTF_8));
    out.writeInt(rows.size());
    for (Object[] row : rows) {
      out.writeInt(row.length);
      for (Object v : row) {
        writeValue(out, v);
      }
    }
  }

  private static void writeValue(DataOutputStream out, Object v) throws IOException {
    if (v == null) {
      out.writeByte(NULL);
    } else if (v instanceof String s) {
      out.writeByte(STRING);
      writeBytes(out, s.getBytes(StandardCharsets.UTF_8));
    } else if (v instanceof Long l) {
      out.writeByte(LONG);
      out.writeLong(l);
    } else if (v instanceof Integer i) {
      out.writeByte(INT);
      out.writeInt(i);
    } else if (v instanceof Boolean b) {
      out.writeByte(BOOLEAN);
      out.writeBoolean(b);
    } else if (v instanceof byte[] b) {
      out.writeByte(BYTES);
      writeBytes(out, b);
    } else if (v instanceof BigDecimal d) {
      out.writeByte(DECIMAL);
      writeBytes(out, d.toString().getBytes(StandardCharsets.UTF_8));
    } else {
      throw new IllegalArgumentException("cannot journal a parameter of type " + v.getClass().getName());
    }
  }

  private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
    out.writeInt(b.length);
    out.write(b);
  }

  static JournaledStatement read(DataInputStream in) throws IOException {
    String sql = new String(in.readNBytes(in.readInt()), StandardCharsets.UTF_8);
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
      case STRING -> new String(in.readNBytes(in.readInt()), StandardCharsets.UTF_8);
      case LONG -> in.readLong();
      case INT -> in.readInt();
      case BOOLEAN -> in.readBoolean();
      case BYTES -> in.readNBytes(in.readInt());
      case DECIMAL -> new BigDecimal(new String(in.readNBytes(in.readInt()), StandardCharsets.UTF_8));
      default -> throw new IOException("unknown parameter tag " + tag + " in the commit journal");
    };
  }

  /** Runs the statement again on {@code c} (in its transaction). */
  void replay(Connection c) throws SQLException {
    if (rows.isEmpty()) {
      try (Statement s = c.createStatement()) {
        s.execute(sql);
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
        ps.executeBatch();
      } else {
        ps.execute();
      }
    }
  }
}
