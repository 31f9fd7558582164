package org.fhirbox.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;

/**
 * The HTML of the set-password page: the form, and the pages that say why a link does not work.
 * Plain HTML that works without JavaScript (there is none) and with a screen reader: every field
 * has a {@code <label>}, an error is announced ({@code role="alert"}) and named by the field it
 * concerns ({@code aria-invalid}, {@code aria-describedby}). The one inline stylesheet is allowed
 * by its hash in {@link #CONTENT_SECURITY_POLICY}, so the policy needs no {@code 'unsafe-inline'}.
 * Every value written into the page is escaped.
 */
final class SetPasswordPage {
  private static final String STYLE = "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1b1f24}"
      + "main{max-width:26rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:8px;"
      + "box-shadow:0 1px 3px rgba(0,0,0,.15)}"
      + "h1{font-size:1.5rem;margin-top:0}label{display:block;font-weight:600;margin-top:1rem}"
      + "input{box-sizing:border-box;width:100%;padding:.5rem;font:inherit;border:1px solid #6b7280;border-radius:4px}"
      + "input[readonly]{background:#f4f5f7}input[aria-invalid=true]{border:2px solid #b00020}"
      + ".hint{color:#4b5563;font-size:.9rem;margin:.25rem 0 0}"
      + ".error{color:#b00020;border-left:4px solid #b00020;padding-left:.75rem}"
      + "button{margin-top:1.5rem;padding:.6rem 1.2rem;font:inherit;font-weight:600;color:#fff;background:#1d4ed8;"
      + "border:0;border-radius:4px;cursor:pointer}button:focus,input:focus{outline:3px solid #f59e0b}";

  /**
   * Nothing but the stylesheet above loads; the form may post only to this origin; no page may
   * frame this one (clickjacking); no {@code <base>} may move relative URLs.
   */
  static final String CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'sha256-" + sha256(STYLE) + "';"
      + " form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

  private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("d MMMM yyyy, HH:mm 'UTC'")
      .withZone(ZoneOffset.UTC);

  /** The field an error concerns, so that it is marked and its message read with it. */
  enum Field { NONE, PASSWORD, CONFIRM }

  private SetPasswordPage() {}

  /**
   * The form for the link's user. {@code token} and {@code csrf} travel as hidden fields (the link's
   * token leaves the URL with the post); {@code error} is null or the message to show.
   */
  static String form(String name, String email, Instant expires, String token, String csrf, String error,
      Field errorField) {
    StringBuilder b = head("Set your password");
    b.append("<h1>Set your password</h1>\n");
    b.append("<p>For ").append(escape(name)).append(" (").append(escape(email)).append(").</p>\n");
    if (error != null) {
      b.append("<p id=\"error\" class=\"error\" role=\"alert\">").append(escape(error)).append("</p>\n");
    }
    b.append("<form method=\"post\" action=\"set-password\">\n")
        .append("<input type=\"hidden\" name=\"token\" value=\"").append(escape(token)).append("\">\n")
        .append("<input type=\"hidden\" name=\"csrf\" value=\"").append(escape(csrf)).append("\">\n")
        // for password managers, which save a new password under the account's name
        .append("<label for=\"email\">Email</label>\n")
        .append("<input id=\"email\" name=\"username\" type=\"email\" autocomplete=\"username\" readonly value=\"")
        .append(escape(email)).append("\">\n")
        .append("<label for=\"password\">New password</label>\n")
        .append(passwordInput("password", errorField == Field.PASSWORD, "password-hint"))
        .append("<p id=\"password-hint\" class=\"hint\">12 to 256 characters. A few unrelated words make a"
            + " password that is long and easy to remember.</p>\n")
        .append("<label for=\"confirm\">Confirm password</label>\n")
        .append(passwordInput("confirm", errorField == Field.CONFIRM, null))
        .append("<button type=\"submit\">Set password</button>\n")
        .append("</form>\n");
    b.append("<p class=\"hint\">This link works once, until <time datetime=\"").append(expires)
        .append("\">").append(WHEN.format(expires)).append("</time>.</p>\n");
    return tail(b);
  }

  /** A page with a heading and one paragraph: a link that does not work, or the password set. */
  static String message(String title, String text) {
    StringBuilder b = head(title);
    b.append("<h1>").append(escape(title)).append("</h1>\n");
    b.append("<p>").append(escape(text)).append("</p>\n");
    return tail(b);
  }

  private static String passwordInput(String id, boolean invalid, String hintId) {
    StringBuilder described = new StringBuilder();
    if (invalid) {
      described.append("error");
    }
    if (hintId != null) {
      described.append(described.length() > 0 ? " " : "").append(hintId);
    }
    return "<input id=\"" + id + "\" name=\"" + id + "\" type=\"password\" autocomplete=\"new-password\" required"
        + " minlength=\"12\" maxlength=\"256\"" + (invalid ? " aria-invalid=\"true\"" : "")
        + (described.length() > 0 ? " aria-describedby=\"" + described + "\"" : "") + ">\n";
  }

  private static StringBuilder head(String title) {
    return new StringBuilder(2048).append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        .append("<meta name=\"referrer\" content=\"no-referrer\">\n")
        .append("<title>").append(escape(title)).append(" – fhirbox</title>\n")
        .append("<style>").append(STYLE).append("</style>\n</head>\n<body>\n<main>\n");
  }

  private static String tail(StringBuilder b) {
    return b.append("</main>\n</body>\n</html>\n").toString();
  }

  /** Text and attribute values: the five characters HTML gives meaning to. */
  static String escape(String s) {
    StringBuilder out = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
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

  private static String sha256(String text) {
    try {
      return Base64.getEncoder().encodeToString(
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }
}
