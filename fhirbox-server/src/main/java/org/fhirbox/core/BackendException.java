package org.fhirbox.core;

/**
 * A failure of a backend the server depends on (the database, the blob store), classified by
 * what the caller can do about it. The HTTP error mapper answers {@link Kind#CONFLICT} with 409,
 * {@link Kind#UNAVAILABLE} with 503 and {@code Retry-After}, {@link Kind#INVALID_VALUE} with 400, and
 * {@link Kind#FAULT} with 500.
 */
public class BackendException extends RuntimeException {
  /** What the failure means for the request. */
  public enum Kind {
    /** A concurrent request changed the same data; the request may be repeated. */
    CONFLICT,
    /** The backend cannot serve now (unreachable, full, refusing); not the caller's fault. */
    UNAVAILABLE,
    /**
     * The request carried a value the backend cannot store or compare (PostgreSQL refuses the
     * character U+0000 in text); the caller's fault.
     */
    INVALID_VALUE,
    /** Anything else: a defect or a failure nobody can act on from outside. */
    FAULT
  }

  private final Kind kind;

  public BackendException(String message, Kind kind, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
