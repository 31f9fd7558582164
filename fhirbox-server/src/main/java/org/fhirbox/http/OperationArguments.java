package org.fhirbox.http;

import java.util.HashMap;
import java.util.Map;
import org.fhirbox.core.FhirException;
import org.fhirbox.fhir.QueryLimits;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * The arguments of an operation that takes a few simple values ({@code $upload-url},
 * {@code $import}) from its Parameters body.
 */
final class OperationArguments {
  private OperationArguments() {
  }

  /**
   * The parameters of {@code body} by name, each value a primitive's or a Reference's; empty for no
   * body. Each takes one value: one named twice (two sizes, say) is 400, rather than one of them
   * taken; one whose value is of another type (an Identifier for a securityContext), or that has
   * parts, a resource or no value, is 400, rather than dropped.
   */
  static Map<String, String> of(Resource body, String operation) {
    Map<String, String> args = new HashMap<>();
    if (body == null) {
      return args;
    }
    if (!(body instanceof Parameters p)) {
      throw FhirException.badRequest(operation + " takes a Parameters resource");
    }
    for (var param : p.getParameter()) {
      String value = param.getValue() != null && param.getValue().isPrimitive() ? param.getValue().primitiveValue()
          : param.getValue() instanceof Reference ref ? ref.getReference() : null;
      String name = QueryLimits.shorten(String.valueOf(param.getName()));
      if (value == null) {
        throw FhirException.badRequest(operation + " takes a value of a primitive type or a Reference for each "
            + "parameter; '" + name + "' has none", param.getName());
      }
      if (args.put(param.getName(), value) != null) {
        throw FhirException.badRequest(operation + " takes one value of each parameter; the parameter '"
            + name + "' appears more than once", param.getName());
      }
    }
    return args;
  }
}
