package org.fhirbox.http;

import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.fhirbox.core.FhirException;

/**
 * A FHIR path whose last segment names an operation ({@code $name}, R4 operations.html#executing)
 * at a level operations are invoked on: the system ({@code $name}), a type ({@code Type/$name}), an
 * instance ({@code Type/id/$name}) or a version ({@code Type/id/_history/vid/$name}). One the server
 * does not have is 404 naming it, whatever the method, rather than read as an invalid id (400) or
 * answered with a 405 whose Allow names a method that would find nothing either.
 */
final class UnknownOperations {
  /** {@code POST Binary/$import}, which {@link FhirRoutes} dispatches. */
  static final String IMPORT = "$import";
  /** {@code POST Binary/$upload-url}, which {@link FhirRoutes} dispatches. */
  static final String UPLOAD_URL = "$upload-url";
  /**
   * R4's GraphQL operation (graphql.html), which Medplum's client calls for its own queries and to
   * load type schemas: refused at any level with a diagnostic that names what to use instead.
   */
  private static final String GRAPHQL = "$graphql";
  /** The type-level operations on Binary; instance ones on Binary are the Binary routes' own. */
  private static final Set<String> BINARY_TYPE_LEVEL = Set.of(IMPORT, UPLOAD_URL);

  private UnknownOperations() {
  }

  /** Refuses {@code segments} (after {@code /fhir/R4/}) naming an unknown operation; {@code requireType} checks a type. */
  static void refuse(List<String> segments, Consumer<String> requireType) {
    int n = segments.size();
    String last = segments.get(n - 1);
    if (!last.startsWith("$")) {
      return;
    }
    boolean level = n == 1 || n == 2 || n == 3 || n == 5 && segments.get(2).equals("_history");
    if (level && n > 1) {
      // a type R4 does not have is that 404, whatever operation follows it
      requireType.accept(segments.get(0));
    }
    if (level && last.equals(GRAPHQL)) {
      throw FhirException.notFound("this server has no GraphQL API ($graphql): read with the FHIR REST API,"
          + " where a search's _include and _revinclude bring related resources in one request");
    }
    if (n == 1) {
      throw unknown(last, "the system");
    }
    String type = segments.get(0);
    if (!level || type.equals("Binary") && (n > 2 || BINARY_TYPE_LEVEL.contains(last))) {
      return;
    }
    requireType.accept(type);
    throw unknown(last, String.join("/", segments.subList(0, n - 1)));
  }

  static FhirException unknown(String operation, String on) {
    return FhirException.notFound("unknown operation " + operation + " on " + on
        + "; GET /fhir/R4/metadata lists the operations this server has");
  }
}
