package org.fhirbox.db;

import java.util.List;

/**
 * One key of a search's {@code _sort} (R4 search.html#sort): what it orders by, and the direction.
 * {@link Column#CODE}, {@link Column#DATE} and {@link Column#NUMBER} read the {@code search_value}
 * rows stored under any of {@code params}: ascending by the resource's smallest value, descending
 * by its largest (a date's start ascending and its end descending), a resource without one last.
 */
public record SortKey(Column column, List<String> params, boolean descending) {
  /** Where a key's value is: the resource row ({@code _id}, {@code _lastUpdated}) or an index column. */
  public enum Column {
    ID, LAST_UPDATED, CODE, DATE, NUMBER
  }

  public SortKey {
    params = List.copyOf(params);
    if (indexed(column) == params.isEmpty()) {
      throw new IllegalArgumentException("an index column needs parameters, a resource column none");
    }
  }

  /**
   * Whether the key is on a search parameter, whose value is in the index and which a resource may
   * lack; {@code _id} and {@code _lastUpdated} are on the resource row and always have one.
   */
  public boolean indexed() {
    return indexed(column);
  }

  private static boolean indexed(Column column) {
    return column != Column.ID && column != Column.LAST_UPDATED;
  }
}
