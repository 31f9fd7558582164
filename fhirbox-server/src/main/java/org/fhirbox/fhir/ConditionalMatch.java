package org.fhirbox.fhir;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.Page;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.db.SearchQuery;
import org.fhirbox.model.StoredResource;

/**
 * The one resource a conditional interaction's search names: conditional create (FHIR R4
 * http.html#ccreate; an {@code If-None-Exist} header or a Bundle entry's {@code request.ifNoneExist}),
 * conditional update ({@code PUT /Type?criteria}, http.html#cond-update) and conditional delete
 * ({@code DELETE /Type?criteria}, http.html#delete, "conditional delete") and conditional patch
 * ({@code PATCH /Type?criteria}, http.html#patch). Each finds none, one, or
 * more than one, which is 412 here: fhirbox acts on one resource at a time.
 *
 * <p>The search is the caller's own (its scopes, its patient compartment, the Binaries it may read,
 * its project), in the transaction that would write, so a client cannot learn through a conditional
 * interaction what its search would not show it. Its criteria are judged strictly: an unknown
 * parameter would be ignored by a plain search and match everything, so it is a 400 here, and so
 * are criteria that name nothing to match on. A transaction's conditional references
 * ({@code Patient?identifier=...} in a resource, http.html#trules "Conditional References") are
 * resolved the same way, to their one match.
 *
 * <p>A search does not lock what it did not find, so before it a conditional create or update
 * takes a lock named by its project, type and criteria, normalised ({@link #lockName}), held until
 * its transaction ends ({@code ResourceStore.Tx#lockCondition}): two with the same condition,
 * on one node or on several sharing the database, run one after the other, and the second finds
 * what the first created instead of creating another. Conditions written differently that match
 * the same resources (other parameters, another order of a value's parts) take different locks and
 * are not ordered so. A conditional delete or patch takes none: it creates nothing. A search outside a
 * transaction ({@code ResourceStore#read}: a raw Binary's conditional create, searched before its
 * upload) takes none either, and two of those may still both create.
 */
public final class ConditionalMatch {
  /** The interaction a condition belongs to, for its diagnostics. */
  public enum Kind {
    CREATE("conditional create", "http.html#ccreate"),
    UPDATE("conditional update", "http.html#cond-update"),
    DELETE("conditional delete", "http.html#delete"),
    PATCH("conditional patch", "http.html#patch"),
    REFERENCE("conditional reference", "http.html#trules");

    private final String label;
    private final String spec;

    Kind(String label, String spec) {
      this.label = label;
      this.spec = spec;
    }
  }

  /** Parameters one condition may have: enough for any real one, few enough to keep its SQL small. */
  static final int MAX_PARAMETERS = 100;
  /** Rows one read of the matches takes at most, when Binaries the caller may not read are left out. */
  private static final int MAX_READ = 100;
  private final SearchParser parser;
  private final SearchChains chains;
  private final PatientCompartment compartment;
  private final BinaryAccess access;

  public ConditionalMatch(SearchParser parser, SearchChains chains, PatientCompartment compartment,
      BinaryAccess access) {
    this.parser = parser;
    this.chains = chains;
    this.compartment = compartment;
    this.access = access;
  }

  /**
   * The one resource of {@code type} the condition of a conditional create matches, or empty when
   * none does; 412 when more than one does. 403 when the caller may not search {@code type}.
   */
  public Optional<StoredResource> existing(ResourceStore.Tx tx, Principal principal, String type,
      String condition) {
    return existing(tx, principal, type, criteria(type, condition), condition, Kind.CREATE);
  }

  /**
   * The one resource of {@code type} that {@code criteria} match, or empty when none does; 412 when
   * more than one does. 403 when the caller may not search {@code type}.
   *
   * @param shown the condition as the client wrote it, for diagnostics
   */
  public Optional<StoredResource> existing(ResourceStore.Tx tx, Principal principal, String type,
      Map<String, List<String>> criteria, String shown, Kind kind) {
    principal.require(type, Interaction.SEARCH);
    if (kind == Kind.DELETE && type.equals("Binary")) {
      // deleting a Binary takes its read: refused before the search, as by id
      BinaryAccess.requireDeleteGrant(principal);
    }
    compartment.requireSearchable(principal, type);
    if (criteria.values().stream().mapToInt(List::size).sum() > MAX_PARAMETERS) {
      throw FhirException.badRequest("a " + kind.label + " takes at most " + MAX_PARAMETERS + " search parameters");
    }
    SearchParser.Parsed parsed = parser.parse(principal.project(), type, criteria, true,
        t -> principal.access().allows(t, Interaction.SEARCH) && compartment.mayReach(principal, t, Interaction.SEARCH));
    if (parsed.query().clauses().isEmpty()) {
      throw FhirException.badRequest("the condition '" + QueryLimits.shorten(shown)
          + "' of a " + kind.label + " names no search criteria for " + type + " (an empty parameter is none)");
    }
    requireNoEmptyCriterion(criteria, shown, kind);
    if (kind == Kind.CREATE || kind == Kind.UPDATE) {
      // what the search does not find, it cannot lock: the condition itself is locked instead
      tx.lockCondition(lockName(principal.project(), type, criteria));
    }
    SearchQuery q = parsed.query();
    // two matches are enough to know there is more than one
    SearchQuery two = new SearchQuery(q.project(), q.type(), q.clauses(), true, 2, 0);
    SearchQuery scoped = compartment.confine(principal,
        chains.resolve(tx, two, t -> compartment.criteria(principal, t, Interaction.SEARCH)));
    // Binaries the caller may not read are no match: it reads on past them to a second it may read
    Page page = VisiblePage.read(1, 0, null, MAX_READ, (n, offset, after) -> tx.search(scoped.page(n, offset, after)),
        row -> access.canReadVersion(tx, principal, row));
    List<StoredResource> found = page.items();
    if (page.hasMore()) {
      throw FhirException.preconditionFailed("the condition '" + QueryLimits.shorten(shown)
          + "' matches more than one " + type + "; a " + kind.label + " needs it to match one at most (FHIR R4 "
          + kind.spec + ")");
    }
    return found.stream().findFirst();
  }

  /**
   * 400 when a criterion of the condition is empty ({@code identifier=x&gender=}). A search ignores
   * it (R4 search.html#errors), which here would let the write reach whatever the other criteria
   * alone match, wider than the client asked; an empty {@code _count} or {@code _pretty} changes no
   * match and stays ignored.
   */
  private static void requireNoEmptyCriterion(Map<String, List<String>> criteria, String shown, Kind kind) {
    for (Map.Entry<String, List<String>> e : criteria.entrySet()) {
      if (e.getValue().contains("") && !SearchParser.shapesTheAnswer(e.getKey())) {
        throw FhirException.badRequest("the condition '" + QueryLimits.shorten(shown) + "' of a " + kind.label
            + " gives search parameter '" + QueryLimits.shorten(e.getKey()) + "' an empty value: a search would"
            + " ignore it and match on the other criteria alone; give it a value or leave it out");
      }
    }
  }

  /**
   * The name of a condition's lock: its project, type and criteria, parameters sorted by name and
   * each one's values sorted (they are ANDed), as parsed from the query string (decoded), each part
   * prefixed with its length so that no two conditions share a name.
   */
  static String lockName(String project, String type, Map<String, List<String>> criteria) {
    StringBuilder name = new StringBuilder();
    part(name, project);
    part(name, type);
    criteria.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
      part(name, e.getKey());
      name.append(e.getValue().size()).append('#');
      e.getValue().stream().sorted().forEach(v -> part(name, v));
    });
    return name.toString();
  }

  private static void part(StringBuilder name, String s) {
    name.append(s.length()).append(':').append(s);
  }

  /**
   * What a conditional reference of a transaction ({@code Patient?identifier=urn:mrn|4711}) names:
   * {@code Type/id} of its one match. FHIR R4 http.html#trules: with no match or several "the
   * transaction fails"; both are 412 here, as a condition that matches several is elsewhere. It
   * takes no condition lock, as it creates nothing; a transaction's own creates are not found, as
   * they are not yet written when its searches run.
   */
  String reference(ResourceStore.Tx tx, Principal principal, String reference) {
    String type = reference.substring(0, reference.indexOf('?'));
    Optional<StoredResource> match = existing(tx, principal, type, criteria(type, reference), reference,
        Kind.REFERENCE);
    if (match.isEmpty()) {
      throw FhirException.preconditionFailed("the conditional reference '" + QueryLimits.shorten(reference)
          + "' matches no " + type + "; a transaction needs it to match one (FHIR R4 http.html#trules)");
    }
    return type + "/" + match.get().id();
  }

  /**
   * The search parameters of a condition: a query string ({@code identifier=s%7Cv}), optionally
   * after {@code ?}, {@code Type?} or {@code [base]/Type?}, as clients send it.
   */
  static Map<String, List<String>> criteria(String type, String condition) {
    String query = condition.trim();
    int q = query.indexOf('?');
    if (q >= 0) {
      String path = query.substring(0, q);
      if (!path.isEmpty() && !path.equals(type) && !path.endsWith("/" + type)) {
        throw FhirException.badRequest("the condition '" + QueryLimits.shorten(condition)
            + "' of a conditional create of a " + type + " searches another type");
      }
      query = query.substring(q + 1);
    }
    return QueryString.parse(query);
  }
}
