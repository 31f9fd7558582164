package org.fhirbox.db;

import java.sql.SQLException;

/**
 * A commit that failed in a way that does not say whether the database applied it: the driver
 * reported an error for the {@code COMMIT} itself (on PostgreSQL, a connection lost after the
 * server committed and before its answer arrived looks the same as one lost before). The caller
 * must not undo what the transaction would have referenced, such as a blob it named: if the
 * commit stood, that would leave a row without its content. What it leaves instead, an
 * unreferenced blob, is what the orphan sweeper removes.
 */
public final class CommitOutcomeUnknown extends StoreException {
  public CommitOutcomeUnknown(SQLException cause) {
    // the database may be fine and the connection gone: a retry later is the caller's way on
    super("the commit failed, and whether the database applied it is unknown", Kind.UNAVAILABLE, cause);
  }
}
