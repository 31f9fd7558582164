package org.fhirbox.db;

import java.util.List;
import org.fhirbox.model.PagePosition;

/**
 * A type-level search, already validated. Clauses are AND-ed; a clause's values are OR-ed.
 * {@code descending} orders by last update, newest first. A page starts after {@code after}
 * (where the previous page ended; null: at {@code offset}).
 */
public record SearchQuery(String project, String type, List<SearchClause> clauses, boolean descending,
    int count, int offset, PagePosition after) {

  public SearchQuery(String project, String type, List<SearchClause> clauses, boolean descending, int count,
      int offset) {
    this(project, type, clauses, descending, count, offset, null);
  }
}
