package org.fhirbox.db;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

/**
 * One search criterion translated for the store. The set is closed; each case knows which table
 * columns it constrains. Indexed parameters (any standard SearchParameter) become {@link Token},
 * {@link Text}, {@link DateRange} or {@link NumberRange} over the {@code search_value} table, and
 * {@link Missing} asks whether that table holds any value of one for the resource;
 * {@link Chain} nests a clause on the resources a reference parameter names, {@link Has} one on
 * the resources that name it; {@link Compartment} keeps a search inside one compartment.
 */
public sealed interface SearchClause {
  /** {@code _id=a,b}. */
  record Ids(List<String> ids) implements SearchClause {}

  /** {@code _lastUpdated} with a comparator: all bounds are epoch millis, inclusive. */
  record LastUpdated(Long lowInclusive, Long highInclusive) implements SearchClause {}

  /** An indexed token or reference parameter; {@code system} null matches any system. */
  record Token(String param, List<TokenValue> values) implements SearchClause {}

  /**
   * {@code param:not=a,b} on a token parameter (R4 search.html#token): the resource has no value of
   * {@code token} that any of its values matches, which a resource with no value at all has not.
   */
  record Not(Token token) implements SearchClause {}

  /**
   * An indexed date parameter. With {@code within} (prefix {@code eq}) the value's [low, high]
   * must lie inside the bounds; otherwise ({@code gt}, {@code ge}, {@code lt}, {@code le}) it must
   * overlap them (FHIR R4 search.html#prefix).
   */
  record DateRange(String param, Long lowInclusive, Long highInclusive, boolean within) implements SearchClause {}

  /**
   * An indexed number or quantity parameter: the stored value lies in the interval from
   * {@code low} to {@code high} (either null for unbounded), or with {@code outside} does not; a
   * non-null {@code system} or {@code code} must equal the stored unit's.
   */
  record NumberRange(String param, BigDecimal low, boolean lowInclusive, BigDecimal high, boolean highInclusive,
      boolean outside, String system, String code) implements SearchClause {}

  /**
   * Any of {@code alternatives}, each a {@link DateRange} or {@link NumberRange}: the values of one
   * date, number or quantity parameter separated by commas (R4 search.html#combining), or a date's
   * {@code ne}, which is below or above the value.
   */
  record AnyOf(List<SearchClause> alternatives) implements SearchClause {
    public AnyOf {
      alternatives = List.copyOf(alternatives);
      if (alternatives.isEmpty() || !alternatives.stream().allMatch(a -> a instanceof DateRange
          || a instanceof NumberRange)) {
        throw new IllegalArgumentException("any-of takes one or more date or number ranges");
      }
    }
  }

  /**
   * An indexed string parameter, stored under any of {@code params}; any of {@code values} matches
   * the stored {@code code}. A uri parameter's {@code :below} is a {@link TextMatch#STARTS_WITH} on
   * the URI as written.
   */
  record Text(List<String> params, List<String> values, TextMatch match) implements SearchClause {}

  /**
   * How a string parameter matches (search.html#string): the normalised value starts with, or
   * contains, the normalised search value; or equals it exactly ({@code :exact}).
   */
  enum TextMatch { STARTS_WITH, CONTAINS, EXACT }

  /**
   * A chained parameter ({@code subject:Patient.name=peter}, R4 search.html#chaining): the reference
   * parameter {@code param} names a current resource that matches, for its type, the clause
   * {@code byTargetType} holds; any of the types matches. With {@code canonical} the parameter
   * holds canonical references, which name a resource by its {@code url} and {@code version}.
   */
  record Chain(String param, Map<String, SearchClause> byTargetType, boolean canonical) implements SearchClause {
    public Chain(String param, Map<String, SearchClause> byTargetType) {
      this(param, byTargetType, false);
    }
  }

  /**
   * {@code _has:Observation:patient:code=1234} (R4 search.html#has): a current resource of type
   * {@code sourceType} names the resource in its reference parameter {@code param} and matches
   * {@code where}. With {@code canonical} the parameter holds canonical references, which name a
   * resource by its {@code url} and {@code version}.
   */
  record Has(String sourceType, String param, SearchClause where, boolean canonical) implements SearchClause {
    public Has(String sourceType, String param, SearchClause where) {
      this(sourceType, param, where, false);
    }
  }

  /**
   * {@code param:missing=true|false} (R4 search.html#modifiers): with {@code missing} the resource
   * has no value indexed under any of {@code params} (a parameter and, for {@code name}, the parts
   * stored under their own names); without it, it has one.
   */
  record Missing(List<String> params, boolean missing) implements SearchClause {
    public Missing {
      params = List.copyOf(params);
      if (params.isEmpty()) {
        throw new IllegalArgumentException("a missing criterion needs at least one parameter");
      }
    }
  }

  /**
   * Membership of a compartment (FHIR R4 compartmentdefinition.html): the resource names
   * {@code reference} ({@code Patient/123}) in any of the reference parameters {@code params}, or
   * it is the resource {@code selfId} (a Patient is in its own compartment; null for other types).
   */
  record Compartment(List<String> params, String reference, String selfId) implements SearchClause {
    public Compartment {
      params = List.copyOf(params);
      if (params.isEmpty()) {
        throw new IllegalArgumentException("a compartment criterion needs at least one parameter");
      }
    }
  }

  /**
   * One OR-ed value of a token clause (R4 search.html#token): {@code system} null matches any
   * system, empty only a value stored without one ({@code |code}); an empty {@code code} with a
   * system matches any code in that system ({@code system|}).
   */
  record TokenValue(String system, String code) {}
}
