package org.fhirbox.client;

import java.net.ConnectException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;
import org.hl7.fhir.r4.model.OperationOutcome;

/**
 * The one exception the SDK throws: an HTTP error answer from the server (with its parsed
 * {@link OperationOutcome} when the body is one), or a transfer that failed without an answer
 * ({@link #status()} 0: connection failure after all retries, local I/O error, interruption).
 *
 * <p>Messages are built from the outcome's diagnostics and the request's method and path; they
 * never contain query strings (a signed URL's signature), tokens or secrets.
 *
 * <pre>{@code
 * try {
 *   client.readResource(Patient.class, "missing");
 * } catch (FhirboxException e) {
 *   if (e.status() == 404) {
 *     System.err.println(e.getMessage());
 *   }
 * }
 * }</pre>
 */
public final class FhirboxException extends RuntimeException {
  private final int status;
  private final transient OperationOutcome outcome;
  /** See {@link #otherHost()}; null for the server. */
  private final String otherHost;
  /** See {@link #repeated()}. */
  private boolean repeated;

  FhirboxException(int status, OperationOutcome outcome, String message, Throwable cause) {
    this(status, outcome, null, message, cause);
  }

  private FhirboxException(int status, OperationOutcome outcome, String otherHost, String message, Throwable cause) {
    super(message, cause);
    this.status = status;
    this.outcome = outcome;
    this.otherHost = otherHost;
  }

  static FhirboxException http(int status, OperationOutcome outcome, String method, String path) {
    return http(status, outcome, null, method, path);
  }

  /** {@code otherDetail}: what a body that is no OperationOutcome said (an OAuth2 error), or null. */
  static FhirboxException http(int status, OperationOutcome outcome, String otherDetail, String method, String path) {
    String detail = outcome != null ? diagnostics(outcome) : otherDetail == null ? "" : otherDetail;
    String msg = "HTTP " + status + " from " + method + " " + path + (detail.isEmpty() ? "" : ": " + detail);
    return new FhirboxException(status, outcome, msg, null);
  }

  /** A request to the server, named by {@code path}, that failed without an answer. */
  static FhirboxException transport(String method, String path, Throwable cause) {
    return transport(method, path, null, cause);
  }

  /**
   * A request that failed without an answer, named by {@code where} ({@link Endpoints#where});
   * {@code otherHost} the host it went to when that was not the server, else null.
   */
  static FhirboxException transport(String method, String where, String otherHost, Throwable cause) {
    return transport(method, where, otherHost, null, cause);
  }

  /** As {@link #transport(String, String, String, Throwable)}, told as {@code reason} when it is not null. */
  static FhirboxException transport(String method, String where, String otherHost, String reason, Throwable cause) {
    return new FhirboxException(0, null, otherHost,
        method + " " + where + " failed: " + (reason != null ? reason : reason(cause, otherHost != null)), cause);
  }

  /**
   * Why a request failed. The JDK's HTTP client reports an unknown host and a connection that
   * could not be made alike, as a ConnectException without a message (the unknown host an
   * UnresolvedAddressException beneath it), so these are named here; otherwise the first message
   * in the chain that is not merely a wrapper's (one that is its cause's class name and message,
   * as an UncheckedIOException's). {@code elsewhere}: the request went to another host than the server.
   */
  private static String reason(Throwable cause, boolean elsewhere) {
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof UnresolvedAddressException || t instanceof UnknownHostException) {
        return elsewhere ? "the host name is unknown" : "the server's host name is unknown";
      }
    }
    for (Throwable t = cause; t != null; t = t.getCause()) {
      String m = String.valueOf(t.getMessage());
      // the JDK's words for a connection that ended before the answer, and for a body whose
      // length was not the one given, said as what happened
      if (m.contains("header parser received no bytes")) {
        return (elsewhere ? "the host" : "the server") + " closed the connection without answering";
      }
      if (m.contains("Too few bytes returned by the publisher")) {
        return "the body sent ended before the length it was given";
      }
      if (m.contains("Too many bytes in request body")) {
        return "the body sent ran past the length it was given";
      }
    }
    for (Throwable t = cause; t != null; t = t.getCause()) {
      String m = t.getMessage();
      boolean wrapper = t.getCause() != null && m != null && m.equals(t.getCause().toString());
      if (m != null && !m.isBlank() && !wrapper) {
        return m;
      }
    }
    return cause instanceof ConnectException ? "the connection could not be made" : cause.getClass().getSimpleName();
  }

  static FhirboxException client(String message, Throwable cause) {
    return new FhirboxException(0, null, message, cause);
  }

  /**
   * Whether the answer came to a request sent again after an attempt whose outcome the client
   * never learnt (the answer lost, or a 429, 502, 503 or 504): a 409 or 412 may then be the first
   * attempt's own doing, which a caller can check by reading what it wrote.
   */
  boolean repeated() {
    return repeated;
  }

  FhirboxException repeated(boolean afterRetry) {
    this.repeated = afterRetry;
    return this;
  }

  /** A whole number the server sent ({@code what}: where); a malformed one is the server's fault, not the caller's. */
  static long serverNumber(String value, String what) {
    try {
      return Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      throw client("the server sent a malformed " + what + ": '" + value + "'", e);
    }
  }

  private static String diagnostics(OperationOutcome outcome) {
    return outcome.getIssue().stream()
        .map(i -> i.hasDiagnostics() ? i.getDiagnostics() : i.getDetails().getText())
        .filter(Objects::nonNull)
        .filter(s -> !s.isBlank())
        .collect(Collectors.joining("; "));
  }

  /**
   * The HTTP status of the server's answer, or 0 when there was none.
   *
   * <pre>{@code
   * try {
   *   client.updateResource(stalePatient);
   * } catch (FhirboxException e) {
   *   boolean conflict = e.status() == 412;
   * }
   * }</pre>
   */
  public int status() {
    return status;
  }

  /**
   * The host (with its port, when the URL names one) of a request that failed without an answer
   * ({@link #status()} 0) because it could not reach a host other than the fhirbox server: an
   * Attachment's URL elsewhere, a bucket's presigned URL, a link given to {@code download}. Empty
   * when the request went to the server (its host could not be reached, say) and for every
   * failure with an answer. So a caller can tell "the server is down" from "that file's host is".
   *
   * <pre>{@code
   * try {
   *   client.download("https://files.example.org/scan.pdf", Path.of("scan.pdf"));
   * } catch (FhirboxException e) {
   *   String unreachable = e.otherHost().orElse("the fhirbox server");
   *   System.err.println("cannot reach " + unreachable + ": " + e.getMessage());
   * }
   * }</pre>
   */
  public Optional<String> otherHost() {
    return Optional.ofNullable(otherHost);
  }

  /**
   * The OperationOutcome the server sent with the error, or null when the body was not one.
   *
   * <pre>{@code
   * try {
   *   client.createResource(new Patient().setGender(null));
   * } catch (FhirboxException e) {
   *   OperationOutcome oo = e.operationOutcome();
   *   if (oo != null) {
   *     oo.getIssue().forEach(i -> System.err.println(i.getCode() + ": " + i.getDiagnostics()));
   *   }
   * }
   * }</pre>
   */
  public OperationOutcome operationOutcome() {
    return outcome;
  }
}
