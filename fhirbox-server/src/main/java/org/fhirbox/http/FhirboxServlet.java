package org.fhirbox.http;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.fhirbox.core.FhirException;
import org.fhirbox.auth.Principal;
import org.fhirbox.fhir.QueryString;
import org.fhirbox.storage.HeldWrites;

/** Mounts every route in one readable block. */
public final class FhirboxServlet extends HttpServlet {
  /** Finds who is calling, or throws 401. */
  public interface Authenticator {
    Principal authenticate(Exchange ex);
  }

  private final java.util.function.Supplier<String> baseUrl;
  private final FhirRoutes fhir;
  private final StorageRoutes storage;
  private final Cors cors;
  private final Authenticator authenticator;
  private final ErrorMapper errors;
  private final List<ReadinessCheck> readiness;
  private final OAuthRoutes oauth;
  private final AdminRoutes admin;
  private final JobRoutes jobs;
  private final AccountRoutes account;
  private final TusRoutes tus;
  private final AppRoutes app;

  public FhirboxServlet(java.util.function.Supplier<String> baseUrl, FhirRoutes fhir, StorageRoutes storage,
      Cors cors, Authenticator authenticator, OAuthRoutes oauth, AdminRoutes admin, ErrorMapper errors,
      List<ReadinessCheck> readiness, JobRoutes jobs, AccountRoutes account, TusRoutes tus, AppRoutes app) {
    this.baseUrl = baseUrl;
    this.fhir = fhir;
    this.storage = storage;
    this.cors = cors;
    this.authenticator = authenticator;
    this.oauth = oauth;
    this.admin = admin;
    this.errors = errors;
    this.readiness = List.copyOf(readiness);
    this.jobs = jobs;
    this.account = account;
    this.tus = tus;
    this.app = app;
  }

  /**
   * Serves one request as one unit of work ({@link HeldWrites}): what it stored stays leased until
   * it has committed or discarded it.
   */
  @Override
  protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
    try (HeldWrites.Unit unit = HeldWrites.begin()) {
      serve(req, resp);
    }
  }

  private void serve(HttpServletRequest req, HttpServletResponse resp) throws IOException {
    Exchange ex = new Exchange(req, resp, baseUrl.get());
    if (StrictTransport.appliesTo(ex.baseUrl())) {
      // a browser ignores the field on an http answer, so a node behind a TLS proxy sends it too
      resp.setHeader(StrictTransport.HEADER, StrictTransport.VALUE);
    }
    List<String> path = List.of();
    try {
      try {
        path = segments(req.getRequestURI());
      } catch (FhirException e) {
        // a malformed path is refused as any route's error is, readable by an allowed origin
        if (cors.apply(req, resp)) {
          return;
        }
        throw e;
      }
      if (Cors.appliesTo(path) && cors.apply(req, resp)) {
        return;
      }
      route(ex, path);
    } catch (Throwable t) {
      if (t instanceof Error err && !(t instanceof OutOfMemoryError)) {
        throw err;
      }
      FhirException e = errors.translate(t);
      if (!e.headers().containsKey("Connection") && !ex.settleUnreadBody()) {
        e = e.withHeader("Connection", "close");
      }
      if (OAuthRoutes.answersOAuthJson(path)) {
        errors.writeOAuth(e, resp);
      } else {
        errors.write(e, resp, ex.formatForErrors(), AnswerFormat.prettyForErrors(ex));
      }
      ex.drainRefusedBody();
    }
  }

  private void route(Exchange ex, List<String> path) throws IOException {
    // RFC 9110 §14.5: a PUT with Content-Range is a partial PUT, its body a piece of the content.
    // No route takes pieces that way (tus takes them with PATCH and Upload-Offset); stored as the
    // whole, the piece would replace the content
    if (ex.method().equals("PUT") && ex.request().getHeader("Content-Range") != null) {
      throw FhirException.badRequest("a PUT sends the whole content; this server takes no partial PUT"
          + " (Content-Range, RFC 9110 §14.5): send the content without Content-Range, or upload it in"
          + " pieces with tus (Binary/$upload)");
    }
    if (path.size() == 1 && (path.get(0).equals("healthz") || path.get(0).equals("readyz"))) {
      if (!ex.method().equals("GET") && !ex.method().equals("HEAD")) {
        throw FhirException.methodNotAllowed(ex.method() + " is not allowed on /" + path.get(0) + "; use GET",
            "GET", "HEAD");
      }
      if (path.get(0).equals("healthz")) {
        plain(ex, 200, "ok");
      } else {
        ready(ex);
      }
      return;
    }
    if (app.handle(ex, path)) {
      return;
    }
    if (!path.isEmpty() && path.get(0).equals("storage")) {
      // an upload's bytes are content, never a FHIR body, whatever their type: an error answers in
      // the format the client asked for, else JSON (AnswerFormat)
      ex.bodyIsContent(true);
      storage.handle(ex, path.subList(1, path.size()));
      return;
    }
    if (oauth.handle(ex, path)) {
      return;
    }
    if (path.size() >= 2 && path.get(0).equals("admin") && path.get(1).equals("jobs")) {
      jobs.handle(ex, authenticator.authenticate(ex), path.subList(2, path.size()));
      return;
    }
    if (path.size() >= 1 && path.get(0).equals("account")) {
      account.handle(ex, path.subList(1, path.size()));
      return;
    }
    if (path.size() >= 1 && path.get(0).equals("admin")) {
      admin.handle(ex, authenticator.authenticate(ex), path.subList(1, path.size()));
      return;
    }
    // tus resumable uploads: OPTIONS needs no credentials (tus 1.0.0 discovery), the rest authenticate
    if (TusRoutes.handles(path)) {
      tus.handle(ex, authenticator, path.subList(4, path.size()));
      return;
    }
    if (path.size() >= 2 && path.get(0).equals("fhir") && path.get(1).equals("R4")) {
      List<String> rest = path.subList(2, path.size());
      // JSON or XML by Accept, and Binary content or its FHIR form: a cache must not answer one
      // with another (RFC 9110 §12.5.5); added to CORS's Vary: Origin, never replacing it
      ex.response().addHeader("Vary", "Accept");
      if (ex.method().equals("OPTIONS") && fhir.options(ex, rest)) {
        return;
      }
      if (rest.size() == 1 && rest.get(0).equals("metadata")) {
        fhir.metadata(ex);
        return;
      }
      if (rest.size() == 1 && rest.get(0).equals("$versions")) {
        fhir.versions(ex);
        return;
      }
      // Whatever a caller may read is stored nowhere (RFC 9111 §5.2.2.5): a browser's cache is
      // keyed by URL, not by Authorization, so it would show one token's answer to another, keep
      // a resource after a transaction changed it, and keep signed URLs past their expiry. A
      // route with a policy of its own (raw Binary content, revalidated by its ETag) replaces it.
      ex.response().setHeader("Cache-Control", "no-store");
      boolean binaryCreate = rest.size() == 1 && ex.method().equals("POST");
      boolean binaryUpdate = rest.size() == 2 && ex.method().equals("PUT") && !rest.get(1).startsWith("$")
          && !rest.get(1).startsWith("_");
      if (!rest.isEmpty() && rest.get(0).equals("Binary") && (binaryCreate || binaryUpdate)) {
        // a Binary's body is taken for raw content until BinaryRoutes.isContent finds a FHIR
        // Binary resource in it: an answer before that (401, a conditional create's match) does
        // not follow the format of a body that may be a CDA document
        ex.bodyIsContent(true);
      }
      fhir.handle(ex, authenticator.authenticate(ex), rest);
      return;
    }
    if (!path.isEmpty() && path.get(0).equals("auth")) {
      // Medplum's client posts its email and password sign-in to /auth/login (startLogin)
      throw FhirException.notFound("this server has no Medplum sign-in API (" + ex.request().getRequestURI()
          + "): a person signs in through /oauth2/authorize (authorization code with PKCE, as Medplum's"
          + " signInWithRedirect does), a client gets its token from /oauth2/token (startClientLogin)");
    }
    throw FhirException.notFound("no route for " + ex.request().getRequestURI());
  }

  /** {@code {"database":"up","blobStore":"down"}}: 200 when every check is up, else 503. */
  private void ready(Exchange ex) throws IOException {
    StringBuilder json = new StringBuilder("{");
    boolean all = true;
    for (ReadinessCheck check : readiness) {
      boolean up;
      try {
        up = check.up().getAsBoolean();
      } catch (RuntimeException e) {
        up = false;
      }
      all &= up;
      json.append(json.length() > 1 ? "," : "").append('"').append(check.name()).append("\":\"")
          .append(up ? "up" : "down").append('"');
    }
    ex.response().setStatus(all ? 200 : 503);
    ex.response().setHeader("Cache-Control", "no-store");
    ex.response().setContentType("application/json");
    ex.response().getWriter().write(json.append("}\n").toString());
  }

  private static void plain(Exchange ex, int status, String text) throws IOException {
    ex.response().setStatus(status);
    ex.response().setContentType("text/plain;charset=utf-8");
    ex.response().getWriter().write(text + "\n");
  }

  /** Splits a raw request URI path into decoded segments, rejecting traversal and odd encodings. */
  static List<String> segments(String uri) {
    List<String> out = new ArrayList<>();
    for (String s : uri.split("/")) {
      if (s.isEmpty()) {
        continue;
      }
      String d;
      try {
        d = java.net.URLDecoder.decode(s.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        throw FhirException.badRequest("malformed percent-encoding in the path (RFC 3986 §2.1)");
      }
      if (d.equals("..") || d.equals(".") || d.contains("/") || d.contains("\\")) {
        throw FhirException.badRequest("invalid path segment");
      }
      int bad = QueryString.controlCharacter(d, false);
      if (bad >= 0) {
        throw FhirException.badRequest("a path segment contains the control character U+" + String.format("%04X", bad));
      }
      out.add(d);
    }
    return out;
  }
}
