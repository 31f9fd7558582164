package org.fhirbox.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.fhirbox.auth.PasswordLinks;
import org.fhirbox.auth.PasswordLinks.Closed;
import org.fhirbox.auth.PasswordLinks.Open;
import org.fhirbox.auth.PasswordLinks.PasswordSet;
import org.fhirbox.auth.User;
import org.fhirbox.auth.UserStore;
import org.fhirbox.core.FhirException;
import org.fhirbox.fhir.QueryString;
import org.fhirbox.fhir.FhirCodec;
import org.fhirbox.fhir.FhirFormat;

/**
 * The page where a person sets their password through a one-time link ({@link PasswordLinks}):
 * <pre>
 * GET  /account/set-password?token=T   the form (200), or why the link does not work (404, 410)
 * POST /account/set-password           form fields token, csrf, password, confirm
 * </pre>
 * A post is refused with 403 unless its {@code csrf} field matches its {@link CsrfCookie}; a
 * password outside 12 to 256 characters, or two that differ, give 400 and the form again with the
 * reason; a link that expired, was used or was replaced gives 410, an unknown one 404. Browsers get
 * each answer as a page; a caller that asks for JSON ({@code Accept: application/json} or
 * {@code application/fhir+json}, without {@code text/html}) gets an OperationOutcome.
 *
 * <p>The link's URL holds its token, so every answer sends {@code Referrer-Policy: no-referrer}
 * (and the page loads nothing that could receive a referrer), {@code Cache-Control: no-store}, and
 * a Content-Security-Policy with {@code frame-ancestors 'none'} and no script at all. The token is
 * never logged.
 */
public final class AccountRoutes {
  /** The page's path under the base URL; a link is {@code {base}account/set-password?token=...}. */
  public static final String SET_PASSWORD_PATH = "account/set-password";
  /** A form with two 256-character passwords, percent-encoded at worst, fits well. */
  private static final long MAX_FORM_BYTES = 16 * 1024;

  private final PasswordLinks links;
  private final CsrfCookie csrf = new CsrfCookie();
  private final FhirCodec codec;

  public AccountRoutes(PasswordLinks links, FhirCodec codec) {
    this.links = links;
    this.codec = codec;
  }

  /** The absolute set-password URL of a link, under the server's public base URL. */
  public static String setPasswordUrl(String baseUrl, PasswordLinks.Link link) {
    return baseUrl + SET_PASSWORD_PATH + "?token=" + link.token();
  }

  /** Dispatches {@code /account/...}; {@code segments} is the path after {@code /account/}. */
  public void handle(Exchange ex, List<String> segments) throws IOException {
    if (!segments.equals(List.of("set-password"))) {
      throw FhirException.notFound("no route for " + ex.request().getRequestURI());
    }
    switch (ex.method()) {
      case "GET", "HEAD" -> show(ex);
      case "POST" -> submit(ex);
      default -> throw FhirException.methodNotAllowed(ex.method() + " is not allowed here; use GET or POST",
          "GET", "HEAD", "POST");
    }
  }

  private void show(Exchange ex) throws IOException {
    String token = ex.param("token").orElse(null);
    if (token == null || token.isEmpty()) {
      noToken(ex);
      return;
    }
    PasswordLinks.Status status = links.check(token);
    if (status instanceof Closed closed) {
      closedLink(ex, closed);
      return;
    }
    Open open = (Open) status;
    form(ex, 200, open, token, null, SetPasswordPage.Field.NONE);
  }

  private void submit(Exchange ex) throws IOException {
    String type = ex.contentType() == null ? "" : ex.contentType().toLowerCase(Locale.ROOT);
    if (!type.startsWith("application/x-www-form-urlencoded")) {
      throw FhirException.unsupportedMediaType("post the form as application/x-www-form-urlencoded");
    }
    Map<String, List<String>> form = QueryString.parse(ex.body(MAX_FORM_BYTES));
    String token = first(form, "token");
    if (token == null || token.isEmpty()) {
      noToken(ex);
      return;
    }
    PasswordLinks.Status status = links.check(token);
    if (status instanceof Closed closed) {
      closedLink(ex, closed);
      return;
    }
    Open open = (Open) status;
    if (!csrf.matches(ex, first(form, CsrfCookie.FIELD))) {
      if (wantsJson(ex)) {
        throw FhirException.forbidden("the form's CSRF token is missing or does not match its cookie;"
            + " load the form again and post it from there");
      }
      form(ex, 403, open, token, "This form has expired, or your browser did not send its cookie."
          + " Please enter the password again.", SetPasswordPage.Field.NONE);
      return;
    }
    String password = first(form, "password");
    String confirm = first(form, "confirm");
    int length = password == null ? 0 : password.codePointCount(0, password.length());
    if (length < UserStore.MIN_PASSWORD || length > UserStore.MAX_PASSWORD) {
      invalid(ex, open, token, "The password needs " + UserStore.MIN_PASSWORD + " to " + UserStore.MAX_PASSWORD
          + " characters; this one has " + length + ".", SetPasswordPage.Field.PASSWORD, "password");
      return;
    }
    if (!password.equals(confirm)) {
      invalid(ex, open, token, "The two passwords do not match. Please enter the same password twice.",
          SetPasswordPage.Field.CONFIRM, "confirm");
      return;
    }
    PasswordLinks.Outcome outcome = links.setPassword(token, password);
    if (outcome instanceof Closed closed) {
      closedLink(ex, closed); // another request used the link a moment ago
      return;
    }
    User user = ((PasswordSet) outcome).user();
    csrf.clear(ex);
    if (wantsJson(ex)) {
      writeJsonInfo(ex, "the password of " + user.email() + " is set");
      return;
    }
    page(ex, 200, SetPasswordPage.message("Your password is set",
        "You can now sign in as " + user.email() + ". You may close this page."));
  }

  private void invalid(Exchange ex, Open open, String token, String message, SetPasswordPage.Field field,
      String expression) throws IOException {
    if (wantsJson(ex)) {
      throw FhirException.badRequest(message, expression);
    }
    form(ex, 400, open, token, message, field);
  }

  private void form(Exchange ex, int status, Open open, String token, String error, SetPasswordPage.Field field)
      throws IOException {
    String csrfValue = csrf.issue(ex);
    page(ex, status, SetPasswordPage.form(open.user().name(), open.user().email(), open.expires(), token, csrfValue,
        error, field));
  }

  private void noToken(Exchange ex) throws IOException {
    String text = "This page sets a password through the link you were sent. Open the whole link from your message.";
    if (wantsJson(ex)) {
      throw FhirException.badRequest("token is required: use the set-password link as it was issued", "token");
    }
    page(ex, 400, SetPasswordPage.message("A link is needed", text));
  }

  private void closedLink(Exchange ex, Closed closed) throws IOException {
    String title;
    String text;
    switch (closed.reason()) {
      case EXPIRED -> {
        title = "This link has expired";
        text = "A link to set a password works for 24 hours. Ask your administrator for a new one.";
      }
      case USED -> {
        title = "This link was already used";
        text = "A link sets a password once. If you did not set it, or have forgotten it, ask your administrator"
            + " for a new link.";
      }
      case REPLACED -> {
        title = "This link was replaced";
        text = "A newer link was issued for this account: use that one, or ask your administrator for a new one.";
      }
      case DISABLED -> {
        title = "This account is disabled";
        text = "A disabled account cannot sign in. Ask your administrator.";
      }
      default -> {
        title = "This link is not valid";
        text = "Check that you opened the whole link from your message, or ask your administrator for a new one.";
      }
    }
    if (wantsJson(ex)) {
      throw closed.reason() == PasswordLinks.Reason.UNKNOWN ? FhirException.notFound(title + ". " + text)
          : FhirException.gone(title + ". " + text);
    }
    page(ex, closed.reason() == PasswordLinks.Reason.UNKNOWN ? 404 : 410, SetPasswordPage.message(title, text));
  }

  /** JSON when asked for and HTML not: a browser's Accept always names text/html. */
  private static boolean wantsJson(Exchange ex) {
    String accept = ex.header("Accept");
    if (accept == null) {
      return false;
    }
    String a = accept.toLowerCase(Locale.ROOT);
    return !a.contains("text/html") && (a.contains("application/json") || a.contains("application/fhir+json"));
  }

  private static String first(Map<String, List<String>> form, String name) {
    List<String> v = form.get(name);
    return v == null || v.isEmpty() ? null : v.get(0);
  }

  private static void securityHeaders(Exchange ex) {
    ex.response().setHeader("Cache-Control", "no-store");
    ex.response().setHeader("Referrer-Policy", "no-referrer");
    ex.response().setHeader("X-Content-Type-Options", "nosniff");
  }

  private static void page(Exchange ex, int status, String html) throws IOException {
    securityHeaders(ex);
    ex.response().setHeader("Content-Security-Policy", SetPasswordPage.CONTENT_SECURITY_POLICY);
    // for browsers that predate frame-ancestors
    ex.response().setHeader("X-Frame-Options", "DENY");
    ex.response().setStatus(status);
    ex.response().setContentType("text/html;charset=utf-8");
    byte[] body = html.getBytes(StandardCharsets.UTF_8);
    ex.response().setContentLength(body.length);
    ex.response().getOutputStream().write(body);
  }

  private void writeJsonInfo(Exchange ex, String text) throws IOException {
    securityHeaders(ex);
    ex.response().setStatus(200);
    ex.response().setContentType(FhirFormat.JSON.contentType() + ";charset=utf-8");
    byte[] body = codec.encode(ErrorMapper.info(text), FhirFormat.JSON, false).getBytes(StandardCharsets.UTF_8);
    ex.response().setContentLength(body.length);
    ex.response().getOutputStream().write(body);
  }
}
