package org.fhirbox.db;

import java.io.IOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A connection whose write statements go into the {@link CommitJournal}: it records each write
 * that succeeded, with its parameters, and commits through the journal. Reads run on the
 * driver's statements untouched. A write run in auto-commit mode becomes a transaction of its
 * own; DDL, which H2 commits by itself, is journaled after it ran.
 *
 * <p>Whatever changes H2's B-trees outside a journal commit (a write, a {@code FOR UPDATE} row
 * lock, a rollback, a close that rolls back) runs holding {@link CommitJournal#changes}, so that
 * the journal's store never catches it half done.
 *
 * <p>H2 shows a commit to other connections before its record is on the disk. A connection that
 * ran statements ends its use (a commit with nothing to journal, a rollback, a close) only once
 * every record appended so far is synced ({@link CommitJournal#awaitCommitted}): what it read then
 * survives a power loss before any client learns it. A commit with records waits for its own, which
 * follows every commit its statements could see.
 */
final class JournaledConnection implements InvocationHandler {
  private final Connection real;
  private final CommitJournal journal;
  private List<JournaledStatement> pending = new ArrayList<>();
  /** Statements were made since the last wait for the journal's sync: they may have read unsynced rows. */
  private boolean ran;

  private JournaledConnection(Connection real, CommitJournal journal) {
    this.real = real;
    this.journal = journal;
  }

  static Connection wrap(Connection real, CommitJournal journal) {
    return proxy(Connection.class, new JournaledConnection(real, journal));
  }

  private static <T> T proxy(Class<T> type, InvocationHandler handler) {
    return type.cast(Proxy.newProxyInstance(JournaledConnection.class.getClassLoader(), new Class<?>[] {type},
        handler));
  }

  /** READ changes nothing; LOCK reads and locks rows ({@code FOR UPDATE}): not journaled, yet a change to H2. */
  enum Kind { READ, LOCK, WRITE, DDL }

  /** What a statement does, from its first word (and, for a query, whether it locks rows). */
  static Kind kind(String sql) {
    int i = 0;
    while (i < sql.length() && (Character.isWhitespace(sql.charAt(i)) || sql.charAt(i) == '(')) {
      i++;
    }
    int end = i;
    while (end < sql.length() && Character.isLetter(sql.charAt(end))) {
      end++;
    }
    return switch (sql.substring(i, end).toUpperCase(Locale.ROOT)) {
      case "INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE" -> Kind.WRITE;
      case "CREATE", "ALTER", "DROP", "TRUNCATE", "COMMENT", "GRANT", "REVOKE" -> Kind.DDL;
      default -> locksRows(sql) ? Kind.LOCK : Kind.READ;
    };
  }

  private static boolean locksRows(String sql) {
    for (int i = sql.length() - "FOR UPDATE".length(); i >= 0; i--) {
      if (sql.regionMatches(true, i, "FOR UPDATE", 0, "FOR UPDATE".length())) {
        return true;
      }
    }
    return false;
  }

  @Override
  public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
    switch (method.getName()) {
      case "prepareStatement" -> {
        ran = true;
        Object ps = call(real, method, args);
        String sql = (String) args[0];
        Kind kind = kind(sql);
        return switch (kind) {
          case READ -> ps;
          case LOCK -> proxy(PreparedStatement.class, new Locking(ps));
          default -> proxy(PreparedStatement.class, new Prepared((PreparedStatement) ps, sql, kind));
        };
      }
      case "createStatement" -> {
        ran = true;
        return proxy(Statement.class, new Plain((Statement) call(real, method, args)));
      }
      case "prepareCall", "setSavepoint", "releaseSavepoint" ->
          throw new SQLFeatureNotSupportedException(method.getName() + " is not available on a journaled connection");
      case "commit" -> {
        commitPending();
        return null;
      }
      case "rollback" -> {
        if (args != null) {
          throw new SQLFeatureNotSupportedException("savepoints are not available on a journaled connection");
        }
        pending.clear();
        rollback();
        awaitSynced();
        return null;
      }
      case "setAutoCommit" -> {
        if ((Boolean) args[0] && !pending.isEmpty() && !real.getAutoCommit()) {
          commitPending(); // JDBC: switching auto-commit on commits the transaction
        }
        return changing(() -> {
          real.setAutoCommit((Boolean) args[0]);
          return null;
        });
      }
      case "close" -> {
        pending.clear();
        changing(() -> {
          real.close(); // the pool rolls back what is open
          return null;
        });
        awaitSynced();
        return null;
      }
      default -> {
        return forward(proxy, real, method, args);
      }
    }
  }

  private void commitPending() throws SQLException {
    if (pending.isEmpty()) {
      // nothing journaled, yet perhaps row locks to let go
      changing(() -> {
        real.commit();
        return null;
      });
      awaitSynced();
      return;
    }
    List<JournaledStatement> statements = pending;
    pending = new ArrayList<>();
    journal.commit(real, statements);
    ran = false;
  }

  /** Returns once what this connection's statements read is on the disk (see the class comment). */
  private void awaitSynced() throws SQLException {
    if (!ran) {
      return;
    }
    try {
      journal.awaitCommitted();
    } catch (IOException e) {
      throw new SQLException("what the transaction read may not be on the disk: " + e.getMessage(), e);
    }
    ran = false;
  }

  /**
   * Runs a write; once it succeeded, {@code recorded}, with the update counts it had, joins the
   * transaction (see the class comment).
   *
   * @param statement what ran it, for the update count of an {@code execute}
   */
  private Object write(Kind kind, Change<Object, Throwable> execution, JournaledStatement recorded,
      Statement statement) throws Throwable {
    if (kind == Kind.DDL) {
      if (!pending.isEmpty() && !real.getAutoCommit()) {
        commitPending(); // H2 commits the open transaction before DDL
      }
      Object result = changing(execution);
      journal.appendAutonomous(List.of(recorded));
      return result;
    }
    if (!real.getAutoCommit()) {
      Object result = changing(execution);
      pending.add(recorded.withCounts(counts(result, statement)));
      return result;
    }
    real.setAutoCommit(false);
    try {
      Object result = changing(execution);
      journal.commit(real, List.of(recorded.withCounts(counts(result, statement))));
      // its own record synced, so is every commit its statements could see (as in commitPending)
      ran = false;
      return result;
    } catch (Throwable e) {
      try {
        rollback();
      } catch (SQLException again) {
        e.addSuppressed(again);
      }
      throw e;
    } finally {
      real.setAutoCommit(true);
    }
  }

  /** The update counts of what an execute method returned; null when it returned rows. */
  private static long[] counts(Object result, Statement statement) throws SQLException {
    if (result instanceof Integer n) {
      return new long[] {n};
    }
    if (result instanceof Long n) {
      return new long[] {n};
    }
    if (result instanceof int[] batch) {
      return JournaledStatement.counts(batch);
    }
    if (result instanceof long[] batch) {
      return batch.clone();
    }
    if (Boolean.FALSE.equals(result)) {
      return new long[] {statement.getUpdateCount()};
    }
    return null;
  }

  /** Runs {@code change} holding the journal's {@linkplain CommitJournal#changes change lock}. */
  private <T, E extends Throwable> T changing(Change<T, E> change) throws E {
    java.util.concurrent.locks.Lock changes = journal.changes();
    changes.lock();
    try {
      return change.run();
    } finally {
      changes.unlock();
    }
  }

  private void rollback() throws SQLException {
    changing(() -> {
      real.rollback();
      return null;
    });
  }

  @FunctionalInterface
  private interface Change<T, E extends Throwable> {
    T run() throws E;
  }

  /** A proxy's {@code equals} and {@code hashCode} are its identity; any other method goes to {@code target}. */
  private static Object forward(Object proxy, Object target, Method method, Object[] args) throws Throwable {
    return switch (method.getName()) {
      case "equals" -> proxy == args[0];
      case "hashCode" -> System.identityHashCode(proxy);
      default -> call(target, method, args);
    };
  }

  private static Object call(Object target, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  /** A prepared write: keeps the bound parameters and the batch, records each execution. */
  private final class Prepared implements InvocationHandler {
    private final PreparedStatement ps;
    private final String sql;
    private final Kind kind;
    private Object[] params = new Object[8];
    private int count;
    private final List<Object[]> batch = new ArrayList<>();

    Prepared(PreparedStatement ps, String sql, Kind kind) {
      this.ps = ps;
      this.sql = sql;
      this.kind = kind;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
      String name = method.getName();
      // every setter of two or more arguments whose first is an int is a parameter setter
      // (setFetchSize and the like take one); getParameterTypes would copy an array per call
      if (args != null && args.length >= 2 && args[0] instanceof Integer index && name.startsWith("set")) {
        bind(name, index, args);
        return call(ps, method, args);
      }
      switch (name) {
        case "clearParameters" -> {
          Arrays.fill(params, null);
          count = 0;
          return call(ps, method, args);
        }
        case "addBatch" -> {
          if (args == null) {
            batch.add(Arrays.copyOf(params, count));
          }
          return call(ps, method, args);
        }
        case "clearBatch" -> {
          batch.clear();
          return call(ps, method, args);
        }
        case "execute", "executeUpdate", "executeLargeUpdate" -> {
          if (args != null) {
            return call(ps, method, args);
          }
          Object[] row = Arrays.copyOf(params, count);
          return write(kind, () -> call(ps, method, null), new JournaledStatement(sql, List.<Object[]>of(row)), ps);
        }
        case "executeBatch", "executeLargeBatch" -> {
          List<Object[]> rows = new ArrayList<>(batch);
          batch.clear();
          return write(kind, () -> executeBatch(method, rows), new JournaledStatement(sql, rows), ps);
        }
        default -> {
          return forward(proxy, ps, method, args);
        }
      }
    }

    /** A batch that failed part-way keeps only the rows that ran in the record. */
    private Object executeBatch(Method method, List<Object[]> rows) throws Throwable {
      try {
        return call(ps, method, null);
      } catch (BatchUpdateException e) {
        int[] counts = e.getUpdateCounts();
        List<Object[]> ran = new ArrayList<>();
        List<Long> ranCounts = new ArrayList<>();
        for (int i = 0; i < rows.size() && counts != null && i < counts.length; i++) {
          if (counts[i] != Statement.EXECUTE_FAILED) {
            ran.add(rows.get(i));
            ranCounts.add((long) counts[i]);
          }
        }
        // in auto-commit the failed batch is rolled back whole (see write)
        if (!ran.isEmpty() && !real.getAutoCommit()) {
          pending.add(new JournaledStatement(sql, ran, ranCounts.stream().mapToLong(Long::longValue).toArray()));
        }
        throw e;
      }
    }

    private void bind(String name, int index, Object[] args) throws SQLException {
      Object value = switch (name) {
        case "setNull" -> null;
        case "setString", "setNString", "setLong", "setInt", "setBoolean", "setBytes", "setObject" -> args[1];
        default -> throw new SQLFeatureNotSupportedException(name + " cannot be journaled; bind a value instead");
      };
      if (!JournaledStatement.supported(value)) {
        throw new SQLFeatureNotSupportedException("a parameter of type " + value.getClass().getName()
            + " cannot be journaled");
      }
      if (index < 1) {
        throw new SQLException("parameter index " + index + " is out of range");
      }
      if (index > params.length) {
        params = Arrays.copyOf(params, Math.max(index, params.length * 2));
      }
      params[index - 1] = value;
      count = Math.max(count, index);
    }
  }

  /** A query that locks rows: runs holding the change lock, and is not journaled. */
  private final class Locking implements InvocationHandler {
    private final Object ps;

    Locking(Object ps) {
      this.ps = ps;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
      return method.getName().startsWith("execute") ? changing(() -> call(ps, method, args))
          : forward(proxy, ps, method, args);
    }
  }

  /** A plain statement: writes and DDL are recorded as their SQL text. */
  private final class Plain implements InvocationHandler {
    private final Statement st;
    private final List<String> batch = new ArrayList<>();

    Plain(Statement st) {
      this.st = st;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
      switch (method.getName()) {
        case "execute", "executeUpdate", "executeLargeUpdate" -> {
          String sql = (String) args[0];
          Kind kind = kind(sql);
          if (kind == Kind.READ) {
            return call(st, method, args);
          }
          if (kind == Kind.LOCK) {
            return changing(() -> call(st, method, args));
          }
          return write(kind, () -> call(st, method, args), new JournaledStatement(sql, List.of()), st);
        }
        case "executeQuery" -> {
          String sql = (String) args[0];
          return kind(sql) == Kind.LOCK ? changing(() -> call(st, method, args)) : call(st, method, args);
        }
        case "addBatch" -> {
          batch.add((String) args[0]);
          return call(st, method, args);
        }
        case "clearBatch" -> {
          batch.clear();
          return call(st, method, args);
        }
        case "executeBatch", "executeLargeBatch" -> {
          List<String> sqls = new ArrayList<>(batch);
          batch.clear();
          List<JournaledStatement> writes = new ArrayList<>();
          List<Integer> writeIndexes = new ArrayList<>();
          for (int at = 0; at < sqls.size(); at++) {
            String sql = sqls.get(at);
            Kind kind = kind(sql);
            if (kind == Kind.DDL || kind == Kind.WRITE && real.getAutoCommit()) {
              throw new SQLFeatureNotSupportedException("a batch of plain statements with DDL, or of writes in "
                  + "auto-commit mode, cannot be journaled: run them one by one");
            }
            if (kind == Kind.WRITE) {
              writeIndexes.add(at);
              writes.add(new JournaledStatement(sql, List.of()));
            }
          }
          Object result = changing(() -> call(st, method, args));
          long[] all = counts(result, st);
          for (int i = 0; i < writes.size(); i++) {
            int at = writeIndexes.get(i);
            pending.add(all == null || at >= all.length ? writes.get(i) : writes.get(i).withCounts(new long[] {all[at]}));
          }
          return result;
        }
        default -> {
          return forward(proxy, st, method, args);
        }
      }
    }
  }
}
