package org.fhirbox.http;

import ca.uhn.fhir.parser.IParser;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.fhirbox.core.FhirException;

/**
 * What part of each resource a read, vread, search or history asks for: {@code _summary} (FHIR R4
 * search.html#summary) or {@code _elements} (search.html#elements). The subsetting is HAPI's own
 * encoder ({@link IParser#setSummaryMode}, {@link IParser#setEncodeElements}), which also marks
 * each subsetted resource with the {@code SUBSETTED} tag of
 * {@code http://terminology.hl7.org/CodeSystem/v3-ObservationValue}, so that a client does not
 * write the partial resource back over the whole one. It runs at encoding, after
 * {@link ResourceOutput} has signed Attachment URLs, so a subset keeps signed URLs too.
 *
 * <p>{@code _summary=count} is the search's concern ({@code SearchParser}); here it encodes as
 * {@code _summary=false}, the Bundle having no entries; a read refuses it ({@link #ofRead}).
 * {@code _summary} and {@code _elements} together are a 400, as HAPI FHIR answers: the spec gives
 * no meaning to both.
 */
record ResourceSubset(String summary, Set<String> elements) {
  /**
   * HAPI's encoder name for a resource's top-level mandatory (min 1) elements, which
   * {@code _summary=text} returns (search.html#summary) and {@code _elements} keeps too
   * (search.html#elements: "servers SHOULD always return mandatory elements"), as HAPI FHIR's server does.
   */
  private static final String MANDATORY = "(mandatory)";

  static final ResourceSubset WHOLE = new ResourceSubset("false", Set.of());

  boolean whole() {
    return summary.equals("false") && elements.isEmpty();
  }

  /**
   * The subset {@code ex} asks for; 400 for a {@code _summary} value R4 does not define. An empty
   * {@code _summary} or {@code _elements} asks for none ({@link Exchange#param}).
   */
  static ResourceSubset of(Exchange ex) {
    // of a repeated one the last, as the search takes it and its self link names it
    Optional<String> s = ex.lastParam("_summary").map(v -> v.trim().toLowerCase(Locale.ROOT));
    Optional<String> e = ex.lastParam("_elements");
    String summary = s.orElse("false");
    if (!Set.of("true", "text", "data", "count", "false").contains(summary)) {
      throw FhirException.badRequest("_summary is true, text, data, count or false, not '" + s.get() + "'");
    }
    Set<String> elements = new LinkedHashSet<>();
    e.ifPresent(v -> {
      for (String name : v.split(",")) {
        if (!name.isBlank()) {
          elements.add(name.trim());
        }
      }
    });
    if (!elements.isEmpty() && !summary.equals("false") && !summary.equals("count")) {
      throw FhirException.badRequest("_summary and _elements cannot be combined");
    }
    return new ResourceSubset(summary.equals("count") ? "false" : summary, Set.copyOf(elements));
  }

  /**
   * As {@link #of}, for a read or vread, where {@code _summary=count} is 400: it counts the matches
   * of a search (R4 search.html#summary) and a read has none, so answering with the whole resource,
   * as an encoder that ignores it does, would hide the mistake.
   */
  static ResourceSubset ofRead(Exchange ex) {
    return ofSingle(ex, "a read has none: leave it out, or search {type}?_id={id}&_summary=count");
  }

  /** As {@link #ofRead}, for the CapabilityStatement, which has no id a search could count it by. */
  static ResourceSubset ofCapabilities(Exchange ex) {
    return ofSingle(ex, "the CapabilityStatement is no search: leave it out");
  }

  private static ResourceSubset ofSingle(Exchange ex, String advice) {
    ResourceSubset subset = of(ex);
    if (ex.lastParam("_summary").filter(v -> v.trim().equalsIgnoreCase("count")).isPresent()) {
      throw FhirException.badRequest("_summary=count counts the matches of a search, and " + advice);
    }
    return subset;
  }

  /**
   * Whether the subset keeps the signed {@code url} fhirbox adds to Binary JSON, which is no R4
   * element, so HAPI's subsetting does not know it: {@code _elements} keeps it when it names
   * {@code url}; {@code _summary=true} and {@code data} keep it, as the way to the content that
   * {@code data} would be (search.html#summary: {@code data} leaves out only the narrative, and a
   * summary keeps what a client needs to find its way); {@code text} leaves it out, as it does
   * every element that is neither mandatory nor {@code id}, {@code meta} or the narrative.
   */
  boolean keepsBinaryUrl() {
    if (!elements.isEmpty()) {
      return elements.contains("url") || elements.contains("Binary.url");
    }
    return !summary.equals("text");
  }

  /**
   * Sets {@code parser} to encode this subset. In a Bundle ({@code bundle}) it applies to the
   * entries' resources only, never to the Bundle itself; {@code _elements} applies only to the
   * resources of {@code matchType}, the searched type (search.html#elements: the elements "of
   * the resources returned" by the search), so {@code _include}d resources come whole, as the
   * spec lets them, while {@code _summary} applies to every resource (search.html#summary).
   */
  IParser configure(IParser parser, boolean bundle, String matchType) {
    switch (summary) {
      case "true" -> parser.setSummaryMode(true);
      case "text" -> parser.setEncodeElements(Set.of("*.text", "*.id", "*.meta", "*." + MANDATORY));
      case "data" -> parser.setSuppressNarratives(true);
      default -> { }
    }
    if (!elements.isEmpty()) {
      Set<String> paths = new LinkedHashSet<>();
      for (String name : elements) {
        // HAPI: "Patient.name" names one type's element, "*.name" any resource's
        paths.add(Character.isUpperCase(name.charAt(0)) ? name : (matchType == null ? "*" : matchType) + "." + name);
      }
      paths.add((matchType == null ? "*" : matchType) + "." + MANDATORY);
      parser.setEncodeElements(paths);
    }
    if (bundle) {
      parser.setEncodeElementsAppliesToChildResourcesOnly(true);
    }
    return parser;
  }
}
