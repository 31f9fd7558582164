package org.fhirbox.http;

import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.fhirbox.testing.PostgresSchema;
import org.fhirbox.testing.SlowTest;
import org.junit.jupiter.api.extension.RegisterExtension;

@SlowTest
class PatchedVersionPostgresTest extends PatchedVersionContract {
  @RegisterExtension
  static final PostgresSchema postgres = new PostgresSchema();

  @Override
  protected Map<String, String> settings() {
    return postgres.serverSettings();
  }

  @Override
  protected void refuseVersionUpdates(Statement s) throws SQLException {
    s.execute("CREATE FUNCTION refuse_version_update() RETURNS trigger LANGUAGE plpgsql AS"
        + " $$ BEGIN RAISE EXCEPTION 'an UPDATE of resource_version'; END $$");
    s.execute("CREATE TRIGGER refuse_version_update BEFORE UPDATE ON resource_version FOR EACH STATEMENT"
        + " EXECUTE FUNCTION refuse_version_update()");
  }
}
