package org.fhirbox.auth;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The web app's OAuth2 clients: one first-party public client per project (sign-in happens in
 * the client's project), registered by the server itself, PKCE only, its redirect URI the app's
 * own page. {@value #APP_CLIENT} serves project {@value AuthModule#SERVER_PROJECT} and is made at
 * start; {@code fhirbox-app.<project>} serves another project, registered when someone first
 * opens the sign-in page with it and only for a project that has users. For a project without
 * users the sign-in page is the same, with a client that is not stored and that no one can sign
 * in with, so neither the app's configuration nor the sign-in page tells whether a project has
 * users (an unknown name creates nothing). A client an admin disabled stays disabled.
 */
public final class AppClients {
  public static final String APP_CLIENT = "fhirbox-app";
  /**
   * What the app may be granted: a person's {@code user/} scopes and {@code admin} (each narrowed
   * to what the user has), their identity, and a refresh token.
   */
  public static final String SCOPE = "openid fhirUser profile offline_access user/*.cruds admin";

  private static final String PREFIX = APP_CLIENT + ".";

  private final ClientStore clients;
  private final UserStore users;
  private final Set<String> ensured = ConcurrentHashMap.newKeySet();

  public AppClients(ClientStore clients, UserStore users) {
    this.clients = clients;
    this.users = users;
  }

  /**
   * The app's client id in {@code project}, the same whether the project exists or not; nothing
   * is looked up or registered. Empty for a name no project can have.
   */
  public static Optional<String> idFor(String project) {
    if (project.equals(AuthModule.SERVER_PROJECT)) {
      return Optional.of(APP_CLIENT);
    }
    return ClientStore.PROJECT_NAME.matcher(project).matches() ? Optional.of(PREFIX + project) : Optional.empty();
  }

  /**
   * The client a sign-in for {@code clientId} goes on with, when that is one of the app's ids:
   * the registered one (registered now for a project with users, and sent back to
   * {@code redirectUri}), or else one that is not stored and that only names the project, whose
   * people then cannot be found. Empty for any other client id, and for a registered client no
   * longer stored.
   */
  public Optional<OAuthClient> forSignIn(String clientId, String redirectUri) {
    String project = clientId == null ? null : clientId.equals(APP_CLIENT) ? AuthModule.SERVER_PROJECT
        : clientId.startsWith(PREFIX) ? clientId.substring(PREFIX.length()) : null;
    if (project == null || idFor(project).filter(clientId::equals).isEmpty()) {
      return Optional.empty();
    }
    if (clientId(project, redirectUri).isPresent()) {
      return clients.find(clientId);
    }
    Scopes scopes = Scopes.parse(SCOPE);
    return Optional.of(new OAuthClient(clientId, project, scopes.toString(), scopes.isAdmin(), false, false, true,
        true, List.of(redirectUri), ClientProfile.RS256, Instant.EPOCH, Instant.EPOCH, Instant.EPOCH));
  }

  /**
   * The client id of the app in {@code project}, registered (or its redirect URIs extended) to
   * send people back to {@code redirectUri}; empty for a project without users.
   */
  public Optional<String> clientId(String project, String redirectUri) {
    String id = project.equals(AuthModule.SERVER_PROJECT) ? APP_CLIENT : APP_CLIENT + "." + project;
    if (ensured.contains(id + " " + redirectUri)) {
      return Optional.of(id);
    }
    if (!ClientStore.PROJECT_NAME.matcher(project).matches()
        || !project.equals(AuthModule.SERVER_PROJECT) && users.list(project).isEmpty()) {
      return Optional.empty();
    }
    Optional<OAuthClient> existing = clients.find(id);
    boolean registered = existing.map(c -> c.redirectUris().contains(redirectUri)).orElseGet(() -> clients
        .createPublicIfAbsent(id, project, SCOPE, ClientProfile.of(true, true, List.of(redirectUri))).isPresent());
    // the same data behind another base URL (an alias, a new port, another node): people return
    // there too. Added to the list as stored, also when another node inserted the client first or
    // adds its own URI at the same moment; remembered only once the stored client has it.
    if (!registered && !clients.addRedirectUri(id, redirectUri)) {
      return Optional.empty();
    }
    ensured.add(id + " " + redirectUri);
    return Optional.of(id);
  }
}
