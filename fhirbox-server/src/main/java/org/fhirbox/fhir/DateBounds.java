package org.fhirbox.fhir;

import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import java.util.Date;
import java.util.TimeZone;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.BaseDateTimeType;

/**
 * The instants a date, dateTime or instant covers, for the search index and for search values
 * alike: from its first millisecond to the last of its precision ({@code 2020-05} is all of May).
 * A value without a time zone ({@code 2020-05-01}, every {@code birthDate}) is read in UTC, the
 * server's time zone for search (R4 search.html#date: where neither side has a zone, the server's
 * is assumed), and not in the zone of the JVM that happens to write or search it, so that nodes
 * with another {@code TZ}, or a restart with one, index and search the same day the same way.
 */
final class DateBounds {
  /** A time with a zone: {@code Z} or an offset after the {@code T} (a date alone has none). */
  private static final Pattern ZONED = Pattern.compile(".*T.*(Z|[+-]\\d\\d(:?\\d\\d)?)");

  private DateBounds() {
  }

  /** The first millisecond {@code d} covers. */
  static long low(BaseDateTimeType d) {
    return low(d.getValue(), d.getTimeZone() != null);
  }

  /** The last millisecond {@code d} covers. */
  static long high(BaseDateTimeType d) {
    return high(d.getValue(), d.getPrecision(), d.getTimeZone() != null);
  }

  /** The first millisecond of a value HAPI parsed as {@code value}; {@code zoned} whether it named its zone. */
  static long low(Date value, boolean zoned) {
    return asUtc(value.getTime(), zoned);
  }

  /** The last millisecond of a value HAPI parsed as {@code value} at {@code precision}. */
  static long high(Date value, TemporalPrecisionEnum precision, boolean zoned) {
    return asUtc(precision.add(value, 1).getTime(), zoned) - 1;
  }

  /** Whether a search value as written ({@code 2020-05-01T10:00+02:00}, without its prefix) names its zone. */
  static boolean zoned(String written) {
    return ZONED.matcher(written).matches();
  }

  /**
   * HAPI reads a value without a zone in the JVM's default zone (and adds a precision there), so
   * its wall-clock time is {@code local} plus that zone's offset at that instant.
   */
  private static long asUtc(long local, boolean zoned) {
    return zoned ? local : local + TimeZone.getDefault().getOffset(local);
  }
}
