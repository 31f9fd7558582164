package org.fhirbox.core;

import org.hl7.fhir.r4.model.OperationOutcome.IssueType;

/**
 * The kinds of error the server answers, each a FHIR issue type (R4 valueset-issue-type) with the
 * one HTTP status it goes with, so that the two cannot disagree. Several statuses share an issue
 * type (405, 406 and 415 are all {@code not-supported}), which is why the kind, not the type,
 * is what an error names.
 */
public enum IssueKind {
  INVALID(400, IssueType.INVALID),
  /** The body is not well-formed FHIR (R4 json.html, xml.html). */
  STRUCTURE(400, IssueType.STRUCTURE),
  /** The body ended before its end; nothing was stored. */
  INCOMPLETE(400, IssueType.INCOMPLETE),
  LOGIN(401, IssueType.LOGIN),
  FORBIDDEN(403, IssueType.FORBIDDEN),
  NOT_FOUND(404, IssueType.NOTFOUND),
  METHOD_NOT_ALLOWED(405, IssueType.NOTSUPPORTED),
  NOT_ACCEPTABLE(406, IssueType.NOTSUPPORTED),
  /** The client took too long to send its request (Jetty's idle timeout). */
  REQUEST_TIMEOUT(408, IssueType.TIMEOUT),
  CONFLICT(409, IssueType.CONFLICT),
  DELETED(410, IssueType.DELETED),
  /** {@code If-Match} named another version (FHIR R4 http.html#concurrency). */
  PRECONDITION_FAILED(412, IssueType.CONFLICT),
  TOO_COSTLY(413, IssueType.TOOCOSTLY),
  URI_TOO_LONG(414, IssueType.TOOCOSTLY),
  UNSUPPORTED_MEDIA_TYPE(415, IssueType.NOTSUPPORTED),
  /** RFC 9110 §15.5.17. */
  RANGE_NOT_SATISFIABLE(416, IssueType.INVALID),
  UNPROCESSABLE(422, IssueType.PROCESSING),
  /** Another request holds what this one needs (RFC 4918 §11.3; tus servers say so of a busy upload). */
  LOCKED(423, IssueType.LOCKERROR),
  THROTTLED(429, IssueType.THROTTLED),
  HEADERS_TOO_LARGE(431, IssueType.TOOCOSTLY),
  /** A tus chunk did not match its {@code Upload-Checksum} (tus 1.0.0, Checksum extension). */
  CHECKSUM_MISMATCH(460, IssueType.INVALID),
  EXCEPTION(500, IssueType.EXCEPTION),
  NOT_IMPLEMENTED(501, IssueType.NOTSUPPORTED),
  /** A server this one fetched from failed (RFC 9110 §15.6.3). */
  UPSTREAM_FAILED(502, IssueType.TRANSIENT),
  /** A part the server depends on (database, blob store) cannot serve now; the caller may retry. */
  UNAVAILABLE(503, IssueType.TRANSIENT),
  GATEWAY_TIMEOUT(504, IssueType.TIMEOUT),
  HTTP_VERSION_NOT_SUPPORTED(505, IssueType.NOTSUPPORTED);

  private final int status;
  private final IssueType type;

  IssueKind(int status, IssueType type) {
    this.status = status;
    this.type = type;
  }

  public int status() {
    return status;
  }

  public IssueType type() {
    return type;
  }

  /**
   * Whether an issue of {@code type} may stand in an error of this kind: its own type, or a type
   * no kind of another status claims (FHIR's finer codes such as {@code value} or {@code security}).
   */
  boolean admits(IssueType type) {
    boolean claimed = false;
    for (IssueKind k : values()) {
      if (k.type == type) {
        if (k.status == status) {
          return true;
        }
        claimed = true;
      }
    }
    return !claimed;
  }

  /**
   * The kind for a status decided elsewhere (Jetty's own errors): the first kind with that
   * status, or {@link #INVALID} / {@link #EXCEPTION} for a 4xx / 5xx without a kind of its own.
   */
  public static IssueKind forStatus(int status) {
    for (IssueKind k : values()) {
      if (k.status == status) {
        return k;
      }
    }
    return status >= 500 ? EXCEPTION : INVALID;
  }
}
