package org.fhirbox.auth;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * How a client takes part in sign-in (SMART App Launch): {@code publicClient} has no secret (a
 * browser or mobile app, RFC 6749 §2.1), {@code firstParty} is the server's own app and skips the
 * consent page, {@code redirectUris} are the URIs the authorization endpoint may send a person
 * back to, compared character for character (RFC 6749 §3.1.2.3: exact matching leaves no room for
 * an open redirect).
 *
 * <p>A redirect URI is absolute, has no fragment (RFC 6749 §3.1.2) and is https; http only for a
 * loopback host ({@code localhost}, {@code 127.0.0.1}, {@code [::1]}; RFC 8252 §7.3), and a native
 * app's private-use scheme only in reverse-domain form such as {@code com.example.app:/callback}
 * (RFC 8252 §7.1), never a scheme a browser runs ({@code javascript:}, {@code data:}). Whatever
 * its scheme, it has no user info, a port (when it names one) of 1 to 65535, and no dot segment
 * ({@code .} or {@code ..}, also percent-encoded) in its path: the URI is compared as registered,
 * character for character, while a browser or an app's URL library removes dot segments (RFC 3986
 * §5.2.4) and may drop user info before it goes there, so such a URI could send the code somewhere
 * other than what an admin reads in the registration. Its query names no parameter of the
 * authorization response (see {@link #namedResponseParameter}).
 *
 * <p>{@code idTokenAlg} is the algorithm of the client's ID tokens, {@value #RS256} (the default,
 * OIDC Core §3.1.3.7) or {@value #ES256}: the {@code id_token_signed_response_alg} of OpenID
 * Connect Dynamic Client Registration §2.
 */
public record ClientProfile(boolean publicClient, boolean firstParty, List<String> redirectUris, String idTokenAlg) {
  public static final String RS256 = "RS256";
  public static final String ES256 = "ES256";
  /** A machine client: confidential, no redirect URIs (client credentials only). */
  public static final ClientProfile MACHINE = new ClientProfile(false, false, List.of(), RS256);
  static final int MAX_REDIRECT_URIS = 20;
  static final int MAX_REDIRECT_URI_LENGTH = 2000;
  private static final Set<String> LOOPBACK = Set.of("localhost", "127.0.0.1", "[::1]");
  /** The parameters of an authorization response (RFC 6749 §4.1.2, §4.1.2.1; RFC 9207). */
  private static final Set<String> RESPONSE_PARAMETERS = Set.of("code", "state", "iss", "error",
      "error_description", "error_uri");

  public ClientProfile {
    redirectUris = List.copyOf(redirectUris);
  }

  /**
   * The profile with every redirect URI checked; throws {@link IllegalArgumentException} naming
   * the first bad one. A public client needs at least one redirect URI: it has no other way to
   * receive a token.
   */
  public static ClientProfile of(boolean publicClient, boolean firstParty, List<String> redirectUris) {
    return of(publicClient, firstParty, redirectUris, RS256);
  }

  /** As {@link #of(boolean, boolean, List)}, with ID tokens signed {@code idTokenAlg} (RS256 or ES256). */
  public static ClientProfile of(boolean publicClient, boolean firstParty, List<String> redirectUris,
      String idTokenAlg) {
    List<String> uris = checkRedirectUris(redirectUris);
    if (publicClient && uris.isEmpty()) {
      throw new IllegalArgumentException("a public client needs at least one redirect URI");
    }
    if (!RS256.equals(idTokenAlg) && !ES256.equals(idTokenAlg)) {
      throw new IllegalArgumentException("ID tokens are signed RS256 or ES256");
    }
    return new ClientProfile(publicClient, firstParty, uris, idTokenAlg);
  }

  /** The URIs, checked and without repeats, in their order. */
  public static List<String> checkRedirectUris(List<String> redirectUris) {
    Set<String> out = new LinkedHashSet<>();
    for (String uri : redirectUris) {
      out.add(checkRedirectUri(uri));
    }
    if (out.size() > MAX_REDIRECT_URIS) {
      throw new IllegalArgumentException("a client may register at most " + MAX_REDIRECT_URIS + " redirect URIs");
    }
    return new ArrayList<>(out);
  }

  private static String checkRedirectUri(String uri) {
    if (uri == null || uri.isEmpty() || uri.length() > MAX_REDIRECT_URI_LENGTH) {
      throw new IllegalArgumentException("a redirect URI has 1 to " + MAX_REDIRECT_URI_LENGTH + " characters");
    }
    URI u;
    try {
      u = new URI(uri);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("redirect URI '" + shorten(uri) + "' is not a valid URI (RFC 3986)");
    }
    if (!u.isAbsolute() || u.getRawFragment() != null || uri.contains("#")) {
      throw new IllegalArgumentException("redirect URI '" + shorten(uri)
          + "' must be absolute and have no fragment (RFC 6749 §3.1.2)");
    }
    checkAuthorityAndPath(u, uri);
    checkQuery(uri);
    String scheme = u.getScheme().toLowerCase(Locale.ROOT);
    if (scheme.equals("https")) {
      requireHost(u, uri);
      return uri;
    }
    if (scheme.equals("http")) {
      requireHost(u, uri);
      if (!LOOPBACK.contains(u.getHost().toLowerCase(Locale.ROOT))) {
        throw new IllegalArgumentException("redirect URI '" + shorten(uri)
            + "' must use https; http only for localhost, 127.0.0.1 or [::1] (RFC 8252 §7.3)");
      }
      return uri;
    }
    if (!scheme.contains(".")) {
      throw new IllegalArgumentException("redirect URI '" + shorten(uri) + "' must use https, http on a loopback"
          + " host, or a reverse-domain private-use scheme such as com.example.app: (RFC 8252 §7.1)");
    }
    return uri;
  }

  /**
   * Refuses user info, a port outside 1..65535 (RFC 3986 §3.2.3 allows any digits, but no socket
   * listens there; an empty port is the scheme's default) and dot segments (§3.3, also as
   * {@code %2E}, which §6.2.2.2 makes the same character). Read from the raw text, so that an
   * authority {@link URI} could not parse as a server's is checked too.
   */
  private static void checkAuthorityAndPath(URI u, String uri) {
    String authority = u.getRawAuthority();
    if (authority != null) {
      if (authority.contains("@")) {
        throw new IllegalArgumentException("redirect URI '" + shorten(uri) + "' must have no user info");
      }
      int colon = authority.lastIndexOf(':');
      if (colon > authority.lastIndexOf(']') && colon < authority.length() - 1) {
        String port = authority.substring(colon + 1);
        if (port.length() > 5 || !port.chars().allMatch(c -> c >= '0' && c <= '9')
            || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
          throw new IllegalArgumentException("redirect URI '" + shorten(uri) + "' has a port outside 1..65535");
        }
      }
    }
    // an opaque URI (com.example.app:cb) has its path in the scheme-specific part, before any query
    String path = u.isOpaque() ? u.getRawSchemeSpecificPart().split("\\?", 2)[0] : u.getRawPath();
    for (String segment : (path == null ? "" : path).split("/", -1)) {
      String decoded = segment.replace("%2e", ".").replace("%2E", ".");
      if (decoded.equals(".") || decoded.equals("..")) {
        throw new IllegalArgumentException("redirect URI '" + shorten(uri)
            + "' must have no dot segment (/./ or /../) in its path (RFC 3986 §5.2.4)");
      }
    }
  }

  /**
   * Refuses a query naming a parameter of the authorization response ({@code code}, {@code state},
   * {@code iss}, {@code error}, ...): the query is kept and the response's parameters added to it
   * (RFC 6749 §3.1.2), which would then carry that parameter twice, against RFC 6749 §3.1 ("MUST
   * NOT be included more than once"), and leave the app to guess which one the server sent.
   */
  private static void checkQuery(String uri) {
    namedResponseParameter(uri).ifPresent(name -> {
      throw new IllegalArgumentException("redirect URI '" + shorten(uri) + "' must not have '" + name
          + "' in its query: the authorization response adds it (RFC 6749 §3.1: a parameter comes once)");
    });
  }

  /**
   * The first parameter of the authorization response that {@code uri}'s query names, compared
   * percent-decoded as the app reads it (a name that does not decode, as it is). Such a URI is
   * never sent to, also when it was registered before registration refused it.
   */
  public static Optional<String> namedResponseParameter(String uri) {
    int q = uri.indexOf('?');
    if (q < 0) {
      return Optional.empty();
    }
    for (String pair : uri.substring(q + 1).split("&", -1)) {
      String name = pair.split("=", 2)[0];
      try {
        name = URLDecoder.decode(name, StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        // kept as written: no response parameter is spelt with a malformed escape
      }
      if (RESPONSE_PARAMETERS.contains(name)) {
        return Optional.of(name);
      }
    }
    return Optional.empty();
  }

  private static void requireHost(URI u, String uri) {
    if (u.getHost() == null || u.getRawUserInfo() != null) {
      throw new IllegalArgumentException("redirect URI '" + shorten(uri) + "' needs a host and no user info");
    }
  }

  private static String shorten(String s) {
    return s.length() > 80 ? s.substring(0, 80) + "…" : s;
  }
}
