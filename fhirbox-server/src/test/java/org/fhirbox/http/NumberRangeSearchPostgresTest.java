package org.fhirbox.http;

import java.util.Map;
import org.fhirbox.testing.PostgresSchema;
import org.fhirbox.testing.SlowTest;
import org.junit.jupiter.api.extension.RegisterExtension;

@SlowTest
class NumberRangeSearchPostgresTest extends NumberRangeSearchContract {
  @RegisterExtension
  static final PostgresSchema postgres = new PostgresSchema();

  @Override
  protected Map<String, String> settings() {
    return postgres.serverSettings();
  }
}
