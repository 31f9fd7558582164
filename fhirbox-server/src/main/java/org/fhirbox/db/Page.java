package org.fhirbox.db;

import java.util.List;
import org.fhirbox.model.StoredResource;

/** One page of versions or current resources; {@code hasMore} tells whether a next page exists. */
public record Page(List<StoredResource> items, boolean hasMore) {}
