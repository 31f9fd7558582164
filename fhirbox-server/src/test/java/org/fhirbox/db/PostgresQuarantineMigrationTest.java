package org.fhirbox.db;

import org.fhirbox.testing.Postgres;
import org.fhirbox.testing.SlowTest;

@SlowTest
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
