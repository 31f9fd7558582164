package org.fhirbox.http;

import org.fhirbox.audit.ClientAuthListener;
import org.fhirbox.auth.Principal;
import org.fhirbox.auth.ClientAuthException;
import org.fhirbox.auth.OAuthClient;
import org.fhirbox.auth.Scopes;
import org.fhirbox.auth.TokenService;
import org.fhirbox.auth.ClientAuthenticator;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;
import org.fhirbox.core.FhirException;

/**
 * Finds the caller of a FHIR or admin request from {@code Authorization: Bearer <access token>}
 * or {@code Basic base64(clientId:secret)}. Missing or invalid credentials give 401; the
 * messages never contain the token or secret. Basic grants what a client_credentials token would:
 * the client's {@code system/} scopes and {@code admin} (403 when it has neither). A refused
 * {@code Basic} authentication is told to the audit listener (a throttled one only when it is the
 * first refused by its limit within a minute); a successful one is not, as it comes with every
 * request.
 */
public final class BearerAuthenticator implements FhirboxServlet.Authenticator {
  private static final String CHALLENGE = "Bearer realm=\"fhirbox\"";

  private final TokenService tokens;
  private final ClientAuthenticator clients;
  private final ClientAuthListener audit;

  public BearerAuthenticator(TokenService tokens, ClientAuthenticator clients, ClientAuthListener audit) {
    this.tokens = tokens;
    this.clients = clients;
    this.audit = audit;
  }

  @Override
  public Principal authenticate(Exchange ex) {
    String h = ex.header("Authorization");
    if (h == null || h.isBlank()) {
      throw FhirException.unauthorized("authentication required: send Authorization: Bearer <access token>");
    }
    if (h.regionMatches(true, 0, "Bearer ", 0, 7)) {
      try {
        return tokens.verify(h.substring(7).trim());
      } catch (TokenService.InvalidTokenException e) {
        // RFC 6750 §3.1
        throw FhirException.unauthorized(e.getMessage())
            .withHeader("WWW-Authenticate", CHALLENGE + ", error=\"invalid_token\"");
      }
    }
    if (h.regionMatches(true, 0, "Basic ", 0, 6)) {
      String[] idSecret = basicCredentials(h)
          .orElseThrow(() -> FhirException.unauthorized("malformed Basic credentials"));
      String remote = ex.request().getRemoteAddr();
      try {
        OAuthClient c = clients.byBasicCredentials(idSecret[0], idSecret[1], remote);
        // as client_credentials: no person is signed in, so only the client's system/ scopes
        Scopes scopes = c.allowedScopes().withoutPerson();
        if (scopes.isEmpty()) {
          throw FhirException.forbidden("Basic authentication acts as the client alone, and "
              + TokenEndpoint.NO_SYSTEM_SCOPES);
        }
        return new Principal(c.clientId(), c.project(), scopes);
      } catch (ClientAuthException e) {
        if (e.toRecord()) {
          audit.refused(remote, e.clientId(), e.project(), "basic", e.reason());
        }
        if (e.throttled()) {
          throw FhirException.tooManyRequests(e.getMessage(), e.retryAfterSeconds());
        }
        throw FhirException.unauthorized(e.getMessage());
      }
    }
    throw FhirException.unauthorized("unsupported authorization scheme; use Bearer or Basic");
  }

  /**
   * {@code [clientId, secret]} from a {@code Basic} header, as they are: whether they were
   * form-urlencoded first (RFC 6749 §2.3.1) is for {@link ClientAuthenticator#byBasicCredentials}
   * to find out, since many clients skip it.
   */
  static Optional<String[]> basicCredentials(String header) {
    try {
      String decoded = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
      int colon = decoded.indexOf(':');
      if (colon <= 0) {
        return Optional.empty();
      }
      return Optional.of(new String[] {decoded.substring(0, colon), decoded.substring(colon + 1)});
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
