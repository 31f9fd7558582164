package org.fhirbox.fhir;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The forms FHIR R4 gives {@code dateTime} and {@code instant} values (datatypes.html#dateTime,
 * #instant), which HAPI's parser reads more loosely: a dateTime with a time needs its seconds and
 * a time zone ("If hours and minutes are specified, a time zone SHALL be populated"); an instant is
 * a date and a time to the second, with a time zone. HAPI would read a time without a zone in the
 * server's own, and an instant without a time as midnight.
 */
final class DateTimeRules {
  private static final String YEAR = "([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)";
  private static final String MONTH = "(0[1-9]|1[0-2])";
  private static final String DAY = "(0[1-9]|[1-2][0-9]|3[0-1])";
  private static final String TIME = "T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?";
  private static final String ZONE = "(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))";
  private static final Pattern DATE_TIME =
      Pattern.compile(YEAR + "(-" + MONTH + "(-" + DAY + "(" + TIME + ZONE + ")?)?)?");
  private static final Pattern INSTANT = Pattern.compile(YEAR + "-" + MONTH + "-" + DAY + TIME + ZONE);
  /** A time, with or without seconds, and no time zone after it. */
  private static final Pattern ZONELESS = Pattern.compile(".*T\\d\\d:\\d\\d(:\\d\\d(\\.\\d+)?)?");

  private DateTimeRules() {
  }

  /** Whether the rules apply to primitives of {@code typeName}. */
  static boolean applies(String typeName) {
    return typeName.equals("dateTime") || typeName.equals("instant");
  }

  /** What is wrong with {@code value} as a {@code typeName} (dateTime or instant); empty when nothing is. */
  static Optional<String> problem(String typeName, String value) {
    String shown = "'" + DecimalLimits.abbreviate(value) + "'";
    if (typeName.equals("instant")) {
      return INSTANT.matcher(value).matches() ? Optional.empty() : Optional.of(shown + " is not an R4 instant: it"
          + " needs a date, a time to the second and a time zone, as 2020-01-01T10:00:00Z or"
          + " 2020-01-01T10:00:00+01:00 (FHIR R4 datatypes.html#instant)");
    }
    if (!typeName.equals("dateTime") || DATE_TIME.matcher(value).matches()) {
      return Optional.empty();
    }
    if (ZONELESS.matcher(value).matches()) {
      return Optional.of(shown + " is not an R4 dateTime: a time needs a time zone (Z or +hh:mm/-hh:mm) and its"
          + " seconds, as 2020-01-01T10:00:00+01:00 (FHIR R4 datatypes.html#dateTime)");
    }
    return Optional.of(shown + " is not an R4 dateTime: YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with"
        + " a time zone (FHIR R4 datatypes.html#dateTime)");
  }

  /**
   * Whether the value at {@code path} is one the write replaces, so that what a client sent there
   * is not judged: the {@code meta.lastUpdated} of a resource the server stores (not of a contained
   * one), which may come from a version stored before these rules.
   */
  static boolean replacedOnWrite(String path) {
    return path.endsWith("meta.lastUpdated") && !path.contains("contained");
  }
}
