package org.fhirbox.http;

import java.util.Optional;
import java.util.Set;
import org.fhirbox.core.FhirException;
import org.fhirbox.fhir.FhirFormat;
import org.fhirbox.fhir.QueryLimits;

/**
 * The format and layout of a FHIR answer, success or OperationOutcome alike (FHIR R4
 * http.html#mime-type and #parameters): {@code _format}, then Accept, then the format of the FHIR
 * body the client sent, then JSON; {@code _pretty}.
 */
final class AnswerFormat {
  /** The methods whose request carries a body the answer may follow. */
  private static final Set<String> WITH_BODY = Set.of("POST", "PUT", "PATCH");

  private AnswerFormat() {}

  /**
   * See {@link Exchange#format()}. A request with a FHIR body and no stated preference (no
   * {@code _format}, no Accept, or one that takes no FHIR type but either by a wildcard)
   * is answered in its body's format: R4 http.html#mime-type has the client say what it wants,
   * and one that said nothing but sent XML reads XML, as HAPI FHIR's server answers it. Not so
   * for a Binary's raw content ({@link Exchange#bodyIsContent}), which is no FHIR body even when
   * it is XML.
   */
  static FhirFormat of(Exchange ex) {
    Optional<String> f = ex.param("_format");
    if (f.isPresent()) {
      // a FHIR version named in _format is held to as in Accept (R4 http.html#version-parameter)
      Optional<String> unspoken = FhirFormat.fhirVersion(f.get()).filter(v -> !FhirFormat.speaks(v));
      if (unspoken.isPresent()) {
        throw unspokenVersion("_format", unspoken.get());
      }
      return FhirFormat.ofParameter(f.get()).orElseThrow(() ->
          FhirException.notAcceptable("_format '" + f.get() + "' is not supported; use json or xml"));
    }
    String accept = ex.header("Accept");
    // what no Accept, an empty one, or a wildcard that takes JSON and XML alike is answered in
    FhirFormat unstated = sentFormat(ex).orElse(FhirFormat.JSON);
    return FhirFormat.answering(accept, unstated).orElseThrow(() -> FhirFormat.unspokenVersionIn(accept)
        .map(v -> unspokenVersion("Accept", v))
        .orElseGet(() -> FhirException.notAcceptable("Accept '" + QueryLimits.shorten(accept)
            + "' takes no FHIR format; use application/fhir+json or application/fhir+xml")));
  }

  private static FhirException unspokenVersion(String asker, String version) {
    return FhirException.notAcceptable(asker + " asks for FHIR version " + QueryLimits.shorten(version)
        + "; this server speaks FHIR R4 only (fhirVersion=" + FhirFormat.VERSION + ")");
  }

  /** The format of the FHIR body the request carries, if it carries one. */
  private static Optional<FhirFormat> sentFormat(Exchange ex) {
    if (!WITH_BODY.contains(ex.method()) || ex.bodyIsContent()) {
      return Optional.empty();
    }
    return FhirFormat.of(ex.contentType());
  }

  /** {@link #of}, or JSON when the request leaves none to answer in: for an OperationOutcome. */
  static FhirFormat forErrors(Exchange ex) {
    try {
      return of(ex);
    } catch (FhirException e) {
      return FhirFormat.JSON;
    }
  }

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
