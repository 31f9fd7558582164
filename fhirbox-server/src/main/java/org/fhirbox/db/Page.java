package org.fhirbox.db;

import java.util.List;
import org.fhirbox.model.PagePosition;
import org.fhirbox.model.StoredResource;

/**
 * One page of versions or current resources; {@code hasMore} tells whether a next page exists,
 * and {@code next} is where it starts (after this page's last entry), null when none does.
 */
public record Page(List<StoredResource> items, boolean hasMore, PagePosition next) {

  /** A page whose next starts after its last entry in last-update order. */
  public Page(List<StoredResource> items, boolean hasMore) {
    this(items, hasMore, PagePosition.after(items, hasMore));
  }
}
