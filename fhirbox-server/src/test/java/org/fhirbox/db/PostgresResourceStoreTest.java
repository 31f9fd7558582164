package org.fhirbox.db;

import org.fhirbox.testing.Postgres;

class PostgresResourceStoreTest extends ResourceStoreContract {
  @Override
  protected Database newDatabase() {
    return new Database(Postgres.freshSchemaUrl(), "", "", 8);
  }
}
