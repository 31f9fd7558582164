package org.fhirbox.client;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An HTTP-date (RFC 9110 §5.6.7) read from a field value: each of the three forms a recipient must
 * accept, and nothing more. An HTTP-date is case-sensitive (§5.6.7): {@code sun, 06 nov 1994
 * 08:49:37 gmt} is none. The whole value must be one date: a date at the start of a longer
 * value (two dates, text after one) is none, and neither is a date in none of the three forms (a
 * one-digit day of IMF-fixdate or RFC 850's form, a zone other than {@code GMT}, an hour of 24, a
 * day the month does not have). {@code 23:59:60} is a leap second, read as the instant after
 * {@code 23:59:59}.
 * The day name is not checked against the date.
 *
 * <p>The server reads dates with its own {@code HttpDate}, this one's twin: the SDK depends on no
 * server module, and the two share no module. A change to one is a change to both.
 */
final class HttpDate {
  private static final String DAY = "(Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
  private static final String MONTH = "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";
  private static final String TIME = "(\\d{2}):(\\d{2}):(\\d{2})";
  /** {@code Sun, 06 Nov 1994 08:49:37 GMT}: day, month, year, time. */
  private static final Pattern IMF_FIXDATE = Pattern.compile(
      DAY + ", (\\d{2}) " + MONTH + " (\\d{4}) " + TIME + " GMT");
  /** {@code Sunday, 06-Nov-94 08:49:37 GMT}: day, month, two-digit year, time. */
  private static final Pattern RFC_850 = Pattern.compile(
      "(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-" + MONTH + "-(\\d{2}) " + TIME
          + " GMT");
  /** {@code Sun Nov  6 08:49:37 1994}: month, day (two digits, or a space and one), time, year. */
  private static final Pattern ASCTIME = Pattern.compile(
      DAY + " " + MONTH + " (\\d{2}| \\d) " + TIME + " (\\d{4})");
  private static final List<String> MONTHS = List.of("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
      "Sep", "Oct", "Nov", "Dec");

  private HttpDate() {}

  /**
   * The instant {@code value} names, or empty when it is no HTTP-date, with {@code now} the time
   * an RFC 850 date's two-digit year is read against: the year of {@code now}'s century with those digits, unless that is more than 50
   * years after {@code now}, then the one a century before (RFC 9110 §5.6.7).
   */
  static Optional<Instant> parse(String value, Instant now) {
    if (value == null) {
      return Optional.empty();
    }
    String v = value.strip();
    try {
      Matcher m = IMF_FIXDATE.matcher(v);
      if (m.matches()) {
        return Optional.of(at(Integer.parseInt(m.group(4)), m.group(3), m.group(2), m, 5));
      }
      m = ASCTIME.matcher(v);
      if (m.matches()) {
        return Optional.of(at(Integer.parseInt(m.group(7)), m.group(2), m.group(3).strip(), m, 4));
      }
      m = RFC_850.matcher(v);
      if (m.matches()) {
        ZonedDateTime today = now.atZone(ZoneOffset.UTC);
        int year = today.getYear() - Math.floorMod(today.getYear(), 100) + Integer.parseInt(m.group(4));
        Instant candidate = at(year, m.group(3), m.group(2), m, 5);
        return Optional.of(candidate.isAfter(today.plusYears(50).toInstant())
            ? at(year - 100, m.group(3), m.group(2), m, 5) : candidate);
      }
    } catch (DateTimeException e) {
      // a day the month does not have, an hour past 23, a minute past 59
    }
    return Optional.empty();
  }

  /** The instant of the date and of the time in groups {@code time} to {@code time + 2} of {@code m}. */
  private static Instant at(int year, String month, String day, Matcher m, int time) {
    int hour = Integer.parseInt(m.group(time));
    int minute = Integer.parseInt(m.group(time + 1));
    int second = Integer.parseInt(m.group(time + 2));
    if (second == 60 && (hour != 23 || minute != 59) || second > 60) {
      throw new DateTimeException("no leap second: " + hour + ":" + minute + ":" + second);
    }
    LocalTime t = LocalTime.of(hour, minute, Math.min(second, 59));
    LocalDate d = LocalDate.of(year, MONTHS.indexOf(month) + 1, Integer.parseInt(day));
    Instant at = d.atTime(t).toInstant(ZoneOffset.UTC);
    return second == 60 ? at.plusSeconds(1) : at;
  }
}
