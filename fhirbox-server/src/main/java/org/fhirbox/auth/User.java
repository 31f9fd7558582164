package org.fhirbox.auth;

import java.time.Instant;

/**
 * A person who signs in, as the admin API shows them: never their password or its hash.
 * {@code fhirUser} is the resource they are ({@code Practitioner/123}, {@code Patient/..} or
 * {@code RelatedPerson/..}); {@code scope} is what they may be granted; {@code admin} adds the
 * admin scope. {@code hasPassword} is false until they use their set-password link. What a
 * sign-in before {@code sessionsSince} would still give is void (a password reset moves it to the
 * reset): see {@link #endedSignIn}.
 */
public record User(String id, String project, String email, String name, String fhirUser, String scope,
    boolean admin, boolean disabled, boolean hasPassword, Instant sessionsSince, Instant created, Instant updated) {

  /** The scopes the user may be granted, admin flag included. */
  public Scopes allowedScopes() {
    return Scopes.parse(scope).withAdmin(admin);
  }

  /** The resource type of {@link #fhirUser}, e.g. {@code Practitioner}. */
  public String fhirUserType() {
    return fhirUser.substring(0, fhirUser.indexOf('/'));
  }

  /**
   * Whether the user's sessions were ended after a sign-in at {@code authTime}: its codes and
   * refresh tokens are void.
   */
  public boolean endedSignIn(Instant authTime) {
    return authTime.isBefore(sessionsSince);
  }

  /** The id part of {@link #fhirUser}. */
  public String fhirUserId() {
    return fhirUser.substring(fhirUser.indexOf('/') + 1);
  }
}
