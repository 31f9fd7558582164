package org.fhirbox.http;

import java.util.Map;
import org.fhirbox.testing.Postgres;
import org.fhirbox.testing.SlowTest;

@SlowTest
class UnreadableVersionPostgresTest extends UnreadableVersionContract {
  @Override
  protected Map<String, String> settings() {
    return Map.of("FHIRBOX_DATABASE_URL", Postgres.freshSchemaUrl());
  }
}
