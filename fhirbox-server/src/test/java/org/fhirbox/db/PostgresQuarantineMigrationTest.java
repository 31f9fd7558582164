package org.fhirbox.db;

import org.fhirbox.testing.Postgres;

class PostgresQuarantineMigrationTest extends QuarantineMigrationContract {
  private final String url = Postgres.freshSchemaUrl();

  @Override
  protected String url() {
    return url;
  }

  @Override
  protected String vendorLocation() {
    return "classpath:db/migration/postgresql";
  }
}
