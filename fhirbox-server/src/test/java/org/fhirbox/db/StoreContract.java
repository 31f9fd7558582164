package org.fhirbox.db;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** A fresh, empty database per test, from the backend the subclass names. */
abstract class StoreContract {
  protected Database db;
  protected ResourceStore store;

  /** A fresh, migrated database; the contract closes it after each test. */
  protected abstract Database newDatabase() throws Exception;

  @BeforeEach
  void openStore() throws Exception {
    db = newDatabase();
    store = new JdbcResourceStore(db);
  }

  @AfterEach
  void closeStore() {
    db.close();
  }
}
