package org.fhirbox.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.fhirbox.core.FhirException;

/** What the OAuth JSON endpoints share: reading their form body and writing their JSON answers. */
final class OAuthRequest {
  private OAuthRequest() {}

  /** The parameters of client authentication, which every OAuth JSON endpoint recognises (RFC 6749 §2.3, RFC 7523). */
  static final Set<String> CLIENT_AUTHENTICATION = Set.of("client_id", "client_secret", "client_assertion",
      "client_assertion_type");

  /**
   * The POSTed form's {@code recognised} parameters, one value per name; an empty value counts as
   * absent (RFC 6749 §3.1), a repeated one is an error (RFC 6749 §3.1: "MUST NOT be included more
   * than once"). Every other parameter is ignored, repeated or not (RFC 6749 §3.2: "The authorization
   * server MUST ignore unrecognized request parameters"; RFC 8707 repeats {@code resource}).
   */
  static Map<String, String> form(Exchange ex, Set<String> recognised) throws IOException {
    if (!ex.method().equals("POST")) {
      throw new OAuthError(405, "invalid_request", "use POST", Map.of("Allow", "POST"));
    }
    if (!FormBody.isForm(ex)) {
      throw OAuthError.badRequest("invalid_request", "the body must be application/x-www-form-urlencoded");
    }
    Map<String, List<String>> parsed;
    try {
      parsed = FormBody.read(ex);
    } catch (IllegalArgumentException e) {
      throw OAuthError.badRequest("invalid_request", e.getMessage());
    } catch (FhirException e) {
      throw new OAuthError(e.status(), "invalid_request", e.getMessage(), e.headers());
    }
    Map<String, String> out = new HashMap<>();
    parsed.forEach((k, values) -> {
      if (!recognised.contains(k) && !CLIENT_AUTHENTICATION.contains(k)) {
        return;
      }
      if (values.size() > 1) {
        throw OAuthError.badRequest("invalid_request", "parameter '" + shorten(k) + "' is repeated");
      }
      if (!values.get(0).isEmpty()) {
        out.put(k, values.get(0));
      }
    });
    return out;
  }

  /** Writes a JSON answer; unless {@code headers} set Cache-Control, it must not be stored (RFC 6749 §5.1). */
  static void write(Exchange ex, ObjectMapper json, int status, Object body, Map<String, String> headers)
      throws IOException {
    var resp = ex.response();
    resp.setStatus(status);
    resp.setContentType("application/json;charset=utf-8");
    if (!headers.containsKey("Cache-Control")) {
      resp.setHeader("Cache-Control", "no-store");
      resp.setHeader("Pragma", "no-cache");
    }
    headers.forEach(resp::setHeader);
    byte[] bytes = json.writeValueAsBytes(body);
    resp.setContentLength(bytes.length);
    resp.getOutputStream().write(bytes);
  }

  /** The access token an {@code Authorization: Bearer} header sends (RFC 6750 §2.1), if the request has one. */
  static Optional<String> bearer(Exchange ex) {
    String authorization = ex.header("Authorization");
    return authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)
        ? Optional.of(authorization.substring(7).trim()) : Optional.empty();
  }

  /** RFC 6750 §3.1: a request without credentials gets the challenge and no error code. */
  static void writeChallenge(Exchange ex, ObjectMapper json) throws IOException {
    write(ex, json, 401, Map.of(), Map.of("WWW-Authenticate", "Bearer realm=\"fhirbox\""));
  }

  /** RFC 6750 §3.1 {@code invalid_token}: 401 with its challenge. */
  static OAuthError invalidToken(String message) {
    return new OAuthError(401, "invalid_token", message,
        Map.of("WWW-Authenticate", "Bearer realm=\"fhirbox\", error=\"invalid_token\""));
  }

  /** The OAuth error object of {@code e}. */
  static void write(Exchange ex, ObjectMapper json, OAuthError e) throws IOException {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", e.error);
    body.put("error_description", OAuthError.description(e.getMessage()));
    write(ex, json, e.status, body, e.headers);
  }

  static String shorten(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }
}
