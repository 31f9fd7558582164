package org.fhirbox.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.fhirbox.core.BackendException;
import org.fhirbox.core.FhirException;
import org.fhirbox.core.IssueKind;
import org.fhirbox.fhir.FhirCodec;
import org.fhirbox.fhir.FhirFormat;
import org.fhirbox.storage.BlobStoreOutage;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that turns failures into HTTP: a {@link FhirException} becomes its status and an
 * OperationOutcome; a backend that cannot serve now (database unreachable or full, blob store
 * disk full, bucket missing or denied) a 503 with {@code Retry-After}; a write that lost a race
 * with a concurrent one a 409; anything else a 500. A 503 or 500 outcome carries an id that is
 * also logged with the cause.
 */
public final class ErrorMapper {
  private static final Logger LOG = LoggerFactory.getLogger(ErrorMapper.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  /** How long a caller is asked to wait after a 503: long enough for a database fail-over or restart to begin. */
  static final long RETRY_AFTER_SECONDS = 10;
  private final FhirCodec codec;

  public ErrorMapper(FhirCodec codec) {
    this.codec = codec;
  }

  public FhirException translate(Throwable t) {
    if (t instanceof FhirException fe) {
      // a body that crawled or stopped, which the layer reading it answered as cut short
      return fe.status() == 400 && fe.getCause() != null ? ClientAbort.timedOut(fe.getCause()).orElse(fe) : fe;
    }
    Optional<FhirException> clients = ClientAbort.classify(t);
    if (clients.isPresent()) {
      return clients.get();
    }
    BackendException backend = backendCause(t);
    if (backend != null && backend.kind() == BackendException.Kind.INVALID_VALUE) {
      LOG.info("the database refused a value of the request: {}", backend.getCause() == null ? backend.getMessage()
          : backend.getCause().getMessage());
      return FhirException.badRequest("the request holds a value the database cannot store or compare, such as"
          + " the character U+0000 in text");
    }
    if (backend != null && backend.kind() == BackendException.Kind.CONFLICT) {
      LOG.debug("conflicting concurrent write", t);
      return FhirException.conflict("a concurrent request changed the same data; repeat the request");
    }
    Optional<String> outage = backend != null && backend.kind() == BackendException.Kind.UNAVAILABLE
        ? Optional.of("the database is unavailable (unreachable, out of connections or out of space)")
        : BlobStoreOutage.of(t);
    String id = UUID.randomUUID().toString();
    if (outage.isPresent()) {
      LOG.warn("{}; answered 503, reference {}", outage.get(), id, t);
      return FhirException.unavailable(outage.get() + "; try again later; reference " + id, RETRY_AFTER_SECONDS, t);
    }
    LOG.error("unexpected error {}", id, t);
    return new FhirException(IssueKind.EXCEPTION, "internal error; reference " + id);
  }

  private static BackendException backendCause(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof BackendException b) {
        return b;
      }
    }
    return null;
  }

  /**
   * Writes {@code e} (what {@link #translate} made of the failure) as an OperationOutcome in
   * {@code format}, indented when {@code pretty}: as any other answer to the request (R4
   * http.html#parameters, {@code _format} and {@code _pretty}).
   */
  public void write(FhirException e, HttpServletResponse resp, FhirFormat format, boolean pretty) throws IOException {
    prepare(e, resp);
    FhirFormat f = format == null ? FhirFormat.JSON : format;
    resp.setContentType(f.contentType() + ";charset=utf-8");
    byte[] body = codec.encode(e.toOperationOutcome(), f, pretty).getBytes(StandardCharsets.UTF_8);
    resp.setContentLength(body.length);
    resp.getOutputStream().write(body);
  }

  /**
   * The same failure as OAuth JSON, for the endpoints that speak it ({@link OAuthRoutes#answersOAuthJson}):
   * {@code invalid_request} for a 4xx (RFC 6749 §5.2), {@code temporarily_unavailable} or
   * {@code server_error} for a 5xx (§4.1.2.1), the diagnostics as {@code error_description}.
   */
  void writeOAuth(FhirException e, HttpServletResponse resp) throws IOException {
    prepare(e, resp);
    byte[] body = oauthBody(e);
    resp.setContentType("application/json;charset=utf-8");
    resp.setContentLength(body.length);
    resp.getOutputStream().write(body);
  }

  /** The OAuth JSON error object of {@code e}, as {@link #writeOAuth} sends it; also for Jetty's own errors. */
  static byte[] oauthBody(FhirException e) {
    String error = e.status() < 500 ? "invalid_request" : e.status() == 503 ? "temporarily_unavailable" : "server_error";
    Map<String, String> json = new LinkedHashMap<>();
    json.put("error", error);
    json.put("error_description", OAuthError.description(e.getMessage()));
    try {
      return JSON.writeValueAsBytes(json);
    } catch (IOException x) {
      throw new IllegalStateException("two strings did not encode as JSON", x);
    }
  }

  /** Resets the response to {@code e}'s status and headers, keeping those every answer of its route needs. */
  private void prepare(FhirException e, HttpServletResponse resp) throws IOException {
    if (resp.isCommitted()) {
      LOG.debug("response already committed; aborting connection after {}", e.getMessage());
      throw new CommittedAbort("response committed before error: " + e.getMessage());
    }
    // reset() drops every header; CORS headers must survive so browsers can read the error,
    // tus 1.0.0 wants Tus-Resumable on every response of its routes, and a route whose URLs hold a
    // secret sends Referrer-Policy on every answer, as a route of uploaded content sends its
    // Content-Security-Policy, and every answer behind https its Strict-Transport-Security. Every Vary field stays (Origin from CORS, Accept from the FHIR
    // routes), as the error is chosen by them too.
    Map<String, List<String>> cors = new LinkedHashMap<>();
    for (String h : resp.getHeaderNames()) {
      if (h.startsWith("Access-Control-") || h.equalsIgnoreCase("Vary") || h.equalsIgnoreCase("Tus-Resumable")
          || h.equalsIgnoreCase("Referrer-Policy") || h.equalsIgnoreCase("Content-Security-Policy")
          || h.equalsIgnoreCase("Strict-Transport-Security")) {
        cors.put(h, List.copyOf(resp.getHeaders(h)));
      }
    }
    resp.reset();
    cors.forEach((h, values) -> values.forEach(v -> resp.addHeader(h, v)));
    resp.setStatus(e.status());
    e.headers().forEach(resp::setHeader);
    if (e.status() == 401 && !e.headers().containsKey("WWW-Authenticate")) {
      resp.setHeader("WWW-Authenticate", "Bearer realm=\"fhirbox\"");
    }
    resp.setHeader("X-Content-Type-Options", "nosniff");
    resp.setHeader("Cache-Control", "no-store");
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
