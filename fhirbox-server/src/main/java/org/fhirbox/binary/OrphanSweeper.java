package org.fhirbox.binary;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.storage.BlobStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes blobs that no Binary version references and that are older than a grace period: left
 * behind by a crash between "blob stored" and "row committed". Safe on every node at once:
 * deleting an unreferenced blob twice is harmless, and the grace period keeps in-flight
 * uploads (blob stored, row about to commit) out of reach.
 */
public final class OrphanSweeper {
  private static final Logger LOG = LoggerFactory.getLogger(OrphanSweeper.class);
  private final BlobStore blobs;
  private final ResourceStore store;
  private final Duration grace;
  private final Clock clock;

  public OrphanSweeper(BlobStore blobs, ResourceStore store, Duration grace, Clock clock) {
    this.blobs = blobs;
    this.store = store;
    this.grace = grace;
    this.clock = clock;
  }

  /** One pass; returns the number of blobs deleted. */
  public int sweep() throws IOException {
    AtomicInteger deleted = new AtomicInteger();
    blobs.listOlderThan(clock.instant().minus(grace), key -> {
      if (!store.read(tx -> tx.isBlobReferenced(key))) {
        try {
          blobs.delete(key);
          deleted.incrementAndGet();
        } catch (IOException e) {
          LOG.warn("could not delete orphan blob {}", key, e);
        }
      }
    });
    if (deleted.get() > 0) {
      LOG.info("orphan sweeper deleted {} unreferenced blobs", deleted.get());
    }
    return deleted.get();
  }
}
