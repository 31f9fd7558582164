package org.fhirbox.fhir;

import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Resource;

/**
 * The resources inside a resource that HAPI's terser does not descend into: Bundle entries
 * and Parameters values (parts of parts too), recursively. (Contained resources it does visit.)
 */
final class ResourceTree {
  private ResourceTree() {}

  /**
   * Every populated element of {@code type} in {@code root}, including inside contained
   * resources (the terser visits those) and inside Bundle entries and Parameters (it does not).
   */
  static <T extends org.hl7.fhir.instance.model.api.IBase> List<T> elements(ca.uhn.fhir.util.FhirTerser terser,
      Resource root, Class<T> type) {
    List<T> out = new ArrayList<>();
    for (Resource r : flatten(root)) {
      out.addAll(terser.getAllPopulatedChildElementsOfType(r, type));
    }
    return out;
  }

  /** {@code root} and every resource nested in it through Bundle entries or Parameters. */
  static List<Resource> flatten(Resource root) {
    List<Resource> out = new ArrayList<>();
    add(root, out);
    return out;
  }

  private static void add(Resource r, List<Resource> out) {
    if (r == null) {
      return;
    }
    out.add(r);
    if (r instanceof Bundle b) {
      for (Bundle.BundleEntryComponent e : b.getEntry()) {
        add(e.getResource(), out);
      }
    } else if (r instanceof Parameters p) {
      for (Parameters.ParametersParameterComponent c : p.getParameter()) {
        addParameter(c, out);
      }
    }
  }

  /** A parameter's resource and those of its parts, at any depth. */
  private static void addParameter(Parameters.ParametersParameterComponent c, List<Resource> out) {
    add(c.getResource(), out);
    for (Parameters.ParametersParameterComponent part : c.getPart()) {
      addParameter(part, out);
    }
  }
}
