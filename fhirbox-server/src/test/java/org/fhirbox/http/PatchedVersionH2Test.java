package org.fhirbox.http;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.h2.api.Trigger;

class PatchedVersionH2Test extends PatchedVersionContract {
  @Override
  protected Map<String, String> settings() {
    return Map.of();
  }

  @Override
  protected void refuseVersionUpdates(Statement s) throws SQLException {
    s.execute("CREATE TRIGGER refuse_version_update BEFORE UPDATE ON resource_version FOR EACH ROW CALL '"
        + RefuseUpdate.class.getName() + "'");
  }

  /** Fails the statement that fires it. */
  public static final class RefuseUpdate implements Trigger {
    @Override
    public void fire(Connection conn, Object[] oldRow, Object[] newRow) throws SQLException {
      throw new SQLException("an UPDATE of resource_version");
    }
  }
}
