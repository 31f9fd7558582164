package org.fhirbox.http;

import org.fhirbox.core.FhirException;

/**
 * The layout of a FHIR answer, success or OperationOutcome alike (FHIR R4 http.html#parameters):
 * {@code _pretty}.
 */
final class AnswerFormat {
  private AnswerFormat() {}

  /** {@code _pretty=true}: an indented answer. */
  static boolean pretty(Exchange ex) {
    return ex.param("_pretty").map("true"::equalsIgnoreCase).orElse(false);
  }

  /** {@link #pretty}, or false when the query cannot be read (itself the error being answered). */
  static boolean prettyForErrors(Exchange ex) {
    try {
      return pretty(ex);
    } catch (FhirException e) {
      return false;
    }
  }
}
