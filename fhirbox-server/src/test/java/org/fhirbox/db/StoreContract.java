package org.fhirbox.db;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** A fresh, empty database per test, from the backend the subclass names. */
abstract class StoreContract {
  protected Database db;
  protected ResourceStore store;

  protected abstract Database newDatabase() throws Exception;

  @BeforeEach
  void openStore() throws Exception {
    db = newDatabase();
    store = new JdbcResourceStore(db);
  }

  /** Releases what {@link #newDatabase()} made beside the database (a PostgreSQL schema), once it is closed. */
  protected void release() {}

  @AfterEach
  void closeStore() {
    try {
      db.close();
    } finally {
      release();
    }
  }
}
