package org.fhirbox.fhir;

import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import java.math.BigInteger;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.SearchClause;
import org.fhirbox.model.PagePosition;
import org.fhirbox.db.SearchQuery;
import org.fhirbox.db.SearchValue;

/**
 * Turns search URL parameters into a {@link SearchQuery} (FHIR R4 search.html). Supported:
 * {@code _id}, {@code _lastUpdated} (eq/gt/lt/ge/le/sa/eb/ap with date precision), every indexed
 * token/reference parameter ({@code code}, {@code system|code}, {@code Type/id}, {@code :Type},
 * {@code :identifier}, {@code :not}, {@code :of-type} and {@code :text}, the last two {@link TokenModifiers};
 * {@code _tag} and {@code _security} on every type), string parameter (starts with,
 * {@code :contains}, {@code :exact}), date parameter (eq/ne/gt/ge/lt/le/sa/eb/ap),
 * uri parameter (exact, {@code :below}, {@code :above}: {@link UriSearch}; {@code _profile} and
 * {@code _source} on every type), number and quantity parameter (eq/ne/gt/ge/lt/le/sa/eb/ap, a
 * unit), {@code :missing} on each of them ({@link SearchMissing}); chains of up to three references
 * ({@code subject:Patient.name=x}, {@code patient.organization.name=x}) and reverse chains
 * ({@code _has:Observation:patient:code=x}), which {@link SearchChains} looks up, also through
 * canonical references ({@code questionnaire.title=x}, by the target's url and version); {@code _include}
 * and {@code _revinclude} ({@link SearchInclude}, also {@code :iterate}), {@code _count}, {@code _offset},
 * {@code _sort} ({@link SearchSort}), {@code _summary=count}, {@code _total} (see
 * {@link Total}). Unknown
 * parameters are ignored unless the client sent {@code Prefer: handling=strict}. A parameter
 * with no value ({@code family=}) is ignored, whatever its name or modifier (R4 search.html#errors:
 * "Empty parameters are not an error - they are just ignored by the server"); an empty value among
 * commas ({@code family=a,,b}) is 400 ({@link SearchEscapes#alternatives}).
 */
public final class SearchParser {
  /**
   * The parsed request: the query, whether only a count is wanted, the resources to include
   * beside each page, and the parameters applied.
   */
  public record Parsed(SearchQuery query, boolean summaryCount, Total total, List<SearchInclude> includes,
      Map<String, List<String>> applied) {}

  /**
   * How {@code Bundle.total} is found (FHIR R4 search.html#total: {@code _total=none|estimate|
   * accurate}; a server need not give a total, and counting every match is what makes a broad
   * search slow). {@link #DEFAULT} (no {@code _total}) gives the total only when the page shows it
   * without counting (the last page); {@link #ESTIMATE} counts up to {@link #ESTIMATE_CAP}
   * matches and leaves the total out beyond; {@link #ACCURATE} and {@code _summary=count} count
   * them all; {@link #NONE} never gives one.
   */
  public enum Total {
    NONE, DEFAULT, ESTIMATE, ACCURATE;

    /** The most matches {@link #ESTIMATE} counts. */
    public static final int ESTIMATE_CAP = 1_000;
  }

  private static final Set<String> CONTROL = Set.of("_format", "_pretty", "_elements");
  /**
   * The parameters that shape the answer, not what matches: an empty one may be ignored even where
   * an empty criterion may not ({@link ConditionalMatch}).
   */
  private static final Set<String> SHAPING = Set.of("_format", "_pretty", "_elements", "_summary", "_count",
      "_offset", "_after", "_sort", "_total", "_include", "_revinclude");
  /**
   * Distinct {@code _include} and {@code _revinclude} values one search may ask for. Each is its own
   * lookup of up to the largest page, made while the search holds a database connection, so an
   * unbounded list would let one request hold that connection for as long as it liked; repeats of a
   * value add nothing (R4 search.html#include) and are dropped before they count.
   */
  public static final int MAX_INCLUDES = 16;
  /**
   * The most entries {@code _offset} may skip (400 beyond): a deeper page is reached with the
   * {@code _after} of the next links, which reads from a position rather than counting rows.
   */
  public static final int MAX_OFFSET = 10_000;
  /**
   * The largest {@code _offset} beside {@code _after}, where it skips nothing and only tells how many
   * entries came before the page; bounded so that it and a page's count stay an {@code int}.
   */
  public static final int MAX_OFFSET_AFTER = 1_000_000_000;
  /** References a chained parameter may follow ({@code a.b.c.d} follows three). */
  private static final int MAX_CHAIN = 3;
  private final SearchIndexer indexer;
  private final int defaultCount;
  private final int maxCount;
  private final Clock clock;

  /** A parser whose {@code ap} dates are measured from the system clock's now. */
  public SearchParser(SearchIndexer indexer, int defaultCount, int maxCount) {
    this(indexer, defaultCount, maxCount, Clock.systemUTC());
  }

  /**
   * @param defaultCount the page size without {@code _count}; never more than {@code maxCount}
   * @param clock the now an {@code ap} date's gap is measured from (R4 search.html#prefix)
   */
  public SearchParser(SearchIndexer indexer, int defaultCount, int maxCount, Clock clock) {
    this.indexer = indexer;
    this.defaultCount = Math.min(defaultCount, maxCount);
    this.maxCount = maxCount;
    this.clock = clock;
  }

  /**
   * @param strict {@code Prefer: handling=strict}: an unknown parameter is an error
   * @param mayChainTo whether the caller may search a type; a chain only reaches types it may
   */
  public Parsed parse(String project, String type, Map<String, List<String>> given, boolean strict,
      Predicate<String> mayChainTo) {
    Map<String, List<String>> params = withoutEmptyValues(given);
    List<SearchClause> clauses = new ArrayList<>();
    Map<String, List<String>> applied = new LinkedHashMap<>();
    int count = defaultCount;
    int offset = 0;
    PagePosition after = null;
    SearchSort.Order order = SearchSort.Order.DEFAULT;
    boolean summaryCount = false;
    Total total = Total.DEFAULT;
    Set<SearchInclude> includes = new LinkedHashSet<>();
    for (Map.Entry<String, List<String>> e : params.entrySet()) {
      String name = e.getKey();
      for (String value : e.getValue()) {
        switch (name) {
          case "_id" -> clauses.add(ids(value));
          case "_lastUpdated" -> clauses.add(SearchRanges.lastUpdated(value, clock.millis()));
          case "_include", "_revinclude", "_include:iterate", "_revinclude:iterate", "_include:recurse",
              "_revinclude:recurse" -> {
            if (!includes.add(SearchInclude.parse(indexer, type, name, value))) {
              continue;
            }
            if (includes.size() > MAX_INCLUDES) {
              throw FhirException.badRequest("a search takes at most " + MAX_INCLUDES
                  + " distinct _include and _revinclude values");
            }
          }
          case "_count" -> count = count(value);
          case "_offset" -> offset = number("_offset", value);
          case "_after" -> after = after(value);
          case "_sort" -> order = SearchSort.parse(indexer, type, value);
          case "_total" -> total = switch (value.trim()) {
            case "none" -> Total.NONE;
            case "estimate" -> Total.ESTIMATE;
            case "accurate" -> Total.ACCURATE;
            default -> throw FhirException.badRequest("_total is none, estimate or accurate, not '"
                + DecimalLimits.abbreviate(value) + "'");
          };
          case "_summary" -> {
            // true, text, data and false choose what each resource shows, which the encoder does
            summaryCount = switch (value.trim()) {
              case "count" -> true;
              case "true", "text", "data", "false" -> false;
              default -> throw FhirException.badRequest("_summary is true, text, data, count or false, not '"
                  + DecimalLimits.abbreviate(value) + "'");
            };
          }
          default -> {
            if (CONTROL.contains(name)) {
              continue;
            }
            if (SearchInclude.isInclude(name)) {
              throw unsupportedModifier(name.substring(0, name.indexOf(':')), name.substring(name.indexOf(':') + 1));
            }
            if (name.startsWith("_id:") || name.startsWith("_lastUpdated:")) {
              // R4 search.html#modifiers: a modifier the server does not support is refused, never
              // ignored (ignoring _id:not=X would answer with X among everything else)
              int colon = name.indexOf(':');
              throw unsupportedModifier(name.substring(0, colon), name.substring(colon + 1));
            }
            SearchClause clause = parameter(type, name, value, strict, mayChainTo, 0);
            if (clause == null) {
              continue;
            }
            clauses.add(clause);
          }
        }
        if (name.equals("_sort") || name.equals("_total") || name.equals("_summary")) {
          // one value is used, the last (the encoder's too, Exchange.lastParam): the self link names that one only
          applied.remove(name);
        }
        applied.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
      }
    }
    if (!summaryCount) {
      order.checkPosition(after);
    }
    checkOffset(offset, after != null);
    applied.remove("_count");
    applied.remove("_offset");
    applied.remove("_after");
    applied.remove("_format");
    applied.remove("_pretty");
    if (summaryCount) {
      // a count reads no page: order and includes play no part, and it always counts every match
      List.of("_sort", "_total").forEach(applied::remove);
      applied.keySet().removeIf(SearchInclude::isInclude);
    }
    // a count reads no page, and so starts at no position
    return new Parsed(new SearchQuery(project, type, List.copyOf(clauses), order.descending(), count, offset,
        summaryCount ? null : after, summaryCount ? List.of() : order.keys()),
        summaryCount, summaryCount ? Total.ACCURATE : total, List.copyOf(includes), applied);
  }

  /**
   * {@code params} without their empty values, and without the parameters that had only those:
   * what a search is asked (R4 search.html#errors: empty parameters are ignored), in order.
   */
  public static Map<String, List<String>> withoutEmptyValues(Map<String, List<String>> params) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    params.forEach((name, values) -> {
      List<String> given = values.stream().filter(v -> !v.isEmpty()).toList();
      if (!given.isEmpty()) {
        out.put(name, given);
      }
    });
    return out;
  }

  /** Whether {@code name} shapes the answer ({@code _count}, {@code _sort}, ...) rather than choosing what matches. */
  public static boolean shapesTheAnswer(String name) {
    return SHAPING.contains(name) || name.startsWith("_include:") || name.startsWith("_revinclude:");
  }

  /**
   * One parameter of {@code type}: {@code name[:modifier]}, or a chain {@code ref[:Type].name...}.
   * Null when the parameter is unknown and may be ignored (not strict, not inside a chain).
   */
  private SearchClause parameter(String type, String name, String value, boolean strict,
      Predicate<String> mayChainTo, int depth) {
    if (name.startsWith("_has:")) {
      return has(type, name, value, mayChainTo, depth);
    }
    int dot = name.indexOf('.');
    String head = dot < 0 ? name : name.substring(0, dot);
    if (depth > 0 && head.equals("_id") && dot < 0) {
      return ids(value);
    }
    if (depth > 0 && head.equals("_lastUpdated") && dot < 0) {
      // a parameter of every type (R4 search.html#all), so one a chain or _has may end with too
      return SearchRanges.lastUpdated(value, clock.millis());
    }
    int colon = head.indexOf(':');
    SearchIndexer.Param p = indexer.params(type).get(colon < 0 ? head : head.substring(0, colon));
    if (p == null) {
      if (strict || depth > 0) {
        throw FhirException.badRequest("unknown or unsupported search parameter '" + head + "' for " + type);
      }
      return null;
    }
    String modifier = colon < 0 ? null : head.substring(colon + 1);
    if (dot >= 0) {
      return chain(type, p, modifier, name.substring(dot + 1), value, mayChainTo, depth);
    }
    if ("missing".equals(modifier)) {
      return SearchMissing.clause(p, value);
    }
    if ("identifier".equals(modifier) && p.identifierOf() != null) {
      // R4 search.html#reference: matched on Reference.identifier, as a token is
      return token(type, p.identifierOf(), null, value);
    }
    if ("of-type".equals(modifier) && TokenModifiers.takesOfType(p)) {
      return TokenModifiers.ofType(p, value);
    }
    if ("text".equals(modifier) && TokenModifiers.takesText(p)) {
      return text(TokenModifiers.textOf(p), null, value);
    }
    if ("not".equals(modifier) && p.kind() == RestSearchParameterTypeEnum.TOKEN) {
      return new SearchClause.Not((SearchClause.Token) token(type, p, null, value));
    }
    return switch (p.kind()) {
      case STRING -> text(p, modifier, value);
      case DATE -> SearchRanges.dates(p.name(), modifier, value, clock.millis());
      case URI -> UriSearch.clause(p, modifier, value);
      case NUMBER, QUANTITY -> SearchRanges.number(p, modifier, value);
      default -> token(type, p, modifier, value);
    };
  }

  private static SearchClause.Ids ids(String value) {
    List<String> ids = SearchEscapes.alternatives("_id", value).stream().map(String::trim).filter(s -> !s.isEmpty())
        .toList();
    if (ids.isEmpty() || ids.size() > 100) {
      throw FhirException.badRequest("_id takes 1 to 100 comma-separated ids");
    }
    // no resource has a malformed id (R4 datatypes.html#id): 400 as for a read of it, not an empty page
    ids.forEach(ResourceIds::requireValid);
    return new SearchClause.Ids(ids);
  }

  /**
   * {@code subject:Patient.name=x}, or without the type every type the reference parameter may
   * name that has the chained parameter (R4 search.html#chaining). Types the caller may not search
   * are left out; when that leaves none, 403.
   */
  private SearchClause chain(String type, SearchIndexer.Param p, String modifier, String rest, String value,
      Predicate<String> mayChainTo, int depth) {
    if (p.kind() != RestSearchParameterTypeEnum.REFERENCE) {
      throw FhirException.badRequest("'" + p.name() + "' is not a reference parameter of " + type
          + ", so it cannot be chained");
    }
    checkDepth(depth);
    Set<String> candidates;
    if (modifier != null) {
      if (!modifier.matches("[A-Z][A-Za-z]+") || !indexer.isResourceType(modifier)) {
        throw FhirException.badRequest("'" + p.name() + ":" + modifier + "': '" + modifier
            + "' is not a resource type");
      }
      candidates = Set.of(modifier);
    } else {
      candidates = indexer.referenceTargets(type, p.name());
      if (candidates.isEmpty()) {
        throw FhirException.badRequest("'" + p.name() + "' may name any type of resource: name one, as in "
            + p.name() + ":Patient." + rest);
      }
    }
    String chained = rest.split("[.:]", 2)[0];
    Map<String, SearchClause> byType = new TreeMap<>();
    boolean denied = false;
    for (String target : new TreeSet<>(candidates)) {
      // Binary stays out of chains as out of includes: its securityContext decides who may see it
      if (target.equals("Binary") || (!chained.equals("_id") && !chained.equals("_lastUpdated")
          && !indexer.params(target).containsKey(chained))) {
        continue;
      }
      if (!mayChainTo.test(target)) {
        denied = true;
        continue;
      }
      byType.put(target, parameter(target, rest, value, true, mayChainTo, depth + 1));
    }
    if (byType.isEmpty()) {
      if (denied) {
        throw FhirException.insufficientScope("the access token does not permit search on the types '" + p.name()
            + "." + rest + "' reaches");
      }
      throw FhirException.badRequest("'" + p.name() + "." + rest + "': no type '" + p.name() + "' may name "
          + candidates.stream().sorted().toList() + " has a supported search parameter '" + chained + "'");
    }
    return new SearchClause.Chain(p.name(), byType, p.canonical());
  }

  /** 400 when following one more reference from {@code depth} would pass {@link #MAX_CHAIN}. */
  private static void checkDepth(int depth) {
    if (depth + 1 > MAX_CHAIN) {
      throw FhirException.badRequest("a chain or _has may follow at most " + MAX_CHAIN + " references");
    }
  }

  /**
   * {@code _has:Source:reference:parameter=value} (R4 search.html#has): resources that a Source
   * resource matching {@code parameter=value} names in {@code reference}; the parameter may itself
   * be a chain or another {@code _has}. Sources must be a type the caller may search (else 403).
   */
  private SearchClause has(String type, String name, String value, Predicate<String> mayChainTo, int depth) {
    String[] parts = name.split(":", 4);
    if (parts.length < 4 || parts[1].isEmpty() || parts[2].isEmpty() || parts[3].isEmpty()) {
      throw FhirException.badRequest("'" + name + "': _has takes _has:SourceType:reference:parameter=value");
    }
    String source = parts[1];
    if (!source.matches("[A-Z][A-Za-z]+") || !indexer.isResourceType(source) || source.equals("Binary")) {
      throw FhirException.badRequest("'" + name + "': '" + source + "' is not a resource type _has can search");
    }
    checkDepth(depth);
    SearchIndexer.Param ref = indexer.params(source).get(parts[2]);
    if (ref == null || ref.kind() != RestSearchParameterTypeEnum.REFERENCE) {
      throw FhirException.badRequest("'" + name + "': '" + parts[2] + "' is not a reference parameter of " + source);
    }
    Set<String> targets = indexer.referenceTargets(source, ref.name());
    if (!targets.isEmpty() && !targets.contains(type)) {
      throw FhirException.badRequest("'" + name + "': " + source + "." + ref.name() + " never names a " + type);
    }
    if (!mayChainTo.test(source)) {
      throw FhirException.insufficientScope("the access token does not permit search on " + source);
    }
    return new SearchClause.Has(source, ref.name(), parameter(source, parts[3], value, true, mayChainTo, depth + 1),
        ref.canonical());
  }

  /** 400 when {@code offset} is beyond {@link #MAX_OFFSET} ({@link #MAX_OFFSET_AFTER} beside {@code _after}). */
  public static void checkOffset(int offset, boolean after) {
    if (!after && offset > MAX_OFFSET) {
      throw FhirException.badRequest("_offset is at most " + MAX_OFFSET + ", got " + offset
          + "; page on with the next link, whose _after reads from where the last page ended");
    }
    if (offset > MAX_OFFSET_AFTER) {
      throw FhirException.badRequest("_offset is at most " + MAX_OFFSET_AFTER + ", got " + offset);
    }
  }

  /**
   * {@code _count}: the page size asked for, at most {@link #maxCount} (R4 search.html#count: a
   * server returns no more than it allows); a count past what an int holds asks for that too.
   */
  private int count(String value) {
    return Math.min(pageSize(value), maxCount);
  }

  /**
   * A search's or history's {@code _count}: a count past what an int holds is the largest int, so
   * that it gets the largest page, as any count above the server's largest does; anything but
   * digits is 400.
   */
  public static int pageSize(String value) {
    String digits = value.trim();
    if (digits.matches("[0-9]{10,}")) {
      return new BigInteger(digits).min(BigInteger.valueOf(Integer.MAX_VALUE)).intValue();
    }
    return number("_count", value);
  }

  private static int number(String name, String value) {
    try {
      int n = Integer.parseInt(value.trim());
      if (n < 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw FhirException.badRequest(name + " must be a non-negative whole number, got '" + value + "'");
    }
  }

  /**
   * Token {@code [system|]code}; reference {@code Type/id}, an absolute URL, {@code id} with the
   * type as modifier ({@code subject:Patient=123}), or a bare {@code id}, which names any of the
   * types the parameter may name ({@code patient=123} is {@code Patient/123}). An absolute URL on
   * the server's own base is the local {@code Type/id}; any other matches only references to that
   * URL ({@link References}). On {@code canonical} elements the value is the canonical URL as
   * written, {@code url|version} that version only ({@link Canonical}). Other modifiers are refused:
   * R4 search.html says a server SHALL reject a modifier it does not support, rather than ignore it.
   */
  private SearchClause token(String type, SearchIndexer.Param p, String modifier, String value) {
    boolean reference = p.kind() == RestSearchParameterTypeEnum.REFERENCE;
    if (modifier != null && !(reference && modifier.matches("[A-Z][A-Za-z]+"))) {
      throw unsupportedModifier(p.name(), modifier);
    }
    if (modifier != null && !indexer.isResourceType(modifier)) {
      throw FhirException.badRequest("'" + p.name() + ":" + modifier + "': '" + modifier + "' is not a resource type");
    }
    List<SearchClause.TokenValue> values = new ArrayList<>();
    for (String escaped : SearchEscapes.alternatives(p.name(), value)) {
      int bar = SearchEscapes.indexOf(escaped, '|');
      String v = SearchEscapes.unescape(escaped);
      if (p.canonical()) {
        // R4 search.html#reference, #versions: the canonical URL as written, whatever the server's
        // base, with |version only that version; a type modifier adds nothing a URL does not say
        values.add((bar < 0 ? Canonical.of(v, null) : Canonical.of(SearchEscapes.unescape(escaped.substring(0, bar)),
            SearchEscapes.unescape(escaped.substring(bar + 1)))).searched());
        if (!p.literal()) {
          continue;
        }
      }
      if (reference && v.endsWith("/")) {
        // a type, or a URL, with no id names no resource (R4 search.html#reference: Type/id, an id
        // or a URL to one); matching nothing would look like an answer
        throw FhirException.badRequest("'" + p.name() + "' value '" + DecimalLimits.abbreviate(v)
            + "' has no id after the '/': search for Type/id, an id or a URL to a resource");
      }
      if (modifier != null) {
        values.add(new SearchClause.TokenValue(null, typed(modifier, v)));
      } else if (reference && !v.contains("/") && !References.isAbsolute(v)) {
        Set<String> targets = indexer.referenceTargets(type, p.name());
        if (targets.isEmpty()) {
          throw FhirException.badRequest("'" + p.name() + "' may name any type of resource: search for Type/" + v
              + " or " + p.name() + ":Type=" + v);
        }
        targets.stream().sorted().forEach(t -> values.add(new SearchClause.TokenValue(null, t + "/" + v)));
      } else if (reference) {
        // matched in the form the index keeps: a URL on the server's own base is the local
        // resource (R4 search.html#reference), another server's URL only that server's resource
        values.add(new SearchClause.TokenValue(null, indexer.reference(v)));
      } else if (bar < 0) {
        values.add(new SearchClause.TokenValue(null, v));
      } else if (v.equals("|")) {
        // neither a system nor a code: R4 search.html#token gives it no meaning, and matching
        // nothing would look like an answer
        throw FhirException.badRequest("'" + p.name() + "=|' names neither a system nor a code: search for"
            + " system|code, |code (no system) or system| (any code in the system)");
      } else {
        values.add(new SearchClause.TokenValue(SearchEscapes.unescape(escaped.substring(0, bar)),
            SearchEscapes.unescape(escaped.substring(bar + 1))));
      }
    }
    return new SearchClause.Token(p.name(), values);
  }

  /**
   * The indexed reference {@code subject:Patient=value} searches for: {@code Patient/value}, or a
   * {@code Type/id} or URL value as the index keeps it. A value naming another type
   * ({@code subject:Patient=Group/g1}) names no Patient, so it matches nothing, as in HAPI:
   * {@code Patient/Group/g1} is never indexed, since an id holds no slash (R4 datatypes.html#id).
   */
  private String typed(String modifier, String v) {
    if (!v.contains("/")) {
      return modifier + "/" + v;
    }
    String ref = indexer.reference(v);
    String[] segments = ref.split("/");
    return segments.length >= 2 && segments[segments.length - 2].equals(modifier) ? ref : modifier + "/" + v;
  }

  /** {@code _after}: where the previous page ended, as its {@code next} link gave it; 400 otherwise. */
  public static PagePosition after(String value) {
    return PagePosition.parse(value).orElseThrow(() -> FhirException.badRequest("_after '"
        + DecimalLimits.abbreviate(value) + "' is not a position a next link gave"));
  }

  /** {@code name=ab} (starts with), {@code name:contains=ab}, {@code name:exact=Ab}; commas are OR. */
  private static SearchClause text(SearchIndexer.Param p, String modifier, String value) {
    String param = p.name();
    SearchClause.TextMatch match;
    if (modifier == null) {
      match = SearchClause.TextMatch.STARTS_WITH;
    } else if (modifier.equals("contains")) {
      match = SearchClause.TextMatch.CONTAINS;
    } else if (modifier.equals("exact")) {
      match = SearchClause.TextMatch.EXACT;
    } else {
      throw unsupportedModifier(param, modifier);
    }
    List<String> values = SearchEscapes.alternatives(param, value).stream().map(SearchEscapes::unescape)
        .map(v -> match == SearchClause.TextMatch.EXACT ? v : SearchValue.normalize(v))
        .filter(v -> !v.isEmpty()).toList();
    if (values.isEmpty()) {
      // only combining marks, which the normal form drops: a prefix of nothing would match everything
      throw FhirException.badRequest("search parameter '" + param + "' needs a value");
    }
    return new SearchClause.Text(p.searchedAs(), values, match);
  }

  static FhirException unsupportedModifier(String param, String modifier) {
    return FhirException.badRequest("the modifier ':" + modifier + "' is not supported on search parameter '"
        + param + "'");
  }
}
