package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.fhirbox.core.BackendException;
import org.fhirbox.model.StoredResource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A connection that fails around its commit, on a real H2 database: the driver's {@code COMMIT}
 * applied and then reported an error (PostgreSQL's connection lost before the answer), or the
 * connection failed on its way back to the pool after the commit.
 */
class H2CommitFailureTest {
  @TempDir
  Path dir;
  private Database db;
  /** The call ({@code commit}, {@code setAutoCommit(true)}) after which the connection fails once, or null. */
  private final AtomicReference<String> failAfter = new AtomicReference<>();
  private JdbcResourceStore store;

  @BeforeEach
  void open() {
    db = new Database("jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_ON_EXIT=FALSE", "", "", 4);
    store = new JdbcResourceStore(db, this::failing);
  }

  @AfterEach
  void close() {
    db.close();
  }

  private Connection failing(Connection real) {
    InvocationHandler h = (proxy, method, args) -> {
      Object result;
      try {
        result = method.invoke(real, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
      String call = method.getName() + (args != null && args.length == 1 ? "(" + args[0] + ")" : "");
      if (call.equals(failAfter.get())) {
        failAfter.set(null);
        throw new SQLException("connection lost after " + method.getName(), "08006");
      }
      return result;
    };
    return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class}, h);
  }

  private String write(String id) {
    return store.inTransaction(tx -> {
      tx.insert(new StoredResource("p", "Patient", id, 1, Instant.ofEpochMilli(1000), false, "{\"id\":\"" + id + "\"}"),
          List.of());
      return id;
    });
  }

  private boolean stored(String id) {
    return store.read(tx -> tx.current("p", "Patient", id, false)).isPresent();
  }

  @Test
  void aCommitThatReportsAnErrorHasAnUnknownOutcome() {
    failAfter.set("commit");
    assertThatThrownBy(() -> write("a")).isInstanceOfSatisfying(CommitOutcomeUnknown.class,
        e -> assertThat(e.kind()).as("503, to be tried again later").isEqualTo(BackendException.Kind.UNAVAILABLE))
        .hasMessageContaining("whether the database applied it is unknown");
    // why the caller must not undo what the write named: here the commit stood
    assertThat(stored("a")).isTrue();
  }

  @Test
  void aConnectionFailingAfterTheCommitLeavesTheCommitStanding() {
    failAfter.set("close");
    assertThat(write("b")).isEqualTo("b");
    assertThat(stored("b")).isTrue();
  }

  @Test
  void aConnectionThatCannotGoBackToAutoCommitNeitherFailsACommitNorHidesAFailedWork() {
    failAfter.set("setAutoCommit(true)");
    assertThat(write("c")).isEqualTo("c");
    assertThat(stored("c")).isTrue();
    failAfter.set("setAutoCommit(true)");
    assertThatThrownBy(() -> store.inTransaction(tx -> {
      throw new IllegalStateException("the work's own failure");
    })).isInstanceOf(IllegalStateException.class).hasMessage("the work's own failure");
  }
}
