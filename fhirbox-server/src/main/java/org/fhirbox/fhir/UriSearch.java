package org.fhirbox.fhir;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.SearchClause;

/**
 * A uri parameter's criterion (R4 search.html#uri): the whole URI as written, case-sensitive;
 * {@code :below} the URIs that start with the value; {@code :above} the URLs on the path to it.
 * Commas are OR.
 */
final class UriSearch {
  /** The most path segments an {@code :above} value may have: each is two exact lookups. */
  static final int MAX_SEGMENTS = 32;

  private UriSearch() {}

  static SearchClause clause(SearchIndexer.Param p, String modifier, String value) {
    List<String> values = SearchEscapes.alternatives(p.name(), value).stream().map(SearchEscapes::unescape).toList();
    if (modifier == null) {
      return new SearchClause.Token(p.name(), values.stream().map(v -> new SearchClause.TokenValue(null, v)).toList());
    }
    if (modifier.equals("below")) {
      // stored as a token: code holds the URI as written, so a Text prefix match on it is :below
      return new SearchClause.Text(List.of(p.name()), values, SearchClause.TextMatch.STARTS_WITH);
    }
    if (modifier.equals("above")) {
      Set<String> ancestors = new LinkedHashSet<>();
      values.forEach(v -> ancestors.addAll(above(p.name(), v)));
      return new SearchClause.Token(p.name(), ancestors.stream().map(a -> new SearchClause.TokenValue(null, a))
          .toList());
    }
    throw SearchParser.unsupportedModifier(p.name(), modifier);
  }

  /**
   * The URLs {@code url:above} matches (R4 search.html#uri: "any value set whose URL is part of the
   * path to" the value): the value and each of its ancestors by whole path segments down to the
   * host, with and without a trailing slash, so {@code http://x.org/fhir/ValueSet/1} gives
   * {@code http://x.org}, {@code http://x.org/}, {@code http://x.org/fhir}, ... and itself. The
   * spec defines it for hierarchical URLs only: a URN ({@code urn:oid:1.2.3}) has no path, so it
   * is 400 rather than an exact match posing as one.
   */
  private static List<String> above(String param, String url) {
    int scheme = url.indexOf("://");
    if (scheme <= 0 || scheme + 3 >= url.length()) {
      throw FhirException.badRequest("'" + param + ":above' takes a URL with a path (R4 search.html#uri), not '"
          + DecimalLimits.abbreviate(url) + "'");
    }
    Set<String> out = new LinkedHashSet<>();
    int slash = url.indexOf('/', scheme + 3);
    while (slash >= 0) {
      out.add(url.substring(0, slash));
      out.add(url.substring(0, slash + 1));
      slash = url.indexOf('/', slash + 1);
    }
    out.add(url);
    if (out.size() > 2 * MAX_SEGMENTS) {
      throw FhirException.badRequest("'" + param + ":above' takes a URL of at most " + MAX_SEGMENTS
          + " path segments");
    }
    return List.copyOf(out);
  }
}
