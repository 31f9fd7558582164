package org.fhirbox.db;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.fhirbox.storage.Syncs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded H2's redo log: what makes an acknowledged commit survive a process crash or a
 * power loss while the database file is stored only every {@link #CHECKPOINT_MILLIS}.
 *
 * <p>Why: an MVStore commit that is written before it returns (H2's {@code WRITE_DELAY=0}) stores a
 * new chunk holding, for every B-tree the transaction touched, the changed leaf and every page
 * above it. A Patient create touches about twenty B-trees (its version, its current row, six
 * search values with their indexes), so each 1-client create serialised and wrote about 100 KiB,
 * and that was most of its CPU. Databases answer this with a log: a commit appends what it
 * changed, a few KiB, and the data pages are written later, many commits at once.
 *
 * <p>How: every write statement a {@linkplain JournaledConnection journaled connection} runs is
 * recorded with its parameters. Its commit, under one lock, numbers the transaction, appends the
 * record (SQL, parameters, number; framed by length and CRC32C) to the journal file with one
 * {@code write}, and commits in H2; then, outside the lock, the commit waits until its record is
 * on the disk ({@code fdatasync}, shared by the commits that wait together: {@link JournalSync}).
 * So an acknowledged commit survives a process crash and a power loss alike. H2 shows a commit to
 * others before that sync: a transaction that wrote nothing waits for it before it answers
 * ({@link #awaitCommitted}), so that nothing a power loss can take back is reported as there.
 *
 * <p>Storing: {@link #checkpointIfDue} stores the file ({@code CHECKPOINT}) under the same lock,
 * where no commit is half done, after setting {@code FHIRBOX_JOURNAL.MARK} to the number of the
 * newest commit: the file then holds exactly the transactions up to its mark. The mark is set
 * there, not in each transaction, because only a store makes it matter; in each transaction it
 * was one more statement and B-tree write per commit, made under the lock that orders commits.
 * The database keeps MVStore from storing on its own (see
 * Database), since such a store can fall inside a commit and leave a transaction in part. A
 * store also waits, through {@link #changes}, until no statement is changing H2's B-trees:
 * MVStore stores them one after another, so a row written meanwhile can reach the file in its
 * table without the undo-log entry that would roll it back, written a moment before into a tree
 * already stored. After a crash that row is uncommitted and owned by no transaction; H2 never
 * rolls it back, and a write of the same key waits on it until it times out (H2CrashTest: the
 * replay of the journal stopped there, about one kill in ten).
 *
 * <p>Recovery: the mark stored in the database file names the newest transaction H2 had stored.
 * On opening, the records after it are applied again, in order, each in a transaction that also
 * moves the mark; a torn record at the end (the crash hit its {@code write}) was never
 * committed, nor acknowledged, and ends the log; records that do not follow the mark one by one
 * (a database file older than its journal) stop the start. Before that, an unclean open rolls the
 * file back to the version of the last synced store, recorded beside the segment after it
 * (H2Durability). Replaying statements reproduces the transactions because H2 runs at READ
 * COMMITTED with row locks: two transactions that wrote the same row committed in journal order,
 * and fhirbox's write statements read no other rows (one that follows from other rows reads them
 * first and then writes each row by its key).
 *
 * <p>Size: the journal is cut into segments; at a store after {@link #ROTATE_BYTES} or
 * {@link #ROTATE_MILLIS}, a new segment starts and the older ones are deleted once that store is
 * on the disk ({@code CHECKPOINT SYNC}). A clean close stores and syncs everything and deletes them all.
 *
 * <p>A store that fails ({@code CHECKPOINT} or {@code CHECKPOINT SYNC}) is final, as a failed sync
 * of the journal is ({@link JournalSync}, {@link JournalStore}): a later store that succeeds may
 * follow pages the kernel dropped. From then on no segment is deleted or recycled, no commit is
 * accepted, a close keeps the journal, and the next start applies it from the last synced store on.
 */
final class CommitJournal implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CommitJournal.class);
  static final String MARK_TABLE = "FHIRBOX_JOURNAL.MARK";
  static final long ROTATE_BYTES = 16L << 20;
  static final long ROTATE_MILLIS = 30_000;
  /** How often the committed transactions are stored into the database file. */
  static final long CHECKPOINT_MILLIS = 200;
  /** How long a store waits for the statements in flight to finish before it tries again later. */
  static final long GATE_WAIT_MILLIS = 100;

  /**
   * How long the checkpointer lets pass without a store, even when no commit arrived: H2's
   * background writer stores by itself once its {@code WRITE_DELAY} (about 35.8 minutes here)
   * passes without one, outside the journal's lock, where it could catch a change half done.
   */
  static final long IDLE_STORE_MILLIS = 5 * 60_000;
  static final byte COMMIT = 1;
  static final byte ABORT = 2;
  static final byte AUTONOMOUS = 3;

  private final Path dir;
  private final FileChannel lockFile;
  /** Milliseconds, for segment ages and the idle store. */
  private final LongSupplier clock;
  private final Object lock = new Object();
  /** Shared by statements that change H2's B-trees, held alone by a store (see the class comment). */
  private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
  /** Under {@link #lock}. */
  private final JournalRecordBuffer recordBuffer = new JournalRecordBuffer();
  private FileChannel segment;
  private Path segmentPath;
  private long segmentBytes;
  private long segmentStarted;
  private long lastSeq;
  private long storedSeq;
  /** When the file was last stored, by {@link #clock}. */
  private long storedAt;
  private boolean closed;
  /** Set when a failed append could not be cut off: the segment may hold torn bytes mid-log. */
  private IOException broken;
  private final JournalSync sync;
  private final JournalSpare spare;
  /**
   * What the newest synced store ({@code CHECKPOINT SYNC}) left, or null: recorded
   * beside the segment that starts after it, for an unclean open to roll back to. Under {@link #lock}.
   */
  private JournalFiles.StoredVersion syncedVersion;
  /** Stores the database file; once a store failed, no segment is deleted and no commit accepted. */
  private final JournalStore store = new JournalStore();

  private CommitJournal(Path dir, FileChannel lockFile, long lastSeq, LongSupplier clock, JournalSync.Force force) {
    this.dir = dir;
    this.lockFile = lockFile;
    this.clock = clock;
    this.lastSeq = lastSeq;
    this.storedSeq = lastSeq;
    this.storedAt = clock.getAsLong();
    this.sync = force == null ? null : new JournalSync(lastSeq, c -> forceSegment(force, c));
    this.spare = force == null ? null : new JournalSpare(dir);
  }

  /** The journal directory beside an H2 store file {@code NAME.mv.db}: {@code NAME.journal}. */
  static Path directoryFor(Path storeFile) {
    String name = storeFile.getFileName().toString();
    return storeFile.resolveSibling(name.substring(0, name.length() - ".mv.db".length()) + ".journal");
  }

  /**
   * Applies what {@code dir} holds after the mark stored in the database, stores the result and
   * deletes the old segments; then opens a new segment for the commits to come.
   *
   * @param connections raw (not journaled) connections to the database
   */
  static CommitJournal open(Path dir, Supplier<Connection> connections) {
    return open(dir, connections, System::currentTimeMillis);
  }

  /** @param clock milliseconds, for segment ages and the idle store */
  static CommitJournal open(Path dir, Supplier<Connection> connections, LongSupplier clock) {
    return open(dir, connections, clock, JournalSync.FDATASYNC);
  }

  /**
   * @param force puts a segment's records on the disk before their commits return; null leaves
   *     them to the operating system (FHIRBOX_H2_SYNC_COMMITS=false: a process crash loses
   *     nothing, a power loss the last seconds), and then no segment is written ahead of time
   */
  static CommitJournal open(Path dir, Supplier<Connection> connections, LongSupplier clock, JournalSync.Force force) {
    try {
      Syncs.FSYNC.createDirectories(dir); // its name durable, as the segments' will be once synced
      FileChannel lockFile = JournalFiles.claim(dir);
      JournalFiles.deleteUnfinished(dir);
      long mark;
      JournalFiles.StoredVersion version;
      try (Connection c = connections.get()) {
        mark = ensureMarkTable(c);
      }
      List<Path> old = JournalFiles.segments(dir);
      long last = mark;
      if (!old.isEmpty()) {
        last = Math.max(last, JournalReplay.replay(old, mark, connections));
      }
      try (Connection c = connections.get(); Statement s = c.createStatement()) {
        // the new segment starts after every record read, aborted and autonomous ones included:
        // a mark behind them would, after the next crash, read as transactions missing
        setMark(c, last);
        // on the disk, not only in the page cache, before the records it holds are deleted
        s.execute("CHECKPOINT SYNC");
        version = H2Durability.storedVersion(c);
      }
      for (Path p : old) {
        JournalFiles.delete(p);
      }
      CommitJournal journal = new CommitJournal(dir, lockFile, last, clock, force);
      synchronized (journal.lock) {
        // without synced records a roll-back could take away commits a power loss left in the file
        journal.syncedVersion = force == null ? null : version;
        journal.startSegment();
      }
      return journal;
    } catch (IOException e) {
      throw new UncheckedIOException("opening the commit journal in " + dir + " failed: " + e.getMessage(), e);
    } catch (SQLException e) {
      throw new IllegalStateException("applying the commit journal in " + dir + " failed: " + e.getMessage(), e);
    }
  }

  private static long ensureMarkTable(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA IF NOT EXISTS FHIRBOX_JOURNAL");
      s.execute("CREATE TABLE IF NOT EXISTS " + MARK_TABLE + " (id INT PRIMARY KEY, seq BIGINT NOT NULL)");
      try (ResultSet rs = s.executeQuery("SELECT seq FROM " + MARK_TABLE + " WHERE id = 1")) {
        if (rs.next()) {
          return rs.getLong(1);
        }
      }
      s.executeUpdate("INSERT INTO " + MARK_TABLE + " (id, seq) VALUES (1, 0)");
      return 0;
    }
  }

  /**
   * Commits {@code c}'s transaction with its {@code statements} in the journal: numbers it,
   * appends the record and commits, all under the journal lock so that the numbers follow the
   * commit order; then, outside the lock, returns once the record is on the disk
   * ({@link JournalSync}), so that what is acknowledged survives a power loss. A commit that fails
   * after its append gets an abort record; one whose record could not be synced is in H2 but maybe
   * not on the disk, and fails as a commit whose outcome is unknown.
   */
  void commit(Connection c, List<JournaledStatement> statements) throws SQLException {
    long seq;
    synchronized (lock) {
      if (closed) {
        throw new SQLException("the database is closing");
      }
      seq = lastSeq + 1;
      try {
        store.requireStored();
        if (sync != null) {
          sync.requireHealthy(); // after a failed sync nothing more is committed: it could not be made durable
        }
        append(recordBuffer.encode(COMMIT, seq, statements));
      } catch (UncheckedIOException e) {
        throw new SQLException(e.getMessage(), e.getCause());
      } catch (IOException e) {
        throw new SQLException(e.getMessage(), e);
      }
      lastSeq = seq;
      if (sync != null) {
        sync.appended(seq, segment);
      }
      try {
        c.commit();
      } catch (SQLException e) {
        try {
          append(recordBuffer.encode(ABORT, seq, List.of()));
        } catch (RuntimeException again) {
          e.addSuppressed(again);
        }
        throw e;
      }
    }
    try {
      if (sync != null) {
        sync.await(seq);
      }
    } catch (IOException e) {
      throw new SQLException("the commit is in the database but may not be on the disk: " + e.getMessage(), e);
    }
  }

  /**
   * False once a store of the database file or a sync of the journal failed: commits are refused
   * until a restart (readiness reports the database down).
   */
  boolean healthy() {
    return !store.failed() && (sync == null || sync.healthy());
  }

  /** Returns once every commit made so far is on the disk ({@link JournalSync#awaitAppended}). */
  void awaitCommitted() throws IOException {
    if (sync != null) {
      sync.awaitAppended();
    }
  }

  /** Whether a store of the database file failed since the journal opened: then the journal must be kept. */
  boolean storeFailed() {
    return store.failed();
  }

  /** The group sync, null without synced commits (tests replace its force). */
  JournalSync sync() {
    return sync;
  }

  /** Replaces the statement that stores the database file (tests make it fail). */
  void storeWith(JournalStore.Statements statements) {
    store.storeWith(statements);
  }

  /** A statement that committed by itself (DDL): journaled after it ran, outside the order. */
  void appendAutonomous(List<JournaledStatement> statements) {
    synchronized (lock) {
      if (closed) {
        return;
      }
      long seq = lastSeq + 1;
      try {
        append(recordBuffer.encode(AUTONOMOUS, seq, statements));
        lastSeq = seq; // only a record written takes a number: a replay refuses a gap
        if (sync != null) {
          sync.appended(seq, segment);
        }
      } catch (UncheckedIOException e) {
        LOG.warn("{}", e.getMessage());
      }
    }
  }

  /**
   * Appends one record. A write that fails part-way is cut off again, so that no record follows
   * torn bytes (a reader stops there); when even that fails, the journal takes no more commits.
   */
  private void append(ByteBuffer record) throws UncheckedIOException {
    if (broken != null) {
      throw new UncheckedIOException("the commit journal " + segmentPath + " cannot be written since an earlier "
          + "failure; restart fhirbox", broken);
    }
    long before = segmentBytes;
    // an interrupt while a thread writes to a FileChannel closes the channel for every thread
    boolean interrupted = Thread.interrupted();
    try {
      while (record.hasRemaining()) {
        // at its own position: a recycled segment holds old records further on
        segmentBytes += segment.write(record, segmentBytes);
      }
    } catch (IOException e) {
      try {
        segment.truncate(before);
        segmentBytes = before;
      } catch (IOException again) {
        e.addSuppressed(again);
        broken = e;
      }
      throw new UncheckedIOException(
          "appending to the commit journal " + segmentPath + " failed: " + e.getMessage(), e);
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Syncs {@code c} for {@link JournalSync} in a committer's thread with its interrupt set aside:
   * an interrupt closes a FileChannel for every thread. One that comes during the sync all the
   * same closes it; the records are in the page cache, so the segment is opened again and synced.
   */
  private void forceSegment(JournalSync.Force force, FileChannel c) throws IOException {
    boolean interrupted = Thread.interrupted();
    try {
      try {
        force.force(c);
      } catch (ClosedByInterruptException e) {
        interrupted |= Thread.interrupted();
        force.force(reopened(c));
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The current segment opened again in place of {@code c}, which an interrupt closed. */
  private FileChannel reopened(FileChannel c) throws IOException {
    synchronized (lock) {
      if (closed || segment != c) {
        throw new ClosedChannelException(); // closed by the journal or a rotation
      }
      segment = FileChannel.open(segmentPath, StandardOpenOption.WRITE);
      sync.appended(lastSeq, segment);
      return segment;
    }
  }

  /**
   * Has H2 store what is committed, under the lock; starts a new segment when the current one is
   * large or old enough, and deletes the segments before it, which held only stored transactions.
   * Without a new commit it stores only once {@link #IDLE_STORE_MILLIS} passed since the last
   * store: then whatever H2 holds unsaved (changes made outside the journal) is stored here, under
   * the lock, and H2's own background store, due only after a much longer time without a store,
   * does not come.
   *
   * @param raw a connection that is not journaled
   */
  void checkpointIfDue(Supplier<Connection> raw, boolean force) throws SQLException, IOException {
    List<Path> done = List.of();
    // the connection is taken before the lock: commits waiting for the lock hold pool connections
    try (Connection c = raw.get(); Statement s = c.createStatement()) {
      synchronized (lock) {
        long now = clock.getAsLong();
        if (closed || store.failed() || (!force && lastSeq == storedSeq && now - storedAt < IDLE_STORE_MILLIS)) {
          return; // after a failed store, no store and no rotation: every segment is kept (JournalStore)
        }
        // under the lock no commit is half done, so H2 stores whole transactions only; a store
        // after which segments are deleted is synced: until the file is on the disk, a power loss
        // could take it back to a mark that those segments' records follow
        boolean rotate = force || segmentBytes >= ROTATE_BYTES
            || now - segmentStarted >= ROTATE_MILLIS;
        if (!storeAlone(s, GATE_WAIT_MILLIS, rotate)) {
          // a statement that keeps changing waits, likely, on a row whose commit waits for this
          // lock: let it go, and store at the next turn
          return;
        }
        storedSeq = lastSeq;
        storedAt = now;
        if (rotate) {
          if (sync != null) {
            sync.stored(lastSeq); // CHECKPOINT SYNC: on the disk, before the segment holding them closes
          }
          done = JournalFiles.segments(dir);
          startSegment();
          // without a record since it began, the segment kept its name and is still the one
          done.remove(segmentPath);
        }
      }
    }
    for (Path p : done) {
      Files.deleteIfExists(JournalFiles.storedVersionOf(p));
      if (spare == null || !spare.keep(p)) {
        Files.deleteIfExists(p);
      }
    }
  }

  /**
   * The lock a statement holds while it changes H2's B-trees (a write, a row lock, a rollback):
   * shared among statements, never held across a journal commit.
   */
  Lock changes() {
    return gate.readLock();
  }

  /** What a store holds alone: no statement changes H2's B-trees while it is held. */
  Lock storing() {
    return gate.writeLock();
  }

  /**
   * {@code CHECKPOINT} while no statement changes H2's B-trees; with {@code sync}, {@code CHECKPOINT
   * SYNC}, which also has the operating system write the file to the disk (a plain one leaves it in
   * the page cache).
   *
   * A store that fails is final ({@link JournalStore}): every later call fails at once.
   *
   * @return false when the statements did not pause within {@code waitMillis}; nothing was stored
   */
  boolean storeAlone(Statement s, long waitMillis, boolean sync) throws SQLException {
    synchronized (lock) { // the lock before the gate, as checkpointIfDue takes them
      store.requireStored();
      Lock alone = storing();
      try {
        if (!alone.tryLock(waitMillis, TimeUnit.MILLISECONDS)) {
          return false;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
      try {
        mark(s);
        store.store(s, sync, dir);
        if (sync && this.sync != null) {
          syncedVersion = H2Durability.storedVersion(s.getConnection());
        }
        return true;
      } finally {
        alone.unlock();
      }
    }
  }

  /**
   * Sets the mark to the newest commit, on a connection that is not journaled: under the lock,
   * every commit up to it is whole in H2 and none after it has begun, so a store from here on
   * holds exactly the transactions up to the mark (until the next commit).
   */
  void mark(Statement s) throws SQLException {
    synchronized (lock) {
      setMark(s.getConnection(), lastSeq);
    }
  }

  static void setMark(Connection c, long seq) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("UPDATE " + MARK_TABLE + " SET seq = ? WHERE id = 1")) {
      ps.setLong(1, seq);
      ps.executeUpdate();
    }
  }

  /**
   * Opens the next segment, then closes the current one: when the open fails (a full disk, no
   * file descriptors left) the commits go on into the current segment, and the next store that
   * is due to rotate tries again.
   */
  private void startSegment() {
    Path next = dir.resolve(JournalFiles.PREFIX + String.format("%019d", lastSeq + 1) + JournalFiles.SUFFIX);
    if (next.equals(segmentPath)) {
      segmentStarted = clock.getAsLong(); // no record since it began: nothing to rotate
      try {
        if (syncedVersion != null) {
          JournalFiles.writeStoredVersion(next, syncedVersion);
          Syncs.FSYNC.directory(dir);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("recording the stored version beside " + next + " failed: " + e.getMessage(), e);
      }
      return;
    }
    FileChannel opened;
    try {
      opened = spare != null && spare.takeAs(next) ? FileChannel.open(next, StandardOpenOption.WRITE)
          : FileChannel.open(next, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      try {
        if (syncedVersion != null) {
          // what an unclean open rolls the file back to, before it applies this segment's records
          JournalFiles.writeStoredVersion(next, syncedVersion);
        }
        // the segment's name on the disk before a commit recorded in it is acknowledged: a synced
        // file that no directory entry names is lost with a power loss
        Syncs.FSYNC.directory(dir);
      } catch (IOException e) {
        opened.close();
        throw e;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("starting a commit journal segment in " + dir + " failed"
          + (segment == null ? "" : " (commits go on into " + segmentPath + ")") + ": " + e.getMessage(), e);
    }
    FileChannel previous = segment;
    segment = opened;
    segmentPath = next;
    segmentBytes = 0;
    segmentStarted = clock.getAsLong();
    if (previous != null) {
      try {
        previous.close();
      } catch (IOException e) {
        LOG.warn("closing the commit journal segment failed: {}", e.toString());
      }
    }
  }

  long lastSeq() {
    synchronized (lock) {
      return lastSeq;
    }
  }

  /** Stops taking commits. The caller closes the database, then calls {@link #deleteAll}. */
  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      try {
        if (segment != null) {
          segment.close();
        }
      } catch (IOException e) {
        LOG.warn("closing the commit journal failed: {}", e.toString());
      }
    }
  }

  /** Lets another pool open the journal, once this one's database is closed. */
  void release() {
    try {
      lockFile.close();
    } catch (IOException e) {
      LOG.warn("releasing the commit journal's lock failed: {}", e.toString());
    }
  }

  /** After a clean close of the database, which stored every commit: the journal is not needed. */
  void deleteAll() {
    try {
      for (Path p : JournalFiles.segments(dir)) {
        JournalFiles.delete(p);
      }
      if (spare != null) {
        spare.delete();
      }
    } catch (IOException e) {
      LOG.warn("deleting the commit journal in {} failed: {}", dir, e.toString());
    }
  }
}
