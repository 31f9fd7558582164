package org.fhirbox.auth;

import java.time.Instant;
import java.util.List;

/**
 * A registered OAuth2 client as the admin API shows it: never its secret or secret hash.
 * {@code scope} is what the client may be granted; {@code admin} adds the admin scope.
 * {@code publicClient}, {@code firstParty}, {@code redirectUris} and {@code idTokenAlg} are its
 * {@link ClientProfile}. An access token issued to it before {@code tokensSince} is void: rotating
 * its secret moves that time (its tokens may have leaked with the secret).
 */
public record OAuthClient(String clientId, String project, String scope, boolean admin, boolean disabled,
    boolean hasJwks, boolean publicClient, boolean firstParty, List<String> redirectUris, String idTokenAlg,
    Instant created, Instant updated, Instant tokensSince) {

  public OAuthClient {
    redirectUris = List.copyOf(redirectUris);
  }

  /** The scopes the client may be granted, admin flag included. */
  public Scopes allowedScopes() {
    return Scopes.parse(scope).withAdmin(admin);
  }

  /**
   * True when {@code uri} is one of the registered redirect URIs, compared exactly (RFC 6749
   * §3.1.2.3), but for the port of a loopback IP redirect URI ({@code http://127.0.0.1} or
   * {@code http://[::1]}): a native app listens on a port the system gives it at the time of the
   * request, and RFC 8252 §7.3 says the server MUST accept any port there. Everything else of such
   * a URI (scheme, host, path, query) still has to match character for character.
   */
  public boolean hasRedirectUri(String uri) {
    // one whose query names a response parameter (registered before that was refused) is no longer taken
    if (uri == null || ClientProfile.namedResponseParameter(uri).isPresent()) {
      return false;
    }
    if (redirectUris.contains(uri)) {
      return true;
    }
    String portless = loopbackIpWithoutPort(uri);
    return portless != null && redirectUris.stream().anyMatch(r -> portless.equals(loopbackIpWithoutPort(r)));
  }

  /** {@code uri} without its port when it is an http URI on a loopback IP literal, else null. */
  private static String loopbackIpWithoutPort(String uri) {
    for (String prefix : LOOPBACK_IP) {
      if (uri.startsWith(prefix)) {
        int i = prefix.length();
        if (i < uri.length() && uri.charAt(i) == ':') {
          // RFC 3986 §3.2.3: port = *DIGIT, ASCII digits only (not another script's, as Character.isDigit
          // takes); RFC 8252 §7.3 needs a port the app can listen on, 1 to 65535
          int j = i + 1;
          int port = 0;
          while (j < uri.length() && uri.charAt(j) >= '0' && uri.charAt(j) <= '9' && j - i <= 5) {
            port = port * 10 + (uri.charAt(j) - '0');
            j++;
          }
          if (j == i + 1 || port < 1 || port > 65535) {
            return null; // "http://127.0.0.1:/", port 0 or one past 65535 is no port
          }
          i = j;
        }
        return i == uri.length() || uri.charAt(i) == '/' || uri.charAt(i) == '?' ? prefix + uri.substring(i) : null;
      }
    }
    return null;
  }

  private static final List<String> LOOPBACK_IP = List.of("http://127.0.0.1", "http://[::1]");
}
