package org.fhirbox.auth;

import java.time.Instant;

/**
 * A registered OAuth2 client as the admin API shows it: never its secret or secret hash.
 * {@code scope} is what the client may be granted; {@code admin} adds the admin scope.
 */
public record OAuthClient(String clientId, String project, String scope, boolean admin, boolean disabled,
    boolean hasJwks, Instant created, Instant updated) {

  /** The scopes the client may be granted, admin flag included. */
  public Scopes allowedScopes() {
    return Scopes.parse(scope).withAdmin(admin);
  }
}
