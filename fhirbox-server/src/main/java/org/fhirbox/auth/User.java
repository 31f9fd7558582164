package org.fhirbox.auth;

import java.time.Instant;

/**
 * A person who signs in, as the admin API shows them: never their password or its hash.
 * {@code fhirUser} is the resource they are ({@code Practitioner/123}, {@code Patient/..} or
 * {@code RelatedPerson/..}); {@code scope} is what they may be granted; {@code admin} adds the
 * admin scope. {@code hasPassword} is false until they use their set-password link. Refresh
 * tokens issued before {@code sessionsSince} are void (a password reset moves it to the reset).
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

  /** The id part of {@link #fhirUser}. */
  public String fhirUserId() {
    return fhirUser.substring(fhirUser.indexOf('/') + 1);
  }
}
