package org.fhirbox.db;

import org.fhirbox.testing.Postgres;
import org.fhirbox.testing.SlowTest;

@SlowTest
class PostgresIngestJobTableTest extends IngestJobTableContract {
  @Override
  protected Database newDatabase() {
    return new Database(Postgres.freshSchemaUrl(), "", "", 8);
  }
}
