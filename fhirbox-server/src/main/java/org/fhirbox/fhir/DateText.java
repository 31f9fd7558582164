package org.fhirbox.fhir;

import java.time.Instant;
import java.util.regex.Pattern;
import org.fhirbox.core.FhirException;
import org.hl7.fhir.r4.model.InstantType;

/**
 * A date, dateTime or instant as a URL's query gives it. A time zone's {@code +} sent unescaped
 * ({@code _since=2026-01-01T00:00:00+01:00} typed into a URL) reaches the server as a space, since
 * a query is form-encoded and {@code +} is a space there; R4 search.html#date wants it escaped
 * ({@code %2B}), but a space before {@code hh:mm} at the end of a time can mean nothing else, so
 * it is read as {@code +}, as HAPI FHIR's date parameters read it. A space anywhere else is left
 * as it is and refused as any other malformed value.
 */
public final class DateText {
  /** An optional search prefix, a date, a time, then a space where the zone's {@code +} was. */
  private static final Pattern PLUS_AS_SPACE =
      Pattern.compile("([a-z]{2})?\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d[0-9:.]* \\d\\d:\\d\\d");

  private DateText() {
  }

  /** {@code value} with the space of an unescaped {@code +} before its time zone made a {@code +} again. */
  static String plusRestored(String value) {
    return PLUS_AS_SPACE.matcher(value).matches() ? value.replace(' ', '+') : value;
  }

  /** The instant {@code value} of {@code param} names ({@code _since}); 400 when it names none. */
  public static Instant instant(String param, String value) {
    try {
      return new InstantType(plusRestored(value)).getValue().toInstant();
    } catch (RuntimeException e) {
      throw FhirException.badRequest(param + " must be an instant like 2024-01-01T00:00:00Z, got '"
          + DecimalLimits.abbreviate(value) + "'");
    }
  }
}
