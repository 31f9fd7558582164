package org.fhirbox.http;

import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.fhirbox.core.FhirException;
import org.fhirbox.fhir.FhirCodec;
import org.fhirbox.fhir.FhirFormat;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that turns failures into HTTP: a {@link FhirException} becomes its status and an
 * OperationOutcome; anything else becomes a 500 whose outcome carries an id that is also logged.
 */
public final class ErrorMapper {
  private static final Logger LOG = LoggerFactory.getLogger(ErrorMapper.class);
  private final FhirCodec codec;

  public ErrorMapper(FhirCodec codec) {
    this.codec = codec;
  }

  public FhirException translate(Throwable t) {
    if (t instanceof FhirException fe) {
      return fe;
    }
    java.util.Optional<FhirException> clients = ClientAbort.classify(t);
    if (clients.isPresent()) {
      return clients.get();
    }
    String id = UUID.randomUUID().toString();
    LOG.error("unexpected error {}", id, t);
    return new FhirException(500, IssueType.EXCEPTION, "internal error; reference " + id);
  }

  /** Writes the error unless the response is already committed (then the connection is cut). */
  public void write(Throwable t, HttpServletResponse resp, FhirFormat format) throws IOException {
    FhirException e = translate(t);
    if (resp.isCommitted()) {
      LOG.debug("response already committed; aborting connection after {}", e.getMessage());
      throw new CommittedAbort("response committed before error: " + e.getMessage());
    }
    // reset() drops every header; CORS headers must survive so browsers can read the error.
    java.util.Map<String, String> cors = new java.util.HashMap<>();
    for (String h : resp.getHeaderNames()) {
      if (h.startsWith("Access-Control-") || h.equals("Vary")) {
        cors.put(h, resp.getHeader(h));
      }
    }
    resp.reset();
    cors.forEach(resp::setHeader);
    resp.setStatus(e.status());
    e.headers().forEach(resp::setHeader);
    if (e.status() == 401 && !e.headers().containsKey("WWW-Authenticate")) {
      resp.setHeader("WWW-Authenticate", "Bearer realm=\"fhirbox\"");
    }
    resp.setHeader("X-Content-Type-Options", "nosniff");
    resp.setHeader("Cache-Control", "no-store");
    FhirFormat f = format == null ? FhirFormat.JSON : format;
    resp.setContentType(f.contentType() + ";charset=utf-8");
    byte[] body = body(e, f);
    resp.setContentLength(body.length);
    resp.getOutputStream().write(body);
  }

  /** The OperationOutcome of {@code e}, encoded; for errors the servlet never sees (Jetty's own). */
  public byte[] body(FhirException e, FhirFormat format) {
    return codec.encode(e.toOperationOutcome(), format, false).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Cuts a connection whose response had begun. Quiet for Jetty, which would log it again at WARN:
   * {@link #translate} has already logged the cause.
   */
  private static final class CommittedAbort extends IOException implements org.eclipse.jetty.io.QuietException {
    CommittedAbort(String message) {
      super(message);
    }
  }

  /** An informational outcome (e.g. the body of a successful delete). */
  public static OperationOutcome info(String diagnostics) {
    OperationOutcome oo = new OperationOutcome();
    oo.addIssue().setSeverity(IssueSeverity.INFORMATION).setCode(IssueType.INFORMATIONAL).setDiagnostics(diagnostics);
    return oo;
  }
}
