package org.fhirbox.fhir;

import ca.uhn.fhir.rest.param.DateParam;
import ca.uhn.fhir.rest.param.DateRangeParam;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.fhirbox.FhirException;
import org.fhirbox.db.SearchClause;
import org.fhirbox.db.SearchQuery;

/**
 * Turns search URL parameters into a {@link SearchQuery} (FHIR R4 search.html). Supported:
 * {@code _id}, {@code _lastUpdated} (eq/gt/lt/ge/le with date precision), every indexed
 * token/reference parameter ({@code code}, {@code system|code}, {@code Type/id}), {@code _count},
 * {@code _offset}, {@code _sort=_lastUpdated|-_lastUpdated}, {@code _summary=count}, {@code _total}.
 * Unknown parameters are ignored unless the client sent {@code Prefer: handling=strict}.
 */
public final class SearchParser {
  /** The parsed request: the query, whether only a count is wanted, and the parameters applied. */
  public record Parsed(SearchQuery query, boolean summaryCount, Map<String, List<String>> applied) {}

  private static final Set<String> CONTROL = Set.of("_format", "_pretty", "_elements", "_total");
  private final SearchIndexer indexer;
  private final int defaultCount;
  private final int maxCount;

  public SearchParser(SearchIndexer indexer, int defaultCount, int maxCount) {
    this.indexer = indexer;
    this.defaultCount = defaultCount;
    this.maxCount = maxCount;
  }

  public Parsed parse(String project, String type, Map<String, List<String>> params, boolean strict) {
    List<SearchClause> clauses = new ArrayList<>();
    Map<String, List<String>> applied = new LinkedHashMap<>();
    int count = defaultCount;
    int offset = 0;
    boolean descending = true;
    boolean summaryCount = false;
    Map<String, SearchIndexer.Param> indexed = indexer.params(type);
    for (Map.Entry<String, List<String>> e : params.entrySet()) {
      String name = e.getKey();
      for (String value : e.getValue()) {
        switch (name) {
          case "_id" -> {
            List<String> ids = Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
            if (ids.isEmpty() || ids.size() > 100) {
              throw FhirException.badRequest("_id takes 1 to 100 comma-separated ids");
            }
            clauses.add(new SearchClause.Ids(ids));
          }
          case "_lastUpdated" -> clauses.add(lastUpdated(value));
          case "_count" -> count = Math.min(number("_count", value), maxCount);
          case "_offset" -> offset = number("_offset", value);
          case "_sort" -> descending = switch (value.trim()) {
            case "_lastUpdated" -> false;
            case "-_lastUpdated" -> true;
            default -> throw FhirException.badRequest("_sort supports _lastUpdated and -_lastUpdated, not '"
                + value + "'");
          };
          case "_summary" -> {
            if (!"count".equals(value)) {
              throw FhirException.badRequest("_summary supports only 'count'");
            }
            summaryCount = true;
          }
          default -> {
            if (CONTROL.contains(name)) {
              continue;
            }
            SearchIndexer.Param p = indexed.get(name);
            if (p == null) {
              if (strict) {
                throw FhirException.badRequest("unknown or unsupported search parameter '" + name + "' for " + type);
              }
              continue;
            }
            clauses.add(token(p.name(), value));
          }
        }
        applied.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
      }
    }
    applied.remove("_count");
    applied.remove("_offset");
    applied.remove("_format");
    applied.remove("_pretty");
    return new Parsed(new SearchQuery(project, type, List.copyOf(clauses), descending, count, offset),
        summaryCount, applied);
  }

  private static int number(String name, String value) {
    try {
      int n = Integer.parseInt(value.trim());
      if (n < 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw FhirException.badRequest(name + " must be a non-negative whole number, got '" + value + "'");
    }
  }

  private static SearchClause lastUpdated(String value) {
    try {
      DateRangeParam range = new DateRangeParam(new DateParam(value));
      Long low = range.getLowerBoundAsInstant() == null ? null : range.getLowerBoundAsInstant().getTime();
      Long high = range.getUpperBoundAsInstant() == null ? null : range.getUpperBoundAsInstant().getTime();
      return new SearchClause.LastUpdated(low, high);
    } catch (RuntimeException e) {
      throw FhirException.badRequest("_lastUpdated value '" + value + "' is not a date with an optional"
          + " eq/gt/lt/ge/le prefix");
    }
  }

  private static SearchClause token(String param, String value) {
    List<SearchClause.TokenValue> values = new ArrayList<>();
    for (String v : value.split(",")) {
      int bar = v.indexOf('|');
      values.add(bar >= 0
          ? new SearchClause.TokenValue(v.substring(0, bar), v.substring(bar + 1))
          : new SearchClause.TokenValue(null, v));
    }
    return new SearchClause.Token(param, values);
  }
}
