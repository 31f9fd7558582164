package org.fhirbox.fhir;

import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.fhirbox.core.FhirException;

/**
 * {@code _include=Source:param[:Target]} (the resources the matches reference) or, with
 * {@code reverse}, {@code _revinclude=Source:param[:Target]} (the Source resources that reference
 * the matches); {@code targetType} null means any. With {@code iterate} ({@code _include:iterate},
 * R4 search.html#revinclude) it applies to the included resources too. {@code canonicalTargets}:
 * when the parameter holds canonical references, the types they are looked up in by {@code url}
 * and {@code version} (the target type, else every type the parameter may name); empty otherwise.
 */
public record SearchInclude(String sourceType, String param, String targetType, boolean reverse, boolean iterate,
    List<String> canonicalTargets) {
  public SearchInclude(String sourceType, String param, String targetType, boolean reverse, boolean iterate) {
    this(sourceType, param, targetType, reverse, iterate, List.of());
  }

  /** Whether {@code name} is {@code _include} or {@code _revinclude}, with or without a modifier. */
  static boolean isInclude(String name) {
    String base = name.contains(":") ? name.substring(0, name.indexOf(':')) : name;
    return base.equals("_include") || base.equals("_revinclude");
  }

  /**
   * {@code name=value}, where {@code name} is {@code _include} or {@code _revinclude}, either with
   * {@code :iterate} or its R3 name {@code :recurse}, and {@code value} is
   * {@code Source:param[:Target]}, param a reference parameter of Source (R4 search.html#include).
   * Without {@code :iterate} the source is the searched type; an iterated include may start from
   * any type, since it also applies to what other includes add.
   */
  static SearchInclude parse(SearchIndexer indexer, String searched, String name, String value) {
    int colon = name.indexOf(':');
    String base = colon < 0 ? name : name.substring(0, colon);
    boolean reverse = base.equals("_revinclude");
    String modifier = colon < 0 ? null : name.substring(colon + 1);
    if (modifier != null && !modifier.equals("iterate") && !modifier.equals("recurse")) {
      throw SearchParser.unsupportedModifier(base, modifier);
    }
    boolean iterate = modifier != null;
    String[] parts = value.split(":", -1);
    if (parts.length < 2 || parts.length > 3 || parts[0].isEmpty() || parts[1].isEmpty()
        || (parts.length == 3 && parts[2].isEmpty())) {
      throw FhirException.badRequest(name + " takes SourceType:parameter[:TargetType], not '" + value + "'"
          + (value.equals("*") ? " (the wildcard is not supported)" : ""));
    }
    if (!reverse && !iterate && !parts[0].equals(searched)) {
      throw FhirException.badRequest("_include=" + value + ": the source type must be the searched type, "
          + searched + " (or use _include:iterate)");
    }
    SearchIndexer.Param p;
    try {
      p = indexer.params(parts[0]).get(parts[1]);
    } catch (RuntimeException e) {
      throw FhirException.badRequest(name + "=" + value + ": '" + parts[0] + "' is not a resource type");
    }
    if (p == null || p.kind() != RestSearchParameterTypeEnum.REFERENCE) {
      throw FhirException.badRequest(name + "=" + value + ": '" + parts[1] + "' is not a reference search"
          + " parameter of " + parts[0]);
    }
    if (parts.length == 3 && !(parts[2].matches("[A-Z][A-Za-z]+") && indexer.isResourceType(parts[2]))) {
      throw FhirException.badRequest(name + "=" + value + ": '" + parts[2] + "' is not a resource type");
    }
    String target = parts.length == 3 ? parts[2] : null;
    if (!p.canonical()) {
      return new SearchInclude(parts[0], parts[1], target, reverse, iterate);
    }
    Set<String> targets = target != null ? Set.of(target) : indexer.referenceTargets(parts[0], parts[1]);
    if (targets.isEmpty()) {
      throw FhirException.badRequest(name + "=" + value + ": '" + parts[1] + "' holds canonical references to any"
          + " type of resource: name the type, as in " + base + "=" + parts[0] + ":" + parts[1] + ":Library");
    }
    return new SearchInclude(parts[0], parts[1], target, reverse, iterate, List.copyOf(new TreeSet<>(targets)));
  }
}
