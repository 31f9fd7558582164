package org.fhirbox.fhir;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.db.IndexedValue;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.db.SearchClause;
import org.fhirbox.db.SearchQuery;
import org.fhirbox.model.StoredResource;

/** Finds what {@code _include} and {@code _revinclude} add to a page of search matches. */
public final class SearchIncludes {
  /**
   * The most rounds of includes one page gets: the first, from the matches, and three more of the
   * iterated ones, each from what the round before added. R4 search.html#revinclude lets a server
   * limit iteration; a chain of references (an Organization's {@code partOf}, ...) may be as long
   * as its writers made it, and every round is more lookups while the search holds a connection.
   */
  public static final int MAX_ROUNDS = 4;
  private final int maxCount;
  private final PatientCompartment compartment;

  /** @param maxCount at most this many resources per include parameter */
  public SearchIncludes(int maxCount, PatientCompartment compartment) {
    this.maxCount = maxCount;
    this.compartment = compartment;
  }

  /**
   * The resources {@code _include} and {@code _revinclude} add to one page (R4 search.html#include):
   * at most {@code maxCount} per parameter, none twice nor already a match. An {@code _include}
   * reads the resources the matches name, so it needs read access to their type; a
   * {@code _revinclude} searches its source type by the reference parameter, so it needs search
   * access to that type, as the same search ({@code Provenance?target=...}) or a {@code _has} would.
   * Where that access to a type is limited to a patient ({@code patient/} scopes), only resources in
   * that patient's compartment: the compartment is a criterion of the lookup, so the bound counts
   * only what the caller may see. Binaries are never included: their content has its own access
   * rules ({@code securityContext}) and is reached through the Attachments that name them.
   *
   * <p>Every include applies to the matches; an iterated one ({@code _include:iterate}, R4
   * search.html#revinclude) then applies, round after round, to what the last round added, until a
   * round adds nothing new or {@link #MAX_ROUNDS} rounds have run. Its {@code maxCount} counts what
   * it adds in all rounds together; each lookup starts from at most {@code maxCount} resources, as
   * one from a page of matches does.
   */
  public List<StoredResource> resolve(ResourceStore.Tx tx, Principal principal, List<SearchInclude> includes,
      List<StoredResource> page) {
    if (includes.isEmpty() || page.isEmpty()) {
      return List.of();
    }
    Set<String> seen = new HashSet<>();
    page.forEach(s -> seen.add(s.type() + "/" + s.id()));
    Map<SearchInclude, Integer> budget = new HashMap<>();
    includes.forEach(inc -> budget.put(inc, maxCount));
    List<StoredResource> out = new ArrayList<>();
    List<StoredResource> from = page;
    for (int round = 0; round < MAX_ROUNDS && !from.isEmpty(); round++) {
      List<StoredResource> added = new ArrayList<>();
      for (SearchInclude inc : includes) {
        if ((round > 0 && !inc.iterate()) || budget.get(inc) <= 0) {
          continue;
        }
        // what this include can start from, at most maxCount per lookup, as a page of matches is
        List<StoredResource> sources = from.stream().filter(s -> inc.reverse()
            ? inc.targetType() == null || inc.targetType().equals(s.type()) : inc.sourceType().equals(s.type()))
            .toList();
        int left = budget.get(inc);
        for (int i = 0; i < sources.size() && left > 0; i += maxCount) {
          List<StoredResource> part = sources.subList(i, Math.min(sources.size(), i + maxCount));
          for (StoredResource s : inc.reverse() ? referencing(tx, principal, inc, part)
              : referenced(tx, principal, inc, part)) {
            if (left > 0 && !s.type().equals("Binary") && seen.add(s.type() + "/" + s.id())) {
              added.add(s);
              left--;
            }
          }
        }
        budget.put(inc, left);
      }
      out.addAll(added);
      from = added;
    }
    return out;
  }

  /** {@code _revinclude}: the source resources whose parameter names one of the matches. */
  private List<StoredResource> referencing(ResourceStore.Tx tx, Principal principal, SearchInclude inc,
      List<StoredResource> page) {
    if (!principal.access().allows(inc.sourceType(), Interaction.SEARCH)) {
      return List.of();
    }
    // page: resources of the include's target type already (resolve)
    List<SearchClause.TokenValue> targets = new ArrayList<>(page.stream()
        .map(s -> new SearchClause.TokenValue(null, s.type() + "/" + s.id())).toList());
    if (!inc.canonicalTargets().isEmpty()) {
      // a canonical names a match by its url, and by url|version when its version is that one
      Map<String, List<String>> idsByType = new TreeMap<>();
      page.forEach(s -> idsByType.computeIfAbsent(s.type(), t -> new ArrayList<>()).add(s.id()));
      idsByType.forEach((type, ids) -> {
        if (inc.canonicalTargets().contains(type)) {
          targets.addAll(CanonicalLinks.naming(tx, principal.project(), type, ids));
        }
      });
    }
    if (targets.isEmpty()) {
      return List.of();
    }
    return tx.search(query(principal, inc.sourceType(), List.of(new SearchClause.Token(inc.param(), targets)),
        Interaction.SEARCH)).items();
  }

  /** {@code _include}: the resources the matches name in the parameter, read by type. */
  private List<StoredResource> referenced(ResourceStore.Tx tx, Principal principal, SearchInclude inc,
      List<StoredResource> page) {
    // page: resources of the include's source type already (resolve), never none
    List<String> matchIds = page.stream().map(StoredResource::id).toList();
    if (!inc.canonicalTargets().isEmpty()) {
      return canonicallyReferenced(tx, principal, inc, matchIds);
    }
    // an include brings at most maxCount resources, so more names than that are never needed
    List<String> refs = tx.indexedValues(principal.project(), inc.sourceType(), matchIds, inc.param(),
        inc.targetType() == null ? null : inc.targetType() + "/", maxCount);
    return read(tx, principal, inc, refs);
  }

  /**
   * {@code _include} through canonical references: the resources of the include's types whose
   * {@code url} (and {@code version}, when the canonical names one) they name, each lookup held to
   * the caller's read access and compartment, at most {@code maxCount} in all; on a parameter that
   * also covers Reference elements, the resources its literal references name as well.
   */
  private List<StoredResource> canonicallyReferenced(ResourceStore.Tx tx, Principal principal,
      SearchInclude inc, List<String> matchIds) {
    List<IndexedValue> values = tx.indexedRows(principal.project(), inc.sourceType(), matchIds, inc.param(), maxCount);
    List<StoredResource> found = new ArrayList<>(read(tx, principal, inc, values.stream()
        .filter(v -> v.system() == null).map(IndexedValue::code).toList()));
    List<List<SearchClause>> lookups = CanonicalLinks.lookups(CanonicalLinks.canonicals(values));
    for (String type : inc.canonicalTargets()) {
      if (type.equals("Binary") || !principal.access().allows(type, Interaction.READ)) {
        continue;
      }
      for (int i = 0; i < lookups.size() && found.size() < maxCount; i++) {
        found.addAll(tx.search(query(principal, type, lookups.get(i), Interaction.READ)).items());
      }
    }
    return found.size() <= maxCount ? found : List.copyOf(found.subList(0, maxCount));
  }

  /** The local resources {@code refs} (indexed references) name, of the include's target type and readable. */
  private List<StoredResource> read(ResourceStore.Tx tx, Principal principal, SearchInclude inc,
      List<String> refs) {
    Map<String, List<String>> idsByType = new TreeMap<>();
    for (String ref : refs) {
      // only a reference to a resource here is followed: another server's URL, indexed whole, names
      // nothing this server holds, whatever its type and id (R4 references.html#literal)
      int slash = References.isLocal(ref) ? ref.indexOf('/') : -1;
      String type = slash < 0 ? null : ref.substring(0, slash);
      if (type != null && !type.equals("Binary") && (inc.targetType() == null || inc.targetType().equals(type))
          && principal.access().allows(type, Interaction.READ)) {
        idsByType.computeIfAbsent(type, t -> new ArrayList<>()).add(ref.substring(slash + 1));
      }
    }
    List<StoredResource> found = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : idsByType.entrySet()) {
      List<String> ids = e.getValue().subList(0, Math.min(e.getValue().size(), maxCount));
      found.addAll(tx.search(query(principal, e.getKey(), List.of(new SearchClause.Ids(ids)), Interaction.READ))
          .items());
    }
    return found;
  }

  /**
   * The lookup of {@code type} by {@code criteria}, held to the caller's compartment where its
   * {@code interaction} on the type is.
   */
  private SearchQuery query(Principal principal, String type, List<SearchClause> criteria, Interaction interaction) {
    List<SearchClause> clauses = new ArrayList<>(criteria);
    clauses.addAll(compartment.criteria(principal, type, interaction));
    return new SearchQuery(principal.project(), type, List.copyOf(clauses), true, maxCount, 0);
  }
}
