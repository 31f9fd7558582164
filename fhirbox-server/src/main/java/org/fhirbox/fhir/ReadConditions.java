package org.fhirbox.fhir;

import java.time.Instant;
import org.hl7.fhir.r4.model.Bundle.BundleEntryRequestComponent;

/**
 * The conditions of a conditional read (FHIR R4 http.html#cread), whichever way they came: the
 * {@code If-None-Match} and {@code If-Modified-Since} of a single read, or the
 * {@code request.ifNoneMatch} and {@code request.ifModifiedSince} of a batch or transaction
 * {@code GET} entry ("for managing cache currency", http.html#transaction). One rule judges both.
 *
 * @param ifNoneMatch the entity tags, as the field value (every field line joined by commas), or
 *     null when none were sent
 * @param ifModifiedSince the date, or null when none was sent or it is to be ignored (no HTTP-date,
 *     more than one member)
 */
public record ReadConditions(String ifNoneMatch, Instant ifModifiedSince) {
  /** No condition: an unconditional read. */
  public static final ReadConditions NONE = new ReadConditions(null, null);

  /** Those of a Bundle entry's request. */
  static ReadConditions of(BundleEntryRequestComponent request) {
    return new ReadConditions(request.hasIfNoneMatch() ? request.getIfNoneMatch() : null,
        request.hasIfModifiedSince() ? request.getIfModifiedSince().toInstant() : null);
  }

  /** Whether any condition was stated. */
  public boolean stated() {
    return ifNoneMatch != null || ifModifiedSince != null;
  }
}
