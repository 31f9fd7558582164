package org.fhirbox.db;

import java.util.ArrayList;
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

  /** This search with {@code more} AND-ed to its clauses. */
  public SearchQuery and(List<SearchClause> more) {
    List<SearchClause> all = new ArrayList<>(clauses);
    all.addAll(more);
    return new SearchQuery(project, type, List.copyOf(all), descending, count, offset, after);
  }

  /** This search's page of {@code count} from {@code offset}, or from after {@code after} when it is not null. */
  public SearchQuery page(int count, int offset, PagePosition after) {
    return new SearchQuery(project, type, clauses, descending, count, offset, after);
  }
}
