package org.fhirbox.db;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import org.h2.engine.SessionLocal;
import org.h2.jdbc.JdbcConnection;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.MVStoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes an embedded H2 database keep every acknowledged commit through a process crash (and,
 * for a file database with its {@link CommitJournal}, a power loss).
 *
 * <p><b>Writing.</b> A {@code jdbc:h2:file:} database keeps its commits through the
 * {@link CommitJournal}; what follows is what any other H2 URL gets, and a file database on an
 * H2 whose store cannot be told to store only on request. By default H2's MVStore keeps
 * committed changes in memory and writes them from a background thread every {@code WRITE_DELAY} (500 ms): a killed process loses what was
 * committed, and acknowledged, in that window. With {@code WRITE_DELAY=0} the store's
 * auto-commit delay is 0 and the end of every transaction that changed something stores a new
 * chunk (a write to the file, so into the operating system's page cache) before
 * {@code Connection.commit()} returns. Concurrent commits share that write: one waits for the
 * store lock, finds its changes already stored by the other, and returns. There is no fsync per
 * commit, so the guarantee is against a process crash, not a power loss (see README, Durability
 * and failures).
 *
 * <p><b>Finding what was written.</b> Once chunks older than the retention time (45 s) are dead,
 * MVStore writes new chunks into their free space instead of at the end of the file. When such a
 * chunk is not where the previous chunk predicted, the store header written after it names the
 * previous chunk, and the quick recovery MVStore runs on opening a file that was not closed
 * cleanly follows that header and the prediction chain and stops one or more chunks short: the
 * last acknowledged commits are on disk but not found (measured with H2 2.5.252: 1–3 commits
 * lost to nearly every {@code SIGKILL} once space is reused). MVStore's recovery mode scans the
 * whole file for chunks and takes the newest complete set instead. So before the pool opens a
 * file whose header does not carry the clean-shutdown mark, {@link #recoverIfNotClosedCleanly}
 * opens it once in recovery mode and closes it, which writes a header naming the newest chunk;
 * H2 then opens the file as cleanly closed. The scan reads the file's chunk headers only after a
 * crash, never on a normal start.
 *
 * <p><b>After a power loss.</b> The newest complete version may be one the journal stored without
 * a sync (every 200 ms): MVStore takes a chunk as complete by its header and footer, and a power
 * loss can leave blocks between them unwritten. So a file database with its journal is rolled
 * back to the version its last synced store left ({@code CHECKPOINT SYNC}, every rotation), which
 * the journal records beside the segment that began after it; the journal then applies every
 * record after that store's mark. This is the write-ahead log's rule: pages written after the last
 * synced checkpoint are never trusted without the log. When that version is no longer in the file
 * the newest complete one is kept, as before.
 */
final class H2Durability {
  private static final Logger LOG = LoggerFactory.getLogger(H2Durability.class);
  private static final int HEADER_BLOCK = 4096;

  private H2Durability() {
  }

  /**
   * {@code url} with {@code ;WRITE_DELAY=0} added, unless it sets {@code WRITE_DELAY} itself (an
   * operator who chooses a delay accepts losing that window of commits to a crash).
   */
  static String withCommitsWritten(String url) {
    if (url.toUpperCase(Locale.ROOT).contains(";WRITE_DELAY=") || url.startsWith("jdbc:h2:mem:")) {
      return url;
    }
    return url + ";WRITE_DELAY=0";
  }

  /**
   * Runs MVStore's full recovery on the file of {@code url} when it exists and was not closed
   * cleanly. Does nothing for in-memory and remote URLs, and for a file another process holds
   * open (H2 refuses that open anyway, with its own message).
   *
   * @return whether a recovery ran
   */
  static boolean recoverIfNotClosedCleanly(String url) {
    Optional<Path> file = storeFile(url);
    if (file.isEmpty() || !Files.isRegularFile(file.get())) {
      return false;
    }
    try {
      if (closedCleanly(file.get())) {
        return false;
      }
    } catch (IOException e) {
      LOG.warn("cannot read the header of {}: {}; H2 opens it as it is", file.get(), e.toString());
      return false;
    }
    long start = System.nanoTime();
    long version;
    long synced = rollbackTarget(file.get(), lastSyncedStore(file.get()));
    boolean rolledBack = false;
    try (MVStore store = new MVStore.Builder().fileName(file.get().toString()).recoveryMode().open()) {
      version = store.getCurrentVersion();
      if (synced > 0 && synced < version) {
        if (store.getFileStore().isKnownVersion(synced)) {
          store.rollbackTo(synced);
          rolledBack = true;
        } else {
          LOG.warn("the embedded database {} no longer holds version {}, its last synced store; its newest "
              + "complete version {} is kept", file.get(), synced, version);
        }
      }
    } catch (MVStoreException e) {
      if (e.getErrorCode() == DataUtils.ERROR_FILE_LOCKED) {
        return false;
      }
      throw new IllegalStateException("recovering the embedded database " + file.get() + " failed: " + e.getMessage(), e);
    }
    if (rolledBack) {
      LOG.warn("the embedded database {} was not closed cleanly (the process was killed, or the machine lost "
          + "power); rolled it back from version {} to {}, its last synced store, for its journal to apply the "
          + "transactions after it, in {} ms", file.get(), version, synced, (System.nanoTime() - start) / 1_000_000);
    } else {
      LOG.warn("the embedded database {} was not closed cleanly (the process was killed or crashed); "
          + "recovered its newest complete version {} in {} ms", file.get(), version,
          (System.nanoTime() - start) / 1_000_000);
    }
    return true;
  }

  /** Whether {@code e} is H2's refusal of a file another process (or another open in this one) holds locked. */
  static boolean isLocked(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof MVStoreException m && m.getErrorCode() == DataUtils.ERROR_FILE_LOCKED
          || t.getMessage() != null && t.getMessage().contains("The file is locked")) {
        return true;
      }
    }
    return false;
  }

  /** What the journal recorded of its last synced store, or null (no journal, or none recorded). */
  private static JournalFiles.StoredVersion lastSyncedStore(Path storeFile) {
    try {
      return JournalFiles.newestStoredVersion(CommitJournal.directoryFor(storeFile));
    } catch (IOException e) {
      LOG.warn("cannot read the last synced store from the journal of {}: {}", storeFile, e.toString());
      return null;
    }
  }

  /**
   * The version to roll back to, or -1. Only while the file was last written within the retention
   * time of that store (less a margin): until then MVStore has written over none of the chunks that
   * store's version needs, which it frees only once they have been unused for that long.
   */
  static long rollbackTarget(Path storeFile, JournalFiles.StoredVersion synced) {
    if (synced == null) {
      return -1;
    }
    try {
      long written = Files.getLastModifiedTime(storeFile).toMillis();
      long margin = Math.min(5_000, synced.retentionMillis() / 2);
      if (written - synced.millis() < synced.retentionMillis() - margin) {
        return synced.version();
      }
      LOG.warn("the last synced store of {} (version {}) is older than its retention time of {} ms at the file's "
          + "last write: its chunks may be written over, so its newest complete version is kept", storeFile,
          synced.version(), synced.retentionMillis());
    } catch (IOException e) {
      LOG.warn("cannot read when {} was last written: {}", storeFile, e.toString());
    }
    return -1;
  }

  /**
   * The MVStore version of an embedded database now, which {@link MVStore#rollbackTo} takes back
   * to (right after a store, the state that store wrote), with the time and the store's retention
   * time. Null when {@code c} is not an embedded H2's.
   */
  static JournalFiles.StoredVersion storedVersion(Connection c) {
    try {
      SessionLocal session = (SessionLocal) c.unwrap(JdbcConnection.class).getSession();
      MVStore store = session.getDatabase().getStore().getMvStore();
      return new JournalFiles.StoredVersion(store.getCurrentVersion(), System.currentTimeMillis(),
          store.getRetentionTime());
    } catch (SQLException | RuntimeException e) {
      return null;
    }
  }

  /** The {@code .mv.db} file of a {@code jdbc:h2:file:} or {@code jdbc:h2:<path>} URL. */
  static Optional<Path> storeFile(String url) {
    if (!url.startsWith("jdbc:h2:")) {
      return Optional.empty();
    }
    String name = url.substring("jdbc:h2:".length());
    int settings = name.indexOf(';');
    if (settings >= 0) {
      name = name.substring(0, settings);
    }
    if (name.startsWith("file:")) {
      name = name.substring("file:".length());
    } else if (name.matches("^[a-zA-Z0-9]{2,}:.*")) {
      return Optional.empty(); // mem:, tcp:, ssl:, zip:, nio... : not a plain file we may open
    }
    if (name.isEmpty()) {
      return Optional.empty();
    }
    if (name.startsWith("~")) {
      name = System.getProperty("user.home") + name.substring(1);
    }
    return Optional.of(Path.of(name + ".mv.db"));
  }

  /**
   * Whether the store header (the first 4 KiB block, repeated in the second) carries MVStore's
   * clean-shutdown mark {@code clean:1}. A header that cannot be read counts as not clean.
   */
  static boolean closedCleanly(Path file) throws IOException {
    ByteBuffer block = ByteBuffer.allocate(HEADER_BLOCK);
    try (FileChannel channel = FileChannel.open(file)) {
      int read;
      do {
        read = channel.read(block);
      } while (read > 0 && block.hasRemaining());
    }
    String header = new String(block.array(), 0, block.position(), StandardCharsets.ISO_8859_1);
    int end = header.indexOf('\n');
    if (end < 0) {
      return false;
    }
    return Arrays.asList(header.substring(0, end).split(",")).contains("clean:1");
  }

  /** The {@code WRITE_DELAY} the journal runs H2 with, in ms (about 35.8 minutes): H2's own store pushed far out. */
  static final int H2_WRITE_DELAY_MILLIS = Integer.MAX_VALUE / 1000;
  private static final Pattern WRITE_DELAY_SETTING = Pattern.compile("(?i);\\s*WRITE_DELAY\\s*=[^;]*");

  /**
   * {@code url} with H2's own delayed store pushed out of the way (about 35.8 minutes), whatever
   * {@code WRITE_DELAY} the URL sets: H2's background store can catch a commit half done (seen in
   * SIGKILL tests: one table holding a transaction's row, another not), and a store at every
   * commit ({@code WRITE_DELAY=0}) leaves the file holding transactions past its mark, which a
   * restart would then apply a second time. So the journal stores the file itself, under its
   * lock, where no commit is in progress.
   *
   * @throws IllegalArgumentException when the URL names {@code WRITE_DELAY} elsewhere than as a
   *     setting of its own (in an {@code INIT} script, say), where it cannot be overridden
   */
  static String storedByCheckpoints(String url) {
    String without = withoutWriteDelay(url);
    if (without.toUpperCase(Locale.ROOT).contains("WRITE_DELAY")) {
      throw new IllegalArgumentException("FHIRBOX_DATABASE_URL sets WRITE_DELAY other than as a ;WRITE_DELAY= "
          + "setting (in an INIT script, say): an embedded file database stores its file through the commit "
          + "journal, and H2 storing it by itself would make a restart apply commits twice; remove WRITE_DELAY "
          + "from the URL");
    }
    return without + ";WRITE_DELAY=" + H2_WRITE_DELAY_MILLIS;
  }

  /** {@code url} without its {@code ;WRITE_DELAY=} settings. */
  static String withoutWriteDelay(String url) {
    return WRITE_DELAY_SETTING.matcher(url).replaceAll("");
  }
}
