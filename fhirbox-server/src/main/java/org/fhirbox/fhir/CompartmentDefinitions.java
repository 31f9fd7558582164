package org.fhirbox.fhir;

import ca.uhn.fhir.context.RuntimeResourceDefinition;
import ca.uhn.fhir.context.RuntimeSearchParam;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.SearchClause;

/**
 * The R4 compartments (FHIR R4 compartmentdefinition.html): Patient, Encounter, RelatedPerson,
 * Practitioner and Device, each as HAPI's R4 definition has it, not a list of fhirbox's own. A
 * resource of type T is in the compartment {@code C/X} when one of T's search parameters that
 * {@linkplain RuntimeSearchParam#getProvidesMembershipInCompartments() provide membership} in
 * {@code C} names {@code C/X} (an Observation is in {@code Encounter/X}'s by its {@code encounter},
 * in {@code Practitioner/X}'s by its {@code performer}); the resource {@code C/X} itself is in its
 * own compartment (the {@code {def}} of the definitions). A type with no such parameter, other
 * than {@code C}, is outside every compartment of {@code C}.
 */
public final class CompartmentDefinitions {
  /** The R4 compartments, by the resource type that names them (CompartmentDefinition.code). */
  public static final List<String> TYPES = List.of("Patient", "Encounter", "RelatedPerson", "Practitioner", "Device");

  private final FhirCodec codec;
  private final SearchIndexer indexer;
  /** Per compartment and type, the membership parameters the search index holds, sorted. */
  private final Map<String, List<String>> params = new ConcurrentHashMap<>();

  public CompartmentDefinitions(FhirCodec codec, SearchIndexer indexer) {
    this.codec = codec;
    this.indexer = indexer;
  }

  /** Whether {@code type} names a compartment ({@code GET [type]/[id]/[other type]} searches in it). */
  public static boolean isCompartment(String type) {
    return TYPES.contains(type);
  }

  /** The canonical URL of {@code compartment}'s R4 CompartmentDefinition. */
  public static String url(String compartment) {
    String id = Character.toLowerCase(compartment.charAt(0)) + compartment.substring(1); // relatedPerson
    return "http://hl7.org/fhir/CompartmentDefinition/" + id;
  }

  /** The parameters that place a {@code type} in a {@code compartment}; empty when none does. */
  public List<String> params(String compartment, String type) {
    return params.computeIfAbsent(compartment + "/" + type, k -> load(compartment, type));
  }

  private List<String> load(String compartment, String type) {
    if (!codec.context().getResourceTypes().contains(type)) {
      return List.of();
    }
    RuntimeResourceDefinition def = codec.context().getResourceDefinition(type);
    Set<String> names = new TreeSet<>();
    for (RuntimeSearchParam sp : def.getSearchParams()) {
      if (sp.getProvidesMembershipInCompartments() != null
          && sp.getProvidesMembershipInCompartments().contains(compartment)
          // a parameter the index does not hold could never be matched; none is, today
          && indexer.params(type).containsKey(sp.getName())) {
        names.add(sp.getName());
      }
    }
    return List.copyOf(names);
  }

  /** Whether resources of {@code type} can be in a {@code compartment}: the compartment's own type is. */
  public boolean isMember(String compartment, String type) {
    return type.equals(compartment) || !params(compartment, type).isEmpty();
  }

  /**
   * The criterion that keeps a search of {@code type} inside {@code compartment/id}; 400 for a
   * type outside the compartment, which no resource of it is ever in.
   */
  public SearchClause criterion(String compartment, String id, String type) {
    List<String> members = params(compartment, type);
    String self = type.equals(compartment) ? id : null;
    if (members.isEmpty() && self != null) {
      return new SearchClause.Ids(List.of(id));
    }
    if (members.isEmpty()) {
      throw FhirException.badRequest(type + " is not in the " + compartment + " compartment (FHIR R4"
          + " compartmentdefinition-" + compartment.toLowerCase(Locale.ROOT) + ".html); search it at /" + type);
    }
    return new SearchClause.Compartment(members, compartment + "/" + id, self);
  }
}
