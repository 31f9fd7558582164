package org.fhirbox.fhir;

import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import java.time.Instant;
import org.hl7.fhir.r4.model.Bundle.BundleEntryRequestComponent;
import org.hl7.fhir.r4.model.InstantType;

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
 * @param toTheMillisecond whether {@code ifModifiedSince} is compared to the millisecond (a FHIR
 *     instant written with a fraction of a second, {@code .000} too) rather than at the whole
 *     second (an HTTP-date, or an instant written without one)
 */
public record ReadConditions(String ifMatch, Instant ifUnmodifiedSince, String ifNoneMatch, Instant ifModifiedSince,
    boolean toTheMillisecond) {
  /** No condition: an unconditional read. */
  public static final ReadConditions NONE = new ReadConditions(null, null, null, null, false);

  /** Those of a single read's fields: dates of whole seconds. */
  public ReadConditions(String ifMatch, Instant ifUnmodifiedSince, String ifNoneMatch, Instant ifModifiedSince) {
    this(ifMatch, ifUnmodifiedSince, ifNoneMatch, ifModifiedSince, false);
  }

  /** Those of a Bundle entry's request; an {@code ifMatch} of only spaces is none, as a blank {@code If-Match} is. */
  static ReadConditions of(BundleEntryRequestComponent request) {
    String ifMatch = request.hasIfMatch() ? request.getIfMatch().trim() : "";
    InstantType since = request.getIfModifiedSinceElement();
    return new ReadConditions(ifMatch.isEmpty() ? null : ifMatch, null,
        request.hasIfNoneMatch() ? request.getIfNoneMatch() : null,
        request.hasIfModifiedSince() ? since.getValue().toInstant() : null,
        request.hasIfModifiedSince() && since.getPrecision().ordinal() >= TemporalPrecisionEnum.MILLI.ordinal());
  }

  /** Whether any condition was stated. */
  public boolean stated() {
    return ifMatch != null || ifUnmodifiedSince != null || ifNoneMatch != null || ifModifiedSince != null;
  }
}
