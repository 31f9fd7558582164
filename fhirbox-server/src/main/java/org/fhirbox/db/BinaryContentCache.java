package org.fhirbox.db;

import java.time.Instant;
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
 * {@link #invalidate} after it ended, committed or not; until then it reads past the cache, as
 * only it sees its own writes. A lookup that read the database while such a transaction ended
 * does not store what it read ({@link #generation}): it may be what the transaction replaced.
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

  /** After a transaction that wrote versions of these Binaries; everything, after one that changed rows. */
  synchronized void invalidate(Iterable<Changed> currentChanged, boolean rowsChanged) {
    invalidate(currentChanged, rowsChanged, List.of(), generation);
  }

  /**
   * {@link #invalidate(Iterable, boolean)}, and then, for a transaction that committed, the rows it
   * inserted under their versions: what the next lookup of each would read (the signed URL in the
   * answer to an upload looks its row up at once). Only when nothing was invalidated since
   * {@code seen}, the {@link #generation} read before the transaction committed: a SHA-1 filled in
   * meanwhile would otherwise be hidden behind the row as inserted.
   */
  synchronized void invalidate(Iterable<Changed> currentChanged, boolean rowsChanged,
      List<BinaryContent> committed, long seen) {
    boolean quiet = generation == seen;
    generation++;
    if (rowsChanged) {
      entries.clear();
      return;
    }
    for (Changed c : currentChanged) {
      entries.remove(new Key(c.project(), c.binaryId(), CURRENT));
    }
    if (quiet) {
      for (BinaryContent b : committed) {
        // as read back: the column keeps milliseconds
        entries.put(new Key(b.project(), b.binaryId(), b.versionId()), new BinaryContent(b.project(), b.binaryId(),
            b.versionId(), b.blobKey(), b.size(), b.sha256Hex(), b.sha1Hex(), b.contentType(), b.filename(),
            b.securityContext(), Instant.ofEpochMilli(b.lastUpdated().toEpochMilli())));
      }
    }
  }

  /** Counts invalidations so far. */
  synchronized long generation() {
    return generation;
  }

  synchronized int size() {
    return entries.size();
  }
}
