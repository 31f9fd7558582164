package org.fhirbox.fhir;

import ca.uhn.fhir.context.BaseRuntimeChildDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementCompositeDefinition;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeChildChoiceDefinition;
import ca.uhn.fhir.context.RuntimeResourceDefinition;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import ca.uhn.fhir.util.FhirTerser;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fhirbox.db.SearchValue;
import org.hl7.fhir.instance.model.api.IBase;
import org.hl7.fhir.r4.model.Address;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.CanonicalType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.ContactPoint;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DecimalType;
import org.hl7.fhir.r4.model.Enumeration;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Money;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.PrimitiveType;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.Timing;

/**
 * Extracts search index values from a resource using the standard R4 SearchParameter
 * definitions HAPI ships. Token, reference, string, date, uri, number and quantity parameters whose
 * expression is a plain path, a choice ({@code (Observation.value as Quantity)}) or a reference
 * kept to one type ({@code Media.subject.where(resolve() is Patient)}) are indexed; adding another
 * kind means adding a case here and a clause in the store, nothing else. Raise {@link #VERSION}
 * when what is extracted changes: {@link SearchReindexer} then brings the stored index of
 * existing resources up to date.
 */
public final class SearchIndexer {
  /**
   * What this extractor indexes: 1 tokens and references on plain paths; 2 adds strings, dates,
   * and paths through choice elements ({@code Observation.effective[x]}, {@code (Observation.value
   * as CodeableConcept)}); 3 adds references kept to one target type
   * ({@code DocumentReference.subject.where(resolve() is Patient)}: the {@code patient} parameters);
   * 4 adds uri parameters ({@code ValueSet.url}); 5 adds number and quantity parameters; 6 adds
   * the Binaries a resource's Attachments name ({@link #ATTACHED_BINARY}); 7 keeps an absolute
   * reference to another server whole instead of as a local {@code Type/id}, and one to the
   * server's own base as the local {@code Type/id} ({@link References}); 8 adds ContactPoints
   * ({@code telecom}: its value, without system, search.html#token) and the parameters kept to one
   * kind of ContactPoint ({@code Patient.telecom.where(system='email')}: {@code email},
   * {@code phone}); 9 adds a Timing's outer limits to date parameters and a Quantity's unit as
   * written beside its code, and reads a date without a time zone in UTC ({@link DateBounds}); 10
   * adds the parameters of every resource on {@code meta} ({@link #COMMON}: {@code _tag},
   * {@code _security}, {@code _profile}, {@code _source}) and a versioned canonical's url alone; 11
   * keeps a canonical of a reference parameter ({@code QuestionnaireResponse.questionnaire}) as its
   * url with its version as the system ({@link Canonical}), where 10 kept it as written and as a url;
   * 12 adds the identifiers of references ({@code Reference.identifier}, {@link Param#identifierOf});
   * 13 adds an Identifier's type with its value ({@code identifier:of-type}) and the text of a token's
   * value ({@code code:text}: a CodeableConcept's text, a Coding's display, an Identifier type's text;
   * {@link TokenModifiers}); 14 indexes numbers and quantities whole (migration V32), where 13
   * left out a value of more than 20 digits before the point and rounded one to 10 after it, and
   * folds the case of strings fully ({@link SearchValue#normalize}: "Straße" as "strasse").
   */
  public static final int VERSION = 14;
  /**
   * Not a search parameter (no search reads it, and the CapabilityStatement does not list it): the
   * index rows, {@code Binary/{id}} without a version, of the Binaries a resource's Attachments
   * name, contained resources included. They let an access check find the resources that name a
   * Binary: a patient's Binary is one that a resource in the patient's compartment names.
   */
  public static final String ATTACHED_BINARY = "_attached-binary";
  /**
   * The suffix of the rows that hold a reference parameter's {@code Reference.identifier}s
   * ({@code subject:identifier}), which {@code subject:identifier=system|value} searches (R4
   * search.html#reference); the references themselves stay under the parameter's name.
   */
  static final String IDENTIFIER = ":identifier";
  private static final Set<RestSearchParameterTypeEnum> KINDS = EnumSet.of(
      RestSearchParameterTypeEnum.TOKEN, RestSearchParameterTypeEnum.REFERENCE, RestSearchParameterTypeEnum.STRING,
      RestSearchParameterTypeEnum.DATE, RestSearchParameterTypeEnum.URI, RestSearchParameterTypeEnum.NUMBER,
      RestSearchParameterTypeEnum.QUANTITY);
  /**
   * String parameters whose matching is not a string match: {@code phonetic} asks for a
   * sound-alike algorithm, and indexing it as a prefix match would pretend to one (and cost
   * index rows on every Patient and Practitioner write).
   */
  private static final Set<String> NOT_INDEXED = Set.of("phonetic");
  /**
   * The search parameters of every resource type that are indexed like any other (R4
   * search.html#all), each on the element of {@code meta} it names: {@code _tag} and
   * {@code _security} (tokens), {@code _profile} (a canonical) and {@code _source} (a uri).
   * {@code _id} and {@code _lastUpdated} are read from the resource row instead.
   */
  static final Map<String, RestSearchParameterTypeEnum> COMMON = Map.of(
      "_tag", RestSearchParameterTypeEnum.TOKEN, "_security", RestSearchParameterTypeEnum.TOKEN,
      "_profile", RestSearchParameterTypeEnum.URI, "_source", RestSearchParameterTypeEnum.URI);

  /**
   * One indexable parameter of one resource type. A search on it reads the rows stored under
   * {@code searchedAs} (itself, and for {@code name} also {@code family} and {@code given}, see
   * {@link #load}).
   */
  public record Param(String name, RestSearchParameterTypeEnum kind, List<Path> paths, List<String> searchedAs,
      Set<String> valueTypes) {
    Param(String name, RestSearchParameterTypeEnum kind, List<Path> paths, Set<String> valueTypes) {
      this(name, kind, paths, List.of(name), valueTypes);
    }

    /**
     * A reference parameter some of whose elements are {@code canonical}
     * ({@code QuestionnaireResponse.questionnaire}): their values are canonical URLs, matched as
     * written and reached through the target's {@code url} and {@code version} (R4
     * references.html#canonical), never as a local {@code Type/id}.
     */
    public boolean canonical() {
      return kind == RestSearchParameterTypeEnum.REFERENCE && valueTypes.contains("canonical");
    }

    /**
     * A reference parameter with elements of type Reference (or of types not known here), whose
     * values are literal references. No standard R4 parameter covers both kinds, but one could.
     */
    public boolean literal() {
      return kind == RestSearchParameterTypeEnum.REFERENCE && (valueTypes.contains("Reference") || !canonical());
    }

      /**
     * A reference parameter's {@code :identifier} (R4 search.html#reference): a token parameter
     * over the rows {@link #IDENTIFIER} names; null when the parameter has no Reference elements.
     */
    Param identifierOf() {
      return literal() ? new Param(name + IDENTIFIER, RestSearchParameterTypeEnum.TOKEN, paths, Set.of("Identifier"))
          : null;
    }

    /** A {@code name} whose family and given parts are stored under {@code family} and {@code given} only. */
    boolean sharesNameParts() {
      return searchedAs.size() > 1;
    }
  }

  /**
   * Where a parameter's values are: a path in the terser's form (a choice element is named
   * {@code value[x]}), the FHIR type a value must have ({@code (Observation.value as Quantity)}),
   * or null for any, for a reference the resource type it must name
   * ({@code Media.subject.where(resolve() is Patient)}), or null for any, and for a ContactPoint
   * the system it must have ({@code Patient.telecom.where(system='email')}), or null for any.
   */
  public record Path(String expression, String type, String target, String contactSystem) {
    Path(String expression, String type) {
      this(expression, type, null, null);
    }

    Path(String expression, String type, String target) {
      this(expression, type, target, null);
    }
  }

  private static final Pattern PLAIN = Pattern.compile("[A-Za-z]+(\\.[A-Za-z]+)+");
  private static final Pattern AS_TYPE =
      Pattern.compile("\\(([A-Za-z]+(?:\\.[A-Za-z]+)+) as ([A-Za-z]+)\\)");
  private static final Pattern RESOLVES_TO =
      Pattern.compile("([A-Za-z]+(?:\\.[A-Za-z]+)+)\\.where\\(resolve\\(\\) is ([A-Za-z]+)\\)");
  private static final Pattern CONTACT_SYSTEM =
      Pattern.compile("([A-Za-z]+(?:\\.[A-Za-z]+)*\\.telecom)\\.where\\(system='([a-z]+)'\\)");

  private final FhirContext ctx;
  private final FhirTerser terser;
  private final References references;
  private final Map<String, Map<String, Param>> byType = new ConcurrentHashMap<>();

  /** An indexer for which only relative references are local (a server that knows no base of its own). */
  public SearchIndexer(FhirContext ctx) {
    this(ctx, References.relativeOnly());
  }

  /** @param references which absolute references are on the server's own bases */
  public SearchIndexer(FhirContext ctx, References references) {
    this.ctx = ctx;
    this.terser = ctx.newTerser();
    this.references = references;
  }

  /**
   * The form a reference is indexed in, so that a search value given as a reference is matched in
   * the same form: {@code Type/id} when it names a resource here, the whole URL otherwise
   * ({@link References#indexed}).
   */
  public String reference(String reference) {
    return references.indexed(reference);
  }

  /** The indexed parameters of a type, by name. */
  public Map<String, Param> params(String type) {
    return byType.computeIfAbsent(type, this::load);
  }

  /** Whether {@code name} is an R4 resource type. */
  public boolean isResourceType(String name) {
    return ctx.getResourceTypes().contains(name);
  }

  /** The resource types a reference parameter may name (its SearchParameter.target); empty for any. */
  public Set<String> referenceTargets(String type, String param) {
    RuntimeSearchParam sp = ctx.getResourceDefinition(type).getSearchParam(param);
    return sp == null ? Set.of() : sp.getTargets();
  }

  private Map<String, Param> load(String type) {
    RuntimeResourceDefinition def = ctx.getResourceDefinition(type);
    Map<String, Param> out = new ConcurrentHashMap<>();
    for (RuntimeSearchParam sp : def.getSearchParams()) {
      boolean common = COMMON.containsKey(sp.getName());
      if ((sp.getName().startsWith("_") && !common) || NOT_INDEXED.contains(sp.getName())) {
        continue;
      }
      RestSearchParameterTypeEnum kind = sp.getParamType();
      if (!KINDS.contains(kind)) {
        continue;
      }
      List<Path> paths = new ArrayList<>();
      Set<String> valueTypes = new TreeSet<>();
      for (String p : sp.getPathsSplit()) {
        // the parameters of every resource are defined on Resource (Resource.meta.tag): the
        // path of this type is the same below the type's name
        String path = common && p.trim().startsWith("Resource.") ? type + p.trim().substring("Resource".length())
            : p.trim();
        String valueType = null;
        String target = null;
        String contactSystem = null;
        Matcher as = AS_TYPE.matcher(path);
        Matcher resolves = RESOLVES_TO.matcher(path);
        Matcher contact = CONTACT_SYSTEM.matcher(path);
        if (as.matches()) {
          path = as.group(1);
          valueType = as.group(2);
        } else if (resolves.matches() && kind == RestSearchParameterTypeEnum.REFERENCE) {
          path = resolves.group(1);
          target = resolves.group(2);
        } else if (contact.matches() && kind == RestSearchParameterTypeEnum.TOKEN) {
          path = contact.group(1);
          valueType = "ContactPoint";
          contactSystem = contact.group(2);
        }
        String expression =
            path.startsWith(type + ".") && PLAIN.matcher(path).matches() ? terserPath(def, path) : null;
        if (expression != null) {
          paths.add(new Path(expression, valueType, target, contactSystem));
          valueTypes.addAll(valueType != null ? Set.of(valueType) : valueTypes(def, expression));
        }
      }
      if (!paths.isEmpty()) {
        out.put(sp.getName(), new Param(sp.getName(), kind, List.copyOf(paths), Set.copyOf(valueTypes)));
      }
    }
    // HAPI's R4 model defines _tag, _security and _profile on Resource but not _source
    COMMON.forEach((name, kind) -> out.computeIfAbsent(name, n -> new Param(n, kind,
        List.of(new Path(terserPath(def, type + ".meta." + n.substring(1)), null)), Set.of())));
    // Patient and Practitioner index a name's family and given parts under name, family and given
    // alike. Each string row costs an insert at a random place in the index (names are not ordered
    // like ids), which doubled the cost of a create; so those parts are stored once, under family
    // and given, and a name search reads all three.
    Param name = out.get("name");
    if (isPath(name, type + ".name") && isPath(out.get("family"), type + ".name.family")
        && isPath(out.get("given"), type + ".name.given")) {
      out.put("name", new Param("name", name.kind(), name.paths(), List.of("name", "family", "given"),
          name.valueTypes()));
    }
    return out;
  }

  private static boolean isPath(Param p, String path) {
    return p != null && p.kind() == RestSearchParameterTypeEnum.STRING
        && p.paths().equals(List.of(new Path(path, null)));
  }

  /**
   * The FHIR types ({@code Reference}, {@code canonical}, {@code uri}) the element at a
   * {@linkplain #terserPath terser path} may have: every type of a choice element.
   */
  private static Set<String> valueTypes(RuntimeResourceDefinition def, String expression) {
    String[] segments = expression.split("\\.");
    BaseRuntimeElementCompositeDefinition<?> current = def;
    BaseRuntimeChildDefinition child = null;
    for (int i = 1; i < segments.length && current != null; i++) {
      child = current.getChildByName(segments[i]);
      current = child == null || child instanceof RuntimeChildChoiceDefinition
          || !(child.getChildByName(segments[i]) instanceof BaseRuntimeElementCompositeDefinition<?> c) ? null : c;
    }
    if (child == null) {
      return Set.of();
    }
    Set<String> out = new TreeSet<>();
    for (String name : child.getValidChildNames()) {
      if (child.getChildByName(name) != null) {
        out.add(child.getChildByName(name).getName());
      }
    }
    return out;
  }

  /**
   * {@code path} as the terser names it: a choice element gets its {@code [x]}
   * ({@code Observation.effective} is {@code Observation.effective[x]}); null when a segment is
   * unknown or follows a choice (its type is not known until a value is there).
   */
  private static String terserPath(RuntimeResourceDefinition def, String path) {
    String[] segments = path.split("\\.");
    StringBuilder out = new StringBuilder(segments[0]);
    BaseRuntimeElementCompositeDefinition<?> current = def;
    for (int i = 1; i < segments.length; i++) {
      if (current == null) {
        return null;
      }
      String name = segments[i];
      BaseRuntimeChildDefinition child = current.getChildByName(name);
      if (child == null) {
        name = segments[i] + "[x]";
        child = current.getChildByName(name);
      }
      if (child == null) {
        return null;
      }
      out.append('.').append(name);
      current = child instanceof RuntimeChildChoiceDefinition
          || !(child.getChildByName(name) instanceof BaseRuntimeElementCompositeDefinition<?> c)
          ? null : c;
    }
    return out.toString();
  }

  /** Every index row of {@code resource}. */
  public List<SearchValue> extract(Resource resource) {
    return extract(resource, terser.getAllPopulatedChildElementsOfType(resource, Attachment.class));
  }

  /**
   * {@link #extract(Resource)} for a resource whose own Attachments (contained resources
   * included) the caller has found already, as the write path has.
   */
  public List<SearchValue> extract(Resource resource, List<Attachment> attachments) {
    List<SearchValue> values = values(resource, params(resource.fhirType()).values());
    Set<String> binaries = new LinkedHashSet<>();
    for (Attachment a : attachments) {
      BinaryRef.tryParseRelative(a.getUrl()).ifPresent(ref -> binaries.add("Binary/" + ref.id()));
    }
    binaries.forEach(b -> values.add(SearchValue.token(ATTACHED_BINARY, null, b)));
    return values;
  }

  /**
   * The values of the parameters named {@code names} only (unknown names are ignored), without the
   * rows their modifiers read ({@code subject:identifier} holds identifiers, not references).
   */
  public List<SearchValue> extract(Resource resource, Set<String> names) {
    Map<String, Param> all = params(resource.fhirType());
    return values(resource, names.stream().map(all::get).filter(Objects::nonNull).toList(), false);
  }

  private List<SearchValue> values(Resource resource, Collection<Param> params) {
    return values(resource, params, true);
  }

  /**
   * {@code modifierRows}: also the rows the parameters' modifiers read ({@code :identifier},
   * {@code :of-type}, {@code :text}).
   */
  private List<SearchValue> values(Resource resource, Collection<Param> params, boolean modifierRows) {
    List<SearchValue> values = new ArrayList<>();
    for (Param p : params) {
      for (Path path : p.paths()) {
        List<IBase> found;
        try {
          found = terser.getValues(resource, path.expression());
        } catch (RuntimeException e) {
          continue; // not expected for a path terserPath accepted; one bad path must not fail a write
        }
        for (IBase v : found) {
          if (path.type() != null && !(v instanceof Base b && b.fhirType().equals(path.type()))) {
            continue;
          }
          if (path.target() != null && !(v instanceof Reference r && path.target().equals(targetType(r)))) {
            continue;
          }
          if (modifierRows && p.kind() == RestSearchParameterTypeEnum.REFERENCE && v instanceof Reference r
              && r.hasIdentifier() && r.getIdentifier().hasValue()) {
            addToken(values, p.name() + IDENTIFIER, false, r.getIdentifier());
          }
          if (path.contactSystem() != null
              && !(v instanceof ContactPoint c && path.contactSystem().equals(c.getSystemElement().getValueAsString()))) {
            continue;
          }
          if (modifierRows && p.kind() == RestSearchParameterTypeEnum.TOKEN) {
            TokenModifiers.addRows(values, p.name(), v);
          }
          switch (p.kind()) {
            case STRING -> addString(values, p, v);
            case DATE -> addDate(values, p.name(), v);
            case NUMBER, QUANTITY -> addNumber(values, p.name(), v);
            default -> addToken(values, p.name(), p.kind() == RestSearchParameterTypeEnum.REFERENCE, v);
          }
        }
      }
    }
    return values;
  }

  /**
   * The type a reference names: its literal reference's, else, for a reference by identifier only,
   * its {@code type} (R4 references.html#Reference: "the expected type of the target").
   */
  private static String targetType(Reference r) {
    return r.hasReference() ? r.getReferenceElement().getResourceType() : r.getType();
  }

  private void addToken(List<SearchValue> out, String param, boolean reference, IBase v) {
    if (v instanceof Identifier id && id.hasValue()) {
      out.add(SearchValue.token(param, id.getSystem(), id.getValue()));
    } else if (v instanceof CodeableConcept cc) {
      for (Coding c : cc.getCoding()) {
        addToken(out, param, reference, c);
      }
    } else if (v instanceof Coding c && c.hasCode()) {
      out.add(SearchValue.token(param, c.getSystem(), c.getCode()));
    } else if (v instanceof Reference r && r.hasReference()) {
      out.add(SearchValue.token(param, null, references.indexed(r.getReference())));
    } else if (v instanceof ContactPoint c && c.hasValue()) {
      // search.html#token: a ContactPoint is matched on its value; it has no token system
      out.add(SearchValue.token(param, null, c.getValue()));
    } else if (v instanceof CanonicalType c && c.hasValue() && reference) {
      // R4 references.html#canonical: the url as written (never a local Type/id), its version
      // (url|version) as the token's system, so url matches every version and url|version one
      Canonical canonical = Canonical.parse(c.getValue());
      out.add(SearchValue.token(param, canonical.version(), canonical.url()));
    } else if (v instanceof CanonicalType c && c.hasValue()) {
      // R4 search.html#versions: a canonical may name a version (url|version); a search for the
      // url alone finds every version, one with the version only that one
      out.add(SearchValue.token(param, null, c.getValue()));
      int bar = c.getValue().lastIndexOf('|');
      if (bar > 0) {
        out.add(SearchValue.token(param, null, c.getValue().substring(0, bar)));
      }
    } else if (v instanceof Enumeration<?> e && e.hasValue()) {
      out.add(SearchValue.token(param, e.getSystem(), e.getValueAsString()));
    } else if (v instanceof PrimitiveType<?> p && p.hasValue()) {
      out.add(SearchValue.token(param, null, p.getValueAsString()));
    }
  }

  /**
   * A decimal or integer (number parameters), or a Quantity or Money with its unit (quantity
   * parameters: the UCUM or other system and code, else the unit as written; a currency is an
   * ISO 4217 code).
   */
  private static void addNumber(List<SearchValue> out, String param, IBase v) {
    SearchValue value = null;
    if (v instanceof Quantity q && q.hasValue()) {
      value = SearchValue.quantity(param, q.getSystem(), q.hasCode() ? q.getCode() : q.getUnit(), q.getValue());
      if (q.hasCode() && q.hasUnit() && !q.getUnit().equals(q.getCode())) {
        // R4 search.html#quantity: number||unit matches the code or the unit as written, so the
        // human unit is a second row, without a system (a search naming a system meets the code's)
        out.add(SearchValue.quantity(param, null, q.getUnit(), q.getValue()));
      }
    } else if (v instanceof Money m && m.hasValue()) {
      value = SearchValue.quantity(param, "urn:iso:std:iso:4217", m.getCurrency(), m.getValue());
    } else if (v instanceof DecimalType d && d.getValue() != null) {
      value = SearchValue.number(param, d.getValue());
    } else if (v instanceof IntegerType i && i.getValue() != null) {
      value = SearchValue.number(param, BigDecimal.valueOf(i.getValue()));
    }
    if (value != null) {
      out.add(value);
    }
  }

  /** Strings, and the parts of names and addresses a string parameter searches (search.html#string). */
  private static void addString(List<SearchValue> out, Param param, IBase v) {
    List<PrimitiveType<?>> parts = new ArrayList<>();
    if (v instanceof HumanName n) {
      if (!param.sharesNameParts()) {
        parts.add(n.getFamilyElement());
        parts.addAll(n.getGiven());
      }
      parts.addAll(n.getPrefix());
      parts.addAll(n.getSuffix());
      parts.add(n.getTextElement());
    } else if (v instanceof Address a) {
      parts.addAll(a.getLine());
      parts.addAll(List.of(a.getCityElement(), a.getDistrictElement(), a.getStateElement(),
          a.getPostalCodeElement(), a.getCountryElement(), a.getTextElement()));
    } else if (v instanceof PrimitiveType<?> p) {
      parts.add(p);
    }
    for (PrimitiveType<?> p : parts) {
      if (p.hasValue() && !p.getValueAsString().isBlank()) {
        out.add(SearchValue.string(param.name(), p.getValueAsString()));
      }
    }
  }

  /**
   * A date, dateTime or instant covers its whole precision ({@code 2020-05} is all of May); a
   * Period covers start to end, open where either is missing; a Timing covers its outer limits,
   * its earliest event or bounding start to its latest event or bounding end (R4 search.html#date:
   * "the specified scheduling details are ignored and only the outer limits matter").
   */
  private static void addDate(List<SearchValue> out, String param, IBase v) {
    if (v instanceof BaseDateTimeType d && d.getValue() != null) {
      out.add(SearchValue.date(param, DateBounds.low(d), DateBounds.high(d)));
    } else if (v instanceof Period p && (p.getStart() != null || p.getEnd() != null)) {
      out.add(SearchValue.date(param, periodLow(p), periodHigh(p)));
    } else if (v instanceof Timing t) {
      addTiming(out, param, t);
    }
  }

  private static void addTiming(List<SearchValue> out, String param, Timing t) {
    long low = Long.MAX_VALUE;
    long high = Long.MIN_VALUE;
    for (DateTimeType event : t.getEvent()) {
      if (event.getValue() != null) {
        low = Math.min(low, DateBounds.low(event));
        high = Math.max(high, DateBounds.high(event));
      }
    }
    if (t.hasRepeat() && t.getRepeat().hasBoundsPeriod()) {
      Period bounds = t.getRepeat().getBoundsPeriod();
      if (bounds.getStart() != null || bounds.getEnd() != null) {
        low = Math.min(low, periodLow(bounds));
        high = Math.max(high, periodHigh(bounds));
      }
    }
    if (low <= high) {
      out.add(SearchValue.date(param, low, high));
    }
  }

  /** A Period's first millisecond, open (the earliest) without a start. */
  private static long periodLow(Period p) {
    return p.getStart() == null ? Long.MIN_VALUE : DateBounds.low(p.getStartElement());
  }

  /** A Period's last millisecond, open (the latest) without an end. */
  private static long periodHigh(Period p) {
    return p.getEnd() == null ? Long.MAX_VALUE : DateBounds.high(p.getEndElement());
  }
}
