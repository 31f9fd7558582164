package org.fhirbox.http;

import java.time.temporal.ChronoUnit;
import org.fhirbox.model.StoredResource;

/**
 * Conditional read (FHIR R4 http.html#cread): whether a read or vread of {@code s} is answered
 * 304 Not Modified, as RFC 9110 §13.2.2 steps 3 and 4 judge a {@code GET}, read as for a Binary's
 * content ({@link StorageResponder#notModified}). {@code If-None-Match} names versions as the
 * {@code ETag} does ({@code W/"3"}, compared weakly, §8.8.3.2) or is {@code *};
 * {@code If-Modified-Since} counts only without it (§13.1.3), against the {@code Last-Modified}
 * sent, which has whole seconds, and each version has a date of its own.
 */
final class ConditionalRead {
  private ConditionalRead() {}

  static boolean notModified(Exchange ex, StoredResource s) {
    return StorageResponder.notModified(ex.request(), new EntityTag(true, String.valueOf(s.versionId())),
        s.lastUpdated().truncatedTo(ChronoUnit.SECONDS), true);
  }
}
