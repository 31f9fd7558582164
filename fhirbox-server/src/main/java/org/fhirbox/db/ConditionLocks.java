package org.fhirbox.db;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * Named locks held until the transaction ends, as rows of {@code condition_lock} (migration V24):
 * the row of a name is inserted when absent, then locked with {@code FOR UPDATE}. A second
 * transaction locking the same name waits until the first commits or rolls back, on any node
 * sharing the database; a wait longer than the database's lock timeout is a conflict
 * ({@link StoreException#isConflict()}). Rows are kept, since a row deleted while another
 * transaction waits for it would leave that one without the lock; so a name locks one of
 * {@link #STRIPES} rows, chosen by its SHA-256, and the table never grows past that however many
 * conditions are written (one row per condition grew it by one row per patient created by
 * identifier, for ever). Two names that share a row are ordered as if they were one: rare
 * (concurrent conditional writes over {@value #STRIPES} rows) and costing only a wait.
 */
final class ConditionLocks {
  /** The rows that lock every condition: at most 64 characters' worth each, a few MB in all. */
  static final int STRIPES = 65_536;
  private final Database.Vendor vendor;

  ConditionLocks(Database.Vendor vendor) {
    this.vendor = vendor;
  }

  /** Takes the lock named {@code name} in the transaction {@code st} runs in. */
  void lock(JdbcStatements st, String name) {
    String key = key(name);
    // H2: a MERGE of a key another transaction inserted and has not committed waits for that one
    st.update("could not create a condition lock", vendor == Database.Vendor.POSTGRESQL
        ? "INSERT INTO condition_lock (lock_key) VALUES (?) ON CONFLICT (lock_key) DO NOTHING"
        : "MERGE INTO condition_lock (lock_key) KEY (lock_key) VALUES (?)", List.of(key));
    st.first("could not take a condition lock", "SELECT lock_key FROM condition_lock WHERE lock_key = ? FOR UPDATE",
        List.of(key), rs -> rs.getString(1));
  }

  /** The row of {@code name}: its stripe, from the first bytes of its SHA-256. */
  static String key(String name) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
      int stripe = (((digest[0] & 0xff) << 24 | (digest[1] & 0xff) << 16 | (digest[2] & 0xff) << 8
          | (digest[3] & 0xff)) & 0x7fffffff) % STRIPES;
      return "stripe-" + stripe;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing", e);
    }
  }
}
