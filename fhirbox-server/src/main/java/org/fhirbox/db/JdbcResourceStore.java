package org.fhirbox.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.model.StoredResource;
import org.fhirbox.model.BinaryContent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ResourceStore} over JDBC, one SQL dialect subset shared by H2 and PostgreSQL: the
 * transaction and its retries here; the statements in {@link VersionRows} (resource versions,
 * history, search pages), {@link SearchSql} (the SQL of a search), {@link IndexRows} (the search
 * index), {@link BinaryContentRows}, {@link JdbcIngestJobTable} and {@link JdbcUploadTable}.
 */
public final class JdbcResourceStore implements ResourceStore {
  private static final Logger LOG = LoggerFactory.getLogger(JdbcResourceStore.class);
  private static final int MAX_ATTEMPTS = 8;
  private final Database db;
  private final SearchSql searchSql;
  private final ConditionLocks conditionLocks;
  /** Null where other processes write the database too (PostgreSQL shared by server nodes). */
  private final BinaryContentCache binaryCache;

  /** Wraps each connection taken from the pool; the identity but in tests that make one fail. */
  private final UnaryOperator<Connection> connections;

  public JdbcResourceStore(Database db) {
    this(db, UnaryOperator.identity());
  }

  /** A store whose connections pass through {@code connections} (tests: a connection failing on cue). */
  JdbcResourceStore(Database db, UnaryOperator<Connection> connections) {
    this.db = db;
    this.connections = connections;
    this.searchSql = new SearchSql(db.vendor());
    this.conditionLocks = new ConditionLocks(db.vendor());
    this.binaryCache = db.soleWriter() ? new BinaryContentCache() : null;
  }

  @Override
  public <T> T inTransaction(Work<T> work) {
    for (int attempt = 1; ; attempt++) {
      JdbcTx tx = null;
      T result = null;
      boolean ended = false;
      try (Connection c = connections.apply(db.connection())) {
        c.setAutoCommit(false);
        tx = new JdbcTx(c);
        try {
          result = work.run(tx);
          tx.committing();
          commit(c);
          tx.committed = true;
          ended = true;
          return result;
        } catch (RuntimeException | Error e) {
          // an Error too (OutOfMemoryError half way through a Bundle): restoring auto-commit below
          // commits whatever is pending (JDBC Connection.setAutoCommit), so it must be rolled back first
          ended = rollbackQuietly(c, e);
          if (!(e instanceof StoreException se && se.isConflict() && attempt < MAX_ATTEMPTS)) {
            throw e;
          }
          backoff(attempt); // a lost race: run the work again on fresh data
        } finally {
          tx.ended();
          if (ended) {
            restoreAutoCommit(c);
          } // else the pool rolls back what is pending when it takes the connection back
        }
      } catch (SQLException e) {
        if (tx != null && tx.committed) {
          // closing the connection failed after the commit: the transaction stands, and saying
          // otherwise would have the caller undo what it references (a blob it named)
          LOG.warn("a database connection failed after its transaction committed; the commit stands", e);
          return result;
        }
        throw new StoreException("database unavailable", e);
      }
    }
  }

  private static void commit(Connection c) {
    try {
      c.commit();
    } catch (SQLException e) {
      // a lost race reported at commit (a deferred unique check, a serialization failure) was
      // rolled back and may run again; any other error leaves the outcome unknown
      throw StoreException.isConflict(e) ? new StoreException("commit failed", e) : new CommitOutcomeUnknown(e);
    }
  }

  /**
   * Back to auto-commit for the pool; a failure is only logged (the pool resets the connection's
   * state, or drops a broken one, when it takes it back), so that it neither hides the work's
   * own failure nor turns a commit into an error.
   */
  private static void restoreAutoCommit(Connection c) {
    try {
      c.setAutoCommit(true);
    } catch (SQLException e) {
      LOG.warn("could not set a database connection back to auto-commit", e);
    }
  }

  @Override
  public <T> T read(Work<T> work) {
    try (Connection c = connections.apply(db.connection())) {
      JdbcTx tx = new JdbcTx(c);
      try {
        return work.run(tx);
      } finally {
        tx.ended();
      }
    } catch (SQLException e) {
      throw new StoreException("database unavailable", e);
    }
  }

  /**
   * {@link #read} in one REPEATABLE READ transaction: on PostgreSQL one snapshot, taken at the
   * first statement, for every statement of the work; on H2 (MVStore) the same, per
   * transaction. Without it each statement of a read ran in auto-commit, each in a snapshot of
   * its own. Nothing is written, so the transaction is rolled back at the end.
   */
  @Override
  public <T> T readSnapshot(Work<T> work) {
    try (Connection c = connections.apply(db.connection())) {
      int isolation = c.getTransactionIsolation();
      c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
      c.setAutoCommit(false);
      JdbcTx tx = null;
      try {
        tx = new JdbcTx(c);
        return work.run(tx);
      } finally {
        if (tx != null) {
          tx.ended();
        }
        c.rollback();
        c.setTransactionIsolation(isolation);
        c.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw new StoreException("database unavailable", e);
    }
  }

  /** Rolls back; false (the failure added to {@code cause}) when the rollback failed. */
  private static boolean rollbackQuietly(Connection c, Throwable cause) {
    try {
      c.rollback();
      return true;
    } catch (SQLException e) {
      cause.addSuppressed(e);
      return false;
    }
  }

  private static void backoff(int attempt) {
    try {
      Thread.sleep(Math.min(50, 2L << attempt) + (long) (Math.random() * 5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted", null);
    }
  }

  /**
   * One transaction's view: each table family has its own class, and this one only routes the
   * {@link Tx} methods to them.
   */
  private final class JdbcTx implements Tx {
    private final Connection c;
    private final JdbcStatements st;
    private final VersionRows versions;
    private final IndexRows index;
    private final BinaryContentRows binaries;
    /** Binaries whose current version this transaction wrote, for {@link #binaryCache}. */
    private final Set<BinaryContentCache.Changed> binariesChanged = new LinkedHashSet<>();
    private boolean binaryRowsChanged;
    /** The binary_content rows this transaction inserted, for the cache once it committed. */
    private final List<BinaryContent> binariesInserted = new ArrayList<>();
    /** What {@link BinaryContentCache#committing} answered; -1 before the commit. */
    private long generationBeforeCommit = -1;
    private boolean committed;

    JdbcTx(Connection c) {
      this.c = c;
      this.st = new JdbcStatements(c);
      this.versions = new VersionRows(st, searchSql);
      this.index = new IndexRows(st, searchSql);
      this.binaries = new BinaryContentRows(st);
    }

    @Override
    public Optional<StoredResource> current(String project, String type, String id, boolean lock) {
      return versions.current(project, type, id, lock);
    }

    @Override
    public Optional<StoredResource> version(String project, String type, String id, long versionId) {
      return versions.version(project, type, id, versionId);
    }

    @Override
    public boolean deletedAfter(String project, String type, String id, long versionId) {
      return versions.deletedAfter(project, type, id, versionId);
    }

    @Override
    public void lockCondition(String name) {
      try {
        if (c.getAutoCommit()) {
          return; // a read outside a transaction: nothing would hold the lock
        }
      } catch (SQLException e) {
        throw new StoreException("database unavailable", e);
      }
      conditionLocks.lock(st, name);
    }

    /** Just before the commit: the cache stops answering for what this transaction changed. */
    void committing() {
      if (binaryCache != null && (binaryRowsChanged || !binariesChanged.isEmpty())) {
        generationBeforeCommit = binaryCache.committing(binariesChanged, binaryRowsChanged);
      }
    }

    /** Tells the cache what this transaction changed, once it committed or rolled back. */
    void ended() {
      if (binaryCache != null && (binaryRowsChanged || !binariesChanged.isEmpty())) {
        binaryCache.ended(binariesChanged, binaryRowsChanged, committed ? binariesInserted : List.of(),
            generationBeforeCommit);
      }
    }

    /** Whether the cache may answer: not once this transaction wrote what it holds, which only it sees yet. */
    private boolean cached() {
      return binaryCache != null && !binaryRowsChanged && binariesChanged.isEmpty();
    }

    @Override
    public void insert(StoredResource r, List<SearchValue> values, boolean patched) {
      if (r.type().equals("Binary")) {
        binariesChanged.add(new BinaryContentCache.Changed(r.project(), r.id()));
      }
      versions.insert(r, patched);
      // a first version has no index rows to replace
      index.write(r, r.deleted() ? List.of() : values, r.versionId() != 1);
    }

    @Override
    public List<StoredResource> patched(List<StoredResource> page) {
      return versions.patched(page);
    }

    @Override
    public void replaceIndex(StoredResource r, List<SearchValue> values) {
      index.write(r, values, true);
    }

    @Override
    public List<StoredResource> currentAfter(StoredResource after, int limit) {
      return versions.currentAfter(after, limit);
    }

    @Override
    public List<String> indexedValues(String project, String type, List<String> ids, String param, String prefix,
        int limit) {
      return index.indexedValues(project, type, ids, param, prefix, limit);
    }

    @Override
    public List<IndexedValue> indexedRows(String project, String type, List<String> ids, String param, int limit) {
      return index.indexedRows(project, type, ids, param, limit);
    }

    @Override
    public List<String> namedBy(String project, List<String> types, String param, String code) {
      return index.namedBy(project, types, param, code);
    }

    @Override
    public int searchIndexVersion() {
      return index.extractorVersion();
    }

    @Override
    public void setSearchIndexVersion(int version) {
      index.setExtractorVersion(version);
    }

    @Override
    public Page history(HistoryQuery q) {
      return versions.history(q);
    }

    @Override
    public Page search(SearchQuery q) {
      return versions.search(q);
    }

    @Override
    public long count(SearchQuery q) {
      return versions.count(q);
    }

    @Override
    public long countUpTo(SearchQuery q, int limit) {
      return versions.countUpTo(q, limit);
    }

    @Override
    public List<String> ids(SearchQuery q) {
      return versions.ids(q);
    }

    @Override
    public void insertBinaryContent(BinaryContent b) {
      binariesChanged.add(new BinaryContentCache.Changed(b.project(), b.binaryId()));
      binaries.insert(b);
      binariesInserted.add(b);
    }

    @Override
    public Optional<BinaryContent> binaryContent(String project, String binaryId, long versionId) {
      Supplier<Optional<BinaryContent>> load = () -> binaries.version(project, binaryId, versionId);
      return cached() ? binaryCache.version(project, binaryId, versionId, load) : load.get();
    }

    @Override
    public Optional<BinaryContent> currentBinaryContent(String project, String binaryId) {
      Supplier<Optional<BinaryContent>> load = () -> binaries.current(project, binaryId);
      return cached() ? binaryCache.current(project, binaryId, load) : load.get();
    }

    @Override
    public List<BinaryContent> binaryContentAnyProject(String binaryId, long versionId) {
      return binaries.anyProject(binaryId, versionId);
    }

    @Override
    public List<BinaryContent> binaryContentByBlob(BlobKey key) {
      return binaries.byBlob(key);
    }

    @Override
    public int fillSha1(BlobKey key, String sha1Hex) {
      binaryRowsChanged = true;
      return binaries.fillSha1(key, sha1Hex);
    }

    @Override
    public boolean isBlobReferenced(BlobKey key) {
      return binaries.isReferenced(key);
    }

    @Override
    public IngestJobTable ingestJobs() {
      return new JdbcIngestJobTable(c);
    }

    @Override
    public UploadTable uploads() {
      return new JdbcUploadTable(new JdbcStatements(c));
    }

    @Override
    public PendingUploadTable pendingUploads() {
      return new JdbcPendingUploadTable(new JdbcStatements(c));
    }
  }
}
