package org.fhirbox.core;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.r4.model.OperationOutcome.OperationOutcomeIssueComponent;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;

/**
 * The one error type of the server: an {@link IssueKind} (a FHIR issue type and the HTTP status
 * that goes with it) and diagnostics that are safe to show the caller. The HTTP layer's error
 * mapper turns it into an OperationOutcome. Messages must never contain secrets (tokens,
 * signatures, client secrets).
 */
public final class FhirException extends RuntimeException {
  /** One issue of the OperationOutcome. {@code expression} is a FHIRPath location or null. */
  public record Issue(IssueSeverity severity, IssueType type, String diagnostics, String expression) {}

  private final IssueKind kind;
  private final List<Issue> issues;
  private final Map<String, String> headers;

  public FhirException(IssueKind kind, String diagnostics) {
    this(kind, List.of(new Issue(IssueSeverity.ERROR, kind.type(), diagnostics, null)), Map.of(), null);
  }

  public FhirException(IssueKind kind, String diagnostics, Throwable cause) {
    this(kind, List.of(new Issue(IssueSeverity.ERROR, kind.type(), diagnostics, null)), Map.of(), cause);
  }

  /**
   * Several issues may name finer issue types than the kind's own (a 400 listing {@code value},
   * {@code security} and {@code structure} problems of one body), but none that belongs to a kind
   * of another status.
   *
   * @throws IllegalArgumentException when an error issue's type belongs only to kinds of another
   *     status than {@code kind}'s (a {@code not-found} issue in a 400, say)
   */
  public FhirException(IssueKind kind, List<Issue> issues, Map<String, String> headers, Throwable cause) {
    super(issues.isEmpty() ? "error" : issues.get(0).diagnostics(), cause);
    for (Issue i : issues) {
      if ((i.severity() == IssueSeverity.ERROR || i.severity() == IssueSeverity.FATAL)
          && !kind.admits(i.type())) {
        throw new IllegalArgumentException("issue type " + i.type().toCode() + " disagrees with " + kind);
      }
    }
    this.kind = kind;
    this.issues = List.copyOf(issues);
    this.headers = Map.copyOf(headers);
  }

  public IssueKind kind() {
    return kind;
  }

  /** The HTTP status, which the kind decides. */
  public int status() {
    return kind.status();
  }

  public List<Issue> issues() {
    return issues;
  }

  /** Extra response headers, e.g. {@code Content-Range} on 416 or {@code WWW-Authenticate} on 401. */
  public Map<String, String> headers() {
    return headers;
  }

  public FhirException withHeader(String name, String value) {
    Map<String, String> h = new HashMap<>(headers);
    h.put(name, value);
    return new FhirException(kind, issues, h, getCause());
  }

  /** The OperationOutcome that tells the caller about this error. */
  public OperationOutcome toOperationOutcome() {
    OperationOutcome oo = new OperationOutcome();
    for (Issue i : issues) {
      OperationOutcomeIssueComponent c = oo.addIssue()
          .setSeverity(i.severity()).setCode(i.type()).setDiagnostics(i.diagnostics());
      if (i.expression() != null) {
        c.addExpression(i.expression());
      }
    }
    return oo;
  }

  public static FhirException badRequest(String diagnostics) {
    return new FhirException(IssueKind.INVALID, diagnostics);
  }

  public static FhirException badRequest(String diagnostics, String expression) {
    return new FhirException(IssueKind.INVALID,
        List.of(new Issue(IssueSeverity.ERROR, IssueType.INVALID, diagnostics, expression)), Map.of(), null);
  }

  public static FhirException unauthorized(String diagnostics) {
    return new FhirException(IssueKind.LOGIN, diagnostics);
  }

  public static FhirException forbidden(String diagnostics) {
    return new FhirException(IssueKind.FORBIDDEN, diagnostics);
  }

  /**
   * 403 for an access token that lacks the scope a request needs, with the challenge RFC 6750 §3
   * asks for then ({@code error="insufficient_scope"}). Not for refusals that another scope would not
   * lift (a securityContext, a patient compartment).
   */
  public static FhirException insufficientScope(String diagnostics) {
    return forbidden(diagnostics).withHeader("WWW-Authenticate", "Bearer realm=\"fhirbox\", error=\"insufficient_scope\"");
  }

  public static FhirException notFound(String diagnostics) {
    return new FhirException(IssueKind.NOT_FOUND, diagnostics);
  }

  /**
   * 405 with the {@code Allow} header listing {@code allowed}: RFC 9110 §15.5.6 says the origin
   * server must send it, so there is no 405 without it.
   */
  public static FhirException methodNotAllowed(String diagnostics, String first, String... more) {
    StringBuilder allow = new StringBuilder(first);
    for (String m : more) {
      allow.append(", ").append(m);
    }
    return new FhirException(IssueKind.METHOD_NOT_ALLOWED, diagnostics).withHeader("Allow", allow.toString());
  }

  public static FhirException notAcceptable(String diagnostics) {
    return new FhirException(IssueKind.NOT_ACCEPTABLE, diagnostics);
  }

  public static FhirException conflict(String diagnostics) {
    return new FhirException(IssueKind.CONFLICT, diagnostics);
  }

  public static FhirException gone(String diagnostics) {
    return new FhirException(IssueKind.DELETED, diagnostics);
  }

  public static FhirException preconditionFailed(String diagnostics) {
    return new FhirException(IssueKind.PRECONDITION_FAILED, diagnostics);
  }

  public static FhirException tooLarge(String diagnostics) {
    return new FhirException(IssueKind.TOO_COSTLY, diagnostics);
  }

  public static FhirException unsupportedMediaType(String diagnostics) {
    return new FhirException(IssueKind.UNSUPPORTED_MEDIA_TYPE, diagnostics);
  }

  public static FhirException rangeNotSatisfiable(long length) {
    return new FhirException(IssueKind.RANGE_NOT_SATISFIABLE,
        "requested range not satisfiable; content length is " + length)
        .withHeader("Content-Range", "bytes */" + length);
  }

  public static FhirException unprocessable(String diagnostics) {
    return new FhirException(IssueKind.UNPROCESSABLE, diagnostics);
  }

  /** 423 with {@code Retry-After}: another request holds what this one needs, for a while. */
  public static FhirException locked(String diagnostics, long retryAfterSeconds) {
    return new FhirException(IssueKind.LOCKED, diagnostics)
        .withHeader("Retry-After", Long.toString(retryAfterSeconds));
  }

  public static FhirException tooManyRequests(String diagnostics, long retryAfterSeconds) {
    return new FhirException(IssueKind.THROTTLED, diagnostics)
        .withHeader("Retry-After", Long.toString(retryAfterSeconds));
  }

  /**
   * 503 with {@code Retry-After} (RFC 9110 §10.2.3): a backend cannot serve now, through no fault
   * of the caller's.
   */
  public static FhirException unavailable(String diagnostics, long retryAfterSeconds, Throwable cause) {
    return new FhirException(IssueKind.UNAVAILABLE, diagnostics, cause)
        .withHeader("Retry-After", Long.toString(retryAfterSeconds));
  }
}
