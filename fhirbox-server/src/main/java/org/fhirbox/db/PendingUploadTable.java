package org.fhirbox.db;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.fhirbox.model.PendingUpload;

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

  /** Deletes the row; false when it was gone. */
  boolean delete(String binaryId);
}
