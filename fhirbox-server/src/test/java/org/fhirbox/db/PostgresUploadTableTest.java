package org.fhirbox.db;

import org.fhirbox.testing.Postgres;
import org.fhirbox.testing.SlowTest;

@SlowTest
class PostgresUploadTableTest extends UploadTableContract {
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
