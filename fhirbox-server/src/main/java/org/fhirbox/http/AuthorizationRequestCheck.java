package org.fhirbox.http;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.fhirbox.auth.AuthorizationCodes;
import org.fhirbox.auth.AuthorizationRequests;
import org.fhirbox.auth.Audiences;
import org.fhirbox.auth.OAuthClient;
import org.fhirbox.auth.Scopes;
import org.fhirbox.auth.SignInScopes;

/**
 * Checks the parameters of an authorization request (RFC 6749 §4.1.1, RFC 7636, SMART App
 * Launch's {@code aud}, OpenID Connect's) once its client and redirect URI are known good, so
 * that every problem it finds is answered at the app's redirect URI (RFC 6749 §4.1.2.1).
 * Parameters that change what the request means but that this server does not implement (a
 * request object, a response mode other than the query) are refused rather than ignored.
 */
final class AuthorizationRequestCheck {
  private static final int MAX_STATE = 2000;
  private static final int MAX_NONCE = 512;
  /** The authorization request's parameters (RFC 6749 §4.1.1, RFC 7636, SMART's aud, OpenID Connect's). */
  private static final Set<String> PARAMETERS = Set.of("response_type", "client_id", "redirect_uri", "scope", "state",
      "aud", "prompt", "code_challenge", "code_challenge_method", "nonce", "request", "request_uri", "response_mode");

  /** An error the app hears about through its redirect URI (RFC 6749 §4.1.2.1). */
  static final class Refusal extends RuntimeException {
    final String error;

    Refusal(String error, String description) {
      super(description, null, false, false);
      this.error = error;
    }
  }

  private final Audiences audiences;

  /** @param audiences the FHIR bases a request may name as {@code aud} */
  AuthorizationRequestCheck(Audiences audiences) {
    this.audiences = audiences;
  }

  /**
   * The request to store for {@code client}, whose {@code redirectUri} was already found
   * registered; throws {@link Refusal} for anything else that is wrong with it.
   */
  AuthorizationRequests.Request validate(Map<String, List<String>> params, OAuthClient client, String redirectUri,
      String state) {
    params.forEach((k, v) -> {
      if (v.size() > 1 && PARAMETERS.contains(k)) {
        // RFC 6749 §3.1: request parameters must not be included more than once; §3.1 and §3.2 have
        // the server ignore those it does not recognise (RFC 8707 repeats resource)
        throw new Refusal("invalid_request", "parameter '" + OAuthRequest.shorten(k) + "' is repeated");
      }
    });
    // OpenID Connect Core §6.1, §6.2: a server without request objects MUST refuse them, so that
    // an app never has its request run without what its request object says (a nonce, a narrower scope);
    // one sent without a value is omitted (RFC 6749 §3.1)
    if (single(params, "request") != null) {
      throw new Refusal("request_not_supported", "request objects are not supported (request_parameter_supported"
          + " is false); send the parameters in the query or the form");
    }
    if (single(params, "request_uri") != null) {
      throw new Refusal("request_uri_not_supported", "request_uri is not supported (request_uri_parameter_supported"
          + " is false); send the parameters in the query or the form");
    }
    // OAuth 2.0 Multiple Response Type Encoding Practices §2.1: the code comes back in the query only
    // (response_modes_supported), and an app that asked for it elsewhere is told rather than surprised
    String responseMode = single(params, "response_mode");
    if (responseMode != null && !"query".equals(responseMode)) {
      throw new Refusal("invalid_request", "response_mode must be query, the only one supported");
    }
    String responseType = single(params, "response_type");
    if (responseType == null) {
      throw new Refusal("invalid_request", "response_type is required");
    }
    if (!responseType.equals("code")) {
      throw new Refusal("unsupported_response_type", "only response_type=code is supported");
    }
    // SMART App Launch: state is required (RFC 6749 only recommends it)
    if (state == null) {
      throw new Refusal("invalid_request", "state is required");
    }
    if (state.length() > MAX_STATE) {
      throw new Refusal("invalid_request", "state is longer than " + MAX_STATE + " characters");
    }
    String aud = single(params, "aud");
    if ((aud != null || params.containsKey("aud")) && !audiences.isFhirBase(aud)) {
      // SMART App Launch: aud names the FHIR server the token is for, so a token is never sent elsewhere.
      // The server answers as its base URL, each alias and the issuer: the FHIR base under any of them
      // is this server (the tokens' aud is the issuer's). A plain OAuth2 / OpenID Connect client
      // (Medplum's) sends none: the tokens are then for this server, whose endpoint it called; a
      // wrong or empty aud is always refused.
      throw new Refusal("invalid_request", "aud must be this server's FHIR base URL, " + audiences.tokenFhirBase());
    }
    String prompt = single(params, "prompt");
    if (prompt != null && List.of(prompt.split(" ")).contains("none")) {
      // OIDC Core §3.1.2.1: prompt=none must not show a page; there is no earlier sign-in to reuse
      throw new Refusal("login_required", "the person must sign in");
    }
    String method = single(params, "code_challenge_method");
    String challenge = single(params, "code_challenge");
    if (challenge == null) {
      throw new Refusal("invalid_request", "code_challenge is required (PKCE, RFC 7636, with S256)");
    }
    // SMART App Launch: servers SHALL NOT support plain, which RFC 7636 §4.3 makes the default
    if (!"S256".equals(method)) {
      throw new Refusal("invalid_request", "code_challenge_method must be S256; plain is not supported");
    }
    if (!AuthorizationCodes.isS256Challenge(challenge)) {
      throw new Refusal("invalid_request", "code_challenge must be 43 base64url characters (RFC 7636 section 4.2)");
    }
    String nonce = single(params, "nonce");
    if (nonce != null && nonce.length() > MAX_NONCE) {
      throw new Refusal("invalid_request", "nonce is longer than " + MAX_NONCE + " characters");
    }
    // RFC 6749 §3.3: scopes this server does not serve are left out, and the token says what was granted
    String scope = single(params, "scope");
    // SMART App Launch: scope is required. RFC 6749 §3.3 allows a default instead, but the only one
    // at hand, the whole registration, would grant offline_access and every resource scope unasked.
    if (scope == null || scope.isBlank()) {
      throw new Refusal("invalid_scope", "scope is required (SMART App Launch)");
    }
    Scopes.Requested requested;
    try {
      requested = Scopes.parseRequested(scope);
    } catch (IllegalArgumentException e) {
      throw new Refusal("invalid_scope", e.getMessage());
    }
    if (requested.noneSupported()) {
      throw new Refusal("invalid_scope", "none of the requested scopes is supported by this server");
    }
    Scopes forClient = SignInScopes.forClient(client, requested.supported());
    if (forClient.isEmpty()) {
      throw new Refusal("invalid_scope", "none of the requested scopes is allowed for this app");
    }
    return new AuthorizationRequests.Request(client.clientId(), redirectUri, state, forClient.toString(), challenge,
        nonce);
  }

  /** The parameter's one value, or null when it is absent, empty or repeated. */
  private static String single(Map<String, List<String>> params, String name) {
    List<String> v = params.get(name);
    return v == null || v.size() != 1 || v.get(0).isEmpty() ? null : v.get(0);
  }
}
