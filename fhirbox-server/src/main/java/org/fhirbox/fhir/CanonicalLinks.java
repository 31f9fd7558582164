package org.fhirbox.fhir;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.fhirbox.db.IndexedValue;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.db.SearchClause;

/**
 * The two directions of a canonical reference in the search index, for chains, {@code _has},
 * {@code _include} and {@code _revinclude} through a reference parameter on {@code canonical}
 * elements (R4 references.html#canonical): a resource is named by its {@code url} search parameter,
 * and by {@code url|version} when its {@code version} is that one. A canonical without a version
 * names every resource with the url.
 */
final class CanonicalLinks {
  private CanonicalLinks() {}

  /**
   * The stored values of a canonical reference to any of the resources {@code ids} of {@code type}:
   * each one's url without a version (stored with no system), and with its version.
   */
  static List<SearchClause.TokenValue> naming(ResourceStore.Tx tx, String project, String type, List<String> ids) {
    if (ids.isEmpty()) {
      return List.of();
    }
    int limit = 4 * ids.size();
    Map<String, List<String>> versions = new HashMap<>();
    for (IndexedValue v : tx.indexedRows(project, type, ids, "version", limit)) {
      versions.computeIfAbsent(v.id(), k -> new ArrayList<>()).add(v.code());
    }
    Set<SearchClause.TokenValue> out = new LinkedHashSet<>();
    for (IndexedValue url : tx.indexedRows(project, type, ids, "url", limit)) {
      out.add(new SearchClause.TokenValue("", url.code()));
      for (String version : versions.getOrDefault(url.id(), List.of())) {
        out.add(new SearchClause.TokenValue(version, url.code()));
      }
    }
    return List.copyOf(out);
  }

  /** The canonicals among indexed values: those with a version, and those that name no local resource. */
  static List<Canonical> canonicals(Collection<IndexedValue> values) {
    Set<Canonical> out = new LinkedHashSet<>();
    for (IndexedValue v : values) {
      if (v.system() != null || !References.isLocal(v.code())) {
        out.add(Canonical.of(v.code(), v.system()));
      }
    }
    return List.copyOf(out);
  }

  /**
   * The criteria that find, on a type with {@code url} and {@code version} parameters, the
   * resources {@code canonicals} name: one lookup for the canonicals without a version, one for each
   * version named. Empty when there are none.
   */
  static List<List<SearchClause>> lookups(Collection<Canonical> canonicals) {
    Map<String, Set<String>> urlsByVersion = new TreeMap<>();
    Set<String> anyVersion = new LinkedHashSet<>();
    for (Canonical c : canonicals) {
      if (c.version() == null) {
        anyVersion.add(c.url());
      } else {
        urlsByVersion.computeIfAbsent(c.version(), k -> new LinkedHashSet<>()).add(c.url());
      }
    }
    List<List<SearchClause>> out = new ArrayList<>();
    if (!anyVersion.isEmpty()) {
      out.add(List.of(urls(anyVersion)));
    }
    urlsByVersion.forEach((version, urls) -> out.add(List.of(urls(urls),
        new SearchClause.Token("version", List.of(new SearchClause.TokenValue(null, version))))));
    return out;
  }

  private static SearchClause urls(Set<String> urls) {
    return new SearchClause.Token("url", urls.stream().map(u -> new SearchClause.TokenValue(null, u)).toList());
  }
}
