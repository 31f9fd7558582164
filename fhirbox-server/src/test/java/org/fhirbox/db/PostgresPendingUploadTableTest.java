package org.fhirbox.db;

import org.fhirbox.testing.PostgresSchema;
import org.fhirbox.testing.SlowTest;
import org.junit.jupiter.api.extension.RegisterExtension;

@SlowTest
class PostgresPendingUploadTableTest extends PendingUploadTableContract {
  @RegisterExtension
  final PostgresSchema postgres = new PostgresSchema();

  @Override
  protected Database newDatabase() {
    return postgres.database();
  }
}
