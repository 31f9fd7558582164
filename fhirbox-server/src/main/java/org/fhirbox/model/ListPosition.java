package org.fhirbox.model;

import java.time.Instant;
import java.util.Objects;

/**
 * Where a page of an admin list (clients, users, ingestion jobs) ended: the last entry's creation
 * time and id, the two keys each list is ordered by. The next page starts right after it (keyset
 * paging), so an entry created or removed between two pages neither repeats nor skips one that was
 * there all along, as an offset would.
 */
public record ListPosition(Instant created, String id) {
  public ListPosition {
    Objects.requireNonNull(created, "created");
    Objects.requireNonNull(id, "id");
  }
}
