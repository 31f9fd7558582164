package org.fhirbox.http;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.io.EofException;
import org.fhirbox.core.FhirException;
import org.fhirbox.core.IssueKind;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Failures that are the client's doing, not the server's: a body cut short (fewer bytes than its
 * Content-Length, a chunked body without its last chunk), a malformed chunk, a connection closed
 * mid-request or mid-response. They are answered 400 when the connection still stands (a body sent
 * slower than {@link MinimumReadRate} allows, or that stopped for the connector's idle timeout, 408),
 * and logged at INFO: an operator's ERROR log is for faults of the server.
 */
final class ClientAbort {
  private static final Logger LOG = LoggerFactory.getLogger(ClientAbort.class);

  private ClientAbort() {
  }

  /** The 400 for a request body whose reading failed. */
  static FhirException truncatedBody(IOException e) {
    return classify(e).orElseGet(() -> incomplete(e));
  }

  /** The client-side failure {@code t} stands for, if it is one; logged at INFO. */
  static Optional<FhirException> classify(Throwable t) {
    Optional<FhirException> timedOut = timedOut(t);
    if (timedOut.isPresent()) {
      return timedOut;
    }
    for (Throwable c = t; c != null; c = c.getCause()) {
      // Jetty's EofException: the client's connection failed (reset, closed, a body cut short);
      // its "Early EOF" is also a 400 HttpException, and the first reading is meant. A plain
      // EOFException may be the server's own (a truncated blob), so it stays an error.
      if (c instanceof EofException) {
        return Optional.of(incomplete(t));
      }
      if (c instanceof HttpException h && h.getCode() >= 400 && h.getCode() < 500) {
        LOG.info("client sent a malformed request: {} {}", h.getCode(), h.getReason());
        return Optional.of(new FhirException(IssueKind.forStatus(h.getCode()), List.of(new FhirException.Issue(IssueSeverity.ERROR,
            IssueType.INVALID, "malformed request: " + (h.getReason() == null ? "bad message" : h.getReason()), null)),
            Map.of("Connection", "close"), t));
      }
    }
    return Optional.empty();
  }

  /**
   * The 408 for a body that arrived too slowly ({@link MinimumReadRate}) or stopped for the
   * connector's idle timeout, when {@code t} or a cause of it is one, as a read reported it or a
   * refusal that wraps it (an upload's "interrupted").
   */
  static Optional<FhirException> timedOut(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      String diagnostics = null;
      if (c instanceof MinimumReadRate.SlowBody slow) {
        diagnostics = slow.getMessage();
      } else if (c instanceof TimeoutException && String.valueOf(c.getMessage()).startsWith("Idle timeout expired")) {
        // Jetty's idle timeout, failing the read of a body that stopped arriving
        diagnostics = "the request body stopped arriving (" + c.getMessage() + ", FHIRBOX_IDLE_TIMEOUT)";
      }
      if (diagnostics != null) {
        LOG.info("client sent its request body too slowly: {}", diagnostics);
        return Optional.of(new FhirException(IssueKind.REQUEST_TIMEOUT, List.of(new FhirException.Issue(
            IssueSeverity.ERROR, IssueType.TIMEOUT, diagnostics + "; nothing was stored", null)),
            Map.of("Connection", "close"), t));
      }
    }
    return Optional.empty();
  }

  private static FhirException incomplete(Throwable t) {
    LOG.info("client went away or sent an incomplete request: {}", t.toString());
    return new FhirException(IssueKind.INCOMPLETE, List.of(new FhirException.Issue(IssueSeverity.ERROR, IssueType.INCOMPLETE,
        "the request body ended before its declared end (Content-Length or last chunk); nothing was stored",
        null)), Map.of("Connection", "close"), t);
  }
}
