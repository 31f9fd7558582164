package org.fhirbox.http;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The preferences of a request's {@code Prefer} fields (RFC 7240 §2): every field, each a
 * comma-separated list of {@code token [BWS "=" BWS word]}, a {@code word} a token or a quoted
 * string, followed by {@code ;} parameters, which no preference read here has. Names are
 * case-insensitive; a preference stated twice counts as first stated.
 *
 * @param values each preference's value by lower-case name; "" for one stated without a value
 */
record Preferences(Map<String, String> values) {
  /** FHIR R4 http.html#ops: what a write answers with, as the spec spells each value. */
  private static final List<String> RETURNS = List.of("minimal", "representation", "OperationOutcome");

  static Preferences of(Enumeration<String> fields) {
    Map<String, String> values = new LinkedHashMap<>();
    for (String field : fields == null ? List.<String>of() : Collections.list(fields)) {
      for (String preference : splitOutsideQuotes(field, ',')) {
        String pair = splitOutsideQuotes(preference, ';').get(0);
        int eq = pair.indexOf('=');
        String name = (eq < 0 ? pair : pair.substring(0, eq)).trim().toLowerCase(Locale.ROOT);
        String value = eq < 0 ? "" : unquote(pair.substring(eq + 1).trim());
        if (!name.isEmpty()) {
          values.putIfAbsent(name, value);
        }
      }
    }
    return new Preferences(Map.copyOf(values));
  }

  Optional<String> value(String name) {
    return Optional.ofNullable(values.get(name));
  }

  /** The {@code return} preference, spelt as FHIR spells it, when one FHIR defines was stated. */
  Optional<String> returnPreference() {
    return value("return").flatMap(v -> RETURNS.stream().filter(v::equalsIgnoreCase).findFirst());
  }

  /** {@code handling=strict} (FHIR R4 search.html#errors): an unknown search parameter is an error. */
  boolean strictHandling() {
    return value("handling").map("strict"::equalsIgnoreCase).orElse(false);
  }

  /**
   * {@code s} split at each {@code separator} outside a quoted string. A quote that never closes is a
   * literal character (the field is malformed there), so that it does not hide every preference
   * after it: the split is made again with it taken literally.
   */
  private static List<String> splitOutsideQuotes(String s, char separator) {
    Set<Integer> literal = new HashSet<>();
    while (true) {
      List<String> parts = new ArrayList<>();
      StringBuilder part = new StringBuilder();
      int openedAt = -1;
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (c == '"' && !literal.contains(i)) {
          openedAt = openedAt < 0 ? i : -1;
        } else if (c == '\\' && openedAt >= 0 && i + 1 < s.length()) {
          part.append(c);
          c = s.charAt(++i);
        } else if (c == separator && openedAt < 0) {
          parts.add(part.toString());
          part.setLength(0);
          continue;
        }
        part.append(c);
      }
      if (openedAt < 0) {
        parts.add(part.toString());
        return parts;
      }
      literal.add(openedAt);
    }
  }

  /** A quoted-string's content (RFC 9110 §5.6.4), its backslash escapes undone; a token as it is. */
  private static String unquote(String word) {
    if (word.length() < 2 || word.charAt(0) != '"' || word.charAt(word.length() - 1) != '"') {
      return word;
    }
    StringBuilder out = new StringBuilder();
    for (int i = 1; i < word.length() - 1; i++) {
      char c = word.charAt(i);
      if (c == '\\' && i + 1 < word.length() - 1) {
        c = word.charAt(++i);
      }
      out.append(c);
    }
    return out.toString();
  }
}
