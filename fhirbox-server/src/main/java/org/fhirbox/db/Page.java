package org.fhirbox.db;

import java.util.List;
import org.fhirbox.model.PagePosition;
import org.fhirbox.model.StoredResource;

/**
 * One page of versions or current resources; {@code hasMore} tells whether a next page exists.
 * {@code positions} holds where each entry is in the page's order (in a sorted search with its
 * values of the sort keys), so that a page may start after any entry of this one, not only after
 * its last.
 */
public record Page(List<StoredResource> items, boolean hasMore, List<PagePosition> positions) {

  public Page {
    items = List.copyOf(items);
    positions = List.copyOf(positions);
    if (positions.size() != items.size()) {
      throw new IllegalArgumentException("one position per entry");
    }
  }

  /** A page in last-update order, each entry's position its lastUpdated, type, id and version. */
  public Page(List<StoredResource> items, boolean hasMore) {
    this(items, hasMore, items.stream().map(PagePosition::of).toList());
  }

  /** Where the next page starts, after this one's last entry; null when none follows. */
  public PagePosition next() {
    return hasMore && !items.isEmpty() ? positions.get(items.size() - 1) : null;
  }
}
