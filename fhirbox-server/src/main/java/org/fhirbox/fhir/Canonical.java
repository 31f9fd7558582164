package org.fhirbox.fhir;

import org.fhirbox.db.SearchClause;

/**
 * A canonical reference (R4 references.html#canonical): the {@code url} of a definitional resource
 * and, after a bar ({@code url|version}), the version it names, or null for any version. The index
 * keeps it as a token of code {@code url} and system {@code version}, never as a local
 * {@code Type/id}: it names a resource by its {@code url} element, whatever the server's base.
 */
record Canonical(String url, String version) {
  /** {@code url} or {@code url|version} as written; an empty version is none. */
  static Canonical parse(String value) {
    int bar = value.lastIndexOf('|');
    return bar > 0 ? of(value.substring(0, bar), value.substring(bar + 1)) : new Canonical(value, null);
  }

  static Canonical of(String url, String version) {
    return new Canonical(url, version == null || version.isEmpty() ? null : version);
  }

  /**
   * What a search value of this canonical matches (R4 search.html#versions): the url with any
   * version, or with the version exactly that one.
   */
  SearchClause.TokenValue searched() {
    return new SearchClause.TokenValue(version, url);
  }
}
