package org.fhirbox.http;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import org.eclipse.jetty.http.HttpDateTime;
import org.fhirbox.model.StoredResource;

/**
 * Conditional read (FHIR R4 http.html#cread): whether a read or vread of {@code s} is answered
 * 304 Not Modified, as RFC 9110 §13.2.2 steps 3 and 4 judge a {@code GET}. {@code If-None-Match}
 * names versions as the {@code ETag} does ({@code W/"3"}, compared weakly, §8.8.3.2) or is
 * {@code *}; {@code If-Modified-Since} counts only without it (§13.1.3), against the
 * {@code Last-Modified} sent, which has whole seconds. A field that is no list of entity tags, or
 * no HTTP date, is ignored (§13.1.2, §13.1.3): the resource is read.
 */
final class ConditionalRead {
  private ConditionalRead() {}

  static boolean notModified(Exchange ex, StoredResource s) {
    // the same reading of If-None-Match as for a Binary's content: every line, weakly, * for any
    Optional<Boolean> named = StorageResponder.ifNoneMatchHolds(ex.request(),
        new EntityTag(true, String.valueOf(s.versionId())));
    if (named.isPresent()) {
      return named.get();
    }
    String since = ex.header("If-Modified-Since");
    if (since == null) {
      return false;
    }
    long millis = HttpDateTime.parseToEpoch(since.strip());
    return millis >= 0 && !s.lastUpdated().truncatedTo(ChronoUnit.SECONDS).isAfter(Instant.ofEpochMilli(millis));
  }
}
