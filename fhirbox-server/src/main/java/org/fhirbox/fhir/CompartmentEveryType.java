package org.fhirbox.fhir;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.Page;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.db.SearchQuery;
import org.fhirbox.fhir.ResourceService.Deferred;
import org.fhirbox.fhir.ResourceService.SearchPage;
import org.fhirbox.fhir.SearchParser.Total;
import org.fhirbox.model.PagePosition;
import org.fhirbox.model.StoredResource;

/**
 * {@code GET [compartment]/[id]/*} (FHIR R4 http.html#search): the resources of every type in the
 * compartment that the caller may search, with the parameters every type has ({@code _id},
 * {@code _lastUpdated}, {@code _tag}, {@code _security}, {@code _profile}, {@code _source}) and
 * {@code _type} to name some of the types. It is one type-level search per type, in one snapshot,
 * listed type by type (types in alphabetical order, each newest first): a page that ends inside a
 * type resumes after its last entry ({@code _after} names the entry's type), one that ends with a
 * type goes on with the next. Binary is in no compartment. Other parameters (a type's own, chains,
 * {@code _include}, {@code _sort}) are 400: they mean something for some types only, and ignoring
 * them would answer with more than was asked.
 */
final class CompartmentEveryType {
  /** The parameters a search of every type takes, by name without modifier. */
  static final Set<String> ACCEPTED = Set.of("_id", "_lastUpdated", "_tag", "_security", "_profile", "_source",
      "_count", "_offset", "_after", "_summary", "_total", "_elements", "_format", "_pretty", "_type");

  private final ResourceStore store;
  private final SearchParser parser;
  private final PatientCompartment compartment;
  private final FhirCodec codec;

  CompartmentEveryType(ResourceStore store, SearchParser parser, PatientCompartment compartment, FhirCodec codec) {
    this.store = store;
    this.parser = parser;
    this.compartment = compartment;
    this.codec = codec;
  }

  SearchPage search(Principal principal, String compartmentType, String compartmentId,
      Deferred<Map<String, List<String>>> deferred) throws IOException {
    CompartmentDefinitions definitions = compartment.definitions();
    List<String> searchable = new ArrayList<>();
    for (String t : new TreeSet<>(codec.context().getResourceTypes())) {
      if (!t.equals("Binary") && definitions.isMember(compartmentType, t)
          && principal.access().allows(t, Interaction.SEARCH)
          && compartment.mayReach(principal, t, Interaction.SEARCH)) {
        searchable.add(t);
      }
    }
    if (searchable.isEmpty()) {
      throw FhirException.insufficientScope("the access token permits search on no type in the " + compartmentType
          + " compartment");
    }
    // an empty parameter is ignored here too (R4 search.html#errors), a type's own included
    Map<String, List<String>> params = new LinkedHashMap<>(SearchParser.withoutEmptyValues(deferred.read()));
    List<String> types = types(principal, compartmentType, searchable, params.remove("_type"));
    for (String name : params.keySet()) {
      int colon = name.indexOf(':');
      if (!ACCEPTED.contains(colon < 0 ? name : name.substring(0, colon))) {
        throw FhirException.badRequest("a search of every type in a compartment (" + compartmentType + "/"
            + compartmentId + "/*) takes only " + new TreeSet<>(ACCEPTED) + ", not '" + name + "'; search one type"
            + " for its own parameters, as " + compartmentType + "/" + compartmentId + "/Observation?" + name + "=");
      }
    }
    List<SearchParser.Parsed> parsed = new ArrayList<>();
    for (String t : types) {
      parsed.add(parser.parse(principal.project(), t, params, true, x -> false));
    }
    SearchParser.Parsed first = parsed.get(0);
    SearchQuery shape = first.query();
    PagePosition after = shape.after();
    if (after != null && !types.contains(after.type())) {
      throw FhirException.badRequest("_after names a " + after.type() + ", which this search does not list");
    }
    Map<String, List<String>> applied = new LinkedHashMap<>();
    List<String> typeParam = types.size() == searchable.size() ? null : List.of(String.join(",", types));
    if (typeParam != null) {
      applied.put("_type", typeParam);
    }
    applied.putAll(first.applied());
    return store.readSnapshot(tx -> {
      List<SearchQuery> queries = new ArrayList<>();
      for (int i = 0; i < types.size(); i++) {
        SearchQuery q = parsed.get(i).query();
        queries.add(compartment.confine(principal, q.and(List.of(definitions.criterion(compartmentType,
            compartmentId, types.get(i))))));
      }
      if (first.summaryCount() || shape.count() <= 0) {
        OptionalLong total = first.total() == Total.NONE ? OptionalLong.empty() : OptionalLong.of(count(tx, queries));
        return new SearchPage(applied, total, shape.count(), shape.offset(), false, first.summaryCount(), List.of(),
            false, List.of(), after, null);
      }
      List<StoredResource> items = new ArrayList<>();
      boolean more = page(tx, queries, types, after, shape, items);
      return new SearchPage(applied, total(tx, queries, shape, items, more, first.total()), shape.count(),
          shape.offset(), true, false, items, more, List.of(), after,
          new Page(items, more).next());
    });
  }

  /** The types {@code _type} names (400 for one outside the compartment, 403 for one not searchable), else all. */
  private static List<String> types(Principal principal, String compartmentType, List<String> searchable,
      List<String> typeParam) {
    if (typeParam == null) {
      return searchable;
    }
    Set<String> named = new TreeSet<>();
    for (String value : typeParam) {
      for (String t : SearchEscapes.alternatives("_type", value)) {
        String type = t.trim();
        if (type.isEmpty()) {
          continue;
        }
        if (!searchable.contains(type)) {
          principal.require(type, Interaction.SEARCH);
          throw FhirException.badRequest("_type names '" + type + "', which is not a type this search may list in"
              + " the " + compartmentType + " compartment");
        }
        named.add(type);
      }
    }
    if (named.isEmpty()) {
      throw FhirException.badRequest("_type needs one or more resource types, comma-separated");
    }
    return List.copyOf(named);
  }

  /**
   * Fills {@code items} with one page, type by type from the one {@code after} names, skipping
   * {@code shape.offset()} entries where there is no {@code after}; whether more follow.
   */
  private static boolean page(ResourceStore.Tx tx, List<SearchQuery> queries, List<String> types, PagePosition after,
      SearchQuery shape, List<StoredResource> items) {
    int start = after == null ? 0 : types.indexOf(after.type());
    long skip = after == null ? shape.offset() : 0;
    for (int i = start; i < queries.size(); i++) {
      SearchQuery q = queries.get(i);
      int want = shape.count() - items.size();
      if (want == 0) {
        // the page is full: more follow when any later type has a match
        if (!tx.ids(q.page(1, 0, null)).isEmpty()) {
          return true;
        }
        continue;
      }
      if (skip > 0) {
        long here = tx.count(q);
        if (skip >= here) {
          skip -= here;
          continue;
        }
      }
      Page page = tx.search(q.page(want, (int) skip, i == start ? after : null));
      skip = 0;
      items.addAll(page.items());
      if (page.hasMore()) {
        return true;
      }
    }
    return false;
  }

  /** {@code Bundle.total} as {@link Total} asks, as a type-level search gives it. */
  private static OptionalLong total(ResourceStore.Tx tx, List<SearchQuery> queries, SearchQuery shape,
      List<StoredResource> items, boolean more, Total mode) {
    boolean lastPage = !more && (!items.isEmpty() || shape.offset() == 0);
    long shown = (long) shape.offset() + items.size();
    return switch (mode) {
      case NONE -> OptionalLong.empty();
      case DEFAULT -> lastPage ? OptionalLong.of(shown) : OptionalLong.empty();
      case ACCURATE -> lastPage && shape.after() == null ? OptionalLong.of(shown) : OptionalLong.of(count(tx, queries));
      case ESTIMATE -> {
        if (lastPage && shape.after() == null) {
          yield OptionalLong.of(shown);
        }
        long sum = 0;
        for (SearchQuery q : queries) {
          sum += tx.countUpTo(q, (int) (Total.ESTIMATE_CAP + 1 - sum));
          if (sum > Total.ESTIMATE_CAP) {
            yield OptionalLong.empty();
          }
        }
        yield OptionalLong.of(sum);
      }
    };
  }

  private static long count(ResourceStore.Tx tx, List<SearchQuery> queries) {
    long sum = 0;
    for (SearchQuery q : queries) {
      sum += tx.count(q);
    }
    return sum;
  }
}
