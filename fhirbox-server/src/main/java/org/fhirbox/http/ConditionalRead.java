package org.fhirbox.http;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.function.Function;
import org.fhirbox.core.FhirException;
import org.fhirbox.fhir.ReadConditions;
import org.fhirbox.model.StoredResource;
import org.hl7.fhir.r4.model.Resource;

/**
 * Conditional read (FHIR R4 http.html#cread): whether a read or vread of {@code s} is answered
 * 304 Not Modified, as RFC 9110 §13.2.2 steps 3 and 4 judge a {@code GET}, read as for a Binary's
 * content ({@link StorageResponder#notModified}). {@code If-None-Match} names versions as the
 * {@code ETag} does ({@code W/"3"}, compared weakly, §8.8.3.2) or is {@code *};
 * {@code If-Modified-Since} counts only without it (§13.1.3), against the {@code Last-Modified}
 * sent, which has whole seconds, and each version has a date of its own; a Bundle entry's
 * {@code ifModifiedSince} of milliseconds against {@code lastUpdated} to the millisecond. What is
 * read whole whatever its conditions ({@link ResourceOutput#dependsOnVersionAlone}) is never 304.
 * Preconditions come first ({@link IfMatchField}: 412). The same rule judges a single read's
 * headers and a Bundle read entry's {@code request.ifMatch}, {@code request.ifNoneMatch} and
 * {@code request.ifModifiedSince} ({@link EntryReads}).
 */
final class ConditionalRead {
  private ConditionalRead() {}

  /**
   * The conditions of a single read: its {@code If-Match}, {@code If-Unmodified-Since},
   * {@code If-None-Match} and {@code If-Modified-Since}.
   */
  static ReadConditions of(Exchange ex) {
    return new ReadConditions(IfMatchField.field(ex),
        StorageResponder.dateField(ex.request(), "If-Unmodified-Since").orElse(null),
        StorageResponder.listField(ex.request(), "If-None-Match"),
        StorageResponder.dateField(ex.request(), "If-Modified-Since").orElse(null));
  }

  /**
   * Whether a read of {@code s} with {@code conditions} is answered 304 Not Modified, after its
   * preconditions (RFC 9110 §13.2.2: {@code If-Match}, or without it {@code If-Unmodified-Since},
   * {@link IfMatchField#requireOnRead(String, Instant, StoredResource, String)}) held.
   *
   * @throws FhirException 412 when a precondition fails
   */
  static boolean notModified(ReadConditions conditions, StoredResource s, ResourceOutput output,
      Function<StoredResource, Resource> parse) {
    IfMatchField.requireOnRead(conditions.ifMatch(), conditions.ifUnmodifiedSince(), s, null);
    Instant since = conditions.ifModifiedSince();
    // a date of whole seconds against Last-Modified, which has them; one written to the millisecond
    // (a Bundle entry's ifModifiedSince, an instant, .000 too) against lastUpdated to the
    // millisecond, so that a version written later in the date's own second counts as a change
    Instant lastModified = s.lastUpdated().truncatedTo(conditions.toTheMillisecond() ? ChronoUnit.MILLIS
        : ChronoUnit.SECONDS);
    return (conditions.ifNoneMatch() != null || since != null)
        && StorageResponder.notModified(conditions.ifNoneMatch(), since,
            new EntityTag(true, String.valueOf(s.versionId())), lastModified, true)
        && output.dependsOnVersionAlone(s, parse);
  }
}
