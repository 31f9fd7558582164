package org.fhirbox.fhir;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.db.SearchQuery;
import org.fhirbox.model.StoredResource;

/**
 * Conditional create (FHIR R4 http.html#ccreate): the search an {@code If-None-Exist} header, or
 * a Bundle entry's {@code request.ifNoneExist}, names. No match: the create goes ahead; one match:
 * nothing is written and the existing resource is the answer (200); more than one: 412.
 *
 * <p>The search is the caller's own (its scopes, its patient compartment, the Binaries it may read,
 * its project), in the transaction that would write, so a client cannot learn through a conditional
 * create what its search would not show it. Its criteria are judged strictly: an unknown parameter
 * would be ignored by a plain search and match everything, so it is a 400 here, and so are criteria
 * that name nothing to match on. Two conditional creates that run at the same moment may both find
 * nothing and both create (as on HAPI FHIR without a unique index on the criteria): the search does
 * not lock what it did not find.
 */
public final class ConditionalCreate {
  /** Parameters one condition may have: enough for any real one, few enough to keep its SQL small. */
  static final int MAX_PARAMETERS = 100;
  private final SearchParser parser;
  private final SearchChains chains;
  private final PatientCompartment compartment;
  private final BinaryAccess access;

  public ConditionalCreate(SearchParser parser, SearchChains chains, PatientCompartment compartment,
      BinaryAccess access) {
    this.parser = parser;
    this.chains = chains;
    this.compartment = compartment;
    this.access = access;
  }

  /**
   * The one resource of {@code type} the condition matches, or empty when none does; 412 when
   * more than one does. 403 when the caller may not search {@code type}.
   */
  public Optional<StoredResource> existing(ResourceStore.Tx tx, Principal principal, String type,
      String condition) {
    principal.require(type, Interaction.SEARCH);
    compartment.requireSearchable(principal, type);
    SearchParser.Parsed parsed = parser.parse(principal.project(), type, criteria(type, condition), true,
        t -> principal.access().allows(t, Interaction.SEARCH) && compartment.mayReach(principal, t, Interaction.SEARCH));
    if (parsed.query().clauses().isEmpty()) {
      throw FhirException.badRequest("the condition '" + QueryLimits.shorten(condition)
          + "' of a conditional create names no search criteria for " + type);
    }
    SearchQuery q = parsed.query();
    // two matches are enough to know there is more than one
    SearchQuery two = new SearchQuery(q.project(), q.type(), q.clauses(), true, 2, 0);
    SearchQuery scoped = compartment.confine(principal,
        chains.resolve(tx, two, t -> compartment.criteria(principal, t, Interaction.SEARCH)));
    List<StoredResource> found = access.readable(tx, principal, tx.search(scoped).items());
    if (found.size() > 1) {
      throw FhirException.preconditionFailed("the condition '" + QueryLimits.shorten(condition)
          + "' matches more than one " + type + "; a conditional create needs it to match one at most (FHIR R4 http.html#ccreate)");
    }
    return found.stream().findFirst();
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
    Map<String, List<String>> out = QueryString.parse(query);
    if (out.values().stream().mapToInt(List::size).sum() > MAX_PARAMETERS) {
      throw FhirException.badRequest("a conditional create takes at most " + MAX_PARAMETERS + " search parameters");
    }
    return out;
  }
}
