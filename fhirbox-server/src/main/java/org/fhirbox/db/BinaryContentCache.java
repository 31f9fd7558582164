package org.fhirbox.db;

import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.fhirbox.model.BinaryContent;

/**
 * The {@code binary_content} rows that Attachments name, kept in memory for a database no other
 * process writes (see {@link Database#soleWriter()}): every resource write fills its
 * Attachments' size, hash and type from them, and every read that signs an Attachment looks
 * them up again, one query each (about 6 % of a Patient create's CPU).
 *
 * <p>What may change: the current version of a Binary (a new version, a delete), and a row's
 * SHA-1, filled in once a direct upload's object was read ({@code fillSha1}). A version's row
 * is otherwise written once and never changed. A transaction that did either tells
 * {@link #committing} just before its commit and {@link #ended} once it committed or rolled back;
 * until then it reads past the cache, as only it sees its own writes. In between, every lookup of
 * what it changed reads the database and stores nothing: the entry it replaced is gone before the
 * commit, and a row read just before the commit would be the old one. Without that, a request in
 * the instant after the commit was answered from the replaced entry (an Attachment filled with the
 * previous version's size and hash, a signed URL for a Binary just deleted). A lookup that read the
 * database while such a transaction ended does not store what it read either ({@link #generation}).
 */
final class BinaryContentCache {
  /** About 300 bytes an entry: a few MB at most. */
  static final int MAX_ENTRIES = 8192;
  /** The version number of a key for "the current version". */
  private static final long CURRENT = -1;

  private record Key(String project, String binaryId, long versionId) {}

  /** A Binary whose current version a transaction changed. */
  record Changed(String project, String binaryId) {}

  private final Map<Key, BinaryContent> entries = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Key, BinaryContent> eldest) {
      return size() > MAX_ENTRIES;
    }
  };
  /** Counts invalidations; under {@code this}. */
  private long generation;
  /** The Binaries whose current version a transaction is committing, each with how many do; under {@code this}. */
  private final Map<Changed, Integer> committingBinaries = new HashMap<>();
  /** How many transactions that changed rows in place are committing; under {@code this}. */
  private int committingRows;

  Optional<BinaryContent> current(String project, String binaryId, Supplier<Optional<BinaryContent>> load) {
    return lookup(new Key(project, binaryId, CURRENT), load);
  }

  Optional<BinaryContent> version(String project, String binaryId, long versionId,
      Supplier<Optional<BinaryContent>> load) {
    return lookup(new Key(project, binaryId, versionId), load);
  }

  private Optional<BinaryContent> lookup(Key key, Supplier<Optional<BinaryContent>> load) {
    long seen;
    synchronized (this) {
      if (committingRows > 0 || committingBinaries.containsKey(new Changed(key.project(), key.binaryId()))) {
        return load.get(); // what the database holds may change under this lookup: neither served nor kept
      }
      BinaryContent hit = entries.get(key);
      if (hit != null) {
        return Optional.of(hit);
      }
      seen = generation;
    }
    Optional<BinaryContent> loaded = load.get(); // outside the lock: a query
    loaded.ifPresent(c -> {
      synchronized (this) {
        if (generation == seen) {
          entries.put(key, c);
        }
      }
    });
    return loaded;
  }

  /**
   * Before the commit of a transaction that wrote versions of {@code currentChanged} (or changed
   * {@code rowsChanged}): drops what it replaces, and has every lookup of it read the database
   * until {@link #ended}. Returns the generation to hand to {@link #ended}.
   */
  synchronized long committing(Iterable<Changed> currentChanged, boolean rowsChanged) {
    drop(currentChanged, rowsChanged);
    if (rowsChanged) {
      committingRows++;
    }
    for (Changed c : currentChanged) {
      committingBinaries.merge(c, 1, Integer::sum);
    }
    return generation;
  }

  /**
   * After a transaction that wrote versions of these Binaries (everything, after one that changed
   * rows) committed or rolled back, with {@code seen} from its {@link #committing}, or -1 when it
   * ended before it came to commit: drops the entries again, and then, for a transaction that
   * committed, stores the rows it inserted under their versions: what the next lookup of each would
   * read (the signed URL in the answer to an upload looks its row up at once). Only when nothing was
   * invalidated since {@code seen}: a SHA-1 filled in meanwhile would otherwise be hidden behind the
   * row as inserted.
   */
  synchronized void ended(Iterable<Changed> currentChanged, boolean rowsChanged, List<BinaryContent> committed,
      long seen) {
    if (seen >= 0) {
      if (rowsChanged) {
        committingRows--;
      }
      for (Changed c : currentChanged) {
        committingBinaries.computeIfPresent(c, (k, n) -> n == 1 ? null : n - 1);
      }
    }
    boolean quiet = generation == seen;
    drop(currentChanged, rowsChanged);
    if (quiet && !rowsChanged) {
      for (BinaryContent b : committed) {
        // as read back: the column keeps milliseconds
        entries.put(new Key(b.project(), b.binaryId(), b.versionId()), new BinaryContent(b.project(), b.binaryId(),
            b.versionId(), b.blobKey(), b.size(), b.sha256Hex(), b.sha1Hex(), b.contentType(), b.filename(),
            b.securityContext(), Instant.ofEpochMilli(b.lastUpdated().toEpochMilli())));
      }
    }
  }

  /** Drops the current version of each of {@code currentChanged}, or everything; a new generation. */
  private void drop(Iterable<Changed> currentChanged, boolean rowsChanged) {
    generation++;
    if (rowsChanged) {
      entries.clear();
      return;
    }
    for (Changed c : currentChanged) {
      entries.remove(new Key(c.project(), c.binaryId(), CURRENT));
    }
  }

  synchronized int size() {
    return entries.size();
  }
}
