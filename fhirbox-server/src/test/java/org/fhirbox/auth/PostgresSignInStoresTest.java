package org.fhirbox.auth;

import org.fhirbox.db.Database;
import org.fhirbox.testing.PostgresSchema;
import org.fhirbox.testing.SlowTest;
import org.junit.jupiter.api.extension.RegisterExtension;

@SlowTest
class PostgresSignInStoresTest extends SignInStoresContract {
  @RegisterExtension
  final PostgresSchema postgres = new PostgresSchema();

  @Override
  protected Database newDatabase() {
    return postgres.database();
  }
}
