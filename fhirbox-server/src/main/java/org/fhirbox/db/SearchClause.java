package org.fhirbox.db;

import java.util.List;

/**
 * One search criterion translated for the store. The set is closed; each case knows which table
 * columns it constrains. Indexed parameters (any standard SearchParameter) become {@link Token}
 * or {@link DateRange} over the {@code search_value} table.
 */
public sealed interface SearchClause {
  /** {@code _id=a,b}. */
  record Ids(List<String> ids) implements SearchClause {}

  /** {@code _lastUpdated} with a comparator: all bounds are epoch millis, inclusive. */
  record LastUpdated(Long lowInclusive, Long highInclusive) implements SearchClause {}

  /** An indexed token/reference/string parameter; {@code system} null matches any system. */
  record Token(String param, List<TokenValue> values) implements SearchClause {}

  /** An indexed date parameter whose [low, high] interval must overlap the given bounds. */
  record DateRange(String param, Long lowInclusive, Long highInclusive) implements SearchClause {}

  /** One OR-ed value of a token clause. */
  record TokenValue(String system, String code) {}
}
