package org.fhirbox.audit;

import org.fhirbox.auth.User;

/**
 * Told about people's authentication: sign-ins (both outcomes), token refreshes and revocations.
 * Called on the request thread; an implementation must be quick and must not block.
 *
 * @see AuthenticationAction
 */
public interface SignInListener {
  /** {@code user} signed in to {@code clientId} from {@code address}. */
  default void signedIn(String address, String clientId, User user) {
  }

  /**
   * A sign-in to {@code clientId} in {@code project} with {@code email} as typed was refused for
   * {@code reason}; {@code ofAUser} tells whether that email is a user's of the project (else it
   * may be anything, a password included).
   */
  default void signInRefused(String address, String clientId, String project, String email, boolean ofAUser,
      String reason) {
  }

  /** A refresh token was exchanged ({@code failure} null) or refused; {@code user} may be null when unknown. */
  default void refreshed(String address, String clientId, User user, String failure) {
  }

  /** A refresh token of {@code user} was revoked by {@code clientId}. */
  default void revoked(String address, String clientId, User user) {
  }

  /** {@code user} signed out of a sign-in through {@code clientId} ({@code /oauth2/logout}). */
  default void signedOut(String address, String clientId, User user) {
  }
}
