package org.fhirbox.db;

import java.util.List;

/** One page of versions or current resources; {@code hasMore} tells whether a next page exists. */
public record Page(List<StoredResource> items, boolean hasMore) {}
