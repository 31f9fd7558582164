package org.fhirbox.db;

import org.fhirbox.testing.PostgresSchema;
import org.fhirbox.testing.SlowTest;
import org.junit.jupiter.api.extension.RegisterExtension;

@SlowTest
class PostgresQuarantineMigrationTest extends QuarantineMigrationContract {
  @RegisterExtension
  final PostgresSchema postgres = new PostgresSchema();

  @Override
  protected String url() {
    return postgres.url();
  }

  @Override
  protected String vendorLocation() {
    return "classpath:db/migration/postgresql";
  }
}
