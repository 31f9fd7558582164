package org.fhirbox.db;

import java.math.BigDecimal;
import java.text.Normalizer;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * One indexed value of a search parameter. Token and reference parameters use
 * {@code system}/{@code code}; string parameters keep the value as written in {@code system}
 * (for {@code :exact}, first 255 characters) and its {@linkplain #normalize normal form} in
 * {@code code}; dates use {@code low}/{@code high} (epoch millis, inclusive; an open end of a
 * Period is {@link Long#MIN_VALUE} or {@link Long#MAX_VALUE}); numbers use {@code number}, and
 * quantities {@code number} with the unit in {@code system}/{@code code}.
 */
public record SearchValue(String param, String system, String code, Long low, Long high, BigDecimal number) {
  private static final Pattern MARKS = Pattern.compile("\\p{M}+");
  private static final int EXACT_MAX = 255;

  public static SearchValue token(String param, String system, String code) {
    return new SearchValue(param, system, code, null, null, null);
  }

  public static SearchValue string(String param, String value) {
    return new SearchValue(param, exact(value), normalize(value), null, null, null);
  }

  /** A string as {@code :exact} compares it: its first 255 characters, as stored for a string parameter. */
  public static String exact(String value) {
    return value.length() <= EXACT_MAX ? value : value.substring(0, EXACT_MAX);
  }

  public static SearchValue date(String param, long low, long high) {
    return new SearchValue(param, null, null, low, high, null);
  }

  /** A number parameter's value, whole (search_value.num holds any number a resource may hold, migration V32). */
  public static SearchValue number(String param, BigDecimal n) {
    return new SearchValue(param, null, null, null, null, n);
  }

  /** A quantity: its value, whole, and its unit as {@code system}/{@code code}. */
  public static SearchValue quantity(String param, String system, String code, BigDecimal n) {
    return new SearchValue(param, system, code, null, null, n);
  }

  /**
   * FHIR R4 string search ignores case and accents (search.html#string): case folded as Unicode
   * folds it (upper case, then lower case, so that "ß" is "ss" as its upper case "SS" is), without
   * combining marks, so that {@code name=muller} finds "Müller" and {@code name=strasse} "Straße".
   */
  public static String normalize(String s) {
    String folded = s.toUpperCase(Locale.ROOT).toLowerCase(Locale.ROOT);
    return MARKS.matcher(Normalizer.normalize(folded, Normalizer.Form.NFD)).replaceAll("");
  }
}
