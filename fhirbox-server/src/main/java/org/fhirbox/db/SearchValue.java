package org.fhirbox.db;

import com.ibm.icu.lang.UCharacter;
import java.math.BigDecimal;
import java.text.Normalizer;
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
    return new SearchValue(param, null, null, null, null, whole(n));
  }

  /** A quantity: its value, whole, and its unit as {@code system}/{@code code}. */
  public static SearchValue quantity(String param, String system, String code, BigDecimal n) {
    return new SearchValue(param, system, code, null, null, whole(n));
  }

  /**
   * {@code n} as indexed: a zero as 0, whatever scale it was written with (0e-20000 is a number a
   * resource stored before the limits below may hold; PostgreSQL's numeric holds no scale past
   * 16383, and a next link's position prints what is stored).
   */
  private static BigDecimal whole(BigDecimal n) {
    return n != null && n.signum() == 0 ? BigDecimal.ZERO : n;
  }

  /**
   * FHIR R4 string search ignores case and accents (search.html#string): Unicode's full case
   * folding (CaseFolding.txt, C + F: "ß" and "ẞ" are "ss", a final "ς" is "σ", "ﬁ" is "fi"),
   * without combining marks, so that {@code name=muller} finds "Müller", {@code name=strasse}
   * "Straße" and "STRAẞE", and {@code name=κωνσ} "Κωνσταντίνου".
   */
  public static String normalize(String s) {
    String folded = UCharacter.foldCase(s, true);
    return MARKS.matcher(Normalizer.normalize(folded, Normalizer.Form.NFD)).replaceAll("");
  }
}
