package org.fhirbox.auth;

import org.fhirbox.db.Database;
import org.fhirbox.testing.Postgres;
import org.fhirbox.testing.SlowTest;

@SlowTest
class PostgresPasswordLinksTest extends PasswordLinksContract {
  private Postgres.Schema schema;

  @Override
  protected Database newDatabase() {
    schema = Postgres.freshSchema();
    return new Database(schema.url(), "", "", 8);
  }

  @Override
  protected void release() {
    schema.close();
  }
}
