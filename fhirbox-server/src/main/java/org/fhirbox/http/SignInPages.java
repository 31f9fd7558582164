package org.fhirbox.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pages of the authorize endpoint: sign-in, patient picker, consent, and errors. Server-made
 * HTML that works without JavaScript (there is none), with labelled fields, a heading per page,
 * errors announced ({@code role="alert"}) and the language set.
 *
 * <p>Every page is sent with a strict Content Security Policy: nothing loads but the page's own
 * stylesheet, allowed by its hash (no inline script can run); forms post only to this server and
 * to the app's redirect origin, which a form submission may be redirected to (CSP 3
 * {@code form-action} applies to redirects); {@code frame-ancestors 'none'} (and
 * {@code X-Frame-Options: DENY}) so no other site can frame the page and trick a click. Pages are
 * never cached, and send no Referer.
 *
 * <p>Every page is under {@code /oauth2/}, and its forms post beside it (a relative action such as
 * {@code signin}): under whichever address the person reached the server at, the issuer the
 * discovery documents name or the node's base URL, so the form stays on the page's origin.
 */
final class SignInPages {
  private static final String STYLE = "body{font-family:system-ui,-apple-system,\"Segoe UI\",sans-serif;margin:0;"
      + "background:#f3f4f6;color:#16191d;line-height:1.45}"
      + "main{max-width:28rem;margin:2.5rem auto;padding:2rem;background:#fff;border-radius:8px;"
      + "box-shadow:0 1px 3px rgba(0,0,0,.2)}"
      + "h1{font-size:1.5rem;margin:0 0 1rem}"
      + "label{display:block;font-weight:600;margin:1rem 0 .3rem}"
      + "input[type=email],input[type=password],input[type=search]{width:100%;box-sizing:border-box;"
      + "padding:.6rem;font-size:1rem;border:1px solid #6b7280;border-radius:4px}"
      + "button{margin:1.25rem .5rem 0 0;padding:.6rem 1.3rem;font-size:1rem;border-radius:4px;"
      + "border:2px solid #0a58a8;background:#0a58a8;color:#fff;cursor:pointer}"
      + "button.secondary{background:#fff;color:#0a58a8}"
      + ":focus-visible{outline:3px solid #b45309;outline-offset:2px}"
      + ".error{color:#9f1239;font-weight:600}.note{color:#4b5563;font-size:.925rem}"
      + "fieldset{border:0;padding:0;margin:1rem 0 0}legend{font-weight:600}"
      + ".choice{display:block;margin:.6rem 0;font-weight:400}ul{padding-left:1.3rem}";
  private static final String STYLE_HASH = "'sha256-" + Base64.getEncoder()
      .encodeToString(sha256(STYLE)) + "'";

  private static final String END = "</main>\n</body>\n</html>\n";

  /** What every page of one authorization request shows and needs. */
  record Frame(String clientId, String returnTo, String formActionOrigin) {}

  /** A patient in the picker's list. */
  record Option(String id, String label) {}

  private SignInPages() {}

  static void signIn(Exchange ex, int status, Frame f, String csrf, String email, String error,
      Map<String, String> headers) throws IOException {
    StringBuilder b = start("Sign in");
    b.append("<h1>Sign in</h1>\n<p>to continue to <strong>").append(esc(f.clientId()))
        .append("</strong>, which will then receive the access you allow.</p>\n");
    alert(b, error);
    b.append("<form method=\"post\" action=\"signin\">\n");
    csrf(b, csrf);
    b.append("<label for=\"email\">Email</label>\n<input id=\"email\" name=\"email\" type=\"email\""
        + " autocomplete=\"username\" required autofocus value=\"").append(esc(email)).append("\">\n")
        .append("<label for=\"password\">Password</label>\n<input id=\"password\" name=\"password\""
            + " type=\"password\" autocomplete=\"current-password\" required>\n")
        .append("<button type=\"submit\">Sign in</button>\n</form>\n");
    cancel(b, csrf);
    returnNote(b, f);
    send(ex, status, b, f, headers);
  }

  static void picker(Exchange ex, Frame f, String csrf, String query, List<Option> results, boolean searched,
      String error) throws IOException {
    StringBuilder b = start("Choose a patient");
    b.append("<h1>Choose a patient</h1>\n<p><strong>").append(esc(f.clientId()))
        .append("</strong> needs a patient to work with. Search by name or identifier.</p>\n");
    alert(b, error);
    b.append("<form method=\"get\" action=\"patient\" role=\"search\">\n")
        .append("<label for=\"q\">Name or identifier</label>\n<input id=\"q\" name=\"q\" type=\"search\" required"
            + " value=\"").append(esc(query)).append("\">\n<button type=\"submit\">Search</button>\n</form>\n");
    if (searched && results.isEmpty()) {
      b.append("<p role=\"status\">No patient matches &ldquo;").append(esc(query)).append("&rdquo;.</p>\n");
    }
    if (!results.isEmpty()) {
      b.append("<form method=\"post\" action=\"patient\">\n");
      csrf(b, csrf);
      b.append("<fieldset>\n<legend>Patients matching &ldquo;").append(esc(query)).append("&rdquo;</legend>\n");
      for (int i = 0; i < results.size(); i++) {
        Option o = results.get(i);
        b.append("<label class=\"choice\"><input type=\"radio\" name=\"patient\" value=\"").append(esc(o.id()))
            .append("\"").append(i == 0 ? " checked" : "").append("> ").append(esc(o.label())).append("</label>\n");
      }
      b.append("</fieldset>\n<button type=\"submit\">Continue</button>\n</form>\n");
    }
    cancel(b, csrf);
    returnNote(b, f);
    send(ex, 200, b, f, Map.of());
  }

  static void consent(Exchange ex, Frame f, String csrf, List<String> asks, String patient, String signedInAs)
      throws IOException {
    StringBuilder b = start("Allow access?");
    b.append("<h1>Allow access?</h1>\n<p><strong>").append(esc(f.clientId())).append("</strong> asks to:</p>\n<ul>\n");
    for (String a : asks) {
      b.append("<li>").append(esc(a)).append("</li>\n");
    }
    b.append("</ul>\n");
    if (patient != null) {
      b.append("<p>Patient: <strong>").append(esc(patient)).append("</strong></p>\n");
    }
    b.append("<p class=\"note\">Signed in as ").append(esc(signedInAs)).append(".</p>\n")
        .append("<form method=\"post\" action=\"consent\">\n");
    csrf(b, csrf);
    b.append("<button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\n")
        .append("<button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">Deny</button>\n")
        .append("</form>\n");
    returnNote(b, f);
    send(ex, 200, b, f, Map.of());
  }

  /** A page that ends the request here: nothing is sent back to the app. */
  static void error(Exchange ex, int status, String title, String message, Map<String, String> headers)
      throws IOException {
    send(ex, status, errorPage(title, message), null, headers);
  }

  /** The error page's HTML, without its end; {@link #errorPageBytes} for a whole one. */
  private static StringBuilder errorPage(String title, String message) {
    StringBuilder b = start(title);
    return b.append("<h1>").append(esc(title)).append("</h1>\n<p role=\"alert\">").append(esc(message)).append("</p>\n");
  }

  /** A whole error page, for the errors Jetty answers before the servlet ({@link JettyErrorHandler}). */
  static byte[] errorPageBytes(String title, String message) {
    return errorPage(title, message).append(END).toString().getBytes(StandardCharsets.UTF_8);
  }

  private static StringBuilder start(String title) {
    return new StringBuilder(4096).append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>")
        .append(esc(title)).append(" \u2013 fhirbox</title>\n<style>").append(STYLE).append("</style>\n</head>\n")
        .append("<body>\n<main>\n");
  }

  private static void alert(StringBuilder b, String error) {
    if (error != null) {
      b.append("<p class=\"error\" role=\"alert\">").append(esc(error)).append("</p>\n");
    }
  }

  private static void csrf(StringBuilder b, String csrf) {
    b.append("<input type=\"hidden\" name=\"csrf\" value=\"").append(esc(csrf)).append("\">\n");
  }

  /**
   * The Cancel of the sign-in page and the patient picker, a form of its own (no field of the page's
   * form is needed): it tells the app access_denied, as Deny on the consent page does, by the same
   * route (RFC 6749 §4.1.2.1).
   */
  private static void cancel(StringBuilder b, String csrf) {
    b.append("<form method=\"post\" action=\"consent\">\n");
    csrf(b, csrf);
    b.append("<button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">Cancel</button>\n")
        .append("</form>\n");
  }

  private static void returnNote(StringBuilder b, Frame f) {
    b.append("<p class=\"note\">You will then return to ").append(esc(f.returnTo())).append(".</p>\n");
  }

  private static void send(Exchange ex, int status, StringBuilder b, Frame f, Map<String, String> headers)
      throws IOException {
    b.append(END);
    var resp = ex.response();
    resp.setStatus(status);
    pageHeaders(f).forEach(resp::setHeader);
    headers.forEach(resp::setHeader);
    byte[] bytes = b.toString().getBytes(StandardCharsets.UTF_8);
    resp.setContentLength(bytes.length);
    resp.getOutputStream().write(bytes);
  }

  /** The header fields of every page (see the class comment); {@code f} null for an error page. */
  static Map<String, String> pageHeaders(Frame f) {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("Content-Type", "text/html;charset=utf-8");
    h.put("Cache-Control", "no-store");
    h.put("Pragma", "no-cache");
    h.put("Content-Security-Policy", "default-src 'none'; style-src " + STYLE_HASH + "; form-action 'self'"
        + (f == null || f.formActionOrigin() == null ? "" : " " + f.formActionOrigin())
        + "; frame-ancestors 'none'; base-uri 'none'");
    h.put("X-Frame-Options", "DENY");
    h.put("X-Content-Type-Options", "nosniff");
    h.put("Referrer-Policy", "no-referrer");
    return h;
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  /** HTML-escapes text for element content and double-quoted attributes. */
  static String esc(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder out = new StringBuilder(s.length() + 16);
    for (char c : s.toCharArray()) {
      switch (c) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }
}
