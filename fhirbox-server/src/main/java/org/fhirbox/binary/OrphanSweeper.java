package org.fhirbox.binary;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.storage.BlobStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes what no Binary needs: expired resumable uploads with their stored bytes (see
 * {@link ResumableUploads#sweepExpired}), and blobs that no Binary version references, left
 * behind by a crash between "blob stored" and "row committed". A blob is deleted only when it is older than the grace period and was
 * already unreferenced on this sweeper's previous pass (passes run minutes apart). Age alone
 * does not prove that no request is about to commit a row for it: S3 dates an object made by a
 * multipart upload from the upload's start, so a long upload's blob looks old the moment it is
 * complete, a moment before its row commits. Safe on every node at once: deleting an
 * unreferenced blob twice is harmless.
 */
public final class OrphanSweeper {
  private static final Logger LOG = LoggerFactory.getLogger(OrphanSweeper.class);
  /** Bounds the memory of one pass; the rest are found again by the next. */
  private static final int MAX_SUSPECTS = 100_000;
  private final BlobStore blobs;
  private final ResourceStore store;
  private final Duration grace;
  private final Clock clock;
  private final ResumableUploads uploads;
  private Set<BlobKey> suspects = Set.of();

  public OrphanSweeper(BlobStore blobs, ResourceStore store, Duration grace, Clock clock, ResumableUploads uploads) {
    this.blobs = blobs;
    this.store = store;
    this.grace = grace;
    this.clock = clock;
    this.uploads = uploads;
  }

  /**
   * One pass: expired uploads first, then unreferenced blobs (sparing those of uploads still
   * resuming, and their S3 multipart uploads); returns the number of blobs deleted.
   */
  public synchronized int sweep() throws IOException {
    uploads.sweepExpired();
    AtomicInteger deleted = new AtomicInteger();
    Set<BlobKey> unreferenced = new HashSet<>();
    blobs.listOlderThan(clock.instant().minus(grace), key -> {
      if (store.read(tx -> tx.isBlobReferenced(key)) || uploads.isResuming(key)) {
        return;
      }
      if (!suspects.contains(key)) {
        if (unreferenced.size() < MAX_SUSPECTS) {
          unreferenced.add(key);
        }
        return;
      }
      try {
        blobs.delete(key);
        deleted.incrementAndGet();
      } catch (IOException e) {
        LOG.warn("could not delete orphan blob {}", key, e);
        unreferenced.add(key);
      }
    }, uploads::isResuming);
    suspects = unreferenced;
    if (deleted.get() > 0) {
      LOG.info("orphan sweeper deleted {} unreferenced blobs", deleted.get());
    }
    return deleted.get();
  }
}
