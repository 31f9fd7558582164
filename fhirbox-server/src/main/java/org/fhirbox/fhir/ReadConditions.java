package org.fhirbox.fhir;

import java.time.Instant;
import org.hl7.fhir.r4.model.Bundle.BundleEntryRequestComponent;

/**
 * The conditions of a read or vread, whichever way they came: the {@code If-Match},
 * {@code If-Unmodified-Since}, {@code If-None-Match} and {@code If-Modified-Since} of a single
 * read, or the {@code request.ifMatch}, {@code request.ifNoneMatch} and
 * {@code request.ifModifiedSince} of a batch or transaction {@code GET} entry (R4 has no
 * {@code ifUnmodifiedSince}). The first two are preconditions (412 when they fail, RFC 9110
 * §13.2.2), the last two make a conditional read (FHIR R4 http.html#cread; "for managing cache
 * currency", http.html#transaction). One rule judges both kinds of read.
 *
 * @param ifMatch the entity tags, as the field value (every field line joined by commas), or null
 *     when none were sent
 * @param ifUnmodifiedSince the date, or null when none was sent or it is to be ignored
 * @param ifNoneMatch the entity tags, as the field value (every field line joined by commas), or
 *     null when none were sent
 * @param ifModifiedSince the date, or null when none was sent or it is to be ignored (no HTTP-date,
 *     more than one member)
 */
public record ReadConditions(String ifMatch, Instant ifUnmodifiedSince, String ifNoneMatch, Instant ifModifiedSince) {
  /** No condition: an unconditional read. */
  public static final ReadConditions NONE = new ReadConditions(null, null, null, null);

  /** Those of a Bundle entry's request. */
  static ReadConditions of(BundleEntryRequestComponent request) {
    return new ReadConditions(request.hasIfMatch() ? request.getIfMatch().trim() : null, null,
        request.hasIfNoneMatch() ? request.getIfNoneMatch() : null,
        request.hasIfModifiedSince() ? request.getIfModifiedSince().toInstant() : null);
  }

  /** Whether any condition was stated. */
  public boolean stated() {
    return ifMatch != null || ifUnmodifiedSince != null || ifNoneMatch != null || ifModifiedSince != null;
  }
}
