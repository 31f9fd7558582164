package org.fhirbox.auth;

import java.util.Map;
import org.fhirbox.testing.Postgres;
import org.fhirbox.testing.SlowTest;

@SlowTest
class PatientScopePostgresTest extends PatientScopeContract {
  @Override
  protected Map<String, String> settings() {
    return Map.of("FHIRBOX_DATABASE_URL", Postgres.freshSchemaUrl());
  }
}
