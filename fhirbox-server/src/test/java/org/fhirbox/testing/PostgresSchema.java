package org.fhirbox.testing;

import java.util.Map;
import org.fhirbox.db.Database;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A fresh PostgreSQL schema ({@link Postgres#freshSchema}) for a test class or for each test, made
 * and dropped by JUnit. Registered on a static field, there is one for the class: made before its
 * {@code @BeforeAll} methods, dropped after its {@code @AfterAll} methods. On an instance field,
 * each test has its own, dropped after the test's {@code @AfterEach} methods. Either way the drop
 * comes after the servers and pools that a test class closes in its own after-methods.
 *
 * <pre>{@code
 * @RegisterExtension
 * final PostgresSchema postgres = new PostgresSchema();
 *
 * @Override
 * protected Database newDatabase() {
 *   return postgres.database();
 * }
 * }</pre>
 */
public final class PostgresSchema implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback,
    AfterEachCallback {
  private Postgres.Schema schema;
  private boolean perClass;

  @Override
  public void beforeAll(ExtensionContext context) {
    // only an extension on a static field hears of the class starting
    perClass = true;
    schema = Postgres.freshSchema();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    schema.close();
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    if (!perClass) {
      schema = Postgres.freshSchema();
    }
  }

  @Override
  public void afterEach(ExtensionContext context) {
    if (!perClass) {
      schema.close();
    }
  }

  /** The schema's name. */
  public String name() {
    return schema.name();
  }

  /** The JDBC URL whose default schema is this one. */
  public String url() {
    return schema.url();
  }

  /** The server's settings for this schema as its database. */
  public Map<String, String> serverSettings() {
    return Map.of("FHIRBOX_DATABASE_URL", url());
  }

  /** A migrated database on this schema, with a pool of 8; the caller closes it. */
  public Database database() {
    return new Database(url(), "", "", 8);
  }
}
