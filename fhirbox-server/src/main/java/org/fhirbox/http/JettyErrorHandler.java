package org.fhirbox.http;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.fhirbox.fhir.QueryLimits;
import org.fhirbox.core.FhirException;
import org.fhirbox.core.IssueKind;
import org.fhirbox.fhir.FhirFormat;

/**
 * The errors Jetty answers itself, before or around the servlet: a malformed request line, an
 * unknown HTTP version, a URI or headers too large (414, 431), an ambiguous path such as
 * {@code Patient/a%2Fb} (400), a failure escaping the servlet. Jetty would write an HTML page;
 * this writes the FHIR OperationOutcome of {@link ErrorMapper}, as every other error of the server,
 * but on the OAuth routes what they answer every other failure with: the OAuth JSON error of the
 * token, revocation, introspection and userinfo endpoints, the error page of the sign-in pages.
 * Installed on the server and on the servlet context.
 */
public final class JettyErrorHandler extends ErrorHandler {
  private static final HttpField CONTENT_TYPE =
      new HttpField(HttpHeader.CONTENT_TYPE, FhirFormat.JSON.contentType() + ";charset=utf-8");
  private static final Map<String, String> OAUTH_JSON_HEADERS = Map.of("Content-Type", "application/json;charset=utf-8",
      "Cache-Control", "no-store", "Pragma", "no-cache", "X-Content-Type-Options", "nosniff");
  private final ErrorMapper errors;
  private final Cors cors;
  private final Supplier<String> baseUrl;

  /**
   * @param cors the servlet's, so that these errors are readable by the origins its answers are
   * @param baseUrl the public base URL, whose scheme decides {@link StrictTransport} as for the servlet's answers
   */
  public JettyErrorHandler(ErrorMapper errors, Cors cors, Supplier<String> baseUrl) {
    this.errors = errors;
    this.cors = cors;
    this.baseUrl = baseUrl;
  }

  /**
   * Every method gets the outcome: Jetty writes error bodies for GET, POST and HEAD only, which
   * would leave a PUT, PATCH, DELETE or OPTIONS that Jetty refuses (an ambiguous path, say) with
   * an empty body. HEAD's body is never sent.
   */
  @Override
  public boolean errorPageForMethod(String method) {
    return true;
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    int status = response.getStatus();
    if (HttpStatus.hasNoBody(status) || !errorPageForMethod(request.getMethod())) {
      callback.succeeded();
      return true;
    }
    Throwable cause = (Throwable) request.getAttribute(ERROR_EXCEPTION);
    String message = (String) request.getAttribute(ERROR_MESSAGE);
    FhirException e = status >= 500 && cause != null && !(cause instanceof HttpException)
        ? errors.translate(cause) // a fault of the server: logged with the id the caller sees
        : outcome(status, message);
    byte[] body = errors.body(e, FhirFormat.JSON);
    HttpFields.Mutable fields = response.getHeaders();
    if (Cors.appliesToRawPath(request.getHttpURI().getPath())) {
      // the CORS of the route the request named, as the servlet's errors carry it; a request Jetty
      // could not parse (414, 431) keeps none of its headers, so only * allows it then
      cors.applyToAnswer(request.getHeaders().get(HttpHeader.ORIGIN), fields::put, (name, value) -> {
        if (!fields.contains(name, value)) {
          fields.add(name, value);
        }
      });
    }
    if (StrictTransport.appliesTo(baseUrl.get())) {
      fields.put(StrictTransport.HEADER, StrictTransport.VALUE);
    }
    if (TusRoutes.handles(Cors.rawSegments(request.getHttpURI().getPath()))) {
      // tus 1.0.0 wants Tus-Resumable on every response, also to a request refused here (its
      // Upload-Metadata too large for the headers, say), as the servlet's errors carry it
      fields.put("Tus-Resumable", TusRoutes.VERSION);
    }
    List<String> path = Cors.rawSegments(request.getHttpURI().getPath());
    if (OAuthRoutes.answersOAuthJson(path) || OAuthRoutes.answersPages(path)) {
      // the OAuth routes answer as they answer every other failure: JSON (RFC 6749 §5.2) or their page
      boolean json = OAuthRoutes.answersOAuthJson(path);
      byte[] oauth = json ? ErrorMapper.oauthBody(e) : SignInPages.errorPageBytes(HttpStatus.getMessage(status),
          e.getMessage());
      (json ? OAUTH_JSON_HEADERS : SignInPages.pageHeaders(null)).forEach(fields::put);
      fields.put(HttpHeader.CONTENT_LENGTH, oauth.length);
      response.write(true, ByteBuffer.wrap(oauth), callback);
      return true;
    }
    response.getHeaders().put(CONTENT_TYPE);
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
    response.getHeaders().put("X-Content-Type-Options", "nosniff");
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
    response.write(true, ByteBuffer.wrap(body), callback);
    return true;
  }

  /** The body of an answer Jetty gives while parsing, before a request exists (bad request line, 431). */
  @Override
  public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
    fields.put(CONTENT_TYPE);
    fields.put(HttpHeader.CACHE_CONTROL, "no-store");
    fields.put("X-Content-Type-Options", "nosniff");
    return ByteBuffer.wrap(errors.body(outcome(status, reason), FhirFormat.JSON));
  }

  /** Jetty's status kept as is, with the issue kind that names it (FHIR R4 valueset-issue-type). */
  static FhirException outcome(int status, String message) {
    String reason = HttpStatus.getMessage(status);
    String diagnostics = message == null || message.isBlank() || message.equals(reason)
        ? reason : reason + ": " + QueryLimits.shorten(message);
    return new FhirException(IssueKind.forStatus(status), diagnostics);
  }
}
