package org.fhirbox.binary;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.fhirbox.storage.BlobKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The orphan sweeper's second-sighting rule: a key found unwanted is deleted only when an earlier
 * pass found it unwanted too, on every pass since, and at least {@link #MIN_WATCH} ago, so
 * nothing is deleted on the pass that first sees it, however short the sweep interval. A pass
 * calls {@link #start}, then {@link #unwanted} for each key it finds, then {@link #finish}; a key
 * whose deletion failed is tried again by the next pass.
 *
 * <p>Why a time and not only a pass: an object can look old and unreferenced a moment before a
 * request commits the row that references it (S3 dates a multipart upload's object from the
 * upload's start). That commit can wait for a pool connection ({@code
 * FHIRBOX_DATABASE_CONNECT_TIMEOUT}, 10 s by default) and for row locks; with passes a second
 * apart, two of them could both fall in that wait. Ten minutes is far above any such wait, and it
 * is the default sweep interval, so the default passes delete as they did.
 */
final class SecondSighting {
  private static final Logger LOG = LoggerFactory.getLogger(SecondSighting.class);
  /** The least time between the first sighting of an unwanted key and its deletion. */
  static final Duration MIN_WATCH = OrphanSweeper.MIN_WATCH;
  /** Bounds the memory of one pass; the rest are found again by the next. */
  private static final int MAX_SUSPECTS = 100_000;

  /** Deletes one key. */
  interface Deletion {
    void delete(BlobKey key) throws IOException;
  }

  private final String what;
  private final Deletion deletion;
  private final Clock clock;
  /** The keys the previous pass found unwanted, with when they were first seen so. */
  private Map<BlobKey, Instant> previous = Map.of();
  private Map<BlobKey, Instant> current = new HashMap<>();
  private Instant now;
  private int deleted;

  /** @param what what the keys name, for the log ("orphan blob") */
  SecondSighting(String what, Deletion deletion, Clock clock) {
    this.what = what;
    this.deletion = deletion;
    this.clock = clock;
  }

  void start() {
    current = new HashMap<>();
    now = clock.instant();
    deleted = 0;
  }

  /**
   * {@code key} is unwanted on this pass: deleted if the previous pass found it unwanted and it was
   * first seen so at least {@link #MIN_WATCH} ago, else remembered.
   */
  void unwanted(BlobKey key) {
    Instant first = previous.get(key);
    if (first == null || Duration.between(first, now).compareTo(MIN_WATCH) < 0) {
      if (current.size() < MAX_SUSPECTS) {
        current.put(key, first == null ? now : first);
      }
      return;
    }
    try {
      deletion.delete(key);
      deleted++;
    } catch (IOException e) {
      LOG.warn("could not delete {} {}", what, key, e);
      current.put(key, first);
    }
  }

  /** Ends the pass; the number of keys it deleted. */
  int finish() {
    previous = current;
    return deleted;
  }
}
