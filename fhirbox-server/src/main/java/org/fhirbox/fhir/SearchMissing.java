package org.fhirbox.fhir;

import org.fhirbox.core.FhirException;
import org.fhirbox.db.SearchClause;

/**
 * {@code param:missing=true} and {@code param:missing=false} (R4 search.html#modifiers: true
 * "returns all resources that don't have a value for the parameter", false all that do), on every
 * indexed parameter whatever its kind: what it asks is only whether the index holds a value of the
 * parameter for the resource.
 */
final class SearchMissing {
  private SearchMissing() {
  }

  /** The criterion of {@code p:missing=value}; a value other than {@code true} or {@code false} is 400. */
  static SearchClause clause(SearchIndexer.Param p, String value) {
    return switch (value.trim()) {
      case "true" -> new SearchClause.Missing(p.searchedAs(), true);
      case "false" -> new SearchClause.Missing(p.searchedAs(), false);
      default -> throw FhirException.badRequest("'" + p.name() + ":missing' is true or false, not '"
          + DecimalLimits.abbreviate(value) + "'");
    };
  }
}
