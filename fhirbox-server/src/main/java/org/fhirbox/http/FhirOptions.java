package org.fhirbox.http;

import java.io.IOException;
import java.util.List;
import java.util.function.Consumer;

/**
 * A plain OPTIONS (no CORS preflight, which {@link Cors} answers first) of the FHIR base or of a
 * type: 200 with {@code Allow} naming the methods the path takes (RFC 9110 §9.3.7). It needs no
 * credentials, as the methods are the same for every caller. The base's answer carries the
 * CapabilityStatement, as HAPI FHIR's does (DSTU2 http.html had {@code OPTIONS [base]} return the
 * conformance statement; R4 has only {@code GET [base]/metadata}). Another path answers OPTIONS as
 * any method it does not take (405).
 */
final class FhirOptions {
  /** What the base takes: a transaction or batch (R4 http.html#transaction), and OPTIONS. */
  static final String[] BASE = {"POST", "OPTIONS"};
  /** What a type takes: search, create, the conditional writes (R4 http.html), and OPTIONS. */
  static final String[] TYPE = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};

  /** Writes the CapabilityStatement as the answer's body. */
  interface Capabilities {
    void write() throws IOException;
  }

  private FhirOptions() {}

  /**
   * Answers an OPTIONS of {@code segments} (the path after {@code /fhir/R4/}); false when the path
   * is neither the base nor a type. An unknown type is 404, as any of its requests ({@code requireType}).
   */
  static boolean answer(Exchange ex, List<String> segments, Consumer<String> requireType, Capabilities capabilities)
      throws IOException {
    if (segments.isEmpty()) {
      ex.response().setHeader("Allow", String.join(", ", BASE));
      capabilities.write();
      return true;
    }
    String first = segments.get(0);
    if (segments.size() != 1 || first.startsWith("$") || first.startsWith("_") || first.equals("metadata")) {
      return false;
    }
    requireType.accept(first);
    ex.response().setHeader("Allow", String.join(", ", TYPE));
    ex.response().setStatus(200);
    ex.response().setContentLength(0);
    return true;
  }
}
