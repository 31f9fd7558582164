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

  /** The parameters of {@code query} (null or empty: none); 400 past a limit or for malformed percent-encoding. */
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
      try {
        out.computeIfAbsent(URLDecoder.decode(k, StandardCharsets.UTF_8), x -> new ArrayList<>())
            .add(URLDecoder.decode(v, StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        throw FhirException.badRequest("malformed percent-encoding in query parameter '" + QueryLimits.shorten(k)
            + "' (RFC 3986 §2.1: '%' must be followed by two hex digits)");
      }
    }
    return out;
  }}
