package org.fhirbox.db;

import java.sql.SQLException;

/** A database failure. {@link #isConflict()} marks a lost race that may be retried. */
public class StoreException extends RuntimeException {
  private final boolean conflict;

  public StoreException(String message, SQLException cause) {
    super(message, cause);
    String state = cause == null ? null : cause.getSQLState();
    // 23505 unique violation (both), 40001 serialization failure, 40P01 deadlock (PostgreSQL),
    // HYT00 lock timeout (H2).
    this.conflict = state != null
        && (state.equals("23505") || state.equals("40001") || state.equals("40P01") || state.equals("HYT00"));
  }

  public boolean isConflict() {
    return conflict;
  }
}
