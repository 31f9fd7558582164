package org.fhirbox.binary;

import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.OAuthClient;
import org.fhirbox.auth.User;
import org.fhirbox.core.FhirException;

/**
 * Whether the client that issued an upload URL, or started a resumable upload, and the user whose
 * token it used, may still store what they began. A URL is a credential that outlives the check
 * made when it was issued (up to an hour), and a tus upload commits with the token of a request
 * that may have started hours before; so when the bytes arrive and when the Binary is committed,
 * the client is looked up again (not through the access tokens' status cache): it must exist in
 * the upload's project, not be disabled, and still be registered for a scope that permits the
 * Binary interaction (create, or update for a new version). A person's upload (a URL issued to, or
 * a tus upload begun with, a token that names a user) also needs that user to exist in the
 * project, not be disabled, and still be allowed a scope that permits the interaction. A disabled
 * or unknown client or user is answered 401, as its access token is; a lost scope 403, as a token
 * without it is.
 */
public final class UploadIssuers {
  private final Function<String, Optional<OAuthClient>> clients;
  private final Function<String, Optional<User>> users;

  /**
   * @param clients the client of an id as it is now (never from a cache)
   * @param users the user of an id as it is now (never from a cache)
   */
  public UploadIssuers(Function<String, Optional<OAuthClient>> clients, Function<String, Optional<User>> users) {
    this.clients = clients;
    this.users = users;
  }

  /**
   * Null when {@code clientId} (and {@code userId}, when not null) may still make {@code interaction}
   * on a Binary of {@code project}; otherwise the refusal. A URL signed before URLs named their
   * client ({@code clientId} null) cannot be looked up and is let through.
   */
  FhirException refusal(String project, String clientId, String userId, Interaction interaction) {
    if (clientId == null) {
      return null;
    }
    Optional<OAuthClient> client = clients.apply(clientId).filter(c -> c.project().equals(project));
    if (client.isEmpty() || client.get().disabled()) {
      return FhirException.unauthorized("the client that issued this upload (" + clientId + ") is disabled or no"
          + " longer exists; nothing was stored");
    }
    if (!client.get().allowedScopes().allows("Binary", interaction)) {
      return FhirException.forbidden("the client that issued this upload (" + clientId + ") lost the scope to "
          + interaction.name().toLowerCase(Locale.ROOT) + " Binary; nothing was stored");
    }
    if (userId == null) {
      return null;
    }
    Optional<User> user = users.apply(userId).filter(u -> u.project().equals(project));
    if (user.isEmpty() || user.get().disabled()) {
      return FhirException.unauthorized("the user who began this upload is disabled or no longer exists; nothing"
          + " was stored");
    }
    if (!user.get().allowedScopes().allows("Binary", interaction)) {
      return FhirException.forbidden("the user who began this upload lost the scope to "
          + interaction.name().toLowerCase(Locale.ROOT) + " Binary; nothing was stored");
    }
    return null;
  }

  /** Throws {@link #refusal} when there is one. */
  void require(String project, String clientId, String userId, Interaction interaction) {
    FhirException refused = refusal(project, clientId, userId, interaction);
    if (refused != null) {
      throw refused;
    }
  }
}
