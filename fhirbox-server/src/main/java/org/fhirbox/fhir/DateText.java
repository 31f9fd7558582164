package org.fhirbox.fhir;

import java.time.Instant;
import java.util.regex.Matcher;
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
  /** A time with an offset after it, the offset's hours and minutes as groups. */
  private static final Pattern OFFSET = Pattern.compile(".*T[0-9:.]+[+-](\\d\\d):(\\d\\d)");
  /** The farthest offset R4 allows (datatypes.html#dateTime: -14:00 to +14:00), in minutes. */
  private static final int MAX_OFFSET_MINUTES = 14 * 60;

  private DateText() {
  }

  /** {@code value} with the space of an unescaped {@code +} before its time zone made a {@code +} again. */
  static String plusRestored(String value) {
    return PLUS_AS_SPACE.matcher(value).matches() ? value.replace(' ', '+') : value;
  }

  /**
   * Whether {@code value}'s time zone offset, if it has one, is one R4 allows: minutes below 60 and
   * at most 14 hours either way (datatypes.html#dateTime, as a stored dateTime or instant must have
   * it), where HAPI's parser takes any offset Java's time zones do (+15:00, +23:59).
   */
  static boolean offsetAllowed(String value) {
    Matcher m = OFFSET.matcher(value);
    if (!m.matches()) {
      return true;
    }
    int hours = Integer.parseInt(m.group(1));
    int minutes = Integer.parseInt(m.group(2));
    return minutes < 60 && hours * 60 + minutes <= MAX_OFFSET_MINUTES;
  }

  /** The instant {@code value} of {@code param} names ({@code _since}); 400 when it names none. */
  public static Instant instant(String param, String value) {
    try {
      String restored = plusRestored(value);
      if (!offsetAllowed(restored)) {
        throw new IllegalArgumentException("offset beyond 14 hours");
      }
      return new InstantType(restored).getValue().toInstant();
    } catch (RuntimeException e) {
      throw FhirException.badRequest(param + " must be an instant like 2024-01-01T00:00:00Z, got '"
          + DecimalLimits.abbreviate(value) + "'");
    }
  }
}
