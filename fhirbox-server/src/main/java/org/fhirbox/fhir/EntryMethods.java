package org.fhirbox.fhir;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.hl7.fhir.r4.model.Bundle.HTTPVerb;

/**
 * The codes of {@code Bundle.entry.request.method} (R4 bundle.html, value set http-verb), checked
 * before HAPI's parser, which reads them into an enum of its own and fails in Java's words on
 * any other.
 */
final class EntryMethods {
  private static final List<String> CODES = Arrays.stream(HTTPVerb.values())
      .filter(v -> v != HTTPVerb.NULL).map(HTTPVerb::toCode).toList();

  private EntryMethods() {}

  /** Why {@code method} is no R4 HTTPVerb code, or empty when it is one. */
  static Optional<String> problem(String method) {
    return CODES.contains(method) ? Optional.empty()
        : Optional.of(DecimalLimits.abbreviate(method) + " is not one of " + String.join(", ", CODES));
  }
}
