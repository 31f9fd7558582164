package org.fhirbox.fhir;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.SortKey;
import org.fhirbox.model.PagePosition;

/**
 * {@code _sort} (R4 search.html#sort): search parameters separated by commas, each ascending or,
 * after a {@code -}, descending; the first orders the matches, the next orders those that tie, and
 * so on. {@code _id}, {@code _lastUpdated} and every indexed parameter of the searched type may
 * sort: a string by its normal form (case and accents ignored, as it is searched), a token by its
 * code, a reference by the reference as the index keeps it ({@code Patient/123}), a uri as written,
 * a date by its range (start ascending, end descending), a number or quantity by its value. A
 * parameter the type does not have, a modifier or a chain is 400 whatever the handling asked for:
 * unlike an unknown criterion, which a client can see was not applied in the self link, an
 * ignored sort key would return the matches in an order the client did not ask for and cannot tell
 * from the answer.
 */
final class SearchSort {
  /** The most keys one {@code _sort} takes: each is one lookup in the index per match. */
  static final int MAX_KEYS = 8;

  /**
   * A search's order: by {@code keys}, or when there are none by last update ({@code descending}:
   * newest first). Either pages by position ({@code _after}): the next link names its page's last
   * entry and, with keys, that entry's value of each.
   */
  record Order(List<SortKey> keys, boolean descending) {
    /** Without {@code _sort}: newest first (R4 leaves the order to the server). */
    static final Order DEFAULT = new Order(List.of(), true);

    /**
     * 400 unless {@code after} is a position in this order: one value per key, each of the key's
     * kind (a string, a date's or last update's millisecond, a number) or none where a resource
     * may have none. Any other value cannot have come from a next link of this search.
     */
    void checkPosition(PagePosition after) {
      if (after == null) {
        return;
      }
      if (after.sortValues().size() != keys.size()) {
        throw FhirException.badRequest("_after is a position in another order than this search's _sort: page it"
            + " with the next links it gives");
      }
      for (int i = 0; i < keys.size(); i++) {
        Object v = after.sortValues().get(i);
        boolean fits = switch (keys.get(i).column()) {
          case ID -> v instanceof String;
          case LAST_UPDATED -> v instanceof Long;
          case CODE -> v == null || v instanceof String;
          case DATE -> v == null || v instanceof Long;
          case NUMBER -> v == null || v instanceof BigDecimal;
        };
        if (!fits) {
          throw FhirException.badRequest("_after holds no value of the kind _sort key " + (i + 1) + " sorts by:"
              + " page with the next links this search gives");
        }
      }
    }
  }

  private SearchSort() {}

  /** The order {@code value}, a {@code _sort} of a search of {@code type}, asks for; 400 when a key is not sortable. */
  static Order parse(SearchIndexer indexer, String type, String value) {
    String[] names = value.split(",", -1);
    if (names.length > MAX_KEYS) {
      throw FhirException.badRequest("_sort takes at most " + MAX_KEYS + " parameters, got " + names.length);
    }
    List<SortKey> keys = new ArrayList<>();
    for (String given : names) {
      String name = given.trim();
      boolean descending = name.startsWith("-");
      String param = descending ? name.substring(1) : name;
      if (param.isEmpty()) {
        throw FhirException.badRequest("_sort '" + DecimalLimits.abbreviate(value)
            + "' has an empty parameter among its comma-separated parameters");
      }
      keys.add(key(indexer, type, param, descending));
    }
    if (keys.size() == 1 && keys.get(0).column() == SortKey.Column.LAST_UPDATED) {
      // the order the resource rows are paged through by position, as without _sort
      return new Order(List.of(), keys.get(0).descending());
    }
    return new Order(List.copyOf(keys), true);
  }

  private static SortKey key(SearchIndexer indexer, String type, String param, boolean descending) {
    if (param.equals("_id")) {
      return new SortKey(SortKey.Column.ID, List.of(), descending);
    }
    if (param.equals("_lastUpdated")) {
      return new SortKey(SortKey.Column.LAST_UPDATED, List.of(), descending);
    }
    SearchIndexer.Param p = indexer.params(type).get(param);
    SortKey.Column column = p == null ? null : switch (p.kind()) {
      case STRING, TOKEN, REFERENCE, URI -> SortKey.Column.CODE;
      case DATE -> SortKey.Column.DATE;
      case NUMBER, QUANTITY -> SortKey.Column.NUMBER;
      default -> null;
    };
    if (column == null) {
      throw FhirException.badRequest("_sort: '" + DecimalLimits.abbreviate(param) + "' is no search parameter of "
          + type + " that a search can sort by (its own parameters, _id or _lastUpdated, without modifier or chain)");
    }
    return new SortKey(column, p.searchedAs(), descending);
  }
}
