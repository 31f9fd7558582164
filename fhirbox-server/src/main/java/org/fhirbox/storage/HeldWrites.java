package org.fhirbox.storage;

import java.util.ArrayList;
import java.util.List;

/**
 * Keeps the write leases ({@link LiveWrites}) of the objects a unit of work stored until that
 * unit ends: an HTTP request, or one attempt of an ingestion job. Such a unit commits the Binary
 * that references its objects, or fails and discards them, before it ends; so the orphan sweep of
 * every node spares an object from its upload's start until its row is committed.
 *
 * <p>Why past the upload's completion: S3 dates the object of a multipart upload from the upload's
 * start, so a large object looks older than the sweeper's grace the moment it is complete, and
 * only the second sighting ({@code OrphanSweeper.MIN_WATCH}) would then stand between it and a
 * deletion while its request waits (a GC pause, a lock, a pool connection) before it commits.
 *
 * <p>Held per thread: a unit of work runs on one thread (the servlet's request thread, the
 * ingestion worker's), which stores its objects and commits its rows, while the call chains in
 * between (a Bundle's entries, a Binary's decoded data, an import) know nothing of the blob store.
 * Outside a unit, a store ends the lease when its upload completes, as it did before.
 */
public final class HeldWrites {
  private static final ThreadLocal<List<LiveWrites.Registration>> HELD = new ThreadLocal<>();

  private HeldWrites() {}

  /** The end of a unit of work: closing it ends the leases it kept. */
  public interface Unit extends AutoCloseable {
    @Override
    void close();
  }

  /**
   * Begins a unit of work on this thread; one begun inside another keeps nothing of its own, so
   * the outer one, which commits, ends the leases.
   */
  public static Unit begin() {
    if (HELD.get() != null) {
      return () -> { };
    }
    List<LiveWrites.Registration> held = new ArrayList<>();
    HELD.set(held);
    return () -> {
      HELD.remove();
      for (LiveWrites.Registration r : held) {
        r.close();
      }
    };
  }

  /**
   * Keeps {@code lease} of a completed upload until the unit of work of this thread ends; false,
   * keeping nothing, when none is under way (the caller then ends it).
   */
  static boolean keep(LiveWrites.Registration lease) {
    List<LiveWrites.Registration> held = HELD.get();
    if (held == null) {
      return false;
    }
    held.add(lease);
    return true;
  }
}
