package org.fhirbox.core;

import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;

/**
 * The one error type of the server: an HTTP status, a FHIR issue type and a diagnostic that is
 * safe to show the caller. The HTTP layer's error mapper turns it into an OperationOutcome.
 * Messages must never contain secrets (tokens, signatures, client secrets).
 */
public class FhirException extends RuntimeException {
  /** One issue of the OperationOutcome. {@code expression} is a FHIRPath location or null. */
  public record Issue(IssueSeverity severity, IssueType type, String diagnostics, String expression) {}

  private final int status;
  private final List<Issue> issues;
  private final Map<String, String> headers;

  public FhirException(int status, IssueType type, String diagnostics) {
    this(status, List.of(new Issue(IssueSeverity.ERROR, type, diagnostics, null)), Map.of(), null);
  }

  public FhirException(int status, List<Issue> issues, Map<String, String> headers, Throwable cause) {
    super(issues.isEmpty() ? "error" : issues.get(0).diagnostics(), cause);
    this.status = status;
    this.issues = List.copyOf(issues);
    this.headers = Map.copyOf(headers);
  }

  public int status() {
    return status;
  }

  public List<Issue> issues() {
    return issues;
  }

  /** Extra response headers, e.g. {@code Content-Range} on 416 or {@code WWW-Authenticate} on 401. */
  public Map<String, String> headers() {
    return headers;
  }

  public FhirException withHeader(String name, String value) {
    java.util.HashMap<String, String> h = new java.util.HashMap<>(headers);
    h.put(name, value);
    return new FhirException(status, issues, h, getCause());
  }

  /** The OperationOutcome that tells the caller about this error. */
  public org.hl7.fhir.r4.model.OperationOutcome toOperationOutcome() {
    org.hl7.fhir.r4.model.OperationOutcome oo = new org.hl7.fhir.r4.model.OperationOutcome();
    for (Issue i : issues) {
      org.hl7.fhir.r4.model.OperationOutcome.OperationOutcomeIssueComponent c = oo.addIssue()
          .setSeverity(i.severity()).setCode(i.type()).setDiagnostics(i.diagnostics());
      if (i.expression() != null) {
        c.addExpression(i.expression());
      }
    }
    return oo;
  }

  public static FhirException badRequest(String diagnostics) {
    return new FhirException(400, IssueType.INVALID, diagnostics);
  }

  public static FhirException badRequest(String diagnostics, String expression) {
    return new FhirException(400,
        List.of(new Issue(IssueSeverity.ERROR, IssueType.INVALID, diagnostics, expression)), Map.of(), null);
  }

  public static FhirException unauthorized(String diagnostics) {
    return new FhirException(401, IssueType.LOGIN, diagnostics);
  }

  public static FhirException forbidden(String diagnostics) {
    return new FhirException(403, IssueType.FORBIDDEN, diagnostics);
  }

  public static FhirException notFound(String diagnostics) {
    return new FhirException(404, IssueType.NOTFOUND, diagnostics);
  }

  public static FhirException methodNotAllowed(String diagnostics) {
    return new FhirException(405, IssueType.NOTSUPPORTED, diagnostics);
  }

  public static FhirException notAcceptable(String diagnostics) {
    return new FhirException(406, IssueType.NOTSUPPORTED, diagnostics);
  }

  public static FhirException conflict(String diagnostics) {
    return new FhirException(409, IssueType.CONFLICT, diagnostics);
  }

  public static FhirException gone(String diagnostics) {
    return new FhirException(410, IssueType.DELETED, diagnostics);
  }

  public static FhirException preconditionFailed(String diagnostics) {
    return new FhirException(412, IssueType.CONFLICT, diagnostics);
  }

  public static FhirException tooLarge(String diagnostics) {
    return new FhirException(413, IssueType.TOOCOSTLY, diagnostics);
  }

  public static FhirException unsupportedMediaType(String diagnostics) {
    return new FhirException(415, IssueType.NOTSUPPORTED, diagnostics);
  }

  public static FhirException rangeNotSatisfiable(long length) {
    return new FhirException(416, IssueType.INVALID, "requested range not satisfiable; content length is " + length)
        .withHeader("Content-Range", "bytes */" + length);
  }

  public static FhirException unprocessable(String diagnostics) {
    return new FhirException(422, IssueType.PROCESSING, diagnostics);
  }

  public static FhirException tooManyRequests(String diagnostics, long retryAfterSeconds) {
    return new FhirException(429, IssueType.THROTTLED, diagnostics)
        .withHeader("Retry-After", Long.toString(retryAfterSeconds));
  }
}
