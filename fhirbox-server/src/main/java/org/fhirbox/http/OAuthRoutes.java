package org.fhirbox.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.List;
import java.util.function.Supplier;
import org.fhirbox.audit.ClientAuthListener;
import org.fhirbox.audit.SignInListener;
import org.fhirbox.auth.AppClients;
import org.fhirbox.auth.Audiences;
import org.fhirbox.auth.ClientAuthenticator;
import org.fhirbox.auth.SignInModule;
import org.fhirbox.auth.TokenService;
import org.fhirbox.core.FhirException;
import org.fhirbox.fhir.ResourceService;

/**
 * Mounts OAuth2, OpenID Connect and SMART App Launch:
 * <pre>
 * GET|HEAD|POST /oauth2/authorize             {@link AuthorizeEndpoint}, with its pages
 * POST     /oauth2/signin, /oauth2/consent
 * GET|POST /oauth2/patient
 * POST     /oauth2/token                      {@link TokenEndpoint}, {@link UserGrants}
 * POST     /oauth2/revoke                     {@link TokenRevocation} (RFC 7009)
 * POST     /oauth2/introspect                 {@link TokenIntrospection} (RFC 7662)
 * POST     /oauth2/logout                     {@link SignOutEndpoint} (Medplum's signOut)
 * GET|HEAD|POST /oauth2/userinfo              {@link UserInfoEndpoint} (OIDC Core §5.3)
 * GET      /.well-known/smart-configuration   {@link Discovery} (also under /fhir/R4)
 * GET      /.well-known/openid-configuration
 * GET      /.well-known/jwks.json
 * </pre>
 */
public final class OAuthRoutes {
  private final TokenEndpoint token;
  private final AuthorizeEndpoint authorize;
  private final TokenRevocation revocation;
  private final TokenIntrospection introspection;
  private final UserInfoEndpoint userInfo;
  private final SignOutEndpoint signOut;
  private final Discovery discovery;

  /**
   * @param resources the patient picker searches Patients through it, as the person signing in
   * @param issuer the {@code iss} of tokens and of authorization responses (the base URL unless configured)
   * @param audiences the base URLs the server answers as, which a SMART app's {@code aud} may name
   */
  public OAuthRoutes(ClientAuthenticator clientAuth, AppClients appClients, TokenService tokens, SignInModule signIn,
      ResourceService resources, SignInListener audit, ClientAuthListener clientAudit, Supplier<String> issuer,
      Audiences audiences, ObjectMapper json) {
    TokenClientAuth clients = new TokenClientAuth(clientAuth, clientAudit);
    this.token = new TokenEndpoint(clients, tokens, new UserGrants(tokens, signIn, audit), json, clientAudit);
    this.authorize = new AuthorizeEndpoint(clientAuth, appClients, signIn, new PatientPicker(resources), audit,
        issuer, audiences);
    this.revocation = new TokenRevocation(clients, signIn.refreshTokens(), tokens, signIn.users(), audit, json);
    this.introspection = new TokenIntrospection(clients, tokens, signIn.refreshTokens(), issuer, json);
    this.userInfo = new UserInfoEndpoint(tokens, signIn.users(), issuer, json);
    this.signOut = new SignOutEndpoint(tokens, signIn.refreshTokens(), signIn.users(), audit, json);
    this.discovery = new Discovery(signIn.keys(), issuer, json);
  }

  /**
   * Whether {@code path} is an endpoint that answers errors as OAuth JSON (RFC 6749 §5.2, RFC 7009
   * §2.2.1, RFC 7662 §2.3, OpenID Connect UserInfo): its failures outside its own handling (a body
   * too slow or too large, a malformed request line) are answered so too.
   */
  static boolean answersOAuthJson(List<String> path) {
    return path.size() == 2 && path.get(0).equals("oauth2")
        && List.of("token", "revoke", "introspect", "userinfo", "logout").contains(path.get(1));
  }

  /** Whether {@code path} is one of the sign-in pages, which answer errors as a page of their own. */
  static boolean answersPages(List<String> path) {
    return path.size() == 2 && path.get(0).equals("oauth2")
        && List.of("authorize", "signin", "patient", "consent").contains(path.get(1));
  }

  /** Answers the request when {@code path} is one of these routes; false when it is not. */
  public boolean handle(Exchange ex, List<String> path) throws IOException {
    if (path.size() == 2 && path.get(0).equals("oauth2")) {
      switch (path.get(1)) {
        case "token" -> token.token(ex);
        case "authorize" -> authorize.authorize(ex);
        case "signin" -> authorize.signIn(ex);
        case "patient" -> authorize.patient(ex);
        case "consent" -> authorize.consent(ex);
        case "revoke" -> revocation.revoke(ex);
        case "introspect" -> introspection.introspect(ex);
        case "userinfo" -> userInfo.userInfo(ex);
        case "logout" -> signOut.signOut(ex);
        default -> {
          return false;
        }
      }
      return true;
    }
    // SMART App Launch 2.x discovery lives under the FHIR base; also served at the root
    if (path.equals(List.of(".well-known", "smart-configuration"))
        || path.equals(List.of("fhir", "R4", ".well-known", "smart-configuration"))) {
      readOnly(ex);
      discovery.smartConfiguration(ex);
      return true;
    }
    if (path.equals(List.of(".well-known", "openid-configuration"))) {
      readOnly(ex);
      discovery.openidConfiguration(ex);
      return true;
    }
    if (path.equals(List.of(".well-known", "jwks.json"))) {
      readOnly(ex);
      discovery.jwks(ex);
      return true;
    }
    return false;
  }

  /** The discovery documents are only read: any other method is 405 naming GET and HEAD (RFC 9110 §15.5.6). */
  private static void readOnly(Exchange ex) {
    if (!ex.method().equals("GET") && !ex.method().equals("HEAD")) {
      throw FhirException.methodNotAllowed(ex.method() + " is not allowed on a discovery document; use GET", "GET",
          "HEAD");
    }
  }
}
