package org.fhirbox.testing;

import static org.assertj.core.api.Assertions.assertThat;

import org.fhirbox.db.Database;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

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

  /** On an instance field, each test has a schema of its own, dropped once the test is over. */
  @Nested
  @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
  class PerTest {
    private static String earlier;

    @RegisterExtension
    final PostgresSchema postgres = new PostgresSchema();

    @Test
    @Order(1)
    void aTestHasASchema() {
      try (Database db = postgres.database()) {
        assertThat(db.isReachable()).isTrue();
      }
      assertThat(Postgres.exists(postgres.name())).isTrue();
      earlier = postgres.name();
    }

    @Test
    @Order(2)
    void theNextTestHasAnotherAndTheEarlierOneIsGone() {
      assertThat(earlier).as("the first test ran").isNotNull();
      assertThat(postgres.name()).isNotEqualTo(earlier);
      assertThat(Postgres.exists(postgres.name())).isTrue();
      assertThat(Postgres.exists(earlier)).isFalse();
    }
  }

  /** On a static field, the class's tests share one schema. */
  @Nested
  @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
  class PerClass {
    private static String earlier;

    @RegisterExtension
    static final PostgresSchema postgres = new PostgresSchema();

    @Test
    @Order(1)
    void aTestUsesTheClassSchema() {
      assertThat(Postgres.exists(postgres.name())).isTrue();
      earlier = postgres.name();
    }

    @Test
    @Order(2)
    void theNextTestUsesTheSameOne() {
      assertThat(postgres.name()).isEqualTo(earlier);
      assertThat(Postgres.exists(earlier)).isTrue();
    }
  }
}
