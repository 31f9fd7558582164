package org.fhirbox.db;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.fhirbox.model.PendingUpload;
import org.fhirbox.storage.BlobKey;

/** The {@code direct_upload} rows, seen from one transaction ({@link ResourceStore.Tx#pendingUploads()}). */
public interface PendingUploadTable {

  void insert(PendingUpload upload);

  Optional<PendingUpload> find(String binaryId);

  /** Up to {@code limit} rows whose next check is due at {@code now}, earliest first. */
  List<PendingUpload> due(Instant now, int limit);

  /**
   * Moves the next check of {@code binaryId} from {@code seen} to {@code next}; false when another
   * node moved it first (and so checks it now).
   */
  boolean take(String binaryId, Instant seen, Instant next);

  /**
   * Marks the upload confirmed (its Binary exists; only the read for its SHA-1 is left), due for
   * the background check at {@code next}; false when the row was gone.
   */
  boolean markConfirmed(String binaryId, Instant next);

  /** Deletes the row; false when it was gone. */
  boolean delete(String binaryId);

  /**
   * Locks the row until the transaction ends, so that a {@link #delete} of another transaction
   * waits for it; false when the row is gone (the upload was refused or forgotten).
   */
  boolean lock(String binaryId);

  /**
   * Whether an upload not yet confirmed, whose URL expires at {@code expiredSince} or later,
   * writes the blob {@code key}: while its row is there, a read or the background check may still
   * confirm its object, so the orphan sweep leaves it alone ({@code expiredSince} is the epoch
   * then; a node that never looks at these uploads passes now minus the orphan grace).
   */
  boolean isAwaited(BlobKey key, Instant expiredSince);
}
