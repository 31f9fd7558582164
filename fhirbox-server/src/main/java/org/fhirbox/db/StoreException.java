package org.fhirbox.db;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import org.fhirbox.core.BackendException;

/**
 * A database failure. {@link #isConflict()} marks a lost race that may be retried; a database
 * that cannot be reached or has no room is {@link Kind#UNAVAILABLE}.
 */
public class StoreException extends BackendException {
  public StoreException(String message, SQLException cause) {
    super(message, kindOf(cause), cause);
  }

  StoreException(String message, Kind kind, SQLException cause) {
    super(message, kind, cause);
  }

  /** Whether {@code cause} is a lost race, which the database rolled back. */
  static boolean isConflict(SQLException cause) {
    return kindOf(cause) == Kind.CONFLICT;
  }

  public boolean isConflict() {
    return kind() == Kind.CONFLICT;
  }

  private static Kind kindOf(SQLException cause) {
    String state = cause == null ? null : cause.getSQLState();
    // 23505 unique violation (both), 40001 serialization failure, 40P01 deadlock, 55P03 lock not
    // available (PostgreSQL: its lock_timeout), HYT00 lock timeout (H2).
    if (state != null && (state.equals("23505") || state.equals("40001") || state.equals("40P01")
        || state.equals("55P03") || state.equals("HYT00"))) {
      return Kind.CONFLICT;
    }
    // 22021 character not in repertoire (a NUL in text), 22P05 untranslatable character (PostgreSQL):
    // a value the request carried, which no retry or other node would store either
    if (state != null && (state.equals("22021") || state.equals("22P05"))) {
      return Kind.INVALID_VALUE;
    }
    // HikariCP reports an exhausted or unreachable pool as a transient connection failure. SQLSTATE
    // class 08 is a connection exception, 53 insufficient resources (53100 disk full, 53300 too many
    // connections), 57P01-57P03 a server shutting down or starting, 25006 a read-only transaction (a
    // pooled connection still on a primary that a failover demoted; PostgreSQL appendix A); H2's
    // 90097 a read-only database, 90098 a closed one, 90121 one closing. 25P03: PostgreSQL ended a
    // session left idle in a transaction past its limit (Database#POSTGRES_SESSION).
    if (cause instanceof SQLTransientConnectionException || cause instanceof SQLNonTransientConnectionException
        || state != null && (state.startsWith("08") || state.startsWith("53") || state.equals("57P01")
            || state.equals("57P02") || state.equals("57P03") || state.equals("25006") || state.equals("25P03")
            || state.equals("90097")
            || state.equals("90098") || state.equals("90121"))) {
      return Kind.UNAVAILABLE;
    }
    return Kind.FAULT;
  }
}
