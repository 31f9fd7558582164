package org.fhirbox.db;

import java.math.BigDecimal;

/**
 * One indexed value of a search parameter. Token, reference and string parameters use
 * {@code system}/{@code code}; dates use {@code low}/{@code high} (epoch millis, inclusive);
 * numbers and quantities use {@code number}.
 */
public record SearchValue(String param, String system, String code, Long low, Long high, BigDecimal number) {
  public static SearchValue token(String param, String system, String code) {
    return new SearchValue(param, system, code, null, null, null);
  }
}
