package org.fhirbox.fhir;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.fhirbox.core.FhirException;

/**
 * A query string ({@code application/x-www-form-urlencoded}: {@code +} is a space) as parameter
 * names to their values, in order, within {@link QueryLimits}: a request's own query and form
 * bodies, and the search a conditional create names.
 */
public final class QueryString {
  private QueryString() {}

  /**
   * The parameters of {@code query} (null or empty: none); 400 past a limit, for malformed
   * percent-encoding, and for a C0 control character in a name, or in a value but tab, CR and LF
   * (U+0000 would otherwise reach the database, which cannot store it in text).
   */
  public static Map<String, List<String>> parse(String query) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    if (query == null || query.isEmpty()) {
      return out;
    }
    QueryLimits limits = new QueryLimits();
    for (String pair : query.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String k = eq >= 0 ? pair.substring(0, eq) : pair;
      String v = eq >= 0 ? pair.substring(eq + 1) : "";
      limits.count(v);
      String name;
      String value;
      try {
        name = URLDecoder.decode(k, StandardCharsets.UTF_8);
        value = URLDecoder.decode(v, StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        throw FhirException.badRequest("malformed percent-encoding in query parameter '" + QueryLimits.shorten(k)
            + "' (RFC 3986 §2.1: '%' must be followed by two hex digits)");
      }
      int bad = controlCharacter(name, false);
      if (bad < 0) {
        bad = controlCharacter(value, true);
      }
      if (bad >= 0) {
        throw FhirException.badRequest("query parameter '" + QueryLimits.shorten(k) + "' contains the control character U+"
            + String.format("%04X", bad) + "; FHIR strings have none below U+0020 but tab, carriage return and"
            + " line feed (datatypes.html#string)");
      }
      out.computeIfAbsent(name, x -> new ArrayList<>()).add(value);
    }
    return out;
  }

  /**
   * The first C0 control character (below U+0020) in {@code s}, or -1; with {@code textual}, tab,
   * carriage return and line feed are allowed, as in a FHIR string.
   */
  public static int controlCharacter(String s, boolean textual) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 && !(textual && (c == '\t' || c == '\r' || c == '\n'))) {
        return c;
      }
    }
    return -1;
  }}
