package org.fhirbox.testing;

import static org.assertj.core.api.Assertions.assertThat;

import org.fhirbox.db.Database;
import org.junit.jupiter.api.Test;

@SlowTest
class PostgresTest {
  @Test
  void aTestSchemaAndEverythingInItIsGoneOnceClosed() {
    Postgres.Schema schema = Postgres.freshSchema();
    try (Database db = new Database(schema.url(), "", "", 2)) {
      assertThat(db.isReachable()).isTrue(); // migrated: the schema holds fhirbox's tables
    }
    assertThat(Postgres.exists(schema.name())).isTrue();

    schema.close();

    assertThat(Postgres.exists(schema.name())).isFalse();
    schema.close(); // twice is harmless
  }
}
