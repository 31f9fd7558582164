package org.fhirbox.db;

import java.util.ArrayList;
import java.util.List;
import org.fhirbox.model.PagePosition;

/**
 * A type-level search, already validated. Clauses are AND-ed; a clause's values are OR-ed.
 * Without {@code sort}, {@code descending} orders by last update, newest first; with {@code sort}
 * the keys order the matches in turn, ties newest first and then by id. A page starts after
 * {@code after} (where the previous page ended, with its values of the sort keys; null: at
 * {@code offset}).
 */
public record SearchQuery(String project, String type, List<SearchClause> clauses, boolean descending,
    int count, int offset, PagePosition after, List<SortKey> sort) {

  public SearchQuery {
    sort = List.copyOf(sort);
    if (after != null && after.sortValues().size() != sort.size()) {
      throw new IllegalArgumentException("a position holds one value per sort key");
    }
  }

  public SearchQuery(String project, String type, List<SearchClause> clauses, boolean descending, int count,
      int offset, PagePosition after) {
    this(project, type, clauses, descending, count, offset, after, List.of());
  }

  public SearchQuery(String project, String type, List<SearchClause> clauses, boolean descending, int count,
      int offset) {
    this(project, type, clauses, descending, count, offset, null);
  }

  /** This search with {@code more} AND-ed to its clauses. */
  public SearchQuery and(List<SearchClause> more) {
    List<SearchClause> all = new ArrayList<>(clauses);
    all.addAll(more);
    return withClauses(all);
  }

  /** This search with {@code clauses} in place of its own. */
  public SearchQuery withClauses(List<SearchClause> clauses) {
    return new SearchQuery(project, type, List.copyOf(clauses), descending, count, offset, after, sort);
  }

  /** This search's page of {@code count} from {@code offset}, or from after {@code after} when it is not null. */
  public SearchQuery page(int count, int offset, PagePosition after) {
    return new SearchQuery(project, type, clauses, descending, count, offset, after, sort);
  }
}
