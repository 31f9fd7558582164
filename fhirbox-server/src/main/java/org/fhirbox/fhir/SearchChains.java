package org.fhirbox.fhir;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.IndexedValue;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.db.SearchClause;
import org.fhirbox.db.SearchQuery;

/**
 * Turns chained parameters and {@code _has} into plain criteria before a search, one bounded
 * lookup per level: the resources a chain's criterion matches become the references to match
 * ({@code subject:Patient.name=x} is {@code subject=Patient/1,Patient/7}), and the resources a
 * {@code _has} criterion matches give the ids they name. Each lookup is an index search on either
 * database; the same criteria as nested subqueries cost H2 time that grew with the product of
 * both types' sizes (4 s for 2,000 Observations and 2,000 Patients).
 *
 * <p>A lookup that matches more than {@code maxCount} resources is refused with 400, so the cost
 * of a chain stays bounded; the caller narrows the criterion. So is a {@code _has} whose sources
 * name more than {@code maxCount} resources of the searched type. Each chain or {@code _has}
 * stays within that bound, but many of them together could still bind more values than one
 * statement may have (PostgreSQL's driver: 65,535 parameters, and it reports more as a broken
 * connection, which would look like an outage): a search that binds more than
 * {@code maxValues} values in all is refused with 400 too. Identical criteria count once.
 *
 * <p>Through a parameter on {@code canonical} elements ({@code QuestionnaireResponse.questionnaire})
 * a chain matches the canonicals naming the found resources' {@code url} (and {@code url|version}),
 * and a {@code _has} looks the named resources up by {@code url} and {@code version}
 * ({@link CanonicalLinks}).
 */
public final class SearchChains {
  /** The most values one search may bind, well under PostgreSQL's 65,535 parameters of a statement. */
  public static final int MAX_VALUES = 30_000;
  private final int maxCount;
  private final int maxValues;

  public SearchChains(int maxCount) {
    this(maxCount, MAX_VALUES);
  }

  /** @param maxValues the most values one search may bind, at most {@link #MAX_VALUES} */
  public SearchChains(int maxCount, int maxValues) {
    if (maxValues < 1 || maxValues > MAX_VALUES) {
      throw new IllegalArgumentException("the most values a search binds must be 1 to " + MAX_VALUES);
    }
    this.maxCount = maxCount;
    this.maxValues = maxValues;
  }

  /** {@code query} without {@link SearchClause.Chain} or {@link SearchClause.Has}. */
  public SearchQuery resolve(ResourceStore.Tx tx, SearchQuery query) {
    return resolve(tx, query, type -> List.of());
  }

  /**
   * {@code query} without {@link SearchClause.Chain} or {@link SearchClause.Has}, each level's
   * lookup of a type also held to {@code limits} of that type (the caller's patient compartment):
   * a chain or {@code _has} then only matches through resources the caller may see, and tells
   * nothing about any other.
   */
  public SearchQuery resolve(ResourceStore.Tx tx, SearchQuery query, Function<String, List<SearchClause>> limits) {
    // a criterion repeated as it is (ANDed with itself) asks nothing more
    Set<SearchClause> distinct = new LinkedHashSet<>(query.clauses());
    if (distinct.stream().noneMatch(SearchChains::namesOthers)) {
      return requireBindable(distinct.size() == query.clauses().size() ? query : with(query, distinct));
    }
    Set<SearchClause> plain = new LinkedHashSet<>();
    for (SearchClause c : distinct) {
      plain.add(resolve(tx, query.project(), query.type(), c, limits));
    }
    return requireBindable(with(query, plain));
  }

  private static SearchQuery with(SearchQuery query, Set<SearchClause> clauses) {
    return query.withClauses(List.copyOf(clauses));
  }

  /** {@code query}, unless its statement would bind more than {@code maxValues} values: 400. */
  private SearchQuery requireBindable(SearchQuery query) {
    long values = 2; // project and type
    for (SearchClause c : query.clauses()) {
      values += values(c);
    }
    if (values > maxValues) {
      throw FhirException.badRequest("the search's criteria hold " + values + " values in all (its chained and"
          + " _has criteria count the resources they match); at most " + maxValues + " are accepted: narrow them");
    }
    return query;
  }

  /** About the number of values {@code c} binds in the search's statement (db/SearchSql), at least that many. */
  private static long values(SearchClause c) {
    if (c instanceof SearchClause.Ids ids) {
      return ids.ids().size();
    } else if (c instanceof SearchClause.Not not) {
      return values(not.token());
    } else if (c instanceof SearchClause.Token t) {
      return 3 + t.values().stream()
          .mapToLong(v -> v.system() == null || v.system().isEmpty() || v.code().isEmpty() ? 1 : 2).sum();
    } else if (c instanceof SearchClause.Text t) {
      return (long) t.params().size() * (3 + t.values().size());
    } else if (c instanceof SearchClause.Compartment comp) {
      return 4L * comp.params().size() + 1;
    } else if (c instanceof SearchClause.AnyOf any) {
      return 8L * any.alternatives().size();
    }
    return 8;
  }

  private static boolean namesOthers(SearchClause c) {
    return c instanceof SearchClause.Chain || c instanceof SearchClause.Has;
  }

  /** A clause on resources of {@code type}, with any chain or {@code _has} in it looked up. */
  private SearchClause resolve(ResourceStore.Tx tx, String project, String type, SearchClause clause,
      Function<String, List<SearchClause>> limits) {
    if (clause instanceof SearchClause.Chain chain) {
      List<SearchClause.TokenValue> references = new ArrayList<>();
      int found = 0;
      for (Map.Entry<String, SearchClause> e : chain.byTargetType().entrySet()) {
        String target = e.getKey();
        SearchClause where = resolve(tx, project, target, e.getValue(), limits);
        List<String> ids = matching(tx, project, target, List.of(where), limits);
        found += ids.size();
        for (String id : ids) {
          references.add(new SearchClause.TokenValue(null, target + "/" + id));
        }
        if (chain.canonical()) {
          // a canonical names the resource by its url, and by url|version when its version is that one
          references.addAll(CanonicalLinks.naming(tx, project, target, ids));
        }
      }
      if (found > maxCount) {
        throw tooMany(String.join(" or ", chain.byTargetType().keySet()));
      }
      return references.isEmpty()
          ? new SearchClause.Ids(List.of()) // matches nothing
          : new SearchClause.Token(chain.param(), references);
    }
    if (clause instanceof SearchClause.Has has) {
      String source = has.sourceType();
      List<String> sources = matching(tx, project, source, List.of(resolve(tx, project, source, has.where(), limits)),
          limits);
      if (has.canonical()) {
        return new SearchClause.Ids(canonicallyNamed(tx, project, type, source, sources, has.param(), limits));
      }
      String prefix = type + "/";
      // one more than the cap tells that it is exceeded without reading every name
      List<String> named = tx.indexedValues(project, source, sources, has.param(), prefix, maxCount + 1).stream()
          .filter(r -> r.startsWith(prefix)).map(r -> r.substring(prefix.length())).distinct().toList();
      // Few sources may name many resources (a Group's members); each named id is one bind
      // parameter of the search, and PostgreSQL's driver refuses a statement with more than 65,535.
      if (named.size() > maxCount) {
        throw namesTooMany(source, type);
      }
      return new SearchClause.Ids(named); // none: matches nothing
    }
    return clause;
  }

  /**
   * The ids of the resources of {@code type} that the {@code sources} name in the parameter
   * {@code param}, which holds canonical references (and, on a parameter that also covers
   * Reference elements, literal ones): looked up by their {@code url} and {@code version}, each
   * lookup held to {@code limits} as the sources are.
   */
  private List<String> canonicallyNamed(ResourceStore.Tx tx, String project, String type, String source,
      List<String> sources, String param, Function<String, List<SearchClause>> limits) {
    List<IndexedValue> values = tx.indexedRows(project, source, sources, param, maxCount + 1);
    if (values.size() > maxCount) {
      throw namesTooMany(source, type);
    }
    Set<String> named = new LinkedHashSet<>();
    String prefix = type + "/";
    for (IndexedValue v : values) {
      if (v.system() == null && References.isLocal(v.code()) && v.code().startsWith(prefix)) {
        named.add(v.code().substring(prefix.length()));
      }
    }
    for (List<SearchClause> lookup : CanonicalLinks.lookups(CanonicalLinks.canonicals(values))) {
      named.addAll(matching(tx, project, type, lookup, limits));
    }
    if (named.size() > maxCount) {
      throw namesTooMany(source, type);
    }
    return List.copyOf(named);
  }

  private FhirException namesTooMany(String source, String type) {
    return FhirException.badRequest("a _has criterion's " + source + " resources name more than " + maxCount
        + " " + type + " resources; narrow it");
  }

  private List<String> matching(ResourceStore.Tx tx, String project, String type, List<SearchClause> where,
      Function<String, List<SearchClause>> limits) {
    List<SearchClause> clauses = new ArrayList<>(where);
    clauses.addAll(limits.apply(type));
    List<String> ids = tx.ids(new SearchQuery(project, type, List.copyOf(clauses), true, maxCount + 1, 0));
    if (ids.size() > maxCount) {
      throw tooMany(type);
    }
    return ids;
  }

  private FhirException tooMany(String types) {
    return FhirException.badRequest("a chained or _has criterion matches more than " + maxCount + " " + types
        + " resources; narrow it");
  }
}
