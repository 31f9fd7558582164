package org.fhirbox.fhir;

import org.fhirbox.core.FhirException;

/**
 * Caps on one query string (or form body): at most {@value #MAX_PARAMETERS} parameters and
 * {@value #MAX_VALUES} values in all, counting each comma-separated value of a search parameter
 * (FHIR R4 search.html#escaping: a comma is OR). Every value becomes a clause of the search's
 * SQL, so without a cap one request of a few MB builds a statement the database chokes on.
 */
public final class QueryLimits {
  static final int MAX_PARAMETERS = 1_000;
  static final int MAX_VALUES = 1_000;
  private int parameters;
  private int values;

  /** Counts one parameter with its raw (still percent-encoded) value; throws 400 past a cap. */
  void count(String rawValue) {
    if (++parameters > MAX_PARAMETERS) {
      throw FhirException.badRequest("too many query parameters: at most " + MAX_PARAMETERS + " are accepted");
    }
    values += 1 + commas(rawValue);
    if (values > MAX_VALUES) {
      throw FhirException.badRequest("too many parameter values: at most " + MAX_VALUES
          + " in all, counting each comma-separated value");
    }
  }

  private static int commas(String raw) {
    int n = 0;
    for (int i = raw.indexOf(','); i >= 0; i = raw.indexOf(',', i + 1)) {
      n++;
    }
    // a comma may also arrive percent-encoded
    for (int i = raw.indexOf('%'); i >= 0 && i + 2 < raw.length(); i = raw.indexOf('%', i + 1)) {
      if (raw.charAt(i + 1) == '2' && (raw.charAt(i + 2) == 'C' || raw.charAt(i + 2) == 'c')) {
        n++;
      }
    }
    return n;
  }

  /** A client's text cut to a length fit for a diagnostic. */
  public static String shorten(String s) {
    return s.length() <= 80 ? s : s.substring(0, 80) + "...";
  }
}
