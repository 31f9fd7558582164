package org.fhirbox.auth;

import java.time.Instant;
import java.util.List;

/**
 * A registered OAuth2 client as the admin API shows it: never its secret or secret hash.
 * {@code scope} is what the client may be granted; {@code admin} adds the admin scope.
 * {@code publicClient}, {@code firstParty}, {@code redirectUris} and {@code idTokenAlg} are its
 * {@link ClientProfile}.
 */
public record OAuthClient(String clientId, String project, String scope, boolean admin, boolean disabled,
    boolean hasJwks, boolean publicClient, boolean firstParty, List<String> redirectUris, String idTokenAlg,
    Instant created, Instant updated) {

  public OAuthClient {
    redirectUris = List.copyOf(redirectUris);
  }

  /** The scopes the client may be granted, admin flag included. */
  public Scopes allowedScopes() {
    return Scopes.parse(scope).withAdmin(admin);
  }

  /** True when {@code uri} is one of the registered redirect URIs, compared exactly (RFC 6749 §3.1.2.3). */
  public boolean hasRedirectUri(String uri) {
    return uri != null && redirectUris.contains(uri);
  }
}
